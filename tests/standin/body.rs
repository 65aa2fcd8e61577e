//! Response bodies as scripts of writes, pauses and failures, played by a body stream that
//! counts itself as cancelled when hyper drops it before the end (the client went away).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;

use super::Shared;

/// One step of a response body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// Hand these bytes to hyper.
    Data(Bytes),
    /// Yield once, so hyper flushes what it holds: the next `Data` is a separate write.
    Flush,
    /// Go silent.
    Sleep(Duration),
    /// Fail the body: hyper closes the connection without ending the response.
    Fail,
}

/// Append one SSE event `data: {payload}\n\n`. With `split`, it is written in two parts cut
/// in the middle of the `data:` line (possibly inside a UTF-8 sequence), with a flush between.
pub(crate) fn push_event(steps: &mut Vec<Step>, payload: &str, split: bool) {
    let event = Bytes::from(format!("data: {payload}\n\n"));
    if split {
        let cut = (event.len() - 2) / 2;
        steps.push(Step::Data(event.slice(..cut)));
        steps.push(Step::Flush);
        steps.push(Step::Data(event.slice(cut..)));
    } else {
        steps.push(Step::Data(event));
    }
}

/// Counts a response as cancelled when dropped before `finish` was called.
#[derive(Debug)]
pub(crate) struct CancelGuard {
    shared: Arc<Shared>,
    finished: bool,
}

impl CancelGuard {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared, finished: false }
    }

    /// The response went out as scripted (including a scripted failure).
    pub(crate) fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.shared.cancelled.send_modify(|n| *n += 1);
        }
    }
}

/// A streaming body that plays `steps`; `guard` is finished once the script has run out.
pub(crate) fn play(steps: Vec<Step>, guard: CancelGuard) -> Body {
    let state = (steps.into_iter(), Some(guard));
    Body::from_stream(futures_util::stream::unfold(state, |(mut steps, mut guard)| async move {
        loop {
            match steps.next() {
                Some(Step::Data(bytes)) => {
                    if let Some(guard) = &guard {
                        guard.shared.sent.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                    return Some((Ok(bytes), (steps, guard)));
                }
                Some(Step::Flush) => tokio::task::yield_now().await,
                Some(Step::Sleep(pause)) => tokio::time::sleep(pause).await,
                Some(Step::Fail) => {
                    if let Some(guard) = guard.take() {
                        guard.finish();
                    }
                    let error = io::Error::other("stand-in: connection dropped mid-stream");
                    return Some((Err(error), (steps, guard)));
                }
                None => {
                    if let Some(guard) = guard.take() {
                        guard.finish();
                    }
                    return None;
                }
            }
        }
    }))
}
