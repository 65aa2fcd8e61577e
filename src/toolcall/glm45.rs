//! GLM-4.5 / GLM-4.6 tool calls (`glm45`):
//! `<tool_call>NAME\n<arg_key>K</arg_key>\n<arg_value>V</arg_value>\n…</tool_call>`, with
//! `<think>…</think>` reasoning as in the Qwen family; and GLM-4.7 / GLM-5.x (`glm47`), read by
//! the same machine.
//!
//! GLM-4.7 (vLLM's `glm47_moe_tool_parser.py`: `<tool_call>(.*?)(<arg_key>.*?)?</tool_call>`,
//! whitespace allowed between `</arg_key>` and `<arg_value>`) makes the newline after the
//! name optional and allows a call with no arguments (`<tool_call>get_time</tool_call>`);
//! this machine accepts both shapes for either format. Names and keys are trimmed. Its chat
//! template ends the prompt with `<|assistant|><think>` unless `enable_thinking` is false,
//! so under `Reasoning::Auto` a `glm47` output starts inside reasoning (`Format`'s
//! `template_opens_reasoning`); a `<think>` the model writes again there is dropped.
//! GLM's end-of-turn tokens (`generation_config.json`'s `eos_token_id`: `<|endoftext|>`,
//! `<|user|>`, `<|observation|>`) reach the text only when not configured as stop tokens,
//! and are never content.
//!
//! Values are raw text typed by the request's schema exactly like Qwen3-Coder parameters
//! (`coerce`), and kept verbatim otherwise: the chat template writes them with no padding,
//! so no newline is stripped. Markup inside a value is data, decided structurally like spec
//! rule 2: a `</arg_value>` closes the value only before (whitespace and) `</tool_call>`,
//! `<arg_key>KEY</arg_key><arg_value>` for a declared parameter not yet seen, `<tool_call>`
//! (the call's `</tool_call>` missing) or the end of output; a literal `<tool_call>` opened
//! inside a value makes its `</tool_call>` literal too.
//!
//! Like every machine ([`Machine`]), it consumes what the front of the input decides and
//! leaves the rest to the engine; pieces that must be held while a decision is pending
//! (whitespace between tags, a value being typed) live in the state, so nothing is
//! re-scanned. The arguments are written by the XML value writer GLM shares with
//! Qwen3-Coder (`xml_args.rs`).

use memchr::memchr;

use super::core::Core;
use super::event::{Sink, UpstreamFinish};
use super::machine::{Eof, Machine, Start, Step, undecided};
use super::scan::{self, Held, MAX_NAME, Match, MatchAny, Tag};
use super::xml_args::XmlArgs;

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";
const KEY: &str = "<arg_key>";
const KEY_CLOSE: &str = "</arg_key>";
const VALUE: &str = "<arg_value>";
const VALUE_CLOSE: &str = "</arg_value>";
const THINK: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

/// GLM-4.5 to GLM-5's end-of-turn tokens (their `generation_config.json` `eos_token_id`).
const END_OF_TURN: &[&str] = &["<|endoftext|>", "<|user|>", "<|observation|>"];

/// A committed call and the value being read.
#[derive(Debug)]
struct Call {
    args: XmlArgs<false>,
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

impl State {
    /// Prose, or reasoning when `think`.
    fn channel(think: bool) -> Self {
        if think { Self::Think } else { Self::Text }
    }
}

/// The `glm45` state machine.
#[derive(Debug)]
pub(crate) struct Glm45 {
    core: Core,
    state: State,
}

/// `<arg_key>NAME</arg_key>` at the front of `rest`.
fn key_tag(rest: &str) -> Tag<'_> {
    match scan::starts(rest, KEY) {
        Match::No => return Tag::No,
        Match::Partial => return Tag::Partial,
        Match::Yes => {}
    }
    // The key is trimmed (GLM-4.7's parser strips it); the padding is bounded like a name.
    let after = &rest[KEY.len()..];
    let pad = ws_len(after);
    let body = &after[pad..];
    let n = name_len(body);
    if n > MAX_NAME || pad == MAX_NAME {
        return Tag::No;
    }
    if n == body.len() {
        return Tag::Partial;
    }
    if n == 0 {
        return Tag::No;
    }
    let trail = ws_len(&body[n..]);
    if n + trail == body.len() {
        return Tag::Partial;
    }
    match scan::starts(&body[n + trail..], KEY_CLOSE) {
        Match::Yes => Tag::Complete { name: &body[..n], len: KEY.len() + pad + n + trail + KEY_CLOSE.len() },
        Match::Partial => Tag::Partial,
        Match::No => Tag::No,
    }
}

/// Length of the run of whitespace that starts `rest`, counting at most `MAX_NAME`.
fn ws_len(rest: &str) -> usize {
    rest.bytes().take(MAX_NAME).take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count()
}

/// Length of the run of name bytes that starts `rest`, counting at most `MAX_NAME + 1`.
fn name_len(rest: &str) -> usize {
    rest.bytes().take(MAX_NAME + 1).take_while(|&b| scan::is_name_byte(b)).count()
}

impl Glm45 {
    /// A fresh choice, or `auto` handing over at `<tool_call>NAME` (`detect.rs`).
    pub(crate) fn new(start: Start) -> Self {
        Self { core: start.core.lines(false).ending(END_OF_TURN), state: State::channel(start.think) }
    }

    /// Prose and reasoning.
    fn step_text(&mut self, rest: &str, think: bool, eof: Eof, sink: &mut impl Sink) -> Step {
        let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
        if lt > 0 {
            self.core.text(&rest[..lt], think, sink);
            return Step::Advance(lt);
        }
        // `<think>` opens reasoning only before any answer text or call; at the very start
        // of reasoning the prompt opened, the model's own `<think>` repeats it.
        let repeat = think && !self.core.reasoning.emitted() && self.core.next_index == 0;
        let markers: &[&str] = if self.core.think_opens(think) || repeat {
            &[OPEN, THINK_CLOSE, THINK]
        } else {
            &[OPEN, THINK_CLOSE]
        };
        let mut partial = false;
        match scan::starts_any(rest, markers) {
            MatchAny::Yes(marker) => {
                match (marker, think) {
                    (OPEN, _) => self.state = State::Open { held: OPEN.to_owned(), from_think: think },
                    (THINK_CLOSE, true) => {
                        self.core.end_reasoning();
                        self.state = State::Text;
                    }
                    // A stray `</think>`: never content, and it separates what surrounds it.
                    (THINK_CLOSE, false) => self.core.content.boundary(),
                    _ => self.state = State::Think,
                }
                return Step::Advance(marker.len());
            }
            MatchAny::Partial => partial = true,
            MatchAny::No => {}
        }
        match self.core.end_of_turn(rest, think) {
            MatchAny::Yes(token) => return Step::Advance(token.len()),
            MatchAny::Partial => partial = true,
            MatchAny::No => {}
        }
        if partial && let Some(step) = undecided(eof, rest) {
            return step;
        }
        self.core.text("<", think, sink);
        Step::Advance(1)
    }

    /// Gives up on a would-be call: its text goes back to the channel it came from.
    fn revert(&mut self, held: &str, from_think: bool, sink: &mut impl Sink) -> Step {
        self.core.give_up(held, from_think, sink);
        self.state = State::channel(from_think);
        Step::Advance(0)
    }

    fn step_open(
        &mut self,
        rest: &str,
        mut held: String,
        from_think: bool,
        eof: Eof,
        sink: &mut impl Sink,
    ) -> Step {
        match scan::hold_ws(&mut held, rest) {
            Held::Took(ws) => {
                self.state = State::Open { held, from_think };
                return Step::Advance(ws);
            }
            Held::Over => return self.revert(&held, from_think, sink),
            Held::None => {}
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
        eof: Eof,
        sink: &mut impl Sink,
    ) -> Step {
        match scan::hold_ws(&mut held, rest) {
            Held::Took(ws) => {
                self.state = State::Named { held, name, from_think };
                return Step::Advance(ws);
            }
            Held::Over => return self.revert(&held, from_think, sink),
            Held::None => {}
        }
        let mut partial = false;
        match scan::starts(rest, CLOSE) {
            Match::Yes => {
                // A call without arguments (`<tool_call>NAME</tool_call>`).
                self.core.whole_call(&name, None, "{}", from_think, false, sink);
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
        eof: Eof,
        sink: &mut impl Sink,
    ) -> Step {
        match scan::hold_ws(&mut held, rest) {
            Held::Took(ws) => {
                self.state = State::Key { held, key, at };
                return Step::Advance(ws);
            }
            Held::Over => return self.not_a_key(at, &held, sink),
            Held::None => {}
        }
        match scan::starts(rest, VALUE) {
            Match::Yes => {
                let mut call = match at {
                    Keyed::First { name, from_think } => {
                        let index = self.core.commit(&name, None, from_think, sink);
                        Box::new(Call { args: XmlArgs::new(index, name), depth: 0 })
                    }
                    Keyed::Next { mut call, repair } => {
                        if repair {
                            self.core.repaired = true;
                        }
                        call.args.close_value(sink);
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
        call.args.open(key, &self.core.tools, sink);
        call.depth = 0;
    }

    fn step_value(&mut self, rest: &str, mut call: Box<Call>, eof: Eof, sink: &mut impl Sink) -> Step {
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
                Tag::Complete { name, len } if call.args.is_next(name, &self.core.tools) => {
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
        match scan::starts_any(rest, &[OPEN, CLOSE]) {
            MatchAny::Yes(CLOSE) if call.depth == 0 => {
                self.state = State::Ending { call, held: CLOSE.to_owned() };
                return Step::Advance(CLOSE.len());
            }
            MatchAny::Yes(tag) => {
                call.depth = if tag == OPEN { call.depth.saturating_add(1) } else { call.depth - 1 };
                return self.literal(call, tag, sink);
            }
            MatchAny::Partial => partial = true,
            MatchAny::No => {}
        }
        if partial && eof.is_none() {
            self.state = State::Value(call);
            return Step::NeedMore;
        }
        self.literal(call, "<", sink)
    }

    fn literal(&mut self, mut call: Box<Call>, text: &str, sink: &mut impl Sink) -> Step {
        call.args.text(&mut self.core.scratch, text, sink);
        self.state = State::Value(call);
        Step::Advance(text.len())
    }

    /// The closing markup was data after all: it and the whitespace after it join the value.
    fn reopen(&mut self, mut call: Box<Call>, held: &str, sink: &mut impl Sink) -> Step {
        call.args.text(&mut self.core.scratch, held, sink);
        self.state = State::Value(call);
        Step::Advance(0)
    }

    fn step_closing(
        &mut self,
        rest: &str,
        mut call: Box<Call>,
        mut held: String,
        eof: Eof,
        sink: &mut impl Sink,
    ) -> Step {
        match scan::hold_ws(&mut held, rest) {
            Held::Took(ws) => {
                self.state = State::Closing { call, held };
                return Step::Advance(ws);
            }
            Held::Over => return self.reopen(call, &held, sink),
            Held::None => {}
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
                call.args.complete(&mut self.core, sink);
                self.state = State::Text;
                return Step::Advance(CLOSE.len());
            }
            Match::Partial => partial_close = true,
            Match::No => {}
        }
        match key_tag(rest) {
            Tag::Complete { name, len } if call.args.is_next(name, &self.core.tools) => {
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
                self.core.repaired = true;
                call.args.complete(&mut self.core, sink);
                self.state = State::Text;
                return Step::Advance(0);
            }
            Match::Partial => partial_open = true,
            Match::No => {}
        }
        let stop = eof == Some(UpstreamFinish::Stop);
        if partial_open && stop {
            // Under `stop` the cut marker is text after a call whose `</tool_call>` is missing.
            self.core.repaired = true;
            call.args.complete(&mut self.core, sink);
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
        mut call: Box<Call>,
        mut held: String,
        eof: Eof,
        sink: &mut impl Sink,
    ) -> Step {
        match scan::hold_ws(&mut held, rest) {
            Held::Took(ws) => {
                self.state = State::Ending { call, held };
                return Step::Advance(ws);
            }
            Held::Over => return self.reopen(call, &held, sink),
            Held::None => {}
        }
        match (scan::starts(rest, OPEN), eof) {
            (Match::Yes, _) | (Match::Partial, Some(UpstreamFinish::Stop)) => {
                // Another call (or, under `stop`, a cut marker left to the text) follows.
                self.core.repaired = true;
                call.args.complete(&mut self.core, sink);
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
}

impl Machine for Glm45 {
    fn step(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step {
        match &mut self.state {
            State::Text => return self.step_text(rest, false, eof, sink),
            State::Think => return self.step_text(rest, true, eof, sink),
            State::Value(call) => {
                let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
                if lt > 0 {
                    call.args.text(&mut self.core.scratch, &rest[..lt], sink);
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

    fn settle(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) {
        let stop = upstream == UpstreamFinish::Stop;
        match std::mem::take(&mut self.state) {
            State::Text | State::Think => {}
            State::Open { held, from_think }
            | State::Key { held, at: Keyed::First { from_think, .. }, .. } => {
                if stop {
                    self.core.give_up(&held, from_think, sink);
                }
            }
            State::Named { held, name, from_think } => {
                if stop {
                    // Only `</tool_call>` missing: a call without arguments, if the tool is
                    // declared; a bare word after `<tool_call>` otherwise stays text.
                    if self.core.tools.get(&name).is_some() {
                        self.core.whole_call(&name, None, "{}", from_think, true, sink);
                    } else {
                        self.core.give_up(&held, from_think, sink);
                    }
                }
            }
            // A key without its value, or a value never closed: not complete.
            State::Key { at: Keyed::Next { call, .. }, .. } | State::Value(call) => {
                call.args.truncate(&mut self.core, sink);
            }
            State::Closing { mut call, .. } | State::Ending { mut call, .. } => {
                if stop {
                    // Only closers missing (rule 5).
                    self.core.repaired = true;
                    call.args.complete(&mut self.core, sink);
                } else {
                    call.args.truncate(&mut self.core, sink);
                }
            }
        }
    }

    fn core(&self) -> &Core {
        &self.core
    }
}
