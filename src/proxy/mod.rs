//! `podctl proxy`: an OpenAI-compatible server in front of vLLM that turns the model's
//! raw tool-call text into OpenAI `tool_calls` (streaming and not).
//!
//! Shape: [`serve`] takes an already-bound listener and a shutdown token (tests bind port
//! 0). Routes live in `routes`; the pure parts (request rewrite, SSE decoding, stream
//! translation) are kept apart from sockets in `rewrite`, `sse`, `stream` and `choice`,
//! over the wire types of [`crate::openai`]. The state every request shares is [`App`]
//! (`app`); this file only declares the modules and serves, and no file imports it.

mod app;
mod auth;
mod choice;
mod complete;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub mod gate;
mod keys;
pub mod limits;
pub mod litellm;
mod log;
mod loop_share;
mod loops;
mod members;
mod memo;
pub(crate) mod metrics;
mod passthrough;
mod plan;
mod reply;
mod rewrite;
pub mod router;
mod routes;
mod serve;
mod server;
mod sse;
mod stream;
pub mod tls;
mod trace;
mod vllm_calls;
mod wire;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use app::App;
pub use config::ProxyConfig;
pub use router::probe::{ProxyStatus, read_statuses};

/// A running proxy's handles, for the command that started it.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    /// Where to keep the status file `podctl status` reads (`proxy-PORT.json`).
    pub status_dir: Option<std::path::PathBuf>,
    /// Receives the app once it exists (to reload it on SIGHUP).
    pub on_start: Option<tokio::sync::mpsc::UnboundedSender<Arc<App>>>,
    /// Admits each request to its model (`podctl serve` starts models on demand).
    pub gate: Option<Arc<dyn gate::Gate>>,
    /// Event loops serving connections (see `loops`): 0 or 1 serves on the caller's
    /// runtime alone; N adds N - 1 threads, each a single-threaded runtime.
    pub loops: usize,
}

/// The most connections waiting to be accepted (the kernel caps it at
/// `net.core.somaxconn`): a burst of clients' connections waits in the queue instead of
/// overflowing it, where each dropped SYN is retried a second later.
const BACKLOG: i32 = 4096;

/// A listening socket for the proxy on `addr`, as `tokio::net::TcpListener::bind` makes
/// one (`SO_REUSEADDR`: a restart binds past the old connections' `TIME_WAIT`), with a
/// longer queue than its 1,024.
pub fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// How many event loops `podctl proxy` runs unless told: one per CPU it may use.
pub fn default_loops() -> usize {
    loops::default_count()
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
    let mut app = App::new(config);
    app.gate.clone_from(&hooks.gate);
    let app = Arc::new(app);
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
    let serving = Serving {
        router,
        limits: server::HeadLimits { timeout: config.header_timeout, max_bytes: config.max_header_bytes },
        tls: match &config.tls {
            Some(files) => {
                Some(tls::load(files).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?)
            }
            None => None,
        },
        open: limits::places(config.max_connections),
        shutdown,
        grace: config.grace,
        closing,
        share: None,
    };
    if hooks.loops <= 1 {
        return serving.run(listener).await;
    }
    // Every loop accepts on the same socket: the kernel hands each connection to one of them.
    let listener = listener.into_std()?;
    // The other loops stop with this one, even when its caller drops it instead of asking.
    let stop = serving.shutdown.child_token();
    let _stop_others = stop.clone().drop_guard();
    let mut shares = loop_share::Share::all(hooks.loops).into_iter();
    let serving = Serving { share: shares.next(), ..serving };
    let mut others = Vec::with_capacity(hooks.loops - 1);
    for (index, share) in (1..hooks.loops).zip(shares) {
        let (listener, mut serving) = (listener.try_clone()?, serving.clone());
        serving.shutdown = stop.clone();
        serving.share = Some(share);
        others.push(loops::spawn(index, move || async move {
            serving.run(TcpListener::from_std(listener)?).await
        })?);
    }
    let mut result = serving.run(TcpListener::from_std(listener)?).await;
    for other in others {
        let ended = other.await.unwrap_or_else(|_| Err(std::io::Error::other("an event loop ended unseen")));
        result = result.and(ended);
    }
    result
}

/// What every event loop needs to serve its share of the connections.
#[derive(Clone)]
struct Serving {
    router: axum::Router,
    limits: server::HeadLimits,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// The places for open connections, shared by the loops (`max_connections` in all).
    open: Arc<tokio::sync::Semaphore>,
    shutdown: CancellationToken,
    grace: std::time::Duration,
    closing: CancellationToken,
    /// This loop's share of the connections, with more than one loop.
    share: Option<loop_share::Share>,
}

impl Serving {
    /// Serves `listener` on this thread's runtime until the shutdown.
    async fn run(self, listener: TcpListener) -> std::io::Result<()> {
        let Self { router, limits, tls, open, shutdown, grace, closing, share } = self;
        if let Some(tls) = tls {
            let listener = limits::Limited::shared(tls::TlsListener::new(listener, tls)?, open);
            server::run(listener, router, limits, shutdown, grace, closing, share).await
        } else {
            // Without TCP_NODELAY the small last frames of a stream (the finish chunk,
            // `[DONE]`, the chunked terminator) wait for the client's delayed ACK: tens of ms
            // per stream.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let listener = limits::Limited::shared(listener, open);
            server::run(listener, router, limits, shutdown, grace, closing, share).await
        }
    }
}
