//! The engine's output vocabulary: events borrowed from the engine's buffers, the sink
//! that receives them, and the finish reasons on either side of the engine.

use std::fmt;
use std::str::FromStr;

/// One thing the engine learned about the model's output.
///
/// Events borrow from the engine, so handing one to a sink allocates nothing; sinks copy
/// what they keep. For one call the order is always `CallStart`, zero or more `CallArgs`,
/// then exactly one of `CallEnd` or `CallTruncated`; calls never interleave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Text for the assistant message's `content`, already trimmed and joined per spec
    /// rule 9: concatenating every `Content` gives the final content exactly.
    Content(&'a str),
    /// Text for `reasoning_content` (what the model wrote inside `<think>`), shaped the same way.
    Reasoning(&'a str),
    /// A call begins. `index` counts calls from 0 in the order they appear. `id` is the
    /// call id the model wrote itself (Kimi K2's `functions.NAME:IDX`), to be used as the
    /// OpenAI tool call id; `None` (every other format) lets the caller make one.
    CallStart { index: usize, name: &'a str, id: Option<&'a str> },
    /// A piece of the call's arguments JSON. All pieces of one call concatenate to exactly
    /// one JSON object once the call has ended (complete or truncated).
    CallArgs { index: usize, fragment: &'a str },
    /// The call is complete and executable.
    CallEnd { index: usize },
    /// Output ended (`length`) inside this call: its arguments were closed so they parse,
    /// but the call is not executable and must not be returned as a tool call to run.
    CallTruncated { index: usize },
}

/// Receives the engine's events.
pub trait Sink {
    fn event(&mut self, event: Event<'_>);

    /// [`Format::Auto`](super::Format::Auto) decided the output's family (see
    /// [`Engine::family`](super::Engine::family)), before any event that follows from it.
    fn family(&mut self, family: super::format::Format) {
        let _ = family;
    }
}

impl<F: FnMut(Event<'_>)> Sink for F {
    fn event(&mut self, event: Event<'_>) {
        self(event);
    }
}

/// An [`Event`] that owns its text, for tests and for callers that keep events around.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedEvent {
    Content(String),
    Reasoning(String),
    CallStart { index: usize, name: String, id: Option<String> },
    CallArgs { index: usize, fragment: String },
    CallEnd { index: usize },
    CallTruncated { index: usize },
}

/// Collects events, merging adjacent text or argument pieces of the same kind so that the
/// collected list does not depend on how the input was chunked.
impl Sink for Vec<OwnedEvent> {
    fn event(&mut self, event: Event<'_>) {
        match (self.last_mut(), event) {
            (Some(OwnedEvent::Content(s)), Event::Content(t))
            | (Some(OwnedEvent::Reasoning(s)), Event::Reasoning(t)) => s.push_str(t),
            (Some(OwnedEvent::CallArgs { index: i, fragment }), Event::CallArgs { index, fragment: f })
                if *i == index =>
            {
                fragment.push_str(f);
            }
            (_, event) => self.push(OwnedEvent::from(event)),
        }
    }
}

impl From<Event<'_>> for OwnedEvent {
    fn from(event: Event<'_>) -> Self {
        match event {
            Event::Content(s) => Self::Content(s.to_owned()),
            Event::Reasoning(s) => Self::Reasoning(s.to_owned()),
            Event::CallStart { index, name, id } => {
                Self::CallStart { index, name: name.to_owned(), id: id.map(str::to_owned) }
            }
            Event::CallArgs { index, fragment } => Self::CallArgs { index, fragment: fragment.to_owned() },
            Event::CallEnd { index } => Self::CallEnd { index },
            Event::CallTruncated { index } => Self::CallTruncated { index },
        }
    }
}

/// Why the upstream (vLLM) stopped generating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpstreamFinish {
    /// The model ended its answer (EOS or a stop string).
    #[default]
    Stop,
    /// The token budget (`max_tokens` or the context) ran out mid-output.
    Length,
}

impl FromStr for UpstreamFinish {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stop" => Ok(Self::Stop),
            "length" => Ok(Self::Length),
            other => Err(format!("unknown finish reason `{other}` (expected `stop` or `length`)")),
        }
    }
}

/// The `finish_reason` the client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
}

impl FinishReason {
    /// Spec section 6: `length` stays `length`; `tool_calls` exactly when at least one
    /// complete call is returned and the upstream stopped normally.
    pub fn decide(upstream: UpstreamFinish, complete_calls: usize) -> Self {
        match upstream {
            UpstreamFinish::Length => Self::Length,
            UpstreamFinish::Stop if complete_calls > 0 => Self::ToolCalls,
            UpstreamFinish::Stop => Self::Stop,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ToolCalls => "tool_calls",
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
