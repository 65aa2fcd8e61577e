//! Llama 3.1/3.2 JSON calls (`llama3_json`): an optional `<|python_tag|>`, then
//! `{"name": …, "parameters": {…}}` (`"arguments"` accepted too), several objects
//! separated by `; `.
//!
//! There is no closing marker, so an object is decided whole, at its closing brace (a
//! JSON-string-aware bracket count; braces inside strings are data). It becomes a call
//! only if it decodes to a call object; otherwise it stays text. Never a call with empty
//! or invented arguments.
//!
//! * After `<|python_tag|>` (a special token: the model meant a call) the object is read
//!   like a Hermes block: strict JSON, else a Python-style literal; `arguments` /
//!   `parameters` / none; a well-formed undeclared name passes through (spec rule 7).
//! * Without the tag, only an object that starts a line outside a fenced code block,
//!   begins with one of the keys `"name"`, `"parameters"`, `"arguments"`, is strict JSON
//!   with exactly those keys and names a **declared** tool is a call (the bare-call rule
//!   4 of the XML format); anything else is prose, so JSON in an answer stays content.

use memchr::{memchr2, memchr3};
use serde_json::Value;

use super::core::Core;
use super::event::{Sink, UpstreamFinish};
use super::json::{Decoded, JsonBlock, decode_call, decode_value};
use super::machine::{Eof, Machine, Start, Step};
use super::scan::{self, Held, MAX_HELD, Match, MatchAny};
use super::tools::Tools;

/// The special token Llama writes before a call (its decisive marker for `auto`).
pub(crate) const PYTHON_TAG: &str = "<|python_tag|>";
const FENCE: &str = "```";

#[derive(Debug, Default)]
enum State {
    #[default]
    Text,
    Think,
    /// After `<|python_tag|>`: whitespace until `{`.
    Tag {
        held: String,
        from_think: bool,
    },
    /// Inside an object that may be a call.
    Object(Box<Object>),
    /// After a call: whitespace, then `;` (another object may follow) or anything else.
    AfterCall {
        tagged: bool,
    },
    /// After `;` following a call: whitespace until `{`.
    Separator {
        held: String,
        tagged: bool,
    },
}

impl State {
    /// Prose, or reasoning when `think`.
    fn channel(think: bool) -> Self {
        if think { Self::Think } else { Self::Text }
    }
}

/// An object that may be a call; what precedes it (the tag, a separator) is held with it.
#[derive(Debug)]
struct Object {
    json: JsonBlock,
    /// Opened by `<|python_tag|>` (or a separator after such a call): lenient decoding.
    tagged: bool,
}

#[derive(Debug)]
pub(crate) struct Llama3 {
    core: Core,
    state: State,
    /// Inside a fenced code block of the content: objects there are examples.
    in_fence: bool,
}

impl Llama3 {
    /// A fresh choice, or `auto` handing over at `<|python_tag|>` (`detect.rs`).
    pub(crate) fn new(start: Start) -> Self {
        Self { core: start.core.lines(true), state: State::channel(start.think), in_fence: false }
    }

    fn step_state(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step {
        match std::mem::take(&mut self.state) {
            State::Text => self.step_text(rest, false, eof, sink),
            State::Think => self.step_text(rest, true, eof, sink),
            State::Tag { mut held, from_think } => {
                match scan::hold_ws(&mut held, rest) {
                    Held::Took(ws) => {
                        self.state = State::Tag { held, from_think };
                        return Step::Advance(ws);
                    }
                    Held::Over => return self.give_up(&held, from_think, sink),
                    Held::None => {}
                }
                if rest.starts_with('{') {
                    self.open_object(held, true, from_think);
                    return Step::Advance(0);
                }
                self.give_up(&held, from_think, sink)
            }
            State::Object(_) => unreachable!("read in place by `step`"),
            State::AfterCall { tagged } => {
                let ws = scan::leading_ws(rest);
                if ws > 0 {
                    self.core.text(&rest[..ws], false, sink);
                    self.state = State::AfterCall { tagged };
                    return Step::Advance(ws);
                }
                if rest.starts_with(';') {
                    self.state = State::Separator { held: ";".to_owned(), tagged };
                    return Step::Advance(1);
                }
                Step::Advance(0)
            }
            State::Separator { mut held, tagged } => {
                let ws = scan::leading_ws(rest);
                if ws > 0 {
                    held.push_str(&rest[..ws]);
                    if held.len() > MAX_HELD {
                        self.core.text(&held, false, sink);
                        return Step::Advance(ws);
                    }
                    self.state = State::Separator { held, tagged };
                    return Step::Advance(ws);
                }
                if rest.starts_with('{') {
                    match (tagged, bare_prefix(rest), eof) {
                        (true, _, _) | (false, Match::Yes, _) => {
                            self.open_object(held, tagged, false);
                            return Step::Advance(0);
                        }
                        // `{"na` may still become a call: decided by what follows, never by
                        // where a delta ended.
                        (false, Match::Partial, None) => {
                            self.state = State::Separator { held, tagged };
                            return Step::NeedMore;
                        }
                        // Cut off under `length` while it could still be a call: dropped,
                        // like any would-be call.
                        (false, Match::Partial, Some(UpstreamFinish::Length)) => {
                            return Step::Advance(rest.len());
                        }
                        (false, Match::Partial, Some(UpstreamFinish::Stop)) | (false, Match::No, _) => {}
                    }
                }
                self.core.text(&held, false, sink);
                Step::Advance(0)
            }
        }
    }

    fn open_object(&mut self, held: String, tagged: bool, from_think: bool) {
        self.state = State::Object(Box::new(Object { json: JsonBlock::new(held, from_think), tagged }));
    }

    /// A would-be call given up: its text goes back to the channel it came from.
    fn give_up(&mut self, held: &str, from_think: bool, sink: &mut impl Sink) -> Step {
        self.core.give_up(held, from_think, sink);
        self.state = State::channel(from_think);
        Step::Advance(0)
    }

    fn step_text(&mut self, rest: &str, think: bool, eof: Eof, sink: &mut impl Sink) -> Step {
        let next = if think || !self.core.line_start {
            memchr2(b'<', b'\n', rest.as_bytes())
        } else {
            memchr3(b'<', b'{', b'`', rest.as_bytes())
        };
        let at = next.unwrap_or(rest.len());
        if at > 0 {
            self.core.text(&rest[..at], think, sink);
            self.state = State::channel(think);
            return Step::Advance(at);
        }
        let (marker_state, step) = self.text_marker(rest, think, eof, sink);
        self.state = marker_state.unwrap_or(State::channel(think));
        step
    }

    /// The front of a text state is `<`, `\n`, or (at a line start) `{` or a backtick.
    fn text_marker(
        &mut self,
        rest: &str,
        think: bool,
        eof: Eof,
        sink: &mut impl Sink,
    ) -> (Option<State>, Step) {
        let first = rest.as_bytes()[0];
        let mut partial = false;
        match first {
            b'<' => {
                let markers: &[&str] = if self.core.think_opens(think) {
                    &[PYTHON_TAG, "</think>", "<think>"]
                } else {
                    &[PYTHON_TAG, "</think>"]
                };
                match scan::starts_any(rest, markers) {
                    MatchAny::Yes(marker) => {
                        return (self.on_marker(marker, think), Step::Advance(marker.len()));
                    }
                    MatchAny::Partial => partial = true,
                    MatchAny::No => {}
                }
            }
            b'{' if !think && !self.in_fence && self.core.line_start => match bare_prefix(rest) {
                Match::Yes => {
                    let object = Object { json: JsonBlock::new(String::new(), false), tagged: false };
                    return (Some(State::Object(Box::new(object))), Step::Advance(0));
                }
                Match::Partial => partial = true,
                Match::No => {}
            },
            b'`' if !think && self.core.line_start => match scan::starts(rest, FENCE) {
                Match::Yes => {
                    self.in_fence = !self.in_fence;
                    self.core.text(FENCE, think, sink);
                    return (None, Step::Advance(FENCE.len()));
                }
                // A cut-off fence is only ever text.
                Match::Partial if eof.is_none() => return (None, Step::NeedMore),
                Match::Partial | Match::No => {}
            },
            _ => {}
        }
        if partial {
            match eof {
                None => return (None, Step::NeedMore),
                // A cut-off marker never leaks into the text.
                Some(UpstreamFinish::Length) => return (None, Step::Advance(rest.len())),
                Some(UpstreamFinish::Stop) => {}
            }
        }
        let len = rest.chars().next().map_or(1, char::len_utf8);
        self.core.text(&rest[..len], think, sink);
        (None, Step::Advance(len))
    }

    fn on_marker(&mut self, marker: &str, think: bool) -> Option<State> {
        match (marker, think) {
            (PYTHON_TAG, _) => Some(State::Tag { held: marker.to_owned(), from_think: think }),
            ("</think>", true) => {
                self.core.end_reasoning();
                Some(State::Text)
            }
            // A stray `</think>`: never content, and it separates what surrounds it.
            ("</think>", false) => {
                self.core.content.boundary();
                None
            }
            _ => Some(State::Think),
        }
    }

    /// A whole object: a call if it decodes to one, else text.
    fn decide(&mut self, object: &Object, sink: &mut impl Sink) {
        let json = &object.json;
        let decoded = if object.tagged {
            decode_value(&json.body)
                .and_then(|(value, lenient)| decode_call(value, &self.core.tools, lenient))
        } else {
            decode_bare(&json.body, &self.core.tools)
        };
        if let Some(call) = decoded {
            self.core.whole_call(&call.name, None, &call.args, json.from_think, call.lenient, sink);
            self.state = State::AfterCall { tagged: object.tagged };
        } else {
            json.give_up(&mut self.core, sink);
            self.state = State::channel(json.from_think);
        }
    }
}

impl Machine for Llama3 {
    fn step(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step {
        // Inside an object (almost every byte of a call): read in place, no state moves.
        if let State::Object(object) = &mut self.state {
            let (taken, whole) = object.json.take(rest);
            if whole && let State::Object(object) = std::mem::take(&mut self.state) {
                self.decide(&object, sink);
            }
            return Step::Advance(taken);
        }
        self.step_state(rest, eof, sink)
    }

    fn settle(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) {
        let stop = upstream == UpstreamFinish::Stop;
        match std::mem::take(&mut self.state) {
            State::Text | State::Think | State::AfterCall { .. } => {}
            State::Tag { held, from_think } => {
                if stop {
                    self.give_up(&held, from_think, sink);
                }
            }
            // `; ` after the last call: the separator of a call that never came.
            State::Separator { held, .. } => {
                if stop {
                    self.core.text(&held, false, sink);
                }
            }
            // An object never closed is not JSON: text under `stop`, dropped under `length`.
            State::Object(object) => {
                if stop {
                    object.json.give_up(&mut self.core, sink);
                }
            }
        }
    }

    fn core(&self) -> &Core {
        &self.core
    }
}

/// Does `rest` (starting with `{`) begin like a call object without a tag: `{`, a little
/// whitespace, then the key `"name"`, `"parameters"` or `"arguments"`?
fn bare_prefix(rest: &str) -> Match {
    let bytes = rest.as_bytes();
    let ws = scan::leading_ws(&rest[1..]);
    if ws > 64 {
        return Match::No;
    }
    let at = 1 + ws;
    if at >= bytes.len() {
        return Match::Partial;
    }
    if bytes[at] != b'"' {
        return Match::No;
    }
    let mut partial = false;
    for key in ["name\"", "parameters\"", "arguments\""] {
        match scan::starts(&rest[at + 1..], key) {
            Match::Yes => return Match::Yes,
            Match::Partial => partial = true,
            Match::No => {}
        }
    }
    if partial { Match::Partial } else { Match::No }
}

/// An untagged object: strict JSON, only the call keys, a declared tool, arguments given.
fn decode_bare(body: &str, tools: &Tools) -> Option<Decoded> {
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(body) else { return None };
    let known = object.keys().all(|k| matches!(k.as_str(), "name" | "parameters" | "arguments"));
    let has_args = object.contains_key("parameters") || object.contains_key("arguments");
    let declared = object.get("name").and_then(Value::as_str).is_some_and(|name| tools.get(name).is_some());
    if !(known && has_args && declared) {
        return None;
    }
    decode_call(Value::Object(object), tools, false)
}
