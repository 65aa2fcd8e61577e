//! The Qwen family state machine: prose, `<think>` reasoning, Qwen3-Coder XML calls
//! (`xml.rs`) and Hermes JSON calls (`hermes.rs`).
//!
//! Like every machine ([`Machine`]), it consumes what the front of the input decides and
//! leaves the rest to the engine. Text states
//! release everything up to the next `<` at once; a `<` is held only while it could still
//! begin a marker. Unbounded pieces that must be held while a decision is pending (the
//! whitespace between tags, a value being typed, a JSON block) live in the state, so
//! nothing is ever re-scanned.
//!
//! In `auto` mode, until a call is returned, prose and reasoning are also watched for the
//! decisive markers of the other families (`detect.rs`): `run` stops at one, and the engine
//! hands the rest of the output to that family's machine.

mod hermes;
mod xml;

use memchr::{memchr, memchr2};

use super::core::{Attempt, Core};
use super::detect::{self, Decisive, Found};
use super::event::{Sink, UpstreamFinish};
use super::machine::{Eof, Machine, Start, Step, Switch, undecided};
use super::outcome::bump;
use super::scan::{self, MatchAny, Tag};

use xml::CallCtx;

#[derive(Debug, Default)]
enum State {
    #[default]
    Text,
    Think,
    /// After `<tool_call>`: whitespace until `<function=` (XML) or `{` (JSON) decides.
    CallOpen(Attempt),
    /// `auto`, after `<tool_call>NAME` and a space or `<`: `<arg_key>` or `</tool_call>`
    /// next makes it GLM-4.5's call.
    GlmNamed(Attempt),
    /// After `<function=NAME>`: not yet a call until a parameter or a closer follows.
    FuncBody {
        attempt: Attempt,
        name: String,
        wrapped: bool,
    },
    /// Inside a parameter value of a committed call.
    Value(Box<CallCtx>),
    /// After `</parameter>` (or a line-start `</function>`) in a value: deciding whether
    /// it closes the value.
    Closing {
        ctx: Box<CallCtx>,
        held: String,
        newline: bool,
        after_function: bool,
    },
    /// After a call's `</function>`: whitespace and an optional `</tool_call>` are swallowed.
    /// `owed`: the call was wrapped in `<tool_call>` and not yet counted as recovered, so a
    /// missing `</tool_call>` makes it recovered.
    AfterCall {
        owed: bool,
    },
    /// Inside a Hermes JSON block, scanning for its `</tool_call>` outside strings.
    Json(Box<hermes::Block>),
}

impl State {
    /// Prose, or reasoning when `think`.
    fn channel(think: bool) -> Self {
        if think { Self::Think } else { Self::Text }
    }
}

/// The wrapper and reasoning tags of a family that writes Qwen3-Coder's (or Hermes') calls,
/// and its end-of-turn tokens (never content).
#[derive(Debug)]
pub(crate) struct Tags {
    pub(crate) open: &'static str,
    pub(crate) close: &'static str,
    pub(crate) think: &'static str,
    pub(crate) think_close: &'static str,
    pub(crate) end_of_turn: &'static [&'static str],
}

/// Qwen's own: `<|im_end|>` ends every turn of its ChatML template, `<|endoftext|>` is the
/// tokenizer's end of text (both in Qwen3's `generation_config.json` `eos_token_id`).
pub(crate) const QWEN: Tags = Tags {
    open: "<tool_call>",
    close: "</tool_call>",
    think: "<think>",
    think_close: "</think>",
    end_of_turn: &["<|im_end|>", "<|endoftext|>"],
};

/// The machine of `qwen3_coder` (XML calls), `hermes` (JSON calls) and `auto` (both,
/// decided per call, and the other families' markers watched for), and of the families
/// that write the same calls in other tags (`seed_oss`).
#[derive(Debug)]
pub(crate) struct Qwen {
    tags: &'static Tags,
    xml: bool,
    json: bool,
    core: Core,
    state: State,
    /// `auto`: until a call is returned, these markers of other families hand the output
    /// over.
    detect: Option<&'static [Decisive]>,
    /// Set when such a marker was found: `run` stops there.
    switch: Option<Switch>,
}

impl Qwen {
    /// `qwen3_coder` reads XML calls, `hermes` JSON ones; `auto` both, with the table of
    /// the other families' decisive markers.
    pub(crate) fn new(xml: bool, json: bool, detect: Option<&'static [Decisive]>, start: Start) -> Self {
        Self::with_tags(&QWEN, xml, json, detect, start)
    }

    /// The same machine reading another family's tags.
    pub(crate) fn with_tags(
        tags: &'static Tags,
        xml: bool,
        json: bool,
        detect: Option<&'static [Decisive]>,
        start: Start,
    ) -> Self {
        let state = State::channel(start.think);
        let core = start.core.lines(true).ending(tags.end_of_turn);
        Self { tags, xml, json, core, state, detect, switch: None }
    }

    /// The family decided, and what the machine taking over starts from.
    pub(crate) fn hand_over(self) -> (Switch, Start) {
        let switch = self.switch.expect("hand_over only after `switching`");
        let start = Start { core: self.core, think: switch.think };
        (switch, start)
    }

    /// Still deciding between families: no call returned yet.
    fn detecting(&self) -> bool {
        self.detect.is_some() && self.core.next_index == 0
    }

    /// The state after a call's `</function>`.
    fn after_call(&self, wrapped: bool) -> State {
        State::AfterCall { owed: wrapped && !self.core.repaired }
    }

    /// Prose and reasoning.
    fn step_text(&mut self, rest: &str, think: bool, eof: Eof, sink: &mut impl Sink) -> Step {
        let detect = self.detect.filter(|_| self.detecting());
        let lt = if detect.is_some() { find_lt_or_bracket(rest) } else { find_lt(rest) };
        if lt > 0 {
            self.text(&rest[..lt], think, sink);
            return Step::Advance(lt);
        }
        let mut partial = false;
        // `<think>` opens reasoning only before any answer text or call; elsewhere it is
        // text, so there is nothing to hold back for it.
        let think_opens = self.core.think_opens(think);
        if let Some(table) = detect {
            match detect::marker(table, rest, think_opens) {
                Found::Yes(family) => {
                    self.switch = Some(Switch { family, replay: String::new(), think });
                    return Step::Advance(0);
                }
                Found::Partial => partial = true,
                Found::No => {}
            }
            if rest.starts_with('[') {
                if partial && let Some(step) = undecided(eof, rest) {
                    return step;
                }
                self.text("[", think, sink);
                return Step::Advance(1);
            }
        }
        let markers: &[&str] = if think_opens {
            &[self.tags.open, self.tags.think_close, self.tags.think]
        } else {
            &[self.tags.open, self.tags.think_close]
        };
        match scan::starts_any(rest, markers) {
            MatchAny::Yes(marker) => return self.on_marker(marker, think, sink),
            MatchAny::Partial => partial = true,
            MatchAny::No => {}
        }
        if self.xml && !think && self.core.line_start {
            match scan::named_tag(rest, "<function=") {
                Tag::Complete { name, len } if self.core.tools.get(name).is_some() => {
                    let attempt = Attempt::new(&rest[..len], false);
                    self.state = State::FuncBody { attempt, name: name.to_owned(), wrapped: false };
                    return Step::Advance(len);
                }
                // A would-be call to an undeclared tool: prose (rule 4), counted as given up.
                // The tag is complete, so this `<` is decided here once, whatever the chunking.
                Tag::Complete { .. } => bump(&mut self.core.outcomes.as_text),
                Tag::Partial => partial = true,
                Tag::No => {}
            }
        }
        match self.core.end_of_turn(rest, think) {
            MatchAny::Yes(token) => return Step::Advance(token.len()),
            MatchAny::Partial => partial = true,
            MatchAny::No => {}
        }
        if partial && let Some(step) = undecided(eof, rest) {
            return step;
        }
        self.text("<", think, sink);
        Step::Advance(1)
    }

    fn on_marker(&mut self, marker: &str, think: bool, sink: &mut impl Sink) -> Step {
        let t = self.tags;
        if marker == t.open {
            self.state = State::CallOpen(Attempt::new(marker, think));
        } else if marker == t.think_close && think {
            self.core.end_reasoning();
            self.state = State::Text;
        } else if marker == t.think_close {
            // A stray `</think>` (the prompt opened the block, or it follows a call that
            // ended reasoning): never content, and it separates what surrounds it.
            self.core.content.boundary();
        } else if marker == t.think {
            self.state = State::Think;
        } else {
            self.text(marker, think, sink);
        }
        Step::Advance(marker.len())
    }

    /// Text for the content or reasoning channel.
    fn text(&mut self, text: &str, think: bool, sink: &mut impl Sink) {
        self.core.text(text, think, sink);
    }

    /// Gives up on a would-be call: its text goes back to the channel it came from, and
    /// the input after it is read again from there.
    fn revert(&mut self, attempt: &Attempt, sink: &mut impl Sink) -> Step {
        self.core.give_up_attempt(attempt, sink);
        self.state = State::channel(attempt.from_think);
        Step::Advance(0)
    }
}

impl Machine for Qwen {
    fn step(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step {
        // The two states that see almost all the text are handled in place: no state moves.
        match &mut self.state {
            State::Text => return self.step_text(rest, false, eof, sink),
            State::Think => return self.step_text(rest, true, eof, sink),
            State::Value(ctx) if ctx.started => {
                let lt = find_lt(rest);
                if lt > 0 {
                    ctx.args.text(&mut self.core.scratch, &rest[..lt], sink);
                    return Step::Advance(lt);
                }
            }
            _ => {}
        }
        match std::mem::take(&mut self.state) {
            State::Text | State::Think => unreachable!("handled in place above"),
            State::CallOpen(attempt) => self.step_open(rest, attempt, eof, sink),
            State::GlmNamed(attempt) => self.step_named(rest, attempt, eof, sink),
            State::FuncBody { attempt, name, wrapped } => {
                self.step_func_body(rest, attempt, name, wrapped, eof, sink)
            }
            State::Value(ctx) => self.step_value(rest, ctx, eof, sink),
            State::Closing { ctx, held, newline, after_function } => {
                self.step_closing(rest, ctx, held, newline, after_function, eof, sink)
            }
            State::AfterCall { owed } => self.step_after_call(rest, owed, eof),
            State::Json(block) => self.step_json(rest, block, eof, sink),
        }
    }

    fn settle(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) {
        let stop = upstream == UpstreamFinish::Stop;
        match std::mem::take(&mut self.state) {
            State::Text | State::Think => {}
            // `</function>` ended the output: a wrapped call's `</tool_call>` is missing.
            State::AfterCall { owed } => {
                if stop && owed {
                    bump(&mut self.core.outcomes.recovered);
                }
            }
            State::CallOpen(attempt) | State::GlmNamed(attempt) => {
                if stop {
                    self.core.give_up_attempt(&attempt, sink);
                }
            }
            State::FuncBody { attempt, name, .. } => {
                // Rule 5: every parameter (there were none) closed, only closers missing.
                if stop {
                    self.core.whole_call(&name, None, "{}", attempt.from_think, true, sink);
                }
            }
            State::Value(ctx) => ctx.args.truncate(&mut self.core, sink),
            State::Closing { mut ctx, .. } => {
                if stop {
                    // Rule 5: `</function>` (or, after a line-start `</function>`, the
                    // `</parameter>`) is missing.
                    self.core.repaired = true;
                    ctx.args.complete(&mut self.core, sink);
                } else {
                    ctx.args.truncate(&mut self.core, sink);
                }
            }
            State::Json(block) => self.finish_json(&block, stop, sink),
        }
    }

    fn core(&self) -> &Core {
        &self.core
    }

    fn switching(&self) -> bool {
        self.switch.is_some()
    }

    /// A `<tool_call>NAME` left undecided at the end of output is GLM-4.5's to decide
    /// (`<tool_call>list_dir` is its call without arguments).
    fn at_end(&mut self) {
        if matches!(self.state, State::GlmNamed { .. })
            && let State::GlmNamed(attempt) = std::mem::take(&mut self.state)
        {
            self.switch = Some(Switch::to_glm45(attempt));
        }
    }
}

/// Position of the next `<` (or the end). Deltas are usually a few bytes, where a plain
/// loop beats the vectorised search's set-up.
fn find_lt(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    if bytes.len() < 16 {
        bytes.iter().position(|&b| b == b'<').unwrap_or(bytes.len())
    } else {
        memchr(b'<', bytes).unwrap_or(bytes.len())
    }
}

/// Position of the next `<` or `[` (or the end): while `auto` is undecided, `[` may begin
/// Mistral's markers.
fn find_lt_or_bracket(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    if bytes.len() < 16 {
        bytes.iter().position(|&b| b == b'<' || b == b'[').unwrap_or(bytes.len())
    } else {
        memchr2(b'<', b'[', bytes).unwrap_or(bytes.len())
    }
}
