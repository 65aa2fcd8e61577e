//! How to answer the client, decided from its request: what the response side (the choice
//! translator, the stream and whole-answer writers) needs to know, whichever API the
//! request came in.

use std::sync::Arc;

use crate::toolcall::Tools;

/// The client's `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum ToolChoice {
    #[default]
    Auto,
    None,
    Required,
    Named(String),
}

/// How to answer the client, decided from its request.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The model name the client asked for (echoed in responses).
    pub(crate) model: String,
    pub(crate) stream: bool,
    pub(crate) include_usage: bool,
    pub(crate) tools: Arc<Tools>,
    pub(crate) choice: ToolChoice,
    /// `parallel_tool_calls: false` returns only the first call.
    pub(crate) parallel: bool,
    /// Each call is held until it is complete, then sent whole: a call the token limit cuts
    /// off is never sent, streaming or not (the proxy's `stream_tool_arguments` unsets it).
    pub(crate) hold_calls: bool,
}

impl Plan {
    /// Calls may be returned at all.
    pub(crate) fn calls_allowed(&self) -> bool {
        self.choice != ToolChoice::None && !self.tools.is_empty()
    }

    /// At most this many calls are returned.
    pub(crate) fn max_calls(&self) -> usize {
        if !self.calls_allowed() {
            0
        } else if self.parallel {
            usize::MAX
        } else {
            1
        }
    }
}
