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
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod litellm;
mod log;
pub(crate) mod metrics;
mod passthrough;
mod reply;
mod rewrite;
pub mod router;
mod routes;
mod server;
mod sse;
mod stream;
pub mod tls;
mod trace;

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::ProxyConfig;
use router::Table;
pub use router::probe::{ProxyStatus, read_statuses};

use crate::openai::{ApiError, ErrorKind};

/// State shared by every request.
#[derive(Debug)]
pub struct App {
    /// Models, replicas, keys: replaced whole on reload (SIGHUP).
    table: RwLock<Arc<Table>>,
    transport: router::transport::Transport,
    max_body: usize,
    keepalive: Duration,
    max_silence: Duration,
    /// A request body not fully received in this long is refused (408).
    body_timeout: Duration,
    trace: Option<Arc<trace::Tracer>>,
    tools_cache: rewrite::ToolsCache,
    metrics: metrics::Metrics,
    /// Cancelled when the shutdown grace is over: requests still open end at once, so
    /// their upstream connections close (vLLM waits for those before it exits).
    closing: CancellationToken,
}

impl App {
    pub fn new(config: &ProxyConfig) -> Self {
        let transport = router::transport();
        Self {
            table: RwLock::new(Arc::new(Table::build(config, None, &transport))),
            transport,
            max_body: config.max_body,
            keepalive: config.keepalive,
            max_silence: config.max_silence,
            body_timeout: config.body_timeout,
            trace: config.trace_dir.clone().map(|dir| Arc::new(trace::Tracer::new(dir))),
            tools_cache: rewrite::ToolsCache::default(),
            metrics: metrics::Metrics::new(),
            closing: CancellationToken::new(),
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
    pub fn status(&self) -> Vec<router::ModelStatus> {
        self.table().status()
    }

    /// The error requests still open get when the grace period is over.
    fn closing_error() -> ApiError {
        ApiError::new(ErrorKind::Unavailable, "the proxy is shutting down; this request was cut off")
    }
}

/// A running proxy's handles, for the command that started it.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    /// Where to keep the status file `podctl status` reads (`proxy-PORT.json`).
    pub status_dir: Option<std::path::PathBuf>,
    /// Receives the app once it exists (to reload it on SIGHUP).
    pub on_start: Option<tokio::sync::mpsc::UnboundedSender<Arc<App>>>,
}

/// Serves on `listener` until `shutdown` is cancelled; then stops accepting, lets requests
/// in flight finish for up to `grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    config: &ProxyConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    serve_with(listener, config, shutdown, Hooks::default()).await
}

/// [`serve`], with a status file and a handle for reloads.
pub async fn serve_with(
    listener: TcpListener,
    config: &ProxyConfig,
    shutdown: CancellationToken,
    hooks: Hooks,
) -> std::io::Result<()> {
    let app = Arc::new(App::new(config));
    let background = CancellationToken::new();
    let _stop_background = background.clone().drop_guard();
    // Learn the upstream model ids in the background: a request should not wait for it,
    // and a proxy started before vLLM must still come up at once.
    for model in &app.table().models {
        let model = Arc::clone(model);
        tokio::spawn(async move {
            let _ = model.model_id().await;
        });
    }
    tokio::spawn(router::probe::run(Arc::clone(&app), background.clone()));
    if let Some(dir) = &hooks.status_dir {
        let addr = listener.local_addr()?;
        let path = dir.join(format!("proxy-{}.json", addr.port()));
        let ip = addr.ip().to_string();
        let host = crate::procs::connect_host(&ip);
        let host =
            if addr.is_ipv6() && !host.starts_with('[') { format!("[{host}]") } else { host.to_owned() };
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{host}:{}/v1", addr.port());
        tokio::spawn(router::probe::write_status(Arc::clone(&app), path, url, background.clone()));
    }
    if let Some(sender) = &hooks.on_start {
        let _ = sender.send(Arc::clone(&app));
    }
    let closing = app.closing.clone();
    let router = routes::router(app);
    let limits = server::HeadLimits { timeout: config.header_timeout, max_bytes: config.max_header_bytes };
    if let Some(files) = &config.tls {
        let tls = tls::load(files).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = limits::Limited::new(tls::TlsListener::new(listener, tls)?, config.max_connections);
        server::run(listener, router, limits, shutdown, config.grace, closing).await
    } else {
        // Without TCP_NODELAY the small last frames of a stream (the finish chunk, `[DONE]`,
        // the chunked terminator) wait for the client's delayed ACK: tens of ms per stream.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let listener = limits::Limited::new(listener, config.max_connections);
        server::run(listener, router, limits, shutdown, config.grace, closing).await
    }
}

/// Reads a request body of at most `max_body` bytes, which must arrive whole within
/// `body_timeout` (a client that sends headers and part of a body, then stalls, gets 408
/// instead of holding the connection and this task forever).
async fn read_body(app: &App, request: axum::extract::Request) -> Result<axum::body::Bytes, ApiError> {
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
async fn read_json(
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
