//! The state every machine keeps beside its own: the content and reasoning channels (each
//! shaped by spec rule 9), the call bookkeeping (indexes, the complete count the finish
//! reason follows, whether the current call needed a repair) and the outcome counters.
//!
//! Every call goes out through [`Core::commit`], its argument pieces through
//! [`Core::args`] and its end through [`Core::end`], so the event order of spec section 4
//! (start, pieces, then end or truncated; calls never interleave) and the counts cannot
//! drift apart between formats.

use std::sync::Arc;

use super::event::{Event, Sink};
use super::outcome::{Outcomes, bump};
use super::scan::{self, Held, MatchAny};
use super::shaper::Shaper;
use super::tools::Tools;

/// A would-be call's markup, held until what follows decides whether it is a call, and the
/// channel it came from (where it goes back if it is not).
#[derive(Debug)]
pub(crate) struct Attempt {
    pub(crate) held: String,
    pub(crate) from_think: bool,
}

impl Attempt {
    /// An attempt opened by `marker`, in reasoning when `from_think`.
    pub(crate) fn new(marker: &str, from_think: bool) -> Self {
        Self { held: marker.to_owned(), from_think }
    }

    /// Holds the whitespace at the front of `rest` (see [`scan::hold_ws`]).
    pub(crate) fn hold_ws(&mut self, rest: &str) -> Held {
        scan::hold_ws(&mut self.held, rest)
    }
}

/// The channels, counters and call bookkeeping of one choice.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) tools: Arc<Tools>,
    pub(crate) content: Shaper,
    pub(crate) reasoning: Shaper,
    /// Only whitespace since the last newline of the content (or the start, a call, the end
    /// of reasoning): formats whose calls may start without a marker (a bare
    /// `<function=`, Llama's bare JSON) accept them only here. Kept up to date only when
    /// `lines` is set, since the others never ask.
    pub(crate) line_start: bool,
    lines: bool,
    /// Index of the next call.
    pub(crate) next_index: usize,
    /// Complete calls so far: the finish reason is `tool_calls` only with one.
    pub(crate) complete: usize,
    pub(crate) outcomes: Outcomes,
    /// The current (or last) call's markup needed a repair: counted as recovered if it
    /// ends complete. Calls never interleave, so this is the call last committed.
    pub(crate) repaired: bool,
    /// Reused for escaping argument fragments.
    pub(crate) scratch: String,
    /// The family's end-of-turn tokens that may reach the text when the serving config
    /// does not list them as stop tokens (see [`Core::end_of_turn`]).
    end_of_turn: &'static [&'static str],
}

impl Core {
    /// A fresh choice.
    pub(crate) fn new(tools: Arc<Tools>) -> Self {
        Self {
            tools,
            content: Shaper::new(false),
            reasoning: Shaper::new(true),
            line_start: true,
            lines: false,
            next_index: 0,
            complete: 0,
            outcomes: Outcomes::default(),
            repaired: false,
            scratch: String::new(),
            end_of_turn: &[],
        }
    }

    /// The family's end-of-turn tokens (from its chat template and generation config):
    /// never content.
    pub(crate) fn ending(mut self, tokens: &'static [&'static str]) -> Self {
        self.end_of_turn = tokens;
        self
    }

    /// An end-of-turn token at the front of `rest`: dropped (`Yes`, with its length to
    /// consume), and it separates what surrounds it like a stray reasoning closer. vLLM
    /// leaves the token that stopped generation out of the text, so one that arrives was
    /// not configured as a stop token (`ignore_eos`, a generation config listing fewer):
    /// it ends the model's turn, it is never text of the answer.
    pub(crate) fn end_of_turn(&mut self, rest: &str, think: bool) -> MatchAny<'static> {
        let found = scan::starts_any(rest, self.end_of_turn);
        if let MatchAny::Yes(_) = found {
            if think {
                self.reasoning.boundary();
            } else {
                self.content.boundary();
            }
        }
        found
    }

    /// Whether [`Core::line_start`] is kept up to date: for the machines that ask.
    pub(crate) fn lines(mut self, on: bool) -> Self {
        self.lines = on;
        self
    }

    /// `<think>` (or the family's opener) begins reasoning only before any answer text or call.
    pub(crate) fn think_opens(&self, think: bool) -> bool {
        !think && !self.content.emitted() && self.next_index == 0
    }

    /// Text for the content or reasoning channel.
    pub(crate) fn text(&mut self, text: &str, think: bool, sink: &mut impl Sink) {
        if think {
            self.reasoning.push(text, sink);
        } else {
            if self.lines {
                let blank = |s: &str| s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
                // memchr's: `rfind(char)` costs a hundred instructions on a token's text.
                self.line_start = match memchr::memrchr(b'\n', text.as_bytes()) {
                    Some(i) => blank(&text[i + 1..]),
                    None => self.line_start && blank(text),
                };
            }
            self.content.push(text, sink);
        }
    }

    /// The reasoning block closed: its segment ends, and the content starts a line.
    pub(crate) fn end_reasoning(&mut self) {
        self.reasoning.boundary();
        self.line_start = true;
    }

    /// A would-be call given up (counted): its markup goes back to the channel it came from.
    pub(crate) fn give_up_attempt(&mut self, attempt: &Attempt, sink: &mut impl Sink) {
        self.give_up(&attempt.held, attempt.from_think, sink);
    }

    /// A would-be call given up (counted): its text goes back to the channel it came from.
    pub(crate) fn give_up(&mut self, held: &str, from_think: bool, sink: &mut impl Sink) {
        bump(&mut self.outcomes.as_text);
        self.text(held, from_think, sink);
    }

    /// A call becomes real: the text segment before it ends (a call inside reasoning ends
    /// the reasoning segment too), and its header goes out. `id`: the call id the model
    /// wrote, for formats that have one. Returns the call's index.
    pub(crate) fn commit(
        &mut self,
        name: &str,
        id: Option<&str>,
        from_think: bool,
        sink: &mut impl Sink,
    ) -> usize {
        if from_think {
            self.reasoning.boundary();
        }
        self.content.boundary();
        self.repaired = false;
        let index = self.next_index;
        self.next_index += 1;
        sink.event(Event::CallStart { index, name, id });
        index
    }

    /// A piece of call `index`'s arguments.
    pub(crate) fn args(index: usize, fragment: &str, sink: &mut impl Sink) {
        sink.event(Event::CallArgs { index, fragment });
    }

    /// Call `index` ends: complete (executable) or cut off by the end of output.
    pub(crate) fn end(&mut self, index: usize, complete: bool, sink: &mut impl Sink) {
        self.line_start = true;
        if complete {
            self.complete += 1;
            bump(&mut self.outcomes.calls);
            if self.repaired {
                bump(&mut self.outcomes.recovered);
            }
            sink.event(Event::CallEnd { index });
        } else {
            bump(&mut self.outcomes.truncated);
            sink.event(Event::CallTruncated { index });
        }
    }

    /// A call decided whole (JSON formats, a call without arguments): its header, its
    /// arguments in one piece, its end. `repaired`: its markup needed a repair.
    pub(crate) fn whole_call(
        &mut self,
        name: &str,
        id: Option<&str>,
        args: &str,
        from_think: bool,
        repaired: bool,
        sink: &mut impl Sink,
    ) {
        let index = self.commit(name, id, from_think, sink);
        Self::args(index, args, sink);
        self.repaired = repaired;
        self.end(index, true, sink);
    }
}
