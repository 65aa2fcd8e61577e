//! Anthropic Messages (`POST /v1/messages`, what Claude Code speaks; and
//! `POST /v1/messages/count_tokens`): the request read as a chat request for the core
//! (`convert.rs`), the answer written as one `message` (`answer.rs`) or its event stream
//! (`stream.rs`), errors in Anthropic's shape and Claude Code's wording (`error.rs`).

mod answer;
mod convert;
pub(crate) mod count;
mod error;
mod request;
mod stream;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use axum::response::Response;

use super::api::{Api, Converted, Extra, StreamWire, Whole};
use crate::openai::{ApiError, ErrorKind};
use crate::proxy::plan::Plan;
use crate::proxy::rewrite::Layout;

/// Anthropic Messages.
#[derive(Debug)]
pub(crate) struct MessagesApi;

/// The request `body` as a chat request, for generating (`max_tokens` required) or counting.
fn chat_body(body: &[u8], purpose: convert::Purpose) -> Result<(Vec<u8>, Layout<'_>), ApiError> {
    let request = request::parse(body).map_err(|e| ApiError::new(ErrorKind::BadRequest, invalid(&e)))?;
    convert::to_chat(request, purpose)?.write()
}

/// serde's complaint about the body, in a sentence.
fn invalid(e: &serde_json::Error) -> String {
    if e.is_syntax() || e.is_eof() {
        format!("request body is not valid JSON: {e}")
    } else {
        format!("invalid request: {e}")
    }
}

impl Api for MessagesApi {
    fn endpoint(&self) -> &'static str {
        "messages"
    }

    fn to_chat<'a>(&self, body: &'a [u8]) -> Result<Converted<'a>, ApiError> {
        let (chat, layout) = chat_body(body, convert::Purpose::Generate)?;
        Ok(Converted { chat: Cow::Owned(chat), layout: Some(layout), extra: Extra::default() })
    }

    fn stream_writer(
        &self,
        plan: &Plan,
        _extra: &Extra,
        id: &str,
        _created: u64,
    ) -> Box<dyn StreamWire + Send> {
        Box::new(stream::MessagesStream::new(id, &plan.model))
    }

    fn render_whole(
        &self,
        answer: &Whole<'_>,
        plan: &Plan,
        _extra: &Extra,
        id: &str,
    ) -> Result<Vec<u8>, ApiError> {
        answer::render(answer, &plan.model, id)
    }

    fn error_response(&self, error: &ApiError) -> Response {
        error::response(error)
    }

    fn response_id(&self) -> String {
        let id = crate::openai::completion_id();
        format!("msg_{}", id.strip_prefix("chatcmpl-").unwrap_or(&id))
    }
}
