//! How requests reach a replica. Plain `http://` replicas (vLLM on the pod or the private
//! network: nearly always) go through hyper's pooled client directly, which skips the URL
//! re-parsing and redirect layers reqwest adds to every request; `https://` replicas (a
//! remote pod behind a TLS proxy) go through reqwest with rustls. Both give the same
//! [`Reply`] and [`SendError`].

use std::pin::Pin;
use std::time::Duration;

use axum::body::Bytes;
use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Any error, for body streams.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An answer's body as a stream of chunks.
pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// The clients for every replica (shared: the pools are per host inside).
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    plain: Client<HttpConnector, Full<Bytes>>,
    tls: reqwest::Client,
}

/// A request that could not be sent or whose answer broke off.
#[derive(Debug)]
pub(crate) struct SendError {
    /// The connection was refused or could not be made: the server is not there.
    pub(crate) connect: bool,
    /// What happened, innermost cause included.
    pub(crate) message: String,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An answer's head, and its body not yet read.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: Option<http::HeaderValue>,
    body: ReplyBody,
}

enum ReplyBody {
    Plain(hyper::body::Incoming),
    Tls(reqwest::Response),
}

impl Transport {
    pub(crate) fn new(tls: reqwest::Client) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_keepalive(Some(Duration::from_secs(30)));
        let plain = Client::builder(TokioExecutor::new())
            // vLLM (uvicorn) closes idle connections after 5 s; reusing one it is closing
            // fails the request, so ours are dropped first.
            .pool_idle_timeout(Duration::from_secs(4))
            // Without a timer the idle timeout is only checked when a connection is wanted:
            // after a burst, hundreds of idle sockets would stay open for good.
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .pool_max_idle_per_host(256)
            .build(connector);
        Self { plain, tls }
    }

    /// The reqwest client (TLS replicas, probes, model lookups).
    pub(crate) fn tls(&self) -> &reqwest::Client {
        &self.tls
    }

    /// Sends `body` (JSON, when given) to `uri` with the bearer `key`.
    pub(crate) async fn send(
        &self,
        method: http::Method,
        uri: &http::Uri,
        key: Option<&http::HeaderValue>,
        body: Option<Bytes>,
    ) -> Result<Reply, SendError> {
        if uri.scheme() == Some(&http::uri::Scheme::HTTP) {
            let mut request = http::Request::new(Full::new(body.clone().unwrap_or_default()));
            *request.method_mut() = method;
            *request.uri_mut() = uri.clone();
            let headers = request.headers_mut();
            if body.is_some() {
                headers
                    .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
            }
            if let Some(key) = key {
                headers.insert(http::header::AUTHORIZATION, key.clone());
            }
            let response = self.plain.request(request).await.map_err(|e| SendError {
                connect: e.is_connect(),
                message: describe(if e.is_connect() { "refused the connection" } else { "failed" }, &e),
            })?;
            let (head, body) = response.into_parts();
            return Ok(Reply {
                status: head.status.as_u16(),
                content_type: head.headers.get(http::header::CONTENT_TYPE).cloned(),
                body: ReplyBody::Plain(body),
            });
        }
        let mut builder = self.tls.request(method, uri.to_string());
        if let Some(key) = key {
            builder = builder.header(http::header::AUTHORIZATION, key.clone());
        }
        if let Some(body) = body {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json").body(body);
        }
        let response = builder.send().await.map_err(|e| reqwest_error(&e))?;
        Ok(Reply {
            status: response.status().as_u16(),
            content_type: response.headers().get(http::header::CONTENT_TYPE).cloned(),
            body: ReplyBody::Tls(response),
        })
    }
}

impl Reply {
    /// The whole body.
    pub(crate) async fn bytes(self) -> Result<Bytes, SendError> {
        match self.body {
            ReplyBody::Plain(body) => body
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes)
                .map_err(|e| SendError { connect: false, message: describe("broke off its answer", &e) }),
            ReplyBody::Tls(response) => response.bytes().await.map_err(|e| reqwest_error(&e)),
        }
    }

    /// The body as chunks, as they arrive.
    pub(crate) fn stream(self) -> ByteStream {
        match self.body {
            ReplyBody::Plain(body) => Box::pin(body.into_data_stream().map_err(BoxError::from)),
            ReplyBody::Tls(response) => Box::pin(response.bytes_stream().map(|r| r.map_err(BoxError::from))),
        }
    }
}

fn reqwest_error(error: &reqwest::Error) -> SendError {
    let what = if error.is_timeout() {
        "did not answer in time"
    } else if error.is_connect() {
        "refused the connection"
    } else {
        "failed"
    };
    SendError { connect: error.is_connect(), message: describe(what, error) }
}

/// `what (innermost cause)`: reqwest wraps hyper wraps io.
pub(crate) fn describe(what: &str, error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    format!("{what} ({cause})")
}

/// `reqwest` errors (probes, model lookups) described the same way.
pub(crate) fn describe_reqwest(error: &reqwest::Error) -> String {
    reqwest_error(error).message
}

/// The shared HTTP clients: pooled, no total timeout (streams run as long as the model
/// writes), a bounded connect time.
pub(crate) fn pooled() -> Transport {
    Transport::new(tls_client())
}

fn tls_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .tcp_nodelay(true)
        // vLLM (uvicorn) closes idle connections after 5 s; reusing one it is closing fails
        // the request, so ours are dropped first.
        .pool_idle_timeout(std::time::Duration::from_secs(4))
        .tcp_keepalive(std::time::Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        // vLLM never redirects; a proxy passes answers on rather than following them (and
        // the redirect layer costs a URL parse per request).
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}
