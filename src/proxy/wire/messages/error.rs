//! Errors as Anthropic's clients read them: `{type: "error", error: {type, message}}` with
//! the type their SDKs map from the status, and vLLM's context-length 400 reworded the way
//! Claude Code acts on it (``input length and `max_tokens` exceed context limit: X + Y > Z``
//! makes it retry with a smaller `max_tokens`; `prompt is too long: N tokens > M maximum`
//! makes it compact), with vLLM's own numbers.

use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::Serialize;

use crate::openai::ApiError;
use crate::proxy::reply::bytes_response;

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: &'a str,
}

/// Anthropic's error type for an HTTP status.
fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// The error's JSON body.
pub(super) fn body(error: &ApiError) -> Vec<u8> {
    let message = reworded(error);
    let body = Body { kind: "error", error: Inner { kind: error_type(error.status), message: &message } };
    serde_json::to_vec(&body)
        .unwrap_or_else(|_| br#"{"type":"error","error":{"type":"api_error","message":"error"}}"#.to_vec())
}

/// The error as an HTTP response.
pub(super) fn response(error: &ApiError) -> Response {
    let mut response = bytes_response(error.status, body(error));
    if error.status == 413 || error.status == 408 {
        // The rest of the body was never read: this connection cannot carry another request.
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The error as the last frame of a stream.
pub(super) fn frame(error: &ApiError, out: &mut Vec<u8>) {
    out.extend_from_slice(b"event: error\ndata: ");
    out.extend_from_slice(&body(error));
    out.extend_from_slice(b"\n\n");
}

/// The message, in Claude Code's wording when it is vLLM's context-length error.
fn reworded(error: &ApiError) -> std::borrow::Cow<'_, str> {
    let m = error.message.as_str();
    match (error.status == 400).then(|| context_overflow(m)).flatten() {
        Some(Overflow::Total { input, max_tokens, limit }) => format!(
            "input length and `max_tokens` exceed context limit: {input} + {max_tokens} > {limit}, \
             decrease input length or `max_tokens` and try again"
        )
        .into(),
        Some(Overflow::Prompt { input, limit }) => {
            format!("prompt is too long: {input} tokens > {limit} maximum").into()
        }
        None => m.into(),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Overflow {
    /// The prompt fits but not with `max_tokens` more.
    Total { input: u64, max_tokens: u64, limit: u64 },
    /// The prompt alone does not fit.
    Prompt { input: u64, limit: u64 },
}

/// vLLM's context-length errors, in the wordings its versions use.
fn context_overflow(m: &str) -> Option<Overflow> {
    let limit = after(m, "maximum context length is ").or_else(|| after(m, "context length ("))?;
    if let Some(max_tokens) = after(m, "is too large: ") {
        // "'max_tokens' or 'max_completion_tokens' is too large: Y. This model's maximum
        // context length is Z tokens and your request has X input tokens (Y > Z - X)."
        let input = after(m, "your request has ")?;
        return Some(Overflow::Total { input, max_tokens, limit });
    }
    if let (Some(input), Some(max_tokens)) = (before(m, " in the messages"), before(m, " in the completion"))
    {
        // "… However, you requested T tokens (X in the messages, Y in the completion)."
        return Some(if input >= limit {
            Overflow::Prompt { input, limit }
        } else {
            Overflow::Total { input, max_tokens, limit }
        });
    }
    // "… However, your request has X input tokens." / "The input (X tokens) is longer than
    // the model's context length (Z tokens)."
    let input = after(m, "your request has ").or_else(|| after(m, "The input ("))?;
    Some(Overflow::Prompt { input, limit })
}

/// The number right after `phrase` in `text`.
fn after(text: &str, phrase: &str) -> Option<u64> {
    let rest = &text[text.find(phrase)? + phrase.len()..];
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The number right before `phrase` in `text`.
fn before(text: &str, phrase: &str) -> Option<u64> {
    let head = &text[..text.find(phrase)?];
    let start = head.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
    head[start..].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::ErrorKind;

    fn message(status: u16, text: &str) -> String {
        let mut e = ApiError::new(ErrorKind::BadRequest, text);
        e.status = status;
        reworded(&e).into_owned()
    }

    #[test]
    fn vllm_context_errors_in_claude_codes_wording() {
        let newer = "'max_tokens' or 'max_completion_tokens' is too large: 32000. This model's maximum context \
                     length is 32768 tokens and your request has 1200 input tokens (32000 > 32768 - 1200).";
        assert_eq!(
            message(400, newer),
            "input length and `max_tokens` exceed context limit: 1200 + 32000 > 32768, decrease input \
             length or `max_tokens` and try again"
        );
        let older = "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens \
                     (39000 in the messages, 1000 in the completion). Please reduce the length.";
        assert_eq!(message(400, older), "prompt is too long: 39000 tokens > 32768 maximum");
        let fits = "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens \
                    (30000 in the messages, 10000 in the completion).";
        assert!(message(400, fits).contains("30000 + 10000 > 32768"));
        let input = "The input (345516 tokens) is longer than the model's context length (262144 tokens).";
        assert_eq!(message(400, input), "prompt is too long: 345516 tokens > 262144 maximum");
        assert_eq!(message(400, "something else"), "something else");
        assert_eq!(message(500, older), older, "only a 400 is a context error");
    }

    #[test]
    fn types_follow_the_status() {
        let types: Vec<_> = [400, 401, 403, 404, 405, 413, 429, 500, 502, 503, 504].map(error_type).into();
        assert_eq!(
            types,
            [
                "invalid_request_error",
                "authentication_error",
                "permission_error",
                "not_found_error",
                "invalid_request_error",
                "request_too_large",
                "rate_limit_error",
                "api_error",
                "api_error",
                "overloaded_error",
                "api_error"
            ]
        );
    }
}
