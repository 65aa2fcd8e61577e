//! One log line per request, written when the request ends however it ends (a client
//! that disconnects mid-stream is logged as `cancelled`), and the same figures into the
//! metrics. Keys are never logged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::app::App;
use super::metrics::RequestSample;
use crate::toolcall::Outcomes;

#[derive(Debug)]
pub(crate) struct RequestLog {
    app: Arc<App>,
    pub(crate) id: String,
    pub(crate) endpoint: &'static str,
    /// The configured model's name (never a client's arbitrary string: it labels metrics).
    pub(crate) model: String,
    /// `host:port` of the replica that answered, once one did.
    pub(crate) replica: Option<String>,
    pub(crate) stream: bool,
    pub(crate) status: u16,
    started: Instant,
    /// Time spent waiting on the upstream; the rest is what the proxy added.
    pub(crate) upstream: Duration,
    /// Streams: when the first translated bytes went to the client.
    ttft: Option<Duration>,
    pub(crate) tool_calls: usize,
    pub(crate) outcomes: Outcomes,
    pub(crate) finish: Option<&'static str>,
    pub(crate) error: Option<String>,
    done: bool,
}

impl RequestLog {
    pub(crate) fn new(app: &Arc<App>, id: String, endpoint: &'static str) -> Self {
        app.metrics.started();
        Self {
            app: Arc::clone(app),
            id,
            endpoint,
            model: String::new(),
            replica: None,
            stream: false,
            status: 0,
            started: Instant::now(),
            upstream: Duration::ZERO,
            ttft: None,
            tool_calls: 0,
            outcomes: Outcomes::default(),
            finish: None,
            error: None,
            done: false,
        }
    }

    /// The app this request belongs to.
    pub(crate) fn app(&self) -> &App {
        &self.app
    }

    /// When the request arrived.
    pub(crate) fn started(&self) -> Instant {
        self.started
    }

    /// Time since the request arrived.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Notes the first bytes of the answer sent to the client (once).
    pub(crate) fn first_token(&mut self) {
        if self.ttft.is_none() {
            self.ttft = Some(self.started.elapsed());
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
        self.app.metrics.request(&RequestSample {
            endpoint: self.endpoint,
            model: if self.model.is_empty() { "unknown" } else { &self.model },
            replica: self.replica.as_deref(),
            status: self.status,
            stream: self.stream,
            upstream: self.upstream,
            added,
            ttft: self.ttft,
            tool_calls: self.tool_calls,
            outcomes: self.outcomes,
        });
        tracing::info!(
            id = %self.id,
            endpoint = self.endpoint,
            model = %self.model,
            replica = %self.replica.as_deref().unwrap_or(""),
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
