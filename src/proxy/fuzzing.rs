//! The request rewrite and the SSE decoder as the fuzz targets in `fuzz/` reach them. Not a
//! stable API: hidden from the docs, and only as wide as the targets need.

use super::rewrite::{ChatRequest, ToolsCache};
use super::sse;
use crate::openai::ApiError;

/// What [`rewrite_chat`] made of a request body.
#[derive(Debug)]
pub struct Rewritten {
    /// The upstream body.
    pub body: Vec<u8>,
    /// The same request rewritten again, with the tools cache now warm.
    pub again: Vec<u8>,
    /// The client asked for a stream.
    pub stream: bool,
    /// The client declared tools (a non-empty, non-null `tools`).
    pub has_tools: bool,
}

/// `ChatRequest::parse` and `rewrite` for `upstream_model`, as the chat route runs them.
pub fn rewrite_chat(body: &[u8], upstream_model: &str, id_len: Option<usize>) -> Result<Rewritten, ApiError> {
    let parsed = ChatRequest::parse(body)?;
    let _ = parsed.affinity();
    let stream = parsed.wants_stream();
    let cache = ToolsCache::default();
    let (out, plan) = parsed.rewrite(upstream_model, id_len, false, &cache)?;
    let (again, _) = parsed.rewrite(upstream_model, id_len, false, &cache)?;
    Ok(Rewritten { body: out, again, stream: stream && plan.stream, has_tools: !plan.tools.is_empty() })
}

/// The upstream SSE decoder.
#[derive(Debug)]
pub struct SseDecoder(sse::SseDecoder);

impl SseDecoder {
    /// The longest line or event the proxy accepts.
    pub const MAX_EVENT: usize = sse::MAX_EVENT;

    /// A decoder refusing lines and events over `max_event` bytes.
    pub fn with_limit(max_event: usize) -> Self {
        Self(sse::SseDecoder::with_limit(max_event))
    }

    /// Decodes `bytes`, pushing each completed event's data to `out`; `Err` says why the
    /// stream cannot go on.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<String>) -> Result<(), String> {
        self.0.feed(bytes, out).map_err(|e| e.to_string())
    }

    /// Bytes held for the unfinished line and event.
    pub fn buffered(&self) -> usize {
        self.0.buffered()
    }
}
