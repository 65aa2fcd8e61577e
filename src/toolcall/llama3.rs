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
//!
//! The helpers at the end (bracket scanner, call decoding, the shared call/text core) are
//! used by the Mistral format too.

use std::sync::Arc;

use memchr::{memchr2, memchr3};
use serde_json::{Map, Value};

use super::Reasoning;
use super::auto::Handover;
use super::coerce::normalise;
use super::event::{Event, FinishReason, Sink, UpstreamFinish};
use super::outcome::{Outcomes, bump};
use super::pyliteral;
use super::scan::{self, MAX_HELD, Match};
use super::shaper::Shaper;
use super::tools::Tools;

const PYTHON_TAG: &str = "<|python_tag|>";
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

#[derive(Debug)]
struct Object {
    /// What precedes the object (the tag, a separator), for when it turns out to be text.
    held: String,
    body: String,
    /// Opened by `<|python_tag|>` (or a separator after such a call): lenient decoding.
    tagged: bool,
    from_think: bool,
    scan: Brackets,
}

#[derive(Debug)]
pub(crate) struct Llama3 {
    core: Core,
    state: State,
    /// Inside a fenced code block of the content: objects there are examples.
    in_fence: bool,
}

impl Llama3 {
    pub(crate) fn new(tools: Arc<Tools>, reasoning: Reasoning) -> Self {
        let state = match reasoning {
            Reasoning::Auto => State::Text,
            Reasoning::PromptOpened => State::Think,
        };
        Self { core: Core::new(tools), state, in_fence: false }
    }

    /// Takes over from the undecided `auto` machine at `<|python_tag|>` (`auto.rs`).
    pub(crate) fn resume(handover: Handover) -> Self {
        let mut machine = Self::new(Arc::clone(&handover.tools), handover.reasoning_mode());
        machine.core.adopt(handover);
        machine
    }

    pub(crate) fn outcomes(&self) -> Outcomes {
        self.core.outcomes
    }

    /// Consumes what can be decided from `buf`; returns how many bytes. With `eof` set,
    /// everything is decided.
    pub(crate) fn run(&mut self, buf: &str, eof: Option<UpstreamFinish>, sink: &mut impl Sink) -> usize {
        let mut pos = 0;
        while pos < buf.len() {
            match self.step(&buf[pos..], eof, sink) {
                Step::Advance(n) => pos += n,
                Step::NeedMore => {
                    debug_assert!(eof.is_none(), "nothing is pending at the end of output");
                    break;
                }
            }
        }
        pos
    }

    fn step(&mut self, rest: &str, eof: Option<UpstreamFinish>, sink: &mut impl Sink) -> Step {
        match std::mem::take(&mut self.state) {
            State::Text => self.step_text(rest, false, eof, sink),
            State::Think => self.step_text(rest, true, eof, sink),
            State::Tag { mut held, from_think } => {
                let ws = scan::leading_ws(rest);
                if ws > 0 {
                    held.push_str(&rest[..ws]);
                    if held.len() > MAX_HELD {
                        return self.give_up(&held, from_think, sink);
                    }
                    self.state = State::Tag { held, from_think };
                    return Step::Advance(ws);
                }
                if rest.starts_with('{') {
                    self.open_object(held, true, from_think);
                    return Step::Advance(0);
                }
                self.give_up(&held, from_think, sink)
            }
            State::Object(object) => self.step_object(rest, object, sink),
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
        self.state = State::Object(Box::new(Object {
            held,
            body: String::new(),
            tagged,
            from_think,
            scan: Brackets::default(),
        }));
    }

    /// A would-be call given up: its text goes back to the channel it came from.
    fn give_up(&mut self, held: &str, from_think: bool, sink: &mut impl Sink) -> Step {
        bump(&mut self.core.outcomes.as_text);
        self.core.text(held, from_think, sink);
        self.state = if from_think { State::Think } else { State::Text };
        Step::Advance(0)
    }

    fn step_text(
        &mut self,
        rest: &str,
        think: bool,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let next = if think || !self.core.line_start {
            memchr2(b'<', b'\n', rest.as_bytes())
        } else {
            memchr3(b'<', b'{', b'`', rest.as_bytes())
        };
        let at = next.unwrap_or(rest.len());
        if at > 0 {
            self.core.text(&rest[..at], think, sink);
            self.state = if think { State::Think } else { State::Text };
            return Step::Advance(at);
        }
        let (marker_state, step) = self.text_marker(rest, think, eof, sink);
        self.state = marker_state.unwrap_or(if think { State::Think } else { State::Text });
        step
    }

    /// The front of a text state is `<`, `\n`, or (at a line start) `{` or a backtick.
    fn text_marker(
        &mut self,
        rest: &str,
        think: bool,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> (Option<State>, Step) {
        let first = rest.as_bytes()[0];
        let mut partial = false;
        match first {
            b'<' => {
                let think_opens = !think && !self.core.content.emitted() && self.core.next_index == 0;
                let markers: &[&str] = if think_opens {
                    &[PYTHON_TAG, "</think>", "<think>"]
                } else {
                    &[PYTHON_TAG, "</think>"]
                };
                for &marker in markers {
                    match scan::starts(rest, marker) {
                        Match::Yes => return (self.on_marker(marker, think), Step::Advance(marker.len())),
                        Match::Partial => partial = true,
                        Match::No => {}
                    }
                }
            }
            b'{' if !think && !self.in_fence && self.core.line_start => match bare_prefix(rest) {
                Match::Yes => {
                    let object = Object {
                        held: String::new(),
                        body: String::new(),
                        tagged: false,
                        from_think: false,
                        scan: Brackets::default(),
                    };
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
                self.core.reasoning.boundary();
                self.core.line_start = true;
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

    fn step_object(&mut self, rest: &str, mut object: Box<Object>, sink: &mut impl Sink) -> Step {
        match object.scan.scan(rest) {
            None => {
                object.body.push_str(rest);
                self.state = State::Object(object);
                Step::Advance(rest.len())
            }
            Some(end) => {
                object.body.push_str(&rest[..end]);
                self.settle(&object, sink);
                Step::Advance(end)
            }
        }
    }

    /// A whole object: a call if it decodes to one, else text.
    fn settle(&mut self, object: &Object, sink: &mut impl Sink) {
        let decoded = if object.tagged {
            decode_value(&object.body)
                .and_then(|(value, lenient)| decode_call(value, &self.core.tools, lenient))
        } else {
            decode_bare(&object.body, &self.core.tools)
        };
        if let Some(call) = decoded {
            self.core.call(&call, object.from_think, sink);
            self.state = State::AfterCall { tagged: object.tagged };
        } else {
            bump(&mut self.core.outcomes.as_text);
            let channel = object.from_think;
            self.core.text(&object.held, channel, sink);
            self.core.text(&object.body, channel, sink);
            self.state = if channel { State::Think } else { State::Text };
        }
    }

    /// The end of output: settles the state left after the final `run`.
    pub(crate) fn finish(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) -> FinishReason {
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
                    bump(&mut self.core.outcomes.as_text);
                    self.core.text(&object.held, object.from_think, sink);
                    self.core.text(&object.body, object.from_think, sink);
                }
            }
        }
        FinishReason::decide(upstream, self.core.complete)
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

// ------------------------------------------------------------------ shared with `mistral`

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Consumed this many bytes (0 when only the state changed).
    Advance(usize),
    /// The front of the input cannot be decided until more arrives.
    NeedMore,
}

/// A JSON-string-aware bracket counter: finds where the object or array that starts the
/// scanned text ends. Strings in either quote are skipped (Python-style literals use `'`).
#[derive(Debug, Default)]
pub(crate) struct Brackets {
    depth: u32,
    quote: Option<u8>,
    escaped: bool,
}

impl Brackets {
    /// Scans `rest`; returns the length up to and including the bracket that closes the
    /// outermost one, or `None` when `rest` ends first.
    pub(crate) fn scan(&mut self, rest: &str) -> Option<usize> {
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if self.escaped {
                self.escaped = false;
                i += 1;
                continue;
            }
            if let Some(q) = self.quote {
                let j = memchr2(q, b'\\', &bytes[i..])?;
                i += j;
                if bytes[i] == b'\\' {
                    self.escaped = true;
                } else {
                    self.quote = None;
                }
                i += 1;
                continue;
            }
            match bytes[i] {
                b'"' | b'\'' => self.quote = Some(bytes[i]),
                b'{' | b'[' => self.depth = self.depth.saturating_add(1),
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        None
    }
}

/// One call decoded from JSON.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) name: String,
    /// The arguments as JSON object text.
    pub(crate) args: String,
    /// Not strict JSON as written (a Python-style literal, arguments as a string holding
    /// one): counted as recovered.
    pub(crate) lenient: bool,
}

/// Strict JSON, else a Python-style literal (`lenient`).
pub(crate) fn decode_value(text: &str) -> Option<(Value, bool)> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => Some((value, false)),
        Err(_) => pyliteral::parse(text.trim()).map(|value| (value, true)),
    }
}

/// `{"name": …, "arguments"|"parameters": …}` as a call (spec section 5's rules).
pub(crate) fn decode_call(value: Value, tools: &Tools, lenient: bool) -> Option<Decoded> {
    let Value::Object(mut object) = value else { return None };
    let Some(Value::String(name)) = object.remove("name") else { return None };
    let args = object.remove("arguments").or_else(|| object.remove("parameters")).unwrap_or(Value::Null);
    decode_args(name, args, tools, lenient)
}

/// A call's arguments value as a schema-typed JSON object; `None` if it is not an object
/// (or a string holding one) or the name is not an identifier.
pub(crate) fn decode_args(name: String, args: Value, tools: &Tools, mut lenient: bool) -> Option<Decoded> {
    if !scan::is_name(&name) {
        return None;
    }
    let mut args: Map<String, Value> = match args {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        Value::String(text) => {
            let (decoded, lax) = decode_value(&text)?;
            lenient |= lax;
            match decoded {
                Value::Object(map) => map,
                _ => return None,
            }
        }
        _ => return None,
    };
    if let Some(tool) = tools.get(&name) {
        for (key, value) in &mut args {
            if let Some(types) = tool.param(key) {
                normalise(value, types);
            }
        }
    }
    Some(Decoded { name, args: Value::Object(args).to_string(), lenient })
}

/// The content and reasoning channels and the call counters of one choice.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) tools: Arc<Tools>,
    pub(crate) content: Shaper,
    pub(crate) reasoning: Shaper,
    /// Only whitespace since the last newline (or the start, or a call).
    pub(crate) line_start: bool,
    pub(crate) next_index: usize,
    pub(crate) complete: usize,
    pub(crate) outcomes: Outcomes,
}

impl Core {
    pub(crate) fn new(tools: Arc<Tools>) -> Self {
        Self {
            tools,
            content: Shaper::new(false),
            reasoning: Shaper::new(true),
            line_start: true,
            next_index: 0,
            complete: 0,
            outcomes: Outcomes::default(),
        }
    }

    /// Continues the channels and counts of the undecided `auto` machine.
    pub(crate) fn adopt(&mut self, handover: Handover) {
        self.content = handover.content;
        self.reasoning = handover.reasoning;
        self.line_start = handover.line_start;
        self.outcomes = handover.outcomes;
    }

    /// Text for the content or reasoning channel.
    pub(crate) fn text(&mut self, text: &str, think: bool, sink: &mut impl Sink) {
        if think {
            self.reasoning.push(text, sink);
        } else {
            let blank = |s: &str| s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
            self.line_start = match text.rfind('\n') {
                Some(i) => blank(&text[i + 1..]),
                None => self.line_start && blank(text),
            };
            self.content.push(text, sink);
        }
    }

    /// A whole, complete call: the text segment before it ends, then its events.
    pub(crate) fn call(&mut self, call: &Decoded, from_think: bool, sink: &mut impl Sink) {
        if from_think {
            self.reasoning.boundary();
        }
        self.content.boundary();
        let index = self.next_index;
        self.next_index += 1;
        sink.event(Event::CallStart { index, name: &call.name, id: None });
        sink.event(Event::CallArgs { index, fragment: &call.args });
        sink.event(Event::CallEnd { index });
        self.line_start = true;
        self.complete += 1;
        bump(&mut self.outcomes.calls);
        if call.lenient {
            bump(&mut self.outcomes.recovered);
        }
    }
}
