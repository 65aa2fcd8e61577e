//! One served model: the names clients use, how it writes tool calls, its replicas, the
//! models that stand in for it, and its upstream id (configured, or learned from a
//! replica's `/v1/models`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::balance::{self, Slot};
use super::replica::Replica;
use crate::openai::{ApiError, ErrorKind};
use crate::toolcall::{Format, Reasoning};

#[derive(Debug)]
pub(crate) struct Model {
    /// The name in logs, metrics and status: the configured name, else the first replica.
    pub(crate) label: String,
    /// Names clients may use (the configured name and aliases).
    pub(crate) names: Vec<String>,
    pub(crate) format: Format,
    pub(crate) reasoning: Reasoning,
    /// Model names to try, in order, when no replica of this one can serve.
    pub(crate) fallbacks: Vec<String>,
    pub(crate) replicas: Vec<Arc<Replica>>,
    fixed_id: Option<Arc<str>>,
    /// The upstream's `/v1/models` entry and its id, once learned.
    learned: RwLock<Option<(Arc<str>, Value)>>,
    /// Held while a lookup of the id runs; the last lookup's failure.
    lookup: tokio::sync::Mutex<Option<ApiError>>,
    /// Lookups finished so far.
    lookups: AtomicU64,
}

impl Model {
    pub(crate) fn new(config: &crate::proxy::config::ModelConfig, replicas: Vec<Arc<Replica>>) -> Self {
        let mut names: Vec<String> = config.name.iter().chain(&config.aliases).cloned().collect();
        names.dedup();
        let label =
            config.name.clone().or_else(|| replicas.first().map(|r| r.name.clone())).unwrap_or_default();
        Self {
            label,
            names,
            format: config.tool_format,
            reasoning: config.reasoning,
            fallbacks: config.fallbacks.clone(),
            replicas,
            fixed_id: config.upstream_model.as_deref().map(Arc::from),
            learned: RwLock::new(None),
            lookup: tokio::sync::Mutex::new(None),
            lookups: AtomicU64::new(0),
        }
    }

    /// Whether `name` is one of this model's names or aliases, exactly.
    pub(crate) fn answers_to(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// Whether one of this model's alias patterns (`claude-*`, `*`) matches `name`.
    pub(crate) fn matches(&self, name: &str) -> bool {
        self.names.iter().any(|pattern| pattern.contains('*') && glob(pattern, name))
    }

    /// The names clients may send as they are (patterns left out), for `/v1/models`.
    pub(crate) fn listed_names(&self) -> impl Iterator<Item = &String> {
        self.names.iter().filter(|n| !n.contains('*'))
    }

    /// Keeps what was learned about the upstream id from the model this one replaces.
    pub(crate) fn inherit(&self, previous: &Self) {
        if self.fixed_id.is_none() {
            let learned = previous.learned.read().unwrap_or_else(PoisonError::into_inner).clone();
            *self.learned.write().unwrap_or_else(PoisonError::into_inner) = learned;
        }
    }

    /// The replica for a request: see [`balance`]. `tried` replicas are skipped.
    pub(crate) fn pick(&self, affinity: Option<u64>, tried: &[u64], tie: u64) -> Option<&Arc<Replica>> {
        let now = Instant::now();
        let slots: Vec<Slot> = self
            .replicas
            .iter()
            .map(|r| Slot {
                in_flight: r.in_flight(),
                weight: r.weight,
                usable: !tried.contains(&r.id) && r.available(now),
                id: r.id,
            })
            .collect();
        balance::choose(&slots, affinity, tie).map(|i| &self.replicas[i])
    }

    /// When nothing is available: the untried replica whose cooldown ends first (a request
    /// is as good a probe as any, and a single replica must not refuse while it recovers).
    pub(crate) fn last_resort(&self, tried: &[u64]) -> Option<&Arc<Replica>> {
        let now = Instant::now();
        self.replicas.iter().filter(|r| !tried.contains(&r.id)).min_by_key(|r| r.cooldown_left(now))
    }

    /// The upstream model id, learning it when not yet known.
    ///
    /// One lookup at a time, and a request that waited for another's takes its outcome: a
    /// burst on a cold proxy (a thousand agents' requests, vLLM just up) asks the replica
    /// once, not once per request, and a dead replica fails them all in one timeout.
    pub(crate) async fn model_id(&self) -> Result<Arc<str>, ApiError> {
        if let Some(id) = self.known_id() {
            return Ok(id);
        }
        let before = self.lookups.load(Ordering::Acquire);
        let mut failure = self.lookup.lock().await;
        if let Some(id) = self.known_id() {
            return Ok(id);
        }
        if self.lookups.load(Ordering::Acquire) != before
            && let Some(e) = failure.as_ref()
        {
            return Err(e.clone());
        }
        let fetched = self.fetch_model().await;
        self.lookups.fetch_add(1, Ordering::AcqRel);
        let entry = fetched.inspect_err(|e| *failure = Some(e.clone()))?;
        *failure = None;
        let id: Arc<str> = entry.get("id").and_then(Value::as_str).unwrap_or_default().into();
        *self.learned.write().unwrap_or_else(PoisonError::into_inner) = Some((Arc::clone(&id), entry));
        Ok(id)
    }

    /// The model id, if configured or already learned.
    pub(crate) fn known_id(&self) -> Option<Arc<str>> {
        if let Some(id) = &self.fixed_id {
            return Some(Arc::clone(id));
        }
        self.learned.read().unwrap_or_else(PoisonError::into_inner).as_ref().map(|(id, _)| Arc::clone(id))
    }

    /// The `/v1/models` entry (for listing), if known.
    pub(crate) fn model_entry(&self) -> Option<Value> {
        if let Some(entry) = self.learned.read().unwrap_or_else(PoisonError::into_inner).as_ref() {
            return Some(entry.1.clone());
        }
        self.fixed_id.as_ref().map(|id| {
            serde_json::json!({"id": &**id, "object": "model", "created": crate::openai::unix_now(), "owned_by": "vllm"})
        })
    }

    /// Forgets the learned id (vLLM may have been restarted with another model).
    pub(crate) fn forget_model(&self) {
        *self.learned.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Asks the replicas, available ones first, for the served model.
    async fn fetch_model(&self) -> Result<Value, ApiError> {
        let now = Instant::now();
        let mut order: Vec<&Arc<Replica>> = self.replicas.iter().collect();
        order.sort_by_key(|r| !r.available(now));
        let mut last = ApiError::new(ErrorKind::Internal, format!("model `{}` has no replica", self.label));
        for replica in order {
            match fetch_from(replica).await {
                Ok(entry) => return Ok(entry),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

async fn fetch_from(replica: &Replica) -> Result<Value, ApiError> {
    let url = format!("{}/models", replica.base);
    let response = replica
        .request(reqwest::Method::GET, &url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| replica.unreachable(&e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| replica.unreachable(&e))?;
    if status == 401 || status == 403 {
        return Err(replica.error(status, &body));
    }
    if status != 200 {
        let upstream = ApiError::from_upstream(status, &body);
        return Err(ApiError::new(
            ErrorKind::BadGateway,
            format!("cannot learn the model from {url}: HTTP {status}: {}", upstream.message),
        ));
    }
    let list: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(ErrorKind::BadGateway, format!("{url} did not answer JSON: {e}")))?;
    list.get("data")
        .and_then(Value::as_array)
        .and_then(|data| data.first())
        .cloned()
        .ok_or_else(|| ApiError::new(ErrorKind::BadGateway, format!("{url} lists no model")))
}

/// `*` matches any run of characters (none included); every other character itself.
fn glob(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_like_shell_patterns() {
        assert!(glob("claude-*", "claude-sonnet-4-5"));
        assert!(glob("*", "anything"));
        assert!(glob("*", ""));
        assert!(glob("gpt-5*", "gpt-5"));
        assert!(glob("gpt-5*-codex", "gpt-5.1-codex"));
        assert!(glob("*haiku*", "claude-haiku-4-5"));
        assert!(!glob("claude-*", "gpt-5"));
        assert!(!glob("gpt-5*-codex", "gpt-5.1-mini"));
        assert!(!glob("a*a", "a"), "the ends may not overlap");
        assert!(glob("exact", "exact") && !glob("exact", "exactly"));
    }
}
