//! How to answer the client, decided from its request: what the response side (the choice
//! translator, the stream and whole-answer writers) needs to know, whichever API the
//! request came in.

use std::sync::Arc;

use crate::toolcall::{Reasoning, Tools};

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
    /// The request's `chat_template_kwargs` turned thinking on or off (`None`: the
    /// profile's default holds); see [`Plan::reasoning`].
    pub(crate) thinking: Option<bool>,
}

impl Plan {
    /// The plan of a stream whose request was not rewritten yet (one that fails first, or
    /// waits for its model): no tools.
    pub(crate) fn answering(model: &str) -> Self {
        Self {
            model: model.to_owned(),
            stream: true,
            include_usage: false,
            tools: Arc::new(Tools::none()),
            choice: ToolChoice::Auto,
            parallel: true,
            hold_calls: true,
            thinking: None,
        }
    }

    /// How the output starts for `format` whose profile default is `default`: a request
    /// that turned thinking off is read as the answer from the start (templates then close
    /// or skip the block); one that turned it on keeps the default, which already says
    /// whether the template opens the block (a model that never thinks ignores the switch).
    /// A profile that serves the model with thinking off (`think_opened = false`) and a
    /// request that turns it on: the family's own reading (its template opens the block, or
    /// the output says).
    pub(crate) fn reasoning(&self, default: Reasoning) -> Reasoning {
        match (self.thinking, default) {
            (Some(false), _) => Reasoning::PromptClosed,
            (Some(true), Reasoning::PromptClosed) => Reasoning::Auto,
            (Some(true) | None, default) => default,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_turns_thinking_on_or_off_over_the_profiles_default() {
        let mut plan = Plan::answering("m");
        for default in [Reasoning::Auto, Reasoning::PromptOpened, Reasoning::PromptClosed] {
            assert_eq!(plan.reasoning(default), default, "the request said nothing");
        }
        plan.thinking = Some(false);
        assert_eq!(plan.reasoning(Reasoning::PromptOpened), Reasoning::PromptClosed);
        plan.thinking = Some(true);
        assert_eq!(plan.reasoning(Reasoning::PromptOpened), Reasoning::PromptOpened);
        assert_eq!(
            plan.reasoning(Reasoning::PromptClosed),
            Reasoning::Auto,
            "off by the profile, on by the request"
        );
    }
}
