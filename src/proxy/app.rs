//! [`App`], the state every request shares (the routing table, the transport, limits, the
//! tools cache, metrics), and reading a request's body within the proxy's limits.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::config::ProxyConfig;
use super::metrics::Metrics;
use super::rewrite::ToolsCache;
use super::router::transport::{self, Transport};
use super::router::{ModelStatus, Table};
use super::trace::Tracer;
use crate::openai::{ApiError, ErrorKind};

/// State shared by every request.
#[derive(Debug)]
pub struct App {
    /// Models, replicas, keys: replaced whole on reload (SIGHUP).
    table: RwLock<Arc<Table>>,
    transport: Transport,
    pub(super) max_body: usize,
    pub(super) keepalive: Duration,
    pub(super) max_silence: Duration,
    /// A request body not fully received in this long is refused (408).
    pub(super) body_timeout: Duration,
    pub(super) trace: Option<Arc<Tracer>>,
    /// Calls stream their arguments as written instead of being held until complete.
    pub(super) stream_tool_arguments: bool,
    pub(super) tools_cache: ToolsCache,
    pub(super) metrics: Metrics,
    /// Cancelled when the shutdown grace is over: requests still open end at once, so
    /// their upstream connections close (vLLM waits for those before it exits).
    pub(super) closing: CancellationToken,
    /// Starts models on demand (`podctl serve`); `None` for a plain proxy.
    pub(super) gate: Option<std::sync::Arc<dyn super::gate::Gate>>,
}

impl App {
    pub fn new(config: &ProxyConfig) -> Self {
        let transport = transport::pooled();
        Self {
            table: RwLock::new(Arc::new(Table::build(config, None, &transport))),
            transport,
            max_body: config.max_body,
            keepalive: config.keepalive,
            max_silence: config.max_silence,
            body_timeout: config.body_timeout,
            trace: config.trace_dir.clone().map(|dir| Arc::new(Tracer::new(dir))),
            stream_tool_arguments: config.stream_tool_arguments,
            tools_cache: ToolsCache::default(),
            metrics: Metrics::new(),
            closing: CancellationToken::new(),
            gate: None,
        }
    }

    /// The current models, replicas and keys.
    pub(crate) fn table(&self) -> Arc<Table> {
        Arc::clone(&self.table.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Applies a new configuration: models, replicas, keys and router settings. Requests
    /// in flight keep the table they started with; replicas that stay keep their health
    /// and in-flight counts. Listen address and limits need a restart.
    pub fn reload(&self, config: &ProxyConfig) {
        let table = {
            let current = self.table();
            Table::build(config, Some(&current), &self.transport)
        };
        *self.table.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(table);
    }

    /// Per-model replica states, as `podctl status` shows them.
    pub fn status(&self) -> Vec<ModelStatus> {
        self.table().status()
    }
}

/// Reads a request body of at most `max_body` bytes, which must arrive whole within
/// `body_timeout` (a client that sends headers and part of a body, then stalls, gets 408
/// instead of holding the connection and this task forever).
pub(crate) async fn read_body(
    app: &App,
    request: axum::extract::Request,
) -> Result<axum::body::Bytes, ApiError> {
    let limit = app.max_body;
    let read = axum::body::to_bytes(request.into_body(), limit);
    let Ok(result) = tokio::time::timeout(app.body_timeout, read).await else {
        return Err(ApiError::new(
            ErrorKind::RequestTimeout,
            format!(
                "request body not received within {} s (the proxy's limit; raise it with --body-timeout-secs)",
                app.body_timeout.as_secs_f64()
            ),
        ));
    };
    result.map_err(|e| {
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

/// Reads a request body as a JSON object (see [`read_body`]).
pub(crate) async fn read_json(
    app: &App,
    request: axum::extract::Request,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let bytes = read_body(app, request).await?;
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(ErrorKind::BadRequest, "request body must be a JSON object")),
        Err(e) => Err(ApiError::new(ErrorKind::BadRequest, format!("request body is not valid JSON: {e}"))),
    }
}
