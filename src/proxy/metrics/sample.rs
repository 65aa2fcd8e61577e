//! What the callers report: one finished request ([`RequestSample`], from the request
//! log) and the live state of one replica at scrape time ([`ReplicaGauge`]).

use std::time::Duration;

use crate::proxy::router::health::State;
use crate::toolcall::Outcomes;

/// One finished request, as the request log sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSample<'a> {
    /// `"chat"`, `"/completions"`, `"/embeddings"`, …
    pub(crate) endpoint: &'a str,
    /// A configured model name or `"unknown"` (bounded cardinality: the caller guarantees it).
    pub(crate) model: &'a str,
    /// `host:port` of the replica that answered, if one did (labelled `none` if not).
    pub(crate) replica: Option<&'a str>,
    /// 499: the client went away.
    pub(crate) status: u16,
    pub(crate) stream: bool,
    /// Time waiting on the upstream.
    pub(crate) upstream: Duration,
    /// Total minus upstream: the proxy's own time.
    pub(crate) added: Duration,
    /// Streaming: time to the first content or tool token sent to the client.
    pub(crate) ttft: Option<Duration>,
    pub(crate) tool_calls: usize,
    pub(crate) outcomes: Outcomes,
}

/// Live state of one replica at scrape time.
#[derive(Debug, Clone)]
pub(crate) struct ReplicaGauge {
    pub(crate) model: String,
    pub(crate) replica: String,
    pub(crate) in_flight: u64,
    pub(crate) state: State,
    pub(crate) cooldown_remaining: Duration,
}
