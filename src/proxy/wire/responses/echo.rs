//! What a Responses answer repeats of its request (the real API echoes `tools`,
//! `tool_choice`, `parallel_tool_calls`, `instructions`, … in every `response` object, and the
//! SDKs' types expect them), kept once per request as raw JSON.

use std::borrow::Cow;

use serde_json::value::RawValue;

/// The request fields a `response` object echoes, in the order they are written.
#[derive(Debug, Default)]
pub(crate) struct Echo {
    pub(crate) fields: Vec<(&'static str, Cow<'static, RawValue>)>,
    /// The names of the request's `custom` (free-form) tools: offered to the model as
    /// functions taking `{"input": …}`, their calls answered as `custom_tool_call` items.
    pub(crate) custom: Vec<String>,
}

impl Echo {
    pub(crate) fn is_custom(&self, name: &str) -> bool {
        self.custom.iter().any(|c| c == name)
    }
}
