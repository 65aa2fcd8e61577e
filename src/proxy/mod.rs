//! `podctl proxy`: an OpenAI-compatible server in front of vLLM that turns the model's
//! raw tool-call text into OpenAI `tool_calls` (streaming and not).
//!
//! Shape: [`serve`] takes an already-bound listener and a shutdown token (tests bind port
//! 0). Routes live in `routes`; the pure parts (request rewrite, SSE decoding, stream
//! translation) are kept apart from sockets in `rewrite`, `sse`, `stream` and `choice`.

mod auth;
mod chat;
mod choice;
mod complete;
pub mod config;
mod log;
mod passthrough;
mod reply;
mod rewrite;
mod routes;
mod sse;
mod stream;
mod trace;
mod upstream;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::ProxyConfig;
use upstream::Upstream;

use crate::openai::{ApiError, ErrorKind};

/// State shared by every request.
#[derive(Debug)]
pub struct App {
    models: Vec<Arc<Upstream>>,
    keys: auth::Keys,
    max_body: usize,
    keepalive: Duration,
    max_silence: Duration,
    trace: Option<Arc<trace::Tracer>>,
    tools_cache: rewrite::ToolsCache,
    /// Cancelled when the shutdown grace is over: requests still open end at once, so
    /// their upstream connections close (vLLM waits for those before it exits).
    closing: CancellationToken,
}

impl App {
    pub fn new(config: &ProxyConfig) -> Self {
        let client = upstream::client();
        Self {
            models: config.models.iter().map(|m| Arc::new(Upstream::new(m, client.clone()))).collect(),
            keys: auth::Keys::new(&config.keys),
            max_body: config.max_body,
            keepalive: config.keepalive,
            max_silence: config.max_silence,
            trace: config.trace_dir.clone().map(|dir| Arc::new(trace::Tracer::new(dir))),
            tools_cache: rewrite::ToolsCache::default(),
            closing: CancellationToken::new(),
        }
    }

    /// The error requests still open get when the grace period is over.
    fn closing_error() -> ApiError {
        ApiError::new(ErrorKind::Unavailable, "the proxy is shutting down; this request was cut off")
    }

    /// The upstream serving `requested` (an alias or an upstream id); the first model when
    /// the request names none.
    async fn route(&self, requested: Option<&str>) -> Result<Arc<Upstream>, ApiError> {
        let Some(name) = requested else {
            return self
                .models
                .first()
                .cloned()
                .ok_or_else(|| ApiError::new(ErrorKind::Internal, "no model configured"));
        };
        if let Some(model) = self.models.iter().find(|m| m.alias.as_deref() == Some(name)) {
            return Ok(Arc::clone(model));
        }
        let mut failure = None;
        for model in &self.models {
            match model.model_id().await {
                Ok(id) if &*id == name => return Ok(Arc::clone(model)),
                Ok(_) => {}
                Err(e) => failure = Some(e),
            }
        }
        // An upstream we could not ask may be the one serving it: say that, not "unknown".
        if let Some(e) = failure {
            return Err(e);
        }
        let served: Vec<String> = self.served_names();
        Err(ApiError::new(
            ErrorKind::NotFound,
            format!("The model `{name}` does not exist. This proxy serves: {}", served.join(", ")),
        )
        .param("model"))
    }

    /// Every name a client may use: aliases, then upstream ids.
    fn served_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.models.iter().filter_map(|m| m.alias.clone()).collect();
        names.extend(self.models.iter().filter_map(|m| m.known_id().map(|id| id.to_string())));
        names.dedup();
        names
    }
}

/// Serves on `listener` until `shutdown` is cancelled; then stops accepting, lets requests
/// in flight finish for up to `grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    config: &ProxyConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = Arc::new(App::new(config));
    // Learn the upstream model ids in the background: a request should not wait for it,
    // and a proxy started before vLLM must still come up at once.
    for model in &app.models {
        let model = Arc::clone(model);
        tokio::spawn(async move {
            let _ = model.model_id().await;
        });
    }
    let closing = app.closing.clone();
    let router = routes::router(app);
    let stop = shutdown.clone();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move { stop.cancelled().await });
    let grace = config.grace;
    tokio::select! {
        result = server => result,
        () = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!("grace period of {}s over: closing the requests still open", grace.as_secs());
            closing.cancel();
            Ok(())
        }
    }
}

/// Reads a request body of at most `limit` bytes.
async fn read_body(request: axum::extract::Request, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(request.into_body(), limit).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.downcast_ref::<http_body_util::LengthLimitError>().is_some());
        if too_large {
            ApiError::new(
                ErrorKind::PayloadTooLarge,
                format!(
                    "request body is larger than {} MiB (the proxy's limit; raise it with --max-body-mb)",
                    limit >> 20
                ),
            )
        } else {
            ApiError::new(ErrorKind::BadRequest, format!("cannot read the request body: {e}"))
        }
    })
}

/// Reads a request body of at most `limit` bytes as a JSON object.
async fn read_json(
    request: axum::extract::Request,
    limit: usize,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let bytes = read_body(request, limit).await?;
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(ErrorKind::BadRequest, "request body must be a JSON object")),
        Err(e) => Err(ApiError::new(ErrorKind::BadRequest, format!("request body is not valid JSON: {e}"))),
    }
}
