//! API keys: `Authorization: Bearer <key>` on every route except `/health*` (the keys
//! themselves, compared in constant time, are in `keys`). Keys never reach logs or error
//! messages.

use std::sync::Arc;

use super::app::App;
use super::keys::Keys;
use super::wire;
use crate::openai::{ApiError, ErrorKind};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;

/// Middleware: refuses requests without a valid key (when keys are configured), and
/// requests over their key's limit of requests in flight (429). The key's place is held
/// until the response body, streamed or not, has ended or been dropped.
pub(crate) async fn require_key(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let table = app.table();
    let index = match check(&table.keys, request.headers(), request.uri().path()) {
        Ok(None) => return next.run(request).await,
        Ok(Some(index)) => index,
        Err(refused) => return *refused,
    };
    let Some(permit) = table.keys.hold(index) else {
        let limit = table.keys.per_key();
        return wire::for_path(request.uri().path()).error_response(&ApiError::new(
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
/// The key comes as `Authorization: Bearer KEY` (OpenAI's clients) or `x-api-key: KEY`
/// (Anthropic's); the same keys and the same constant-time check hold for both. Refusals are
/// written in the shape of the API `path` belongs to.
pub(crate) fn check(
    keys: &Keys,
    headers: &axum::http::HeaderMap,
    path: &str,
) -> Result<Option<usize>, Box<Response>> {
    if keys.is_empty() {
        return Ok(None);
    }
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .filter(|key| !key.is_empty());
    let x_api_key = || headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim);
    let refuse = |message: &str| {
        Box::new(wire::for_path(path).error_response(&ApiError::new(ErrorKind::Unauthorized, message)))
    };
    match bearer.or_else(x_api_key).filter(|key| !key.is_empty()) {
        Some(key) if let Some(index) = keys.matching(key.as_bytes()) => Ok(Some(index)),
        Some(_) => Err(refuse("invalid API key")),
        None => Err(refuse(
            "missing API key: send `Authorization: Bearer <key>` or `x-api-key: <key>` (the key podctl was started with)",
        )),
    }
}
