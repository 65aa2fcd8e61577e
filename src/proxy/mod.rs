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
