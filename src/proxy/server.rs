//! The accept loop: HTTP/1.1 connections served by hyper with the limits axum's own
//! `serve` does not expose: a deadline for a request's head (a slow-loris client that
//! trickles headers is cut off) and a cap on its size. Graceful stop: no new connections,
//! idle ones closed, requests in flight given `grace`, then ended.

use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio_util::sync::CancellationToken;

use super::loop_share::Share;

/// How long requests closed at the end of the grace period get to end.
const CLOSING: Duration = Duration::from_secs(2);

/// How long a loop ahead of its share lets the others take the next connection first (a
/// timer tick).
const DEFER: Duration = Duration::from_millis(1);

/// Limits on a request's head.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadLimits {
    /// The whole head (request line and headers) must arrive within this.
    pub(crate) timeout: Duration,
    /// The most bytes of headers; more gets 431.
    pub(crate) max_bytes: usize,
}

/// Serves `router` on `listener` until `shutdown`; then lets requests in flight finish for
/// up to `grace` before `closing` ends them. With several loops on one socket, `share`
/// keeps this loop's connections at its share (see [`super::loop_share`]).
pub(crate) async fn run<L>(
    mut listener: L,
    router: axum::Router,
    limits: HeadLimits,
    shutdown: CancellationToken,
    grace: Duration,
    closing: CancellationToken,
    mut share: Option<Share>,
) -> std::io::Result<()>
where
    L: axum::serve::Listener,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.timeout)
        .max_header_size(limits.max_bytes)
        .max_buf_size(limits.max_bytes.max(8192) + 8192);
    let graceful = GracefulShutdown::new();
    loop {
        if let Some(share) = share.as_mut() {
            // Another loop holding fewer connections takes the next, unless none has
            // within the tick.
            share.let_others_first(DEFER).await;
        }
        tokio::select! {
            (io, _) = listener.accept() => {
                let held = share.as_ref().map(Share::hold);
                let service = TowerToHyperService::new(router.clone());
                let connection = graceful.watch(http.serve_connection(TokioIo::new(io), service));
                tokio::spawn(async move {
                    let _held = held;
                    // Errors here are the client's (a reset, a head too slow or too big):
                    // hyper has answered what it could.
                    if let Err(e) = connection.await {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
            () = shutdown.cancelled() => break,
        }
    }
    drop(listener);
    let drained = graceful.shutdown();
    tokio::pin!(drained);
    tokio::select! {
        () = &mut drained => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("grace period of {}s over: closing the requests still open", grace.as_secs());
            closing.cancel();
            // Each open request now ends, telling its client why: let them write that before
            // this returns and the loop's runtime, with their tasks, goes.
            let _ = tokio::time::timeout(CLOSING, drained).await;
        }
    }
    Ok(())
}
