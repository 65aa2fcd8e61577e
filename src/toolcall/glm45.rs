//! GLM-4.5 / GLM-4.6 tool calls (`glm45`):
//! `<tool_call>NAME\n<arg_key>K</arg_key>\n<arg_value>V</arg_value>\n…</tool_call>`, with
//! `<think>…</think>` reasoning as in the Qwen family.
//!
//! Values are raw text typed by the request's schema exactly like Qwen3-Coder parameters
//! (`coerce`), and kept verbatim otherwise: the chat template writes them with no padding,
//! so no newline is stripped. Markup inside a value is data, decided structurally like spec
//! rule 2: a `</arg_value>` closes the value only before (whitespace and) `</tool_call>`,
//! `<arg_key>KEY</arg_key><arg_value>` for a declared parameter not yet seen, `<tool_call>`
//! (the call's `</tool_call>` missing) or the end of output; a literal `<tool_call>` opened
//! inside a value makes its `</tool_call>` literal too.
//!
//! Like `qwen`, [`Glm45::run`] consumes what the front of the input decides and leaves the
//! rest to the engine; pieces that must be held while a decision is pending (whitespace
//! between tags, a value being typed) live in the state, so nothing is re-scanned.

use std::sync::Arc;

use memchr::memchr;

use super::Reasoning;
use super::auto::Handover;
use super::coerce::{coerce_into, key_prefix};
use super::event::{Event, FinishReason, Sink, UpstreamFinish};
use super::outcome::{Outcomes, bump};
use super::qwen::Step;
use super::scan::{self, MAX_HELD, MAX_NAME, Match, Tag};
use super::schema::Types;
use super::shaper::Shaper;
use super::tools::Tools;

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";
const KEY: &str = "<arg_key>";
const KEY_CLOSE: &str = "</arg_key>";
const VALUE: &str = "<arg_value>";
const VALUE_CLOSE: &str = "</arg_value>";
const THINK: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

/// A committed call and the value being read.
#[derive(Debug)]
struct Call {
    index: usize,
    name: String,
    /// Keys seen so far (each may appear once).
    seen: Vec<String>,
    /// Whether `{` already went out.
    opened: bool,
    /// The current value's types; a pure string streams, others are buffered in `buf`.
    types: Types,
    stream: bool,
    buf: String,
    /// Literal `<tool_call>` opened inside the current value: its `</tool_call>` is literal too.
    depth: u32,
}

/// Where a `<arg_key>KEY</arg_key>` was read.
#[derive(Debug)]
enum Keyed {
    /// The call's first key: nothing committed yet.
    First { name: String, from_think: bool },
    /// A later key of a committed call whose current value is still open. `repair`: the
    /// value's `</arg_value>` is missing.
    Next { call: Box<Call>, repair: bool },
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Text,
    Think,
    /// After `<tool_call>`: whitespace, then the tool name.
    Open {
        held: String,
        from_think: bool,
    },
    /// After the name: whitespace, then `<arg_key>` or `</tool_call>` decides. Not yet a call.
    Named {
        held: String,
        name: String,
        from_think: bool,
    },
    /// After `<arg_key>KEY</arg_key>`: whitespace, then `<arg_value>` decides.
    Key {
        held: String,
        key: String,
        at: Keyed,
    },
    /// Inside a value of a committed call.
    Value(Box<Call>),
    /// After `</arg_value>` in a value: deciding whether it closes the value.
    Closing {
        call: Box<Call>,
        held: String,
    },
    /// After a top-level `</tool_call>` in a value (its `</arg_value>` missing): it closes
    /// the call only before another call or the end of output.
    Ending {
        call: Box<Call>,
        held: String,
    },
}

/// The `glm45` state machine.
#[derive(Debug)]
pub(crate) struct Glm45 {
    tools: Arc<Tools>,
    state: State,
    content: Shaper,
    reasoning: Shaper,
    /// Index of the next call.
    next_index: usize,
    complete: usize,
    /// Reused for escaping argument fragments.
    scratch: String,
    outcomes: Outcomes,
    /// The current call's markup needed a repair: counted as recovered if it ends complete.
    call_repaired: bool,
}

/// `<arg_key>NAME</arg_key>` at the front of `rest`.
fn key_tag(rest: &str) -> Tag<'_> {
    match scan::starts(rest, KEY) {
        Match::No => return Tag::No,
        Match::Partial => return Tag::Partial,
        Match::Yes => {}
    }
    let after = &rest[KEY.len()..];
    let n = name_len(after);
    if n > MAX_NAME {
        return Tag::No;
    }
    if n == after.len() {
        return Tag::Partial;
    }
    if n == 0 {
        return Tag::No;
    }
    match scan::starts(&after[n..], KEY_CLOSE) {
        Match::Yes => Tag::Complete { name: &after[..n], len: KEY.len() + n + KEY_CLOSE.len() },
        Match::Partial => Tag::Partial,
        Match::No => Tag::No,
    }
}

/// Length of the run of name bytes that starts `rest`, counting at most `MAX_NAME + 1`.
fn name_len(rest: &str) -> usize {
    rest.bytes().take(MAX_NAME + 1).take_while(|&b| scan::is_name_byte(b)).count()
}

/// Value text: a string value streams out at once (escaped through `scratch`); others are
/// buffered until the value ends.
fn value_text(scratch: &mut String, call: &mut Call, text: &str, sink: &mut impl Sink) {
    if text.is_empty() {
        return;
    }
    if call.stream {
        scratch.clear();
        scan::escape_json_into(text, scratch);
        sink.event(Event::CallArgs { index: call.index, fragment: scratch });
    } else {
        call.buf.push_str(text);
    }
}

impl Glm45 {
    pub(crate) fn new(tools: Arc<Tools>, reasoning: Reasoning) -> Self {
        let state = match reasoning {
            Reasoning::Auto => State::Text,
            Reasoning::PromptOpened => State::Think,
        };
        Self {
            tools,
            state,
            content: Shaper::new(false),
            reasoning: Shaper::new(true),
            next_index: 0,
            complete: 0,
            scratch: String::new(),
            outcomes: Outcomes::default(),
            call_repaired: false,
        }
    }

    /// Takes over from the undecided `auto` machine at `<tool_call>NAME` (`auto.rs`).
    pub(crate) fn resume(handover: Handover) -> Self {
        let mut machine = Self::new(Arc::clone(&handover.tools), handover.reasoning_mode());
        machine.content = handover.content;
        machine.reasoning = handover.reasoning;
        machine.outcomes = handover.outcomes;
        machine
    }

    pub(crate) fn outcomes(&self) -> Outcomes {
        self.outcomes
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
        match &mut self.state {
            State::Text => return self.step_text(rest, false, eof, sink),
            State::Think => return self.step_text(rest, true, eof, sink),
            State::Value(call) => {
                let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
                if lt > 0 {
                    value_text(&mut self.scratch, call, &rest[..lt], sink);
                    return Step::Advance(lt);
                }
            }
            _ => {}
        }
        match std::mem::take(&mut self.state) {
            State::Text | State::Think => unreachable!("handled in place above"),
            State::Open { held, from_think } => self.step_open(rest, held, from_think, eof, sink),
            State::Named { held, name, from_think } => {
                self.step_named(rest, held, name, from_think, eof, sink)
            }
            State::Key { held, key, at } => self.step_key(rest, held, key, at, eof, sink),
            State::Value(call) => self.step_value(rest, call, eof, sink),
            State::Closing { call, held } => self.step_closing(rest, call, held, eof, sink),
            State::Ending { call, held } => self.step_ending(rest, call, held, eof, sink),
        }
    }

    /// A `Partial` marker: wait for more, or at the end of output treat it as text
    /// (`stop`) or drop it (`length`: a cut-off tag never leaks).
    fn undecided(eof: Option<UpstreamFinish>, rest: &str) -> Option<Step> {
        match eof {
            None => Some(Step::NeedMore),
            Some(UpstreamFinish::Stop) => None,
            Some(UpstreamFinish::Length) => Some(Step::Advance(rest.len())),
        }
    }

    /// Prose and reasoning.
    fn step_text(
        &mut self,
        rest: &str,
        think: bool,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
        if lt > 0 {
            self.text(&rest[..lt], think, sink);
            return Step::Advance(lt);
        }
        // `<think>` opens reasoning only before any answer text or call.
        let think_opens = !think && !self.content.emitted() && self.next_index == 0;
        let markers: &[&str] = if think_opens { &[OPEN, THINK_CLOSE, THINK] } else { &[OPEN, THINK_CLOSE] };
        let mut partial = false;
        for &marker in markers {
            match scan::starts(rest, marker) {
                Match::Yes => {
                    match (marker, think) {
                        (OPEN, _) => self.state = State::Open { held: OPEN.to_owned(), from_think: think },
                        (THINK_CLOSE, true) => {
                            self.reasoning.boundary();
                            self.state = State::Text;
                        }
                        // A stray `</think>`: never content, and it separates what surrounds it.
                        (THINK_CLOSE, false) => self.content.boundary(),
                        _ => self.state = State::Think,
                    }
                    return Step::Advance(marker.len());
                }
                Match::Partial => partial = true,
                Match::No => {}
            }
        }
        if partial && let Some(step) = Self::undecided(eof, rest) {
            return step;
        }
        self.text("<", think, sink);
        Step::Advance(1)
    }

    fn text(&mut self, text: &str, think: bool, sink: &mut impl Sink) {
        if think {
            self.reasoning.push(text, sink);
        } else {
            self.content.push(text, sink);
        }
    }

    fn back(from_think: bool) -> State {
        if from_think { State::Think } else { State::Text }
    }

    /// Gives up on a would-be call: its text goes back to the channel it came from.
    fn revert(&mut self, held: &str, from_think: bool, sink: &mut impl Sink) -> Step {
        bump(&mut self.outcomes.as_text);
        self.text(held, from_think, sink);
        self.state = Self::back(from_think);
        Step::Advance(0)
    }

    /// A call becomes real: the text segment before it ends, its header goes out.
    fn commit(&mut self, name: &str, from_think: bool, sink: &mut impl Sink) -> usize {
        if from_think {
            self.reasoning.boundary();
        }
        self.content.boundary();
        self.call_repaired = false;
        let index = self.next_index;
        self.next_index += 1;
        sink.event(Event::CallStart { index, name, id: None });
        index
    }

    fn args(index: usize, fragment: &str, sink: &mut impl Sink) {
        sink.event(Event::CallArgs { index, fragment });
    }

    fn end(&mut self, index: usize, complete: bool, sink: &mut impl Sink) {
        if complete {
            self.complete += 1;
            bump(&mut self.outcomes.calls);
            if self.call_repaired {
                bump(&mut self.outcomes.recovered);
            }
            sink.event(Event::CallEnd { index });
        } else {
            bump(&mut self.outcomes.truncated);
            sink.event(Event::CallTruncated { index });
        }
    }

    /// A call without arguments (`<tool_call>NAME</tool_call>`).
    fn empty_call(&mut self, name: &str, from_think: bool, sink: &mut impl Sink) {
        let index = self.commit(name, from_think, sink);
        Self::args(index, "{}", sink);
        self.end(index, true, sink);
    }

    fn step_open(
        &mut self,
        rest: &str,
        mut held: String,
        from_think: bool,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            held.push_str(&rest[..ws]);
            if held.len() > MAX_HELD {
                return self.revert(&held, from_think, sink);
            }
            self.state = State::Open { held, from_think };
            return Step::Advance(ws);
        }
        let n = name_len(rest);
        if n == 0 || n > MAX_NAME {
            return self.revert(&held, from_think, sink);
        }
        if n == rest.len() && eof.is_none() {
            // The name may go on.
            self.state = State::Open { held, from_think };
            return Step::NeedMore;
        }
        if rest.as_bytes().get(n).is_some_and(|&b| b != b'<' && scan::leading_ws(&rest[n..]) == 0) {
            // `<tool_call>hello, …`: not a name.
            return self.revert(&held, from_think, sink);
        }
        held.push_str(&rest[..n]);
        self.state = State::Named { held, name: rest[..n].to_owned(), from_think };
        Step::Advance(n)
    }

    fn step_named(
        &mut self,
        rest: &str,
        mut held: String,
        name: String,
        from_think: bool,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            held.push_str(&rest[..ws]);
            if held.len() > MAX_HELD {
                return self.revert(&held, from_think, sink);
            }
            self.state = State::Named { held, name, from_think };
            return Step::Advance(ws);
        }
        let mut partial = false;
        match scan::starts(rest, CLOSE) {
            Match::Yes => {
                self.empty_call(&name, from_think, sink);
                self.state = State::Text;
                return Step::Advance(CLOSE.len());
            }
            Match::Partial => partial = true,
            Match::No => {}
        }
        match key_tag(rest) {
            Tag::Complete { name: key, len } => {
                held.push_str(&rest[..len]);
                self.state = State::Key { held, key: key.to_owned(), at: Keyed::First { name, from_think } };
                return Step::Advance(len);
            }
            Tag::Partial => partial = true,
            Tag::No => {}
        }
        if partial {
            match eof {
                None => {
                    self.state = State::Named { held, name, from_think };
                    return Step::NeedMore;
                }
                // A call cut off before it was one: neither a call nor content.
                Some(UpstreamFinish::Length) => return Step::Advance(rest.len()),
                Some(UpstreamFinish::Stop) => {}
            }
        }
        self.revert(&held, from_think, sink)
    }

    fn step_key(
        &mut self,
        rest: &str,
        mut held: String,
        key: String,
        at: Keyed,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            held.push_str(&rest[..ws]);
            if held.len() > MAX_HELD {
                return self.not_a_key(at, &held, sink);
            }
            self.state = State::Key { held, key, at };
            return Step::Advance(ws);
        }
        match scan::starts(rest, VALUE) {
            Match::Yes => {
                let mut call = match at {
                    Keyed::First { name, from_think } => {
                        let index = self.commit(&name, from_think, sink);
                        Box::new(Call {
                            index,
                            name,
                            seen: Vec::new(),
                            opened: false,
                            types: Types::NONE,
                            stream: false,
                            buf: String::new(),
                            depth: 0,
                        })
                    }
                    Keyed::Next { mut call, repair } => {
                        if repair {
                            self.call_repaired = true;
                        }
                        Self::close_value(&mut call, sink);
                        call
                    }
                };
                self.open_value(&mut call, &key, sink);
                self.state = State::Value(call);
                Step::Advance(VALUE.len())
            }
            Match::Partial if eof != Some(UpstreamFinish::Stop) => {
                // Waiting; or cut off under `length`, settled by `settle`.
                self.state = State::Key { held, key, at };
                if eof.is_none() { Step::NeedMore } else { Step::Advance(rest.len()) }
            }
            Match::Partial | Match::No => self.not_a_key(at, &held, sink),
        }
    }

    /// `<arg_key>…</arg_key>` not followed by `<arg_value>`: a would-be call is text, a
    /// key inside a value is data of that value.
    fn not_a_key(&mut self, at: Keyed, held: &str, sink: &mut impl Sink) -> Step {
        match at {
            Keyed::First { from_think, .. } => self.revert(held, from_think, sink),
            Keyed::Next { call, .. } => self.reopen(call, held, sink),
        }
    }

    /// Opens value `key` of `call`.
    fn open_value(&self, call: &mut Call, key: &str, sink: &mut impl Sink) {
        let types = self.tools.get(&call.name).and_then(|t| t.param(key)).unwrap_or(Types::NONE);
        call.types = types;
        call.stream = types.is_pure_string();
        call.depth = 0;
        call.buf.clear();
        call.seen.push(key.to_owned());
        if call.stream {
            let mut head = key_prefix(!call.opened, key);
            head.push('"');
            call.opened = true;
            Self::args(call.index, &head, sink);
        }
    }

    /// Ends the current value; a typed value goes out.
    fn close_value(call: &mut Call, sink: &mut impl Sink) {
        if call.stream {
            Self::args(call.index, "\"", sink);
        } else if let Some(key) = call.seen.last() {
            let mut out = key_prefix(!call.opened, key);
            coerce_into(&call.buf, call.types, &mut out);
            call.opened = true;
            Self::args(call.index, &out, sink);
        }
        call.buf.clear();
    }

    /// Whether `<arg_key>key</arg_key>` after a value starts the next value.
    fn is_next_param(&self, call: &Call, key: &str) -> bool {
        if call.seen.iter().any(|s| s == key) {
            return false;
        }
        match self.tools.get(&call.name) {
            Some(tool) => tool.param(key).is_some(),
            None => true,
        }
    }

    fn step_value(
        &mut self,
        rest: &str,
        mut call: Box<Call>,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let mut partial = false;
        match scan::starts(rest, VALUE_CLOSE) {
            Match::Yes => {
                self.state = State::Closing { call, held: VALUE_CLOSE.to_owned() };
                return Step::Advance(VALUE_CLOSE.len());
            }
            Match::Partial => partial = true,
            Match::No => {}
        }
        if call.depth == 0 {
            // The value's `</arg_value>` is missing before the next key.
            match key_tag(rest) {
                Tag::Complete { name, len } if self.is_next_param(&call, name) => {
                    let key = name.to_owned();
                    self.state = State::Key {
                        held: rest[..len].to_owned(),
                        key,
                        at: Keyed::Next { call, repair: true },
                    };
                    return Step::Advance(len);
                }
                Tag::Partial => partial = true,
                Tag::Complete { .. } | Tag::No => {}
            }
        }
        for (tag, open) in [(OPEN, true), (CLOSE, false)] {
            match scan::starts(rest, tag) {
                Match::Yes if !open && call.depth == 0 => {
                    self.state = State::Ending { call, held: CLOSE.to_owned() };
                    return Step::Advance(CLOSE.len());
                }
                Match::Yes => {
                    call.depth = if open { call.depth.saturating_add(1) } else { call.depth - 1 };
                    return self.literal(call, tag, sink);
                }
                Match::Partial => partial = true,
                Match::No => {}
            }
        }
        if partial && eof.is_none() {
            self.state = State::Value(call);
            return Step::NeedMore;
        }
        self.literal(call, "<", sink)
    }

    fn literal(&mut self, mut call: Box<Call>, text: &str, sink: &mut impl Sink) -> Step {
        value_text(&mut self.scratch, &mut call, text, sink);
        self.state = State::Value(call);
        Step::Advance(text.len())
    }

    /// The closing markup was data after all: it and the whitespace after it join the value.
    fn reopen(&mut self, mut call: Box<Call>, held: &str, sink: &mut impl Sink) -> Step {
        value_text(&mut self.scratch, &mut call, held, sink);
        self.state = State::Value(call);
        Step::Advance(0)
    }

    fn step_closing(
        &mut self,
        rest: &str,
        call: Box<Call>,
        mut held: String,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            held.push_str(&rest[..ws]);
            if held.len() > MAX_HELD {
                return self.reopen(call, &held, sink);
            }
            self.state = State::Closing { call, held };
            return Step::Advance(ws);
        }
        if call.depth > 0 {
            // Inside a literal `<tool_call>` of the value: nothing after it is structural.
            return self.reopen(call, &held, sink);
        }
        let mut partial_close = false;
        let mut partial_open = false;
        let mut partial = false;
        match scan::starts(rest, CLOSE) {
            Match::Yes => {
                self.close_call(call, sink);
                self.state = State::Text;
                return Step::Advance(CLOSE.len());
            }
            Match::Partial => partial_close = true,
            Match::No => {}
        }
        match key_tag(rest) {
            Tag::Complete { name, len } if self.is_next_param(&call, name) => {
                let key = name.to_owned();
                held.push_str(&rest[..len]);
                self.state = State::Key { held, key, at: Keyed::Next { call, repair: false } };
                return Step::Advance(len);
            }
            Tag::Partial => partial = true,
            Tag::Complete { .. } | Tag::No => {}
        }
        match scan::starts(rest, OPEN) {
            Match::Yes => {
                // The next call follows: this one's `</tool_call>` is missing.
                self.call_repaired = true;
                self.close_call(call, sink);
                self.state = State::Text;
                return Step::Advance(0);
            }
            Match::Partial => partial_open = true,
            Match::No => {}
        }
        let stop = eof == Some(UpstreamFinish::Stop);
        if partial_open && stop {
            // Under `stop` the cut marker is text after a call whose `</tool_call>` is missing.
            self.call_repaired = true;
            self.close_call(call, sink);
            self.state = State::Text;
            return Step::Advance(0);
        }
        if (partial || partial_open || partial_close) && (!stop || partial_close) {
            self.state = State::Closing { call, held };
            // Waiting; or cut off, for `settle` to decide (a `</tool_call>` cut under `stop`
            // is only a missing closer; anything cut under `length` is a truncated call).
            return if eof.is_none() { Step::NeedMore } else { Step::Advance(rest.len()) };
        }
        self.reopen(call, &held, sink)
    }

    fn step_ending(
        &mut self,
        rest: &str,
        call: Box<Call>,
        mut held: String,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            held.push_str(&rest[..ws]);
            if held.len() > MAX_HELD {
                return self.reopen(call, &held, sink);
            }
            self.state = State::Ending { call, held };
            return Step::Advance(ws);
        }
        match (scan::starts(rest, OPEN), eof) {
            (Match::Yes, _) | (Match::Partial, Some(UpstreamFinish::Stop)) => {
                // Another call (or, under `stop`, a cut marker left to the text) follows.
                self.call_repaired = true;
                self.close_call(call, sink);
                self.state = State::Text;
                Step::Advance(0)
            }
            (Match::Partial, None) => {
                self.state = State::Ending { call, held };
                Step::NeedMore
            }
            (Match::Partial, Some(UpstreamFinish::Length)) => {
                self.state = State::Ending { call, held };
                Step::Advance(rest.len())
            }
            (Match::No, _) => self.reopen(call, &held, sink),
        }
    }

    /// The call is complete: its last value closes, then its arguments object.
    fn close_call(&mut self, mut call: Box<Call>, sink: &mut impl Sink) {
        Self::close_value(&mut call, sink);
        Self::args(call.index, "}", sink);
        self.end(call.index, true, sink);
    }

    /// Output ended inside the call: close the arguments so they parse, mark it not executable.
    fn truncate(&mut self, call: &Call, sink: &mut impl Sink) {
        let mut tail = String::new();
        if call.stream {
            tail.push('"');
        }
        tail.push_str(if call.opened || call.stream { "}" } else { "{}" });
        Self::args(call.index, &tail, sink);
        self.end(call.index, false, sink);
    }

    /// The end of output: settles the state left after the final `run`.
    pub(crate) fn finish(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) -> FinishReason {
        let stop = upstream == UpstreamFinish::Stop;
        match std::mem::take(&mut self.state) {
            State::Text | State::Think => {}
            State::Open { held, from_think }
            | State::Key { held, at: Keyed::First { from_think, .. }, .. } => {
                if stop {
                    bump(&mut self.outcomes.as_text);
                    self.text(&held, from_think, sink);
                }
            }
            State::Named { held, name, from_think } => {
                if stop {
                    // Only `</tool_call>` missing: a call without arguments, if the tool is
                    // declared; a bare word after `<tool_call>` otherwise stays text.
                    if self.tools.get(&name).is_some() {
                        let index = self.commit(&name, from_think, sink);
                        Self::args(index, "{}", sink);
                        self.call_repaired = true;
                        self.end(index, true, sink);
                    } else {
                        bump(&mut self.outcomes.as_text);
                        self.text(&held, from_think, sink);
                    }
                }
            }
            // A key without its value, or a value never closed: not complete.
            State::Key { at: Keyed::Next { call, .. }, .. } | State::Value(call) => {
                self.truncate(&call, sink);
            }
            State::Closing { call, .. } | State::Ending { call, .. } => {
                if stop {
                    // Only closers missing (rule 5).
                    self.call_repaired = true;
                    self.close_call(call, sink);
                } else {
                    self.truncate(&call, sink);
                }
            }
        }
        FinishReason::decide(upstream, self.complete)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use crate::toolcall::{Engine, Format, Outcomes, OwnedEvent, Reasoning, Tools, UpstreamFinish};

    const STOP: UpstreamFinish = UpstreamFinish::Stop;
    const LENGTH: UpstreamFinish = UpstreamFinish::Length;
    const READ: &str =
        "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n</tool_call>";

    fn tools() -> Arc<Tools> {
        let tools = json!([
            {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object",
                "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}}}}},
            {"type": "function", "function": {"name": "list_dir", "parameters": {"type": "object", "properties": {}}}}
        ]);
        Arc::new(Tools::from_openai(&tools).expect("valid tools"))
    }

    fn o(calls: u32, truncated: u32, recovered: u32, as_text: u32) -> Outcomes {
        Outcomes { calls, truncated, recovered, as_text }
    }

    fn run(chunks: &[&str], upstream: UpstreamFinish) -> (Outcomes, Vec<OwnedEvent>) {
        let mut engine = Engine::new(Format::Glm45, tools(), Reasoning::Auto);
        let mut events: Vec<OwnedEvent> = Vec::new();
        for chunk in chunks {
            engine.feed(chunk, &mut events);
        }
        engine.finish(upstream, &mut events);
        (engine.outcomes(), events)
    }

    #[test]
    fn outcomes_table() {
        let cases: Vec<(&str, String, UpstreamFinish, Outcomes)> = vec![
            ("clean", format!("Reading.\n{READ}\nDone."), STOP, o(1, 0, 0, 0)),
            ("clean_under_length", READ.to_owned(), LENGTH, o(1, 0, 0, 0)),
            ("two", format!("{READ}\n{READ}"), STOP, o(2, 0, 0, 0)),
            ("no_args", "<tool_call>list_dir</tool_call>".to_owned(), STOP, o(1, 0, 0, 0)),
            ("no_args_unclosed", "<tool_call>list_dir\n".to_owned(), STOP, o(1, 0, 1, 0)),
            (
                "missing_call_closer",
                "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "missing_value_closer_before_key",
                "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs\n<arg_key>limit</arg_key>\n<arg_value>3</arg_value>\n</tool_call>".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "missing_value_closer_before_call_closer",
                "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</tool_call>".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "missing_call_closer_between_calls",
                format!("<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n{READ}"),
                STOP,
                o(2, 0, 1, 0),
            ),
            ("cut_in_value", "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.r".to_owned(), LENGTH, o(0, 1, 0, 0)),
            (
                "cut_before_call_closer",
                "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n</tool_c".to_owned(),
                LENGTH,
                o(0, 1, 0, 0),
            ),
            ("cut_in_header", "<tool_call>read_file\n<arg_key>pa".to_owned(), LENGTH, o(0, 0, 0, 0)),
            ("garbage", "<tool_call>\nhello there\n</tool_call>".to_owned(), STOP, o(0, 0, 0, 1)),
            ("json_inside", "<tool_call>{\"name\": \"read_file\"}</tool_call>".to_owned(), STOP, o(0, 0, 0, 1)),
            ("at_end", "Let me check.\n<tool_call>\n".to_owned(), STOP, o(0, 0, 0, 1)),
            ("undeclared_word_at_end", "See <tool_call>nope".to_owned(), STOP, o(0, 0, 0, 1)),
        ];
        let mut problems = Vec::new();
        for (name, input, upstream, want) in cases {
            let (whole, events) = run(&[&input], upstream);
            if whole != want {
                problems.push(format!("{name}: expected {want:?}, got {whole:?}\n  events: {events:?}"));
            }
            let chars: Vec<&str> = input.char_indices().map(|(i, c)| &input[i..i + c.len_utf8()]).collect();
            let (by_char, by_char_events) = run(&chars, upstream);
            if by_char != whole || by_char_events.len() != events.len() {
                problems.push(format!("{name}: 1-char chunks give {by_char:?}, whole {whole:?}"));
            }
        }
        assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    }
}
