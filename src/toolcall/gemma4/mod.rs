//! Gemma 4 tool calls (`gemma4`):
//! `<|tool_call>call:NAME{key:<|"|>text<|"|>,n:42}<tool_call|>`, reasoning in
//! `<|channel>thought\n…<channel|>`.
//!
//! From vLLM's `gemma4_tool_parser.py` / `gemma4_utils.py` and Gemma 4's chat template
//! (`<|turn>ROLE\n…<turn|>` around each turn; after a call the model writes
//! `<|tool_response>` and waits). How the machine decides:
//! * Prose streams at once; only a `<` that could still begin a marker is held.
//! * A call is held whole from `<|tool_call>` to its `<tool_call|>` (or `<turn|>`, which
//!   some checkpoints write in its place: vLLM accepts both) found outside `<|"|>` strings,
//!   so a closer inside a string is data; then its text is read by the grammar
//!   (`value.rs`) and typed by the request's schema like Hermes arguments. Text that is not
//!   the grammar stays content: never a call with guessed arguments.
//! * A missing closer is recovered at the next `<|tool_call>` or (under `stop`) the end of
//!   output; a call cut off under `length` is dropped, never executable.
//! * `<|channel>` opens reasoning only at the start (its `thought\n` label is not reasoning
//!   text), `<channel|>` closes it, a call inside it ends it; with `Reasoning::PromptOpened`
//!   the output starts inside the channel.
//! * Turn and end tokens (`<|turn>`, `<turn|>`, `<eos>`, `<|tool_response>`, an orphan
//!   `<tool_call|>`) are never content.

mod value;

use memchr::memchr;

use super::core::Core;
use super::event::{Sink, UpstreamFinish};
use super::json::decode_args;
use super::machine::{Eof, Machine, Start, Step, undecided};
use super::scan::{self, Match, MatchAny};

use value::{QUOTE, parse_call};

const OPEN: &str = "<|tool_call>";
const CLOSE: &str = "<tool_call|>";
/// Some checkpoints end a call with the turn's end instead of `<tool_call|>`.
const TURN_CLOSE: &str = "<turn|>";
const CHANNEL: &str = "<|channel>";
const CHANNEL_CLOSE: &str = "<channel|>";
const LABEL: &str = "thought\n";
const END_OF_TURN: &[&str] = &["<turn|>", "<|turn>", "<eos>", "<|tool_response>", "<tool_call|>"];

/// A call being held until its closer.
#[derive(Debug)]
struct Call {
    body: String,
    from_think: bool,
    /// Inside a `<|"|>` string.
    in_string: bool,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Text,
    Think,
    /// Just inside the channel: its `thought\n` label, if written, is not reasoning.
    Label,
    Call(Box<Call>),
}

/// The `gemma4` state machine.
#[derive(Debug)]
pub(crate) struct Gemma4 {
    core: Core,
    state: State,
}

impl Gemma4 {
    pub(crate) fn new(start: Start) -> Self {
        let state = if start.think { State::Label } else { State::Text };
        Self { core: start.core.lines(false).ending(END_OF_TURN), state }
    }

    fn step_text(&mut self, rest: &str, think: bool, eof: Eof, sink: &mut impl Sink) -> Step {
        let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
        if lt > 0 {
            self.core.text(&rest[..lt], think, sink);
            return Step::Advance(lt);
        }
        let opens = self.core.think_opens(think);
        let markers: &[&str] = if opens { &[OPEN, CHANNEL_CLOSE, CHANNEL] } else { &[OPEN, CHANNEL_CLOSE] };
        let mut partial = false;
        match scan::starts_any(rest, markers) {
            MatchAny::Yes(OPEN) => {
                self.state =
                    State::Call(Box::new(Call { body: String::new(), from_think: think, in_string: false }));
                return Step::Advance(OPEN.len());
            }
            MatchAny::Yes(CHANNEL) => {
                self.state = State::Label;
                return Step::Advance(CHANNEL.len());
            }
            MatchAny::Yes(_) => {
                if think {
                    self.core.end_reasoning();
                    self.state = State::Text;
                } else {
                    // A stray channel end: never content.
                    self.core.content.boundary();
                }
                return Step::Advance(CHANNEL_CLOSE.len());
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

    fn step_label(&mut self, rest: &str, eof: Eof) -> Step {
        match scan::starts(rest, LABEL) {
            Match::Yes => {
                self.state = State::Think;
                Step::Advance(LABEL.len())
            }
            Match::Partial if eof.is_none() => {
                self.state = State::Label;
                Step::NeedMore
            }
            Match::Partial | Match::No => {
                self.state = State::Think;
                Step::Advance(0)
            }
        }
    }

    fn step_call(&mut self, rest: &str, mut call: Box<Call>, eof: Eof, sink: &mut impl Sink) -> Step {
        let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
        if lt > 0 {
            call.body.push_str(&rest[..lt]);
            self.state = State::Call(call);
            return Step::Advance(lt);
        }
        let markers: &[&str] = if call.in_string { &[QUOTE] } else { &[QUOTE, CLOSE, TURN_CLOSE, OPEN] };
        match scan::starts_any(rest, markers) {
            MatchAny::Yes(QUOTE) => {
                call.in_string = !call.in_string;
                call.body.push_str(QUOTE);
                self.state = State::Call(call);
                Step::Advance(QUOTE.len())
            }
            MatchAny::Yes(OPEN) => {
                // The next call: this one's closer is missing.
                self.decide(&call, None, sink);
                Step::Advance(0)
            }
            MatchAny::Yes(closer) => {
                self.decide(&call, Some(closer), sink);
                Step::Advance(closer.len())
            }
            MatchAny::Partial if eof.is_none() => {
                self.state = State::Call(call);
                Step::NeedMore
            }
            MatchAny::Partial | MatchAny::No => {
                call.body.push('<');
                self.state = State::Call(call);
                Step::Advance(1)
            }
        }
    }

    /// The call's text is complete (`closer` seen, or not): a call if it reads as one,
    /// else its text goes back to the channel it came from.
    fn decide(&mut self, call: &Call, closer: Option<&str>, sink: &mut impl Sink) {
        self.state = State::Text;
        let decoded = parse_call(&call.body)
            .and_then(|(name, args)| decode_args(name.to_owned(), args, &self.core.tools, false));
        if let Some(d) = decoded {
            self.core.whole_call(&d.name, None, &d.args, call.from_think, closer.is_none(), sink);
        } else {
            let text = format!("{OPEN}{}{}", call.body, closer.unwrap_or_default());
            self.core.give_up(&text, call.from_think, sink);
            if call.from_think {
                self.state = State::Think;
            }
        }
    }
}

impl Machine for Gemma4 {
    fn step(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step {
        match std::mem::take(&mut self.state) {
            State::Text => self.step_text(rest, false, eof, sink),
            State::Think => {
                self.state = State::Think;
                self.step_text(rest, true, eof, sink)
            }
            State::Label => self.step_label(rest, eof),
            State::Call(call) => self.step_call(rest, call, eof, sink),
        }
    }

    fn settle(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) {
        // Under `length` a call still open is never executable: dropped, prose kept.
        if let State::Call(call) = std::mem::take(&mut self.state)
            && upstream == UpstreamFinish::Stop
        {
            self.decide(&call, None, sink);
        }
    }

    fn core(&self) -> &Core {
        &self.core
    }
}
