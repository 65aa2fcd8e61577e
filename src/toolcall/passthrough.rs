//! The `none` format: no parsing, the model's text is the content, untouched (not even
//! shaped by the content rule).

use super::core::Core;
use super::event::{Event, Sink, UpstreamFinish};
use super::machine::{Eof, Machine, Start, Step};

/// Passes every piece of text on as content, as it arrives.
#[derive(Debug)]
pub(crate) struct Passthrough {
    /// Never counts a call; kept so the finish reason and outcomes come from the same place
    /// as every other format's.
    core: Core,
}

impl Passthrough {
    pub(crate) fn new(start: Start) -> Self {
        Self { core: start.core }
    }
}

impl Machine for Passthrough {
    fn step(&mut self, rest: &str, _eof: Eof, sink: &mut impl Sink) -> Step {
        sink.event(Event::Content(rest));
        Step::Advance(rest.len())
    }

    fn settle(&mut self, _upstream: UpstreamFinish, _sink: &mut impl Sink) {}

    fn core(&self) -> &Core {
        &self.core
    }
}
