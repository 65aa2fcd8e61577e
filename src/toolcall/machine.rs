//! What every format's state machine has in common with the others: the [`Machine`] trait
//! the engine drives, the driver loop ([`Machine::run`]) written once, the [`Step`] one
//! step returns, and what `auto` hands over when it decides the family ([`Switch`],
//! [`Handover`]).
//!
//! A machine is handed the undecided input and consumes as much as the front of it decides;
//! the engine keeps the rest and hands it back with the next delta. Each step looks at the
//! front of the input only, and pieces that must be held while a decision is pending live in
//! the machine's state, so nothing is ever scanned twice.

use std::sync::Arc;

use super::core::{Attempt, Core};
use super::event::{FinishReason, Sink, UpstreamFinish};
use super::format::{Format, Reasoning};
use super::outcome::Outcomes;
use super::tools::Tools;

/// Whether the output has ended, and why: `None` while more may come. A step told the
/// output ended must decide everything in front of it.
pub(crate) type Eof = Option<UpstreamFinish>;

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Consumed this many bytes (0 when only the state changed).
    Advance(usize),
    /// The front of the input cannot be decided until more arrives.
    NeedMore,
}

/// One format's state machine.
pub(crate) trait Machine {
    /// Decides what it can at the front of `rest` (never empty). With `eof` set the output
    /// has ended: the step must decide, never answer [`Step::NeedMore`].
    fn step(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step;

    /// The end of output, after the final [`Machine::run`]: settles the state left (a call
    /// still open is complete, truncated or text by the format's rules).
    fn settle(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink);

    /// The channels and counters.
    fn core(&self) -> &Core;

    /// `auto` found another family's marker: [`Machine::run`] stops there, and the engine
    /// hands the rest of the output to that family's machine.
    fn switching(&self) -> bool {
        false
    }

    /// Called once the final run consumed everything, before the engine checks
    /// [`Machine::switching`] one last time (`auto` decides a call left undecided there).
    fn at_end(&mut self) {}

    /// Consumes what can be decided from `buf`; returns how many bytes. With `eof` set,
    /// everything is decided and the whole of `buf` is consumed (unless the machine is
    /// switching, which leaves the rest to the family taking over).
    fn run(&mut self, buf: &str, eof: Eof, sink: &mut impl Sink) -> usize {
        let mut pos = 0;
        while pos < buf.len() {
            match self.step(&buf[pos..], eof, sink) {
                Step::Advance(n) => {
                    pos += n;
                    if self.switching() {
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

    /// Ends the output: settles the state and returns the client's finish reason.
    fn finish(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) -> FinishReason {
        self.settle(upstream, sink);
        FinishReason::decide(upstream, self.core().complete)
    }

    /// How the would-be calls seen so far turned out.
    fn outcomes(&self) -> Outcomes {
        self.core().outcomes
    }
}

/// Resolves a marker only partly seen at the front of `rest`: wait for more, or at the end
/// of output let the caller treat it as text (`stop`: `None`) or drop it (`length`: a
/// cut-off tag never leaks into the text).
pub(crate) fn undecided(eof: Eof, rest: &str) -> Option<Step> {
    match eof {
        None => Some(Step::NeedMore),
        Some(UpstreamFinish::Stop) => None,
        Some(UpstreamFinish::Length) => Some(Step::Advance(rest.len())),
    }
}

/// The family a decisive marker names, and the text to read again from there (the marker
/// itself stays in the input, except a `<tool_call>` already consumed for GLM-4.5).
#[derive(Debug)]
pub(crate) struct Switch {
    pub(crate) family: Format,
    pub(crate) replay: String,
    /// The marker came inside reasoning.
    pub(crate) think: bool,
}

impl Switch {
    /// `<tool_call>NAME` was GLM-4.5's: its machine reads the attempt again.
    pub(crate) fn to_glm45(attempt: Attempt) -> Self {
        Self { family: Format::Glm45, replay: attempt.held, think: attempt.from_think }
    }
}

/// What a machine starts from: a fresh choice, or the channels (so the content rule holds
/// across the switch) and counters of the undecided `auto` machine handing over. No call
/// was returned before a switch, so the call bookkeeping starts fresh either way.
#[derive(Debug)]
pub(crate) struct Start {
    pub(crate) core: Core,
    /// The output is inside reasoning here.
    pub(crate) think: bool,
}

impl Start {
    /// The start of a choice's output in `format`.
    pub(crate) fn fresh(tools: Arc<Tools>, format: Format, reasoning: Reasoning) -> Self {
        Self { core: Core::new(tools), think: format.starts_in_reasoning(reasoning) }
    }
}
