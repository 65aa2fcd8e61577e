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
    /// A streaming request waiting for its model to load is told so in its reasoning.
    pub(super) loading_reasoning: bool,
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
            loading_reasoning: config.loading_reasoning,
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

/// After a body goes over `max_body`, at most this much more is read (and dropped) so the
/// client, still writing, gets to read the 413: closing a socket with unread data sends a
/// reset, and a client that is still writing then sees a broken pipe instead of the answer.
const DRAIN_BYTES: usize = 256 << 20;
/// …and for at most this long (or what is left of `body_timeout`, if less).
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Reads a request body of at most `max_body` bytes, which must arrive whole within
/// `body_timeout` (a client that sends headers and part of a body, then stalls, gets 408
/// instead of holding the connection and this task forever). A body over the limit gets
/// a 413 once the rest of it has been read and dropped (up to [`DRAIN_BYTES`] more, for
/// up to [`DRAIN_TIME`]), so the client reads the answer; the connection then closes. A
/// client that announced a larger body and waits for `100 Continue` is answered at once.
pub(crate) async fn read_body(
    app: &App,
    request: axum::extract::Request,
) -> Result<axum::body::Bytes, ApiError> {
    use http_body_util::BodyExt as _;

    let limit = app.max_body;
    let started = tokio::time::Instant::now();
    let deadline = started + app.body_timeout;
    let headers = request.headers();
    let declared =
        headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let waits_for_continue = headers
        .get(axum::http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let too_large = || {
        ApiError::new(
            ErrorKind::PayloadTooLarge,
            format!(
                "request body is larger than {} MiB (the proxy's limit; raise it with --max-body-mb)",
                limit >> 20
            ),
        )
    };
    let timed_out = || {
        ApiError::new(
            ErrorKind::RequestTimeout,
            format!(
                "request body not received within {} s (the proxy's limit; raise it with --body-timeout-secs)",
                app.body_timeout.as_secs_f64()
            ),
        )
    };
    let mut body = request.into_body();
    let announced_over = declared.is_some_and(|n| n > limit);
    if announced_over && (waits_for_continue || declared.is_some_and(|n| n - limit > DRAIN_BYTES)) {
        // Nothing sent yet, or more than the drain would take: answer before reading.
        return Err(too_large());
    }
    let mut chunks: Vec<axum::body::Bytes> = Vec::new();
    let mut len = 0usize;
    if !announced_over {
        loop {
            let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => return Err(timed_out()),
                Ok(None) => return Ok(join(chunks, len)),
                Ok(Some(Err(e))) => {
                    return Err(ApiError::new(
                        ErrorKind::BadRequest,
                        format!("cannot read the request body: {e}"),
                    ));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else { continue };
            len += data.len();
            if len > limit {
                break;
            }
            chunks.push(data);
        }
    }
    // Over the limit: drop what was read, and read the rest so the client gets the 413.
    drop(chunks);
    let drain_deadline = deadline.min(tokio::time::Instant::now() + DRAIN_TIME);
    let mut drained = 0usize;
    while drained <= DRAIN_BYTES {
        match tokio::time::timeout_at(drain_deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => drained += frame.data_ref().map_or(0, axum::body::Bytes::len),
            _ => break,
        }
    }
    Err(too_large())
}

/// The body's pieces as one buffer (no copy for the usual single piece).
fn join(mut chunks: Vec<axum::body::Bytes>, len: usize) -> axum::body::Bytes {
    if chunks.len() == 1 {
        return chunks.pop().unwrap_or_default();
    }
    let mut whole = Vec::with_capacity(len);
    for chunk in &chunks {
        whole.extend_from_slice(chunk);
    }
    whole.into()
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
