//! What a Responses answer repeats of its request (the real API echoes `tools`,
//! `tool_choice`, `parallel_tool_calls`, `instructions`, … in every `response` object, and the
//! SDKs' types expect them), kept once per request as raw JSON.

use serde_json::value::RawValue;

/// The request fields a `response` object echoes, in the order they are written.
#[derive(Debug, Default)]
pub(crate) struct Echo {
    pub(crate) fields: Vec<(&'static str, Box<RawValue>)>,
}
