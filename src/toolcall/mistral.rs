//! Mistral / Devstral calls (`mistral`), after the special token `[TOOL_CALLS]`:
//!
//! * pre-v11 tokenizers: a JSON array of `{"name": …, "arguments": {…}}` (a single object
//!   is accepted too);
//! * v11+ tokenizers: `NAME[ARGS]{json}` per call, `[TOOL_CALLS]` possibly repeated before
//!   each call (a later `NAME[ARGS]` right after a call needs no marker); also accepted:
//!   `NAME[CALL_ID]ID[ARGS]{json}` (the id is dropped, the proxy issues 9-character ids)
//!   and, right after `[TOOL_CALLS]`, `NAME{json}`.
//!
//! Reasoning (Magistral) is `[THINK]…[/THINK]`, returned as reasoning; `[TOOL_CALLS]`
//! inside it ends it. JSON is decided whole at its closing bracket (a JSON-string-aware
//! count, so brackets and markers inside strings are data), strictly or else as a
//! Python-style literal; a block that does not decode to calls stays text. Never a call
//! with invalid arguments; a call cut off by `length` is never returned.

use memchr::memchr;

use super::core::Core;
use super::event::{Sink, UpstreamFinish};
use super::json::{Decoded, JsonBlock, decode_args, decode_call, decode_value};
use super::machine::{Eof, Machine, Start, Step, undecided};
use super::scan::{self, Held, MAX_NAME, Match, MatchAny};
use super::tools::Tools;

/// Opens the calls (Mistral's decisive marker for `auto`).
pub(crate) const TOOL_CALLS: &str = "[TOOL_CALLS]";
const ARGS: &str = "[ARGS]";
const CALL_ID: &str = "[CALL_ID]";
/// Longest call id accepted after `[CALL_ID]` (Mistral writes 9 characters).
const MAX_ID: usize = 64;
/// Opens reasoning (decisive for `auto` only where reasoning may begin).
pub(crate) const THINK: &str = "[THINK]";
const THINK_END: &str = "[/THINK]";

#[derive(Debug, Default)]
enum State {
    #[default]
    Text,
    Think,
    /// After `[TOOL_CALLS]`: whitespace until `[`/`{` (JSON) or `NAME[ARGS]`.
    Open {
        held: String,
        from_think: bool,
    },
    /// After `NAME[ARGS]`: whitespace until `{`.
    Args {
        held: String,
        name: String,
        from_think: bool,
    },
    /// Inside JSON: the array (or object) of calls, or one call's arguments (`name` set).
    Json(Box<Block>),
    /// After a call: another `[TOOL_CALLS]` or `NAME[ARGS]` may follow.
    AfterCall,
}

impl State {
    /// Prose, or reasoning when `think`.
    fn channel(think: bool) -> Self {
        if think { Self::Think } else { Self::Text }
    }
}

/// JSON held whole, with the markup before it.
#[derive(Debug)]
struct Block {
    json: JsonBlock,
    /// `Some`: the arguments of a `NAME[ARGS]` call; `None`: a list of call objects.
    name: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Mistral {
    core: Core,
    state: State,
}

/// `NAME[ARGS]` at the front of the input.
enum Header<'a> {
    Complete { name: &'a str, len: usize },
    Partial,
    No,
}

/// `NAME[ARGS]`, or `NAME[CALL_ID]ID[ARGS]` (tokenizers that write the call id; the id is
/// not kept: the proxy issues its own), or with `bare_json` also `NAME{` (a template that
/// drops `[ARGS]`; `len` then stops before the `{`).
fn header(rest: &str, bare_json: bool) -> Header<'_> {
    let name_len = rest.bytes().take(MAX_NAME + 1).take_while(|&b| scan::is_name_byte(b)).count();
    if name_len > MAX_NAME {
        return Header::No;
    }
    if name_len == rest.len() {
        return Header::Partial;
    }
    if name_len == 0 {
        return Header::No;
    }
    let name = &rest[..name_len];
    let after = &rest[name_len..];
    let mut partial = false;
    match scan::starts(after, ARGS) {
        Match::Yes => return Header::Complete { name, len: name_len + ARGS.len() },
        Match::Partial => partial = true,
        Match::No => {}
    }
    match scan::starts(after, CALL_ID) {
        Match::Yes => {
            let id = &after[CALL_ID.len()..];
            let id_len = id.bytes().take(MAX_ID + 1).take_while(u8::is_ascii_alphanumeric).count();
            if id_len > MAX_ID {
                return Header::No;
            }
            if id_len == id.len() {
                return Header::Partial;
            }
            return match scan::starts(&id[id_len..], ARGS) {
                Match::Yes => Header::Complete { name, len: name_len + CALL_ID.len() + id_len + ARGS.len() },
                Match::Partial => Header::Partial,
                Match::No => Header::No,
            };
        }
        Match::Partial => partial = true,
        Match::No => {}
    }
    if bare_json && after.starts_with('{') {
        return Header::Complete { name, len: name_len };
    }
    if partial { Header::Partial } else { Header::No }
}

impl Mistral {
    /// A fresh choice, or `auto` handing over at `[TOOL_CALLS]` or `[THINK]` (`detect.rs`).
    pub(crate) fn new(start: Start) -> Self {
        Self { core: start.core.lines(false), state: State::channel(start.think) }
    }

    fn step_state(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step {
        match std::mem::take(&mut self.state) {
            State::Text => self.step_text(rest, false, eof, sink),
            State::Think => self.step_text(rest, true, eof, sink),
            State::Open { mut held, from_think } => {
                match scan::hold_ws(&mut held, rest) {
                    Held::Took(ws) => {
                        self.state = State::Open { held, from_think };
                        return Step::Advance(ws);
                    }
                    Held::Over => return self.give_up(&held, from_think, sink),
                    Held::None => {}
                }
                if rest.starts_with('[') || rest.starts_with('{') {
                    self.open_json(held, None, from_think);
                    return Step::Advance(0);
                }
                match header(rest, true) {
                    Header::Complete { name, len } => {
                        held.push_str(&rest[..len]);
                        self.state = State::Args { held, name: name.to_owned(), from_think };
                        Step::Advance(len)
                    }
                    Header::Partial => match undecided(eof, rest) {
                        Some(step) => {
                            if step == Step::NeedMore {
                                self.state = State::Open { held, from_think };
                            } else {
                                self.state = State::channel(from_think);
                            }
                            step
                        }
                        None => self.give_up(&held, from_think, sink),
                    },
                    Header::No => self.give_up(&held, from_think, sink),
                }
            }
            State::Args { mut held, name, from_think } => {
                match scan::hold_ws(&mut held, rest) {
                    Held::Took(ws) => {
                        self.state = State::Args { held, name, from_think };
                        return Step::Advance(ws);
                    }
                    Held::Over => return self.give_up(&held, from_think, sink),
                    Held::None => {}
                }
                if rest.starts_with('{') {
                    self.open_json(held, Some(name), from_think);
                    return Step::Advance(0);
                }
                self.give_up(&held, from_think, sink)
            }
            State::Json(_) => unreachable!("read in place by `step`"),
            State::AfterCall => self.step_after_call(rest, eof, sink),
        }
    }

    fn open_json(&mut self, held: String, name: Option<String>, from_think: bool) {
        self.state = State::Json(Box::new(Block { json: JsonBlock::new(held, from_think), name }));
    }

    /// A would-be call given up: its text goes back to the channel it came from.
    fn give_up(&mut self, held: &str, from_think: bool, sink: &mut impl Sink) -> Step {
        self.core.give_up(held, from_think, sink);
        self.state = State::channel(from_think);
        Step::Advance(0)
    }

    fn step_text(&mut self, rest: &str, think: bool, eof: Eof, sink: &mut impl Sink) -> Step {
        self.state = State::channel(think);
        let at = memchr(b'[', rest.as_bytes()).unwrap_or(rest.len());
        if at > 0 {
            self.core.text(&rest[..at], think, sink);
            return Step::Advance(at);
        }
        // `[THINK]` opens reasoning only before any answer text or call.
        let markers: &[&str] = if self.core.think_opens(think) {
            &[TOOL_CALLS, THINK_END, THINK]
        } else {
            &[TOOL_CALLS, THINK_END]
        };
        match scan::starts_any(rest, markers) {
            MatchAny::Yes(marker) => {
                self.on_marker(marker, think);
                return Step::Advance(marker.len());
            }
            MatchAny::Partial => {
                if let Some(step) = undecided(eof, rest) {
                    return step;
                }
            }
            MatchAny::No => {}
        }
        self.core.text("[", think, sink);
        Step::Advance(1)
    }

    fn on_marker(&mut self, marker: &str, think: bool) {
        match (marker, think) {
            (TOOL_CALLS, _) => self.state = State::Open { held: marker.to_owned(), from_think: think },
            (THINK_END, true) => {
                self.core.end_reasoning();
                self.state = State::Text;
            }
            // A stray `[/THINK]`: never content, and it separates what surrounds it.
            (THINK_END, false) => self.core.content.boundary(),
            _ => self.state = State::Think,
        }
    }

    /// A whole JSON block: calls if it decodes, else its text goes back where it came from.
    fn decide(&mut self, block: &Block, sink: &mut impl Sink) {
        let json = &block.json;
        let calls = match &block.name {
            Some(name) => decode_value(&json.body)
                .and_then(|(args, lenient)| decode_args(name.clone(), args, &self.core.tools, lenient))
                .map(|call| vec![call]),
            None => decode_list(&json.body, &self.core.tools),
        };
        if let Some(calls) = calls {
            for call in &calls {
                self.core.whole_call(&call.name, None, &call.args, json.from_think, call.lenient, sink);
            }
            self.state = State::AfterCall;
        } else {
            self.give_up_block(block, sink);
        }
    }

    fn give_up_block(&mut self, block: &Block, sink: &mut impl Sink) {
        block.json.give_up(&mut self.core, sink);
        self.state = State::channel(block.json.from_think);
    }

    /// After a call: whitespace, then `[TOOL_CALLS]`, `NAME[ARGS]`, or text.
    fn step_after_call(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            // A new segment starts after a call: leading whitespace is dropped anyway.
            self.core.text(&rest[..ws], false, sink);
            self.state = State::AfterCall;
            return Step::Advance(ws);
        }
        match header(rest, false) {
            Header::Complete { name, len } => {
                self.state =
                    State::Args { held: rest[..len].to_owned(), name: name.to_owned(), from_think: false };
                return Step::Advance(len);
            }
            Header::Partial => match eof {
                None => {
                    self.state = State::AfterCall;
                    return Step::NeedMore;
                }
                // Possibly the next call's name, cut off: never content.
                Some(UpstreamFinish::Length) => return Step::Advance(rest.len()),
                Some(UpstreamFinish::Stop) => {}
            },
            Header::No => {}
        }
        // Anything else (`[TOOL_CALLS]` included) is read as text from here.
        Step::Advance(0)
    }
}

impl Machine for Mistral {
    fn step(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step {
        // Inside JSON (almost every byte of a call): read in place, no state moves.
        if let State::Json(block) = &mut self.state {
            let (taken, whole) = block.json.take(rest);
            if whole && let State::Json(block) = std::mem::take(&mut self.state) {
                self.decide(&block, sink);
            }
            return Step::Advance(taken);
        }
        self.step_state(rest, eof, sink)
    }

    fn settle(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) {
        let stop = upstream == UpstreamFinish::Stop;
        match std::mem::take(&mut self.state) {
            State::Text | State::Think | State::AfterCall => {}
            State::Open { held, from_think } | State::Args { held, from_think, .. } => {
                if stop {
                    self.give_up(&held, from_think, sink);
                }
            }
            // JSON never closed is not JSON: text under `stop`, dropped under `length`.
            State::Json(block) => {
                if stop {
                    self.give_up_block(&block, sink);
                }
            }
        }
    }

    fn core(&self) -> &Core {
        &self.core
    }
}

/// The pre-v11 form: an array of call objects (or one object); `None` if any item is not
/// a well-formed call.
fn decode_list(body: &str, tools: &Tools) -> Option<Vec<Decoded>> {
    let (value, lenient) = decode_value(body)?;
    match value {
        serde_json::Value::Array(items) if !items.is_empty() => {
            items.into_iter().map(|item| decode_call(item, tools, lenient)).collect()
        }
        object @ serde_json::Value::Object(_) => decode_call(object, tools, lenient).map(|call| vec![call]),
        _ => None,
    }
}
