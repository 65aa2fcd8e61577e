//! The Qwen family state machine: prose, `<think>` reasoning, Qwen3-Coder XML calls
//! (`xml.rs`) and Hermes JSON calls (`hermes.rs`).
//!
//! [`Qwen::run`] is handed the undecided input and consumes as much as it can decide; the
//! caller keeps the rest. Each step looks at the front of the input only. Text states
//! release everything up to the next `<` at once; a `<` is held only while it could still
//! begin a marker. Unbounded pieces that must be held while a decision is pending (the
//! whitespace between tags, a value being typed, a JSON block) live in the state, so
//! nothing is ever re-scanned.
//!
//! In `auto` mode, until a call is returned, prose and reasoning are also watched for the
//! decisive markers of the other families (`auto.rs`): `run` stops at one, and the engine
//! hands the rest of the output to that family's machine.

mod hermes;
mod xml;

use std::sync::Arc;

use memchr::{memchr, memchr2};

use super::auto::{self, Found, Handover, Switch};
use super::event::{Event, FinishReason, Sink, UpstreamFinish};
use super::outcome::{Outcomes, bump};
use super::scan::{self, Match, Tag};
use super::shaper::Shaper;
use super::tools::Tools;
use super::{Format, Reasoning};

pub(crate) use hermes::{Block as JsonScan, Decoded, call as json_call};
pub(crate) use xml::CallCtx;

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Consumed this many bytes (0 when only the state changed).
    Advance(usize),
    /// The front of the input cannot be decided until more arrives.
    NeedMore,
}

#[derive(Debug, Default)]
pub(crate) enum State {
    #[default]
    Text,
    Think,
    /// After `<tool_call>`: whitespace until `<function=` (XML) or `{` (JSON) decides.
    CallOpen {
        held: String,
        from_think: bool,
    },
    /// `auto`, after `<tool_call>NAME` and a space or `<`: `<arg_key>` or `</tool_call>`
    /// next makes it GLM-4.5's call (`auto.rs`).
    GlmNamed {
        held: String,
        from_think: bool,
    },
    /// After `<function=NAME>`: not yet a call until a parameter or a closer follows.
    FuncBody {
        held: String,
        name: String,
        wrapped: bool,
        from_think: bool,
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

#[derive(Debug)]
pub(crate) struct Qwen {
    xml: bool,
    json: bool,
    tools: Arc<Tools>,
    state: State,
    content: Shaper,
    reasoning: Shaper,
    /// Only whitespace since the last newline (or the start, a call, a reasoning block): a
    /// bare `<function=` is a call only here, so a mention inside a sentence stays prose.
    line_start: bool,
    /// Index of the next call.
    next_index: usize,
    complete: usize,
    /// Reused for escaping argument fragments.
    scratch: String,
    outcomes: Outcomes,
    /// The current (or last) call's markup needed a repair: counted as recovered if it
    /// ends complete.
    call_repaired: bool,
    /// `auto`: until a call is returned, another family's marker hands the output over
    /// (`auto.rs`).
    detect: bool,
    /// Set when such a marker was found: `run` stops there.
    switch: Option<Switch>,
}

impl Qwen {
    pub(crate) fn new(xml: bool, json: bool, tools: Arc<Tools>, reasoning: Reasoning) -> Self {
        let state = match reasoning {
            Reasoning::Auto => State::Text,
            Reasoning::PromptOpened => State::Think,
        };
        Self {
            xml,
            json,
            tools,
            state,
            content: Shaper::new(false),
            reasoning: Shaper::new(true),
            line_start: true,
            next_index: 0,
            complete: 0,
            scratch: String::new(),
            outcomes: Outcomes::default(),
            call_repaired: false,
            detect: xml && json,
            switch: None,
        }
    }

    /// Whether another family's marker was found: the engine then hands the output over
    /// ([`Qwen::hand_over`]) and gives that machine the input `run` left unconsumed.
    pub(crate) fn switching(&self) -> bool {
        self.switch.is_some()
    }

    /// The family decided, and what the machine taking over starts from.
    pub(crate) fn hand_over(self) -> (Switch, Handover) {
        let switch = self.switch.expect("hand_over only after `switching`");
        let think = switch.think;
        let handover = Handover {
            tools: self.tools,
            content: self.content,
            reasoning: self.reasoning,
            think,
            line_start: self.line_start,
            outcomes: self.outcomes,
        };
        (switch, handover)
    }

    /// At the end of output, after the final `run`: a `<tool_call>NAME` left undecided
    /// is GLM-4.5's to decide (`<tool_call>list_dir` is its call without arguments).
    pub(crate) fn switch_at_end(&mut self) {
        if matches!(self.state, State::GlmNamed { .. })
            && let State::GlmNamed { held, from_think } = std::mem::take(&mut self.state)
        {
            self.switch = Some(Switch { family: Format::Glm45, replay: held, think: from_think });
        }
    }

    /// Still deciding between families: no call returned yet.
    fn detecting(&self) -> bool {
        self.detect && self.next_index == 0
    }

    pub(crate) fn outcomes(&self) -> Outcomes {
        self.outcomes
    }

    /// The current call's markup was imperfect (a closer or the `<tool_call>` wrapper
    /// missing, JSON that needed a lenient decode). Calls never interleave, so this is the
    /// call last committed, until the next commit.
    fn repaired(&mut self) {
        self.call_repaired = true;
    }

    /// The state after a call's `</function>`.
    fn after_call(&self, wrapped: bool) -> State {
        State::AfterCall { owed: wrapped && !self.call_repaired }
    }

    /// Consumes what can be decided from `buf`; returns how many bytes. With `eof` set,
    /// everything is decided and the whole of `buf` is consumed.
    pub(crate) fn run(&mut self, buf: &str, eof: Option<UpstreamFinish>, sink: &mut impl Sink) -> usize {
        let mut pos = 0;
        while pos < buf.len() {
            match self.step(&buf[pos..], eof, sink) {
                Step::Advance(n) => {
                    pos += n;
                    if self.switch.is_some() {
                        break;
                    }
                }
                Step::NeedMore => {
                    debug_assert!(eof.is_none(), "nothing is pending at the end of output");
                    break;
                }
            }
        }
        pos
    }

    fn step(&mut self, rest: &str, eof: Option<UpstreamFinish>, sink: &mut impl Sink) -> Step {
        // The two states that see almost all the text are handled in place: no state moves.
        match &mut self.state {
            State::Text => return self.step_text(rest, false, eof, sink),
            State::Think => return self.step_text(rest, true, eof, sink),
            State::Value(ctx) if ctx.started() => {
                let lt = find_lt(rest);
                if lt > 0 {
                    xml::value_text(&mut self.scratch, ctx, &rest[..lt], sink);
                    return Step::Advance(lt);
                }
            }
            _ => {}
        }
        match std::mem::take(&mut self.state) {
            State::Text | State::Think => unreachable!("handled in place above"),
            State::CallOpen { held, from_think } => self.step_call_open(rest, held, from_think, eof, sink),
            State::GlmNamed { held, from_think } => self.step_glm_named(rest, held, from_think, eof, sink),
            State::FuncBody { held, name, wrapped, from_think } => {
                self.step_func_body(rest, held, name, wrapped, from_think, eof, sink)
            }
            State::Value(ctx) => self.step_value(rest, ctx, eof, sink),
            State::Closing { ctx, held, newline, after_function } => {
                self.step_closing(rest, ctx, held, newline, after_function, eof, sink)
            }
            State::AfterCall { owed } => self.step_after_call(rest, owed, eof),
            State::Json(block) => self.step_json(rest, block, eof, sink),
        }
    }

    /// Resolves a `Partial` marker match: wait for more, or at the end of output either
    /// treat it as text (`stop`) or drop it (`length`: a cut-off tag never leaks).
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
        let detect = self.detecting();
        let lt = if detect { find_lt_or_bracket(rest) } else { find_lt(rest) };
        if lt > 0 {
            self.text(&rest[..lt], think, sink);
            return Step::Advance(lt);
        }
        let mut partial = false;
        // `<think>` opens reasoning only before any answer text or call; elsewhere it is
        // text, so there is nothing to hold back for it.
        let think_opens = !think && !self.content.emitted() && self.next_index == 0;
        if detect {
            match auto::marker(rest, think_opens) {
                Found::Yes(family) => {
                    self.switch = Some(Switch { family, replay: String::new(), think });
                    return Step::Advance(0);
                }
                Found::Partial => partial = true,
                Found::No => {}
            }
            if rest.starts_with('[') {
                if partial && let Some(step) = Self::undecided(eof, rest) {
                    return step;
                }
                self.text("[", think, sink);
                return Step::Advance(1);
            }
        }
        let markers: &[&str] =
            if think_opens { &["<tool_call>", "</think>", "<think>"] } else { &["<tool_call>", "</think>"] };
        for &marker in markers {
            match scan::starts(rest, marker) {
                Match::Yes => return self.on_marker(marker, think, sink),
                Match::Partial => partial = true,
                Match::No => {}
            }
        }
        if self.xml && !think && self.line_start {
            match scan::named_tag(rest, "<function=") {
                Tag::Complete { name, len } if self.tools.get(name).is_some() => {
                    self.state = State::FuncBody {
                        held: rest[..len].to_owned(),
                        name: name.to_owned(),
                        wrapped: false,
                        from_think: false,
                    };
                    return Step::Advance(len);
                }
                // A would-be call to an undeclared tool: prose (rule 4), counted as given up.
                // The tag is complete, so this `<` is decided here once, whatever the chunking.
                Tag::Complete { .. } => bump(&mut self.outcomes.as_text),
                Tag::Partial => partial = true,
                Tag::No => {}
            }
        }
        if partial && let Some(step) = Self::undecided(eof, rest) {
            return step;
        }
        self.text("<", think, sink);
        Step::Advance(1)
    }

    fn on_marker(&mut self, marker: &str, think: bool, sink: &mut impl Sink) -> Step {
        match (marker, think) {
            ("<tool_call>", _) => {
                self.state = State::CallOpen { held: marker.to_owned(), from_think: think };
            }
            ("</think>", true) => {
                self.reasoning.boundary();
                self.line_start = true;
                self.state = State::Text;
            }
            // A stray `</think>` (the prompt opened the block, or it follows a call that
            // ended reasoning): never content, and it separates what surrounds it.
            ("</think>", false) => self.content.boundary(),
            ("<think>", _) => self.state = State::Think,
            _ => self.text(marker, think, sink),
        }
        Step::Advance(marker.len())
    }

    /// Text for the content or reasoning channel.
    fn text(&mut self, text: &str, think: bool, sink: &mut impl Sink) {
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

    /// Gives up on a would-be call: its text goes back to the channel it came from, and
    /// the input after it is read again from there.
    fn revert(&mut self, held: &str, from_think: bool, sink: &mut impl Sink) -> Step {
        bump(&mut self.outcomes.as_text);
        self.text(held, from_think, sink);
        self.state = if from_think { State::Think } else { State::Text };
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
        self.line_start = true;
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

    /// The end of output: settles the state left after the final `run`.
    pub(crate) fn finish(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) -> FinishReason {
        let stop = upstream == UpstreamFinish::Stop;
        match std::mem::take(&mut self.state) {
            State::Text | State::Think => {}
            // `</function>` ended the output: a wrapped call's `</tool_call>` is missing.
            State::AfterCall { owed } => {
                if stop && owed {
                    bump(&mut self.outcomes.recovered);
                }
            }
            State::CallOpen { held, from_think } | State::GlmNamed { held, from_think } => {
                if stop {
                    bump(&mut self.outcomes.as_text);
                    self.text(&held, from_think, sink);
                }
            }
            State::FuncBody { name, from_think, .. } => {
                // Rule 5: every parameter (there were none) closed, only closers missing.
                if stop {
                    let index = self.commit(&name, from_think, sink);
                    Self::args(index, "{}", sink);
                    self.repaired();
                    self.end(index, true, sink);
                }
            }
            State::Value(ctx) => self.truncate(&ctx, sink),
            State::Closing { ctx, .. } => {
                if stop {
                    // Rule 5: `</function>` (or, after a line-start `</function>`, the
                    // `</parameter>`) is missing.
                    self.repaired();
                    self.close_call(ctx, sink);
                } else {
                    self.truncate(&ctx, sink);
                }
            }
            State::Json(block) => self.finish_json(&block, stop, sink),
        }
        FinishReason::decide(upstream, self.complete)
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
