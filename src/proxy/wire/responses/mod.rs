//! OpenAI Responses (`POST /v1/responses`), stateless, as Codex CLI and the OpenAI SDKs use
//! it: the request (`instructions`, `input` items, flat `tools`) is read into a chat request
//! for the core (`request.rs`, `input.rs`), and the answer is written as a `response` object
//! whole (`output.rs`) or as Responses events streamed (`stream.rs`), from the same output
//! items. Errors carry OpenAI's shape with string codes (`error.rs`):
//! `context_length_exceeded` is the one Codex acts on.
//!
//! podctl keeps no state: `previous_response_id`, `conversation`, stored prompts and
//! `background` are refused with a 400 that says so; `store: true` alone is accepted and
//! ignored (nothing is stored, the answer echoes `store: false`).

pub(crate) mod echo;
mod error;
mod input;
mod output;
mod request;
mod stream;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::sync::Arc;

use axum::http::{HeaderValue, header};
use axum::response::Response;

use super::api::{Api, Converted, Extra, StreamWire, Whole};
use crate::openai::{ApiError, unix_now};
use crate::proxy::plan::Plan;

/// OpenAI Responses.
#[derive(Debug)]
pub(crate) struct ResponsesApi;

/// The shared parts of every `response` object of one answer.
fn head(id: &str, created: u64, plan: &Plan, extra: &Extra) -> output::Head {
    output::Head {
        id: id.to_owned(),
        created,
        model: plan.model.clone(),
        echo: extra.responses.clone().unwrap_or_default(),
    }
}

impl Api for ResponsesApi {
    fn endpoint(&self) -> &'static str {
        "responses"
    }

    fn to_chat<'a>(&self, body: &'a [u8]) -> Result<Converted<'a>, ApiError> {
        let (chat, layout, echo) = request::to_chat(body)?;
        Ok(Converted {
            chat: Cow::Owned(chat),
            layout: Some(layout),
            extra: Extra { responses: Some(Arc::new(echo)) },
        })
    }

    fn stream_writer(
        &self,
        plan: &Plan,
        extra: &Extra,
        id: &str,
        created: u64,
    ) -> Box<dyn StreamWire + Send> {
        Box::new(stream::ResponsesStream::new(head(id, created, plan, extra), plan.hold_calls))
    }

    fn render_whole(
        &self,
        answer: &Whole<'_>,
        plan: &Plan,
        extra: &Extra,
        id: &str,
    ) -> Result<Vec<u8>, ApiError> {
        output::whole(answer, &head(id, answer.created, plan, extra))
    }

    fn error_response(&self, error: &ApiError) -> Response {
        error::response(error)
    }

    /// A context-length refusal of a streaming request is a stream ending in
    /// `response.failed`: Codex compacts its history on that event's
    /// `context_length_exceeded`, while it takes an HTTP 400 as a fatal invalid request.
    fn refused_stream(&self, error: &ApiError, id: &str, model: &str) -> Option<Response> {
        if !error::is_context_length(error) {
            return None;
        }
        let head = output::Head {
            id: id.to_owned(),
            created: unix_now(),
            model: model.to_owned(),
            echo: Arc::default(),
        };
        let mut wire = stream::ResponsesStream::new(head, true);
        let mut body = Vec::new();
        wire.error(error, &mut body);
        let mut response = Response::new(axum::body::Body::from(body));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        Some(response)
    }

    fn response_id(&self) -> String {
        output::new_id("resp_")
    }
}
