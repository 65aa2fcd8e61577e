//! How requests reach a replica. Plain `http://` replicas (vLLM on the pod or the private
//! network: nearly always) go through the proxy's own HTTP/1.1 client ([`super::h1`]), which
//! reads a stream's body in the request's task and passes on what each read brought;
//! `https://` replicas (a remote pod behind a TLS proxy) go through reqwest with rustls.
//! Both give the same [`Reply`] and [`SendError`].

use std::pin::Pin;
use std::time::Duration;

use axum::body::Bytes;
use futures_util::{Stream, StreamExt as _};

pub(crate) use super::failure::{BoxError, SendError, describe};
use super::h1;

/// An answer's body as a stream of chunks.
pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// The clients for every replica (shared: the pools are per host inside).
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    plain: h1::Client,
    tls: reqwest::Client,
}

/// An answer's head, and its body not yet read.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: Option<http::HeaderValue>,
    body: ReplyBody,
}

enum ReplyBody {
    Plain(h1::BodyReader),
    Tls(reqwest::Response),
}

impl Transport {
    pub(crate) fn new(tls: reqwest::Client) -> Self {
        // vLLM (uvicorn) closes idle connections after 5 s; reusing one it is closing
        // fails the request, so ours are dropped first.
        let plain =
            h1::Client::new(Duration::from_secs(4), 256, Duration::from_secs(5), Duration::from_secs(30));
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
            let response = self.plain.send(&method, uri, key, body.as_ref()).await?;
            return Ok(Reply {
                status: response.status,
                content_type: response.content_type,
                body: ReplyBody::Plain(response.body),
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
            ReplyBody::Plain(body) => body.bytes().await.map_err(|e| SendError {
                connect: false,
                message: describe("broke off its answer", e.as_ref()),
            }),
            ReplyBody::Tls(response) => response.bytes().await.map_err(|e| reqwest_error(&e)),
        }
    }

    /// The body as chunks, as they arrive.
    pub(crate) fn stream(self) -> ByteStream {
        match self.body {
            ReplyBody::Plain(body) => Box::pin(body),
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
