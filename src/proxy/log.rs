//! One log line per request, written when the request ends however it ends (a client
//! that disconnects mid-stream is logged as `cancelled`). Keys are never logged.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct RequestLog {
    pub(crate) id: String,
    pub(crate) endpoint: &'static str,
    pub(crate) model: String,
    pub(crate) stream: bool,
    pub(crate) status: u16,
    started: Instant,
    /// Time spent waiting on the upstream; the rest is what the proxy added.
    pub(crate) upstream: Duration,
    pub(crate) tool_calls: usize,
    pub(crate) finish: Option<&'static str>,
    pub(crate) error: Option<String>,
    done: bool,
}

impl RequestLog {
    pub(crate) fn new(id: String, endpoint: &'static str) -> Self {
        Self {
            id,
            endpoint,
            model: String::new(),
            stream: false,
            status: 0,
            started: Instant::now(),
            upstream: Duration::ZERO,
            tool_calls: 0,
            finish: None,
            error: None,
            done: false,
        }
    }

    /// Records an error answer (status and message) for the line.
    pub(crate) fn set_error(&mut self, error: &crate::openai::ApiError) {
        self.status = error.status;
        self.error = Some(error.message.clone());
    }

    /// Writes the line now (otherwise it is written on drop, as cancelled).
    pub(crate) fn finish(&mut self) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let total = self.started.elapsed();
        let added = total.saturating_sub(self.upstream);
        tracing::info!(
            id = %self.id,
            endpoint = self.endpoint,
            model = %self.model,
            stream = self.stream,
            status = self.status,
            upstream_ms = ms(self.upstream),
            added_ms = ms(added),
            total_ms = ms(total),
            tool_calls = self.tool_calls,
            finish = self.finish.unwrap_or("-"),
            error = self.error.as_deref().unwrap_or(""),
            "request"
        );
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        if !self.done {
            if self.status == 0 || self.status == 200 {
                self.status = 499;
            }
            self.error.get_or_insert_with(|| "cancelled: the client went away".to_owned());
            self.finish();
        }
    }
}
