//! Event loops: the proxy's connections served by several threads, each a single-threaded
//! tokio runtime running its own accept loop on the one listening socket, the way nginx's
//! and Envoy's workers do. A connection stays on the thread that accepted it, and so does
//! everything its requests do, their upstream connections included (pooled per loop, see
//! [`current`]): no task moves between threads and no wake-up crosses one. On a pod's CPUs,
//! shared with vLLM, that costs less per request than a work-stealing runtime, where a
//! request's tasks hop between workers and each hop wakes a parked thread.
//!
//! Loop 0 is the caller's runtime (the command's own, which also runs the signal handlers,
//! the health probes and the status file); loops 1.. are threads started here, each ending
//! when its server does.

use std::cell::Cell;
use std::future::Future;
use std::io;

use tokio::sync::oneshot;

thread_local! {
    static LOOP: Cell<usize> = const { Cell::new(0) };
}

/// The event loop this thread runs: 0 on the caller's runtime (and on any thread not started
/// here), 1.. on the loops' own threads. Resources bound to a loop's runtime (its TCP
/// connections) are kept per loop with it.
pub(crate) fn current() -> usize {
    LOOP.with(Cell::get)
}

/// Starts loop `index` on a thread of its own: a single-threaded runtime that runs what
/// `serve` gives until it ends. The receiver gets its result (or the reason the loop could
/// not start, or a panic's message).
pub(crate) fn spawn<F, Fut>(index: usize, serve: F) -> io::Result<oneshot::Receiver<io::Result<()>>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = io::Result<()>>,
{
    let (done, result) = oneshot::channel();
    std::thread::Builder::new().name(format!("podctl-loop-{index}")).spawn(move || {
        LOOP.with(|l| l.set(index));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(serve())
        }));
        let outcome = outcome.unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            Err(io::Error::other(format!("event loop {index} stopped: {why}")))
        });
        let _ = done.send(outcome);
    })?;
    Ok(result)
}

/// How many loops to run by default: one per CPU this process may use.
pub(crate) fn default_count() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_loop_runs_on_its_own_thread_and_reports_its_end() {
        let result = spawn(3, || async {
            assert_eq!(current(), 3, "the loop's thread knows its index");
            assert_eq!(std::thread::current().name(), Some("podctl-loop-3"));
            tokio::task::yield_now().await;
            Err(io::Error::other("served"))
        })
        .expect("started");
        assert_eq!(current(), 0, "the caller's thread is loop 0");
        let error = result.await.expect("reported").expect_err("the loop's own result");
        assert_eq!(error.to_string(), "served");
    }

    #[tokio::test]
    async fn a_loop_that_panics_reports_why() {
        let result = spawn(1, || async { panic!("broken") }).expect("started");
        let error = result.await.expect("reported").expect_err("a panic is an error");
        assert!(error.to_string().contains("event loop 1 stopped: broken"), "{error}");
    }
}
