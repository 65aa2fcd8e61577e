//! API keys: `Authorization: Bearer <key>` on every route except `/health*`, compared in
//! constant time. Keys never reach logs or error messages.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;

use super::App;
use super::reply::error_response;
use crate::openai::{ApiError, ErrorKind};

#[derive(Debug, Clone, Default)]
pub(crate) struct Keys(Vec<Vec<u8>>);

impl Keys {
    pub(crate) fn new(keys: &[String]) -> Self {
        Self(keys.iter().map(|k| k.as_bytes().to_vec()).collect())
    }

    /// Whether `presented` is one of the keys. Every key is compared, each in time that
    /// depends only on the lengths, so timing tells nothing about how much matched.
    pub(crate) fn accepts(&self, presented: &[u8]) -> bool {
        let mut found = false;
        for key in &self.0 {
            found |= constant_time_eq(key, presented);
        }
        found
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Middleware: refuses requests without a valid key (when keys are configured).
pub(crate) async fn require_key(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    match check(&app.table().keys, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refused) => *refused,
    }
}

/// `Ok` when no keys are set or the request carries one of them.
pub(crate) fn check(keys: &Keys, headers: &axum::http::HeaderMap) -> Result<(), Box<Response>> {
    if keys.is_empty() {
        return Ok(());
    }
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim());
    match presented {
        Some(key) if keys.accepts(key.as_bytes()) => Ok(()),
        Some(_) => Err(Box::new(error_response(&ApiError::new(ErrorKind::Unauthorized, "invalid API key")))),
        None => Err(Box::new(error_response(&ApiError::new(
            ErrorKind::Unauthorized,
            "missing API key: send `Authorization: Bearer <key>` (the key podctl was started with)",
        )))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let keys = Keys::new(&["sk-one".into(), "sk-two".into()]);
        assert!(keys.accepts(b"sk-one") && keys.accepts(b"sk-two"));
        assert!(!keys.accepts(b"sk-on") && !keys.accepts(b"sk-onex") && !keys.accepts(b""));
        assert!(Keys::default().is_empty());
    }
}
