//! One vLLM server behind the proxy: its URLs and key, an HTTP client with pooled
//! connections, the requests it has in flight and its health.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use super::health::{Change, Health, Outcome, Policy, State};
use super::transport::{Reply, SendError, Transport, describe_reqwest};
use crate::openai::{ApiError, ErrorKind};
use crate::proxy::config::ReplicaConfig;

#[derive(Debug)]
pub(crate) struct Replica {
    /// `host:port`, for logs, metrics and status.
    pub(crate) name: String,
    /// `http://host:port/v1`.
    pub(crate) base: String,
    /// `http://host:port` (vLLM's `/health`, `/tokenize`, `/version` live here).
    pub(crate) root: String,
    /// `{base}/chat/completions`, parsed once (URL parsing is not free per request).
    pub(crate) chat_uri: Option<http::Uri>,
    pub(crate) weight: u32,
    /// A stable hash of the URL (for affinity).
    pub(crate) id: u64,
    key: Option<String>,
    /// `Bearer KEY`, built once.
    bearer: Option<http::HeaderValue>,
    transport: Transport,
    in_flight: AtomicU32,
    health: Mutex<Health>,
}

/// One request in flight on a replica; dropping it ends the count.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Replica>, Option<crate::proxy::gate::Ticket>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl InFlight {
    pub(crate) fn replica(&self) -> &Arc<Replica> {
        &self.0
    }

    /// Keeps the gate's ticket (the model stays loaded) as long as this request.
    pub(crate) fn hold(&mut self, ticket: Option<crate::proxy::gate::Ticket>) {
        self.1 = ticket;
    }
}

/// What `podctl status` and `/metrics` show about a replica.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplicaStatus {
    pub url: String,
    pub state: ReplicaState,
    pub in_flight: u32,
    /// Seconds of cooldown left.
    pub cooldown_secs: u64,
    pub weight: u32,
    pub last_error: Option<String>,
}

/// A replica's health in the status file, written as one word (`up`, `cooldown`, …).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaState {
    /// Not probed yet.
    Unknown,
    Up,
    /// vLLM answers but is still loading (503): skipped, not failed.
    Starting,
    /// Failed too often: out of rotation for a while.
    Cooldown,
    /// Cooldown over; waiting for a probe to pass.
    Down,
    /// A word this podctl does not know (a newer proxy wrote the file): shown as written.
    #[serde(untagged)]
    Other(String),
}

impl From<State> for ReplicaState {
    fn from(state: State) -> Self {
        match state {
            State::Unknown => Self::Unknown,
            State::Up => Self::Up,
            State::Starting => Self::Starting,
            State::Cooldown { .. } => Self::Cooldown,
            State::Down => Self::Down,
        }
    }
}

impl Replica {
    pub(crate) fn new(config: &ReplicaConfig, transport: Transport) -> Self {
        let base = config.url.clone();
        let root = base.strip_suffix("/v1").unwrap_or(&base).to_owned();
        let name = root.split_once("://").map_or(root.as_str(), |(_, rest)| rest).to_owned();
        let id = super::balance::mix(foldhash_str(&base));
        let bearer = config.key.as_ref().and_then(|k| {
            let mut value = http::HeaderValue::from_str(&format!("Bearer {k}")).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        Self {
            chat_uri: format!("{base}/chat/completions").parse().ok(),
            name,
            base,
            root,
            weight: config.weight.max(1),
            id,
            key: config.key.clone(),
            bearer,
            transport,
            in_flight: AtomicU32::new(0),
            health: Mutex::new(Health::default()),
        }
    }

    /// Whether this replica was built from `config` (reloads keep its state then).
    pub(crate) fn same_as(&self, config: &ReplicaConfig) -> bool {
        self.base == config.url && self.key == config.key && self.weight == config.weight.max(1)
    }

    /// Sends a request on the proxy's hot path (hyper for `http://`, reqwest for `https://`).
    pub(crate) async fn send(
        &self,
        method: http::Method,
        uri: &http::Uri,
        body: Option<axum::body::Bytes>,
    ) -> Result<Reply, SendError> {
        self.transport.send(method, uri, self.bearer.as_ref(), body).await
    }

    /// A request to `url` with the replica's key, if it has one (probes, model lookups).
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        url: impl reqwest::IntoUrl,
    ) -> reqwest::RequestBuilder {
        let builder = self.transport.tls().request(method, url);
        match &self.key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    /// Counts a request in flight until the guard drops.
    pub(crate) fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self), None)
    }

    pub(crate) fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn available(&self, now: Instant) -> bool {
        self.health().available(now)
    }

    pub(crate) fn state(&self, now: Instant) -> State {
        self.health().state(now)
    }

    /// When its cooldown ends (now if not cooling down), for the last-resort choice.
    pub(crate) fn cooldown_left(&self, now: Instant) -> std::time::Duration {
        self.health().cooldown_left(now)
    }

    pub(crate) fn on_request(&self, outcome: Outcome, policy: Policy) -> Change {
        self.health().on_request(outcome, Instant::now(), policy)
    }

    pub(crate) fn on_probe(&self, outcome: Outcome, policy: Policy) -> Change {
        self.health().on_probe(outcome, Instant::now(), policy)
    }

    pub(crate) fn status(&self, now: Instant) -> ReplicaStatus {
        let health = self.health();
        ReplicaStatus {
            url: self.base.clone(),
            state: health.state(now).into(),
            in_flight: self.in_flight(),
            cooldown_secs: health
                .cooldown_left(now)
                .as_millis()
                .div_ceil(1000)
                .try_into()
                .unwrap_or(u64::MAX),
            weight: self.weight,
            last_error: health.last_error.clone(),
        }
    }

    /// An error answer from the replica, for the client. vLLM refusing *our* key is the
    /// proxy's configuration problem, not the client's: a 502 that says which key to set.
    pub(crate) fn error(&self, status: u16, body: &[u8]) -> ApiError {
        if status == 401 || status == 403 {
            return ApiError::new(
                ErrorKind::BadGateway,
                format!(
                    "vLLM at {} refused the proxy's key (HTTP {status}): set PODCTL_UPSTREAM_API_KEY (or `api_key_env` in the config) to the key vLLM was started with",
                    self.base
                ),
            );
        }
        ApiError::from_upstream(status, body)
    }

    /// The 502 for a replica that cannot be reached, with the next step.
    pub(crate) fn unreachable(&self, error: &reqwest::Error) -> ApiError {
        self.unreachable_because(&describe_reqwest(error))
    }

    /// The 502 for a replica that cannot be reached (`why`: what failed), with the next step.
    pub(crate) fn unreachable_because(&self, why: &str) -> ApiError {
        ApiError::new(
            ErrorKind::BadGateway,
            format!("upstream {} {why}. Is vLLM running? Check with `podctl status`", self.base),
        )
    }
}

fn foldhash_str(s: &str) -> u64 {
    use std::hash::BuildHasher as _;
    foldhash::fast::FixedState::with_seed(0x706f_6463_746c).hash_one(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_states_are_the_words_the_status_file_holds() {
        let rows = [
            (ReplicaState::Unknown, "unknown"),
            (ReplicaState::Up, "up"),
            (ReplicaState::Starting, "starting"),
            (ReplicaState::Cooldown, "cooldown"),
            (ReplicaState::Down, "down"),
        ];
        for (state, word) in rows {
            assert_eq!(serde_json::to_value(&state).expect("writes"), serde_json::json!(word));
            assert_eq!(serde_json::from_value::<ReplicaState>(serde_json::json!(word)).expect(word), state);
        }
        // A word from a newer proxy still reads, and is shown as written.
        let newer: ReplicaState = serde_json::from_value(serde_json::json!("draining")).expect("reads");
        assert_eq!(newer, ReplicaState::Other("draining".to_owned()));
        assert_eq!(serde_json::to_value(&newer).expect("writes"), serde_json::json!("draining"));
    }
}
