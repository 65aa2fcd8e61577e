//! vLLM 0.32's response objects for `/v1/chat/completions` and `/v1/completions`, field for
//! field and in vLLM's order. Serialized from structs rather than `json!` trees, so that the
//! stand-in stays cheap as the load benchmarks' baseline upstream.
//!
//! Streamed chunks carry only the fields vLLM sets (it serializes them with
//! `exclude_unset`): `stop_reason` only on the finish chunk, `usage` only on the usage chunk.

use serde::Serialize;

/// A field vLLM always sends as `null`.
type Null = Option<()>;

/// A non-streaming response.
#[derive(Debug, Serialize)]
pub(crate) struct Full<'a> {
    pub(crate) id: &'a str,
    pub(crate) object: &'static str,
    pub(crate) created: u64,
    pub(crate) model: &'a str,
    pub(crate) choices: Vec<FullChoice<'a>>,
    pub(crate) service_tier: Null,
    pub(crate) system_fingerprint: Null,
    pub(crate) usage: FullUsage,
    pub(crate) prompt_logprobs: Null,
    pub(crate) kv_transfer_params: Null,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum FullChoice<'a> {
    Chat {
        index: usize,
        message: Message<'a>,
        logprobs: Null,
        finish_reason: &'a str,
        stop_reason: Null,
    },
    Text {
        index: usize,
        text: &'a str,
        logprobs: Null,
        finish_reason: &'a str,
        stop_reason: Null,
        prompt_logprobs: Null,
    },
}

/// The assistant message of a non-streaming chat response (tool calls only with a parser).
#[derive(Debug, Serialize)]
pub(crate) struct Message<'a> {
    pub(crate) role: &'static str,
    pub(crate) content: &'a str,
    pub(crate) refusal: Null,
    pub(crate) annotations: Null,
    pub(crate) audio: Null,
    pub(crate) function_call: Null,
    /// Empty unless vLLM runs a tool parser.
    pub(crate) tool_calls: Vec<serde_json::Value>,
    pub(crate) reasoning_content: Null,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[allow(clippy::struct_field_names, reason = "vLLM's field names")]
pub(crate) struct Usage {
    pub(crate) prompt_tokens: u64,
    pub(crate) total_tokens: u64,
    pub(crate) completion_tokens: u64,
}

/// `Usage` plus what only the non-streaming response has.
#[derive(Debug, Serialize)]
#[allow(clippy::struct_field_names, reason = "vLLM's field names")]
pub(crate) struct FullUsage {
    pub(crate) prompt_tokens: u64,
    pub(crate) total_tokens: u64,
    pub(crate) completion_tokens: u64,
    pub(crate) prompt_tokens_details: Null,
}

impl From<Usage> for FullUsage {
    fn from(u: Usage) -> Self {
        let Usage { prompt_tokens, total_tokens, completion_tokens } = u;
        Self { prompt_tokens, total_tokens, completion_tokens, prompt_tokens_details: None }
    }
}

/// One streamed chunk.
#[derive(Debug, Serialize)]
pub(crate) struct Chunk<'a> {
    pub(crate) id: &'a str,
    pub(crate) object: &'static str,
    pub(crate) created: u64,
    pub(crate) model: &'a str,
    /// One choice, or none in the usage chunk.
    pub(crate) choices: &'a [ChunkChoice<'a>],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) usage: Option<Usage>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ChunkChoice<'a> {
    Chat {
        index: usize,
        delta: Delta<'a>,
        logprobs: Null,
        finish_reason: Option<&'a str>,
        /// Set (to `null`) on the finish chunk only.
        #[serde(skip_serializing_if = "Option::is_none")]
        stop_reason: Option<Null>,
    },
    Text {
        index: usize,
        text: &'a str,
        logprobs: Null,
        finish_reason: Option<&'a str>,
        stop_reason: Null,
    },
}

#[derive(Debug, Serialize)]
pub(crate) struct Delta<'a> {
    /// `assistant` on the first chunk only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<&'static str>,
    pub(crate) content: &'a str,
    /// With a tool parser: one call's header or argument piece.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_calls: Option<[serde_json::Value; 1]>,
}
