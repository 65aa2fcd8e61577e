//! API keys: `Authorization: Bearer <key>` on every route except `/health*`, compared in
//! constant time. Keys never reach logs or error messages.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

use super::App;
use super::reply::error_response;
use crate::openai::{ApiError, ErrorKind};

/// The accepted keys, each with its own count of requests in flight.
#[derive(Debug, Clone, Default)]
pub(crate) struct Keys(Vec<(Vec<u8>, Arc<Semaphore>)>, usize);

impl Keys {
    /// `per_key`: how many requests one key may have in flight (at least 1).
    pub(crate) fn new(keys: &[String], per_key: usize) -> Self {
        let per_key = per_key.max(1);
        Self(
            keys.iter().map(|k| (k.as_bytes().to_vec(), Arc::new(Semaphore::new(per_key)))).collect(),
            per_key,
        )
    }

    /// Which key `presented` is. Every key is compared, each in time that depends only on
    /// the lengths, so timing tells nothing about how much of a key matched.
    fn matching(&self, presented: &[u8]) -> Option<usize> {
        let mut found = None;
        for (i, (key, _)) in self.0.iter().enumerate() {
            if constant_time_eq(key, presented) {
                found = Some(i);
            }
        }
        found
    }

    #[cfg(test)]
    fn accepts(&self, presented: &[u8]) -> bool {
        self.matching(presented).is_some()
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

/// Middleware: refuses requests without a valid key (when keys are configured), and
/// requests over their key's limit of requests in flight (429). The key's place is held
/// until the response body, streamed or not, has ended or been dropped.
pub(crate) async fn require_key(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let table = app.table();
    let index = match check(&table.keys, request.headers()) {
        Ok(None) => return next.run(request).await,
        Ok(Some(index)) => index,
        Err(refused) => return *refused,
    };
    let Ok(permit) = Arc::clone(&table.keys.0[index].1).try_acquire_owned() else {
        let limit = table.keys.1;
        return error_response(&ApiError::new(
            ErrorKind::TooManyRequests,
            format!(
                "this API key already has {limit} requests in flight (the proxy's max_in_flight_per_key): \
                 wait for some to finish, or raise the limit"
            ),
        ));
    };
    drop(table);
    next.run(request).await.map(|body| axum::body::Body::new(Held { body, _permit: permit }))
}

/// A response body that holds its key's place until it ends or is dropped. It keeps the
/// body's size hint, so a whole answer still goes out with `content-length`.
struct Held {
    body: axum::body::Body,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl axum::body::HttpBody for Held {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// `Ok(None)` when no keys are set, `Ok(Some(index))` when the request carries one of them.
pub(crate) fn check(keys: &Keys, headers: &axum::http::HeaderMap) -> Result<Option<usize>, Box<Response>> {
    if keys.is_empty() {
        return Ok(None);
    }
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim());
    match presented {
        Some(key) if let Some(index) = keys.matching(key.as_bytes()) => Ok(Some(index)),
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
        let keys = Keys::new(&["sk-one".into(), "sk-two".into()], 4);
        assert!(keys.accepts(b"sk-one") && keys.accepts(b"sk-two"));
        assert!(!keys.accepts(b"sk-on") && !keys.accepts(b"sk-onex") && !keys.accepts(b""));
        assert!(Keys::default().is_empty());
    }
}
