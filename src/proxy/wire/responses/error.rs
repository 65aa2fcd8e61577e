//! Errors as the Responses API has them: HTTP `{error: {message, type, param, code}}` with a
//! string `code`, and the same `error` inside a `response.failed` event. vLLM's
//! context-length refusal gets the code `context_length_exceeded`: it is what Codex matches
//! to stop retrying and compact (`codex-api`'s `is_context_window_error`).

use axum::response::Response;
use serde::Serialize;

use crate::openai::ApiError;
use crate::proxy::reply::bytes_response;

/// The code Codex and the OpenAI SDKs act on for a prompt that does not fit.
pub(crate) const CONTEXT_LENGTH_EXCEEDED: &str = "context_length_exceeded";

/// Whether `error` is vLLM refusing a prompt (plus `max_tokens`) that does not fit the context.
pub(crate) fn is_context_length(error: &ApiError) -> bool {
    let m = error.message.to_ascii_lowercase();
    error.status == 400
        && (m.contains("maximum context length")
            || m.contains("context length is")
            || m.contains("context_length"))
}

/// The string code of `error` (`null` where none fits).
pub(crate) fn code(error: &ApiError) -> Option<&'static str> {
    if is_context_length(error) {
        return Some(CONTEXT_LENGTH_EXCEEDED);
    }
    match error.status {
        401 => Some("invalid_api_key"),
        404 => Some("not_found"),
        413 => Some("request_too_large"),
        429 => Some("rate_limit_exceeded"),
        500..=599 => Some("server_error"),
        _ => None,
    }
}

/// The `error` object of the HTTP body and of `response.failed`.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorBody<'a> {
    pub(crate) message: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
    pub(crate) param: Option<&'a str>,
    pub(crate) code: Option<&'static str>,
}

impl<'a> ErrorBody<'a> {
    pub(crate) fn new(error: &'a ApiError) -> Self {
        Self { message: &error.message, kind: error.kind, param: error.param.as_deref(), code: code(error) }
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: ErrorBody<'a>,
}

/// `error` over HTTP, with its status (a 413 or 408 closes the connection, as for chat).
pub(crate) fn response(error: &ApiError) -> Response {
    let body = serde_json::to_vec(&Envelope { error: ErrorBody::new(error) }).unwrap_or_default();
    let mut response = bytes_response(error.status, body);
    if error.status == 413 || error.status == 408 {
        // The rest of the body was never read: the connection cannot carry another request.
        response
            .headers_mut()
            .insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    response
}
