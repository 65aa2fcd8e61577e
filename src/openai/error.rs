//! Errors in the one shape every OpenAI client understands:
//! `{"error": {"message", "type", "param", "code"}}`.
//!
//! vLLM answers errors in its own flat shape (`{"object": "error", "message", …}`), which
//! Continue reports as "400 status code (no body)"; [`ApiError::from_upstream`] rewrites it,
//! keeping the message (so "maximum context length" still reads as such) and the status.

use serde_json::{Value, json};

/// What kind of error, which fixes the HTTP status and the `type` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    NotFound,
    PayloadTooLarge,
    /// A limit on requests in flight was reached (429).
    TooManyRequests,
    /// The client did not send its request body in time (408).
    RequestTimeout,
    /// The upstream could not be reached or answered nonsense.
    BadGateway,
    /// The upstream is up but not ready (503).
    Unavailable,
    /// The upstream did not answer in time.
    GatewayTimeout,
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::NotFound => 404,
            Self::RequestTimeout => 408,
            Self::PayloadTooLarge => 413,
            Self::TooManyRequests => 429,
            Self::Internal => 500,
            Self::BadGateway => 502,
            Self::Unavailable => 503,
            Self::GatewayTimeout => 504,
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Self::BadRequest | Self::PayloadTooLarge | Self::RequestTimeout => "invalid_request_error",
            Self::Unauthorized => "authentication_error",
            Self::NotFound => "not_found_error",
            Self::TooManyRequests => "rate_limit_error",
            Self::BadGateway | Self::Unavailable | Self::GatewayTimeout => "upstream_error",
            Self::Internal => "server_error",
        }
    }
}

/// An error answer: HTTP status plus the OpenAI error body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { status: kind.status(), message: message.into(), kind: kind.type_name(), param: None }
    }

    /// A 400 about the request field `param`.
    pub fn bad_field(message: impl Into<String>, param: &str) -> Self {
        Self::new(ErrorKind::BadRequest, message).param(param)
    }

    #[must_use]
    pub fn param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// The body clients read.
    pub fn body(&self) -> Value {
        json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.status,
        }})
    }

    /// The `data:` payload for an error that happens after a stream began.
    pub fn stream_payload(&self) -> String {
        self.body().to_string()
    }

    /// An error body from the upstream (vLLM's flat shape, the OpenAI shape, or anything
    /// else), in the OpenAI shape with the upstream's status kept.
    pub fn from_upstream(status: u16, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let message = parsed
            .as_ref()
            .and_then(|v| {
                v.get("error")
                    .and_then(|e| e.get("message").or(Some(e)))
                    .or_else(|| v.get("message"))
                    .or_else(|| v.get("detail"))
                    .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned))
            })
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                if text.is_empty() {
                    format!("upstream answered HTTP {status} with no body")
                } else {
                    text.chars().take(2000).collect()
                }
            });
        let kind = match status {
            401 | 403 => ErrorKind::Unauthorized,
            404 => ErrorKind::NotFound,
            503 => ErrorKind::Unavailable,
            504 => ErrorKind::GatewayTimeout,
            500..=599 => ErrorKind::BadGateway,
            _ => ErrorKind::BadRequest,
        };
        Self { status, message, kind: kind.type_name(), param: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_vllm_flat_errors() {
        let flat = br#"{"object":"error","message":"This model's maximum context length is 32768 tokens.","type":"BadRequestError","param":null,"code":400}"#;
        let err = ApiError::from_upstream(400, flat);
        assert_eq!(err.status, 400);
        assert_eq!(
            err.body(),
            json!({"error": {"message": "This model's maximum context length is 32768 tokens.",
                "type": "invalid_request_error", "param": null, "code": 400}})
        );
    }

    #[test]
    fn keeps_openai_shape_and_plain_text() {
        let err = ApiError::from_upstream(404, br#"{"error": {"message": "no such model", "type": "x"}}"#);
        assert_eq!((err.status, err.message.as_str(), err.kind), (404, "no such model", "not_found_error"));
        let err = ApiError::from_upstream(500, b"Internal Server Error");
        assert_eq!((err.status, err.message.as_str()), (500, "Internal Server Error"));
        let err = ApiError::from_upstream(502, b"");
        assert!(err.message.contains("no body"));
    }
}
