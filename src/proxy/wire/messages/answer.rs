//! What the whole and the streamed answer share: the stop reason, the usage, a call's
//! `input`, the thinking signature; and the whole answer (one `message`).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::openai::ApiError;
use crate::proxy::wire::api::Whole;
use crate::proxy::wire::chat::unwritable;

/// The signature of a thinking block. The reasoning is the open model's own text, not
/// Anthropic's signed thinking: clients store and send blocks back with it, and this
/// proxy reads their thinking text back, whatever the signature.
pub(super) const SIGNATURE: &str = "podctl";

/// Anthropic's `stop_reason` for chat's finish reason. A forced named call finishes `stop`
/// in chat (as OpenAI has it) but `tool_use` in Messages: any call returned means `tool_use`.
/// A choice a stop string ended is `stop_sequence`.
pub(super) fn stop_reason(finish: &str, has_calls: bool, stop_sequence: bool) -> &'static str {
    match finish {
        "length" => "max_tokens",
        "tool_calls" => "tool_use",
        _ if has_calls => "tool_use",
        _ if stop_sequence => "stop_sequence",
        _ => "end_turn",
    }
}

/// A call's `input`: its arguments when they are a JSON object, else `{}` (Anthropic's
/// clients need an object; the core repairs what a model writes, so this is the empty call).
pub(super) fn input(arguments: &str) -> &str {
    match serde_json::from_str::<&RawValue>(arguments) {
        Ok(raw) if raw.get().trim_start().starts_with('{') => raw.get(),
        _ => "{}",
    }
}

/// Usage as Anthropic reports it (prompt caching is vLLM's own business here: 0).
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[allow(clippy::struct_field_names, reason = "Anthropic's names")]
pub(super) struct Usage {
    pub(super) input_tokens: u64,
    pub(super) output_tokens: u64,
    pub(super) cache_creation_input_tokens: u64,
    pub(super) cache_read_input_tokens: u64,
}

impl Usage {
    /// From the upstream's chat `usage`.
    pub(super) fn from_chat(usage: Option<&RawValue>) -> Self {
        #[derive(Deserialize)]
        struct Chat {
            prompt_tokens: Option<u64>,
            completion_tokens: Option<u64>,
        }
        let chat = usage.and_then(|u| serde_json::from_str::<Chat>(u.get()).ok());
        Self {
            input_tokens: chat.as_ref().and_then(|c| c.prompt_tokens).unwrap_or(0),
            output_tokens: chat.as_ref().and_then(|c| c.completion_tokens).unwrap_or(0),
            ..Self::default()
        }
    }
}

#[derive(Serialize)]
struct Message<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<BlockOut<'a>>,
    stop_reason: &'static str,
    stop_sequence: Option<&'a str>,
    usage: Usage,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockOut<'a> {
    Thinking { thinking: &'a str, signature: &'static str },
    Text { text: &'a str },
    ToolUse { id: &'a str, name: &'a str, input: &'a RawValue },
}

/// The whole answer: `[thinking?, text?, tool_use…]`, the first choice (Messages has one).
pub(super) fn render(answer: &Whole<'_>, model: &str, id: &str) -> Result<Vec<u8>, ApiError> {
    let mut content = Vec::new();
    let mut reason = "end_turn";
    let mut sequence = None;
    // Parsed once: `RawValue` borrows from these.
    let mut inputs: Vec<&RawValue> = Vec::new();
    if let Some(choice) = answer.choices.first() {
        reason = stop_reason(choice.reason, !choice.calls.is_empty(), choice.stop_sequence.is_some());
        sequence = choice.stop_sequence.as_deref().filter(|_| reason == "stop_sequence");
        for call in &choice.calls {
            let raw =
                serde_json::from_str::<&RawValue>(input(&call.arguments)).map_err(|e| unwritable(&e))?;
            inputs.push(raw);
        }
        if !choice.reasoning.is_empty() {
            content.push(BlockOut::Thinking { thinking: &choice.reasoning, signature: SIGNATURE });
        }
        if !choice.content.is_empty() {
            content.push(BlockOut::Text { text: &choice.content });
        }
        for (call, input) in choice.calls.iter().zip(inputs) {
            content.push(BlockOut::ToolUse { id: &call.id, name: &call.name, input });
        }
    }
    let message = Message {
        id,
        kind: "message",
        role: "assistant",
        model,
        content,
        stop_reason: reason,
        stop_sequence: sequence,
        usage: Usage::from_chat(answer.usage),
    };
    serde_json::to_vec(&message).map_err(|e| unwritable(&e))
}
