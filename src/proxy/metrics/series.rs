//! The counts behind the metrics: nested maps keyed by owned label values and looked up by
//! borrowed ones, so a request whose label set exists already allocates nothing. Sorted by
//! label values, so the rendered text is deterministic.

use std::collections::BTreeMap;

use super::histogram::{ADDED_BUCKETS, Histogram, LATENCY_BUCKETS};
use super::sample::RequestSample;

/// The `replica` label of a request no replica answered.
const NO_REPLICA: &str = "none";

/// The `outcome` label values of `podctl_parse_outcomes_total`, in [`ModelStats::outcomes`] order.
pub(super) const OUTCOMES: [&str; 4] = ["call", "truncated", "recovered", "as_text"];

/// Label values → value, nested in label order (`BTreeMap<String, _>` is looked up by `&str`).
pub(super) type Map<V> = BTreeMap<String, V>;

/// replica → (status, stream) → count.
pub(super) type ByReplica = Map<BTreeMap<(u16, bool), u64>>;

/// Every count since the start, by label values.
#[derive(Debug, Default, Clone)]
pub(super) struct Series {
    /// endpoint → model → replica → (status, stream) → count.
    pub(super) requests: Map<Map<ByReplica>>,
    pub(super) models: Map<ModelStats>,
    /// model → replica → reason → count.
    pub(super) retries: Map<Map<Map<u64>>>,
    /// from → to → count.
    pub(super) fallbacks: Map<Map<u64>>,
    /// model → replica → count.
    pub(super) cooldowns: Map<Map<u64>>,
}

/// One model's counts and histograms.
#[derive(Debug, Default, Clone)]
pub(super) struct ModelStats {
    pub(super) tool_calls: u64,
    /// Counts in [`OUTCOMES`] order.
    pub(super) outcomes: [u64; 4],
    pub(super) upstream: Histogram<15>,
    pub(super) ttft: Histogram<15>,
    pub(super) added: Histogram<11>,
}

/// The series for `key` in `map`, created empty on first use. The key is copied only then.
fn slot<'m, V: Default>(map: &'m mut Map<V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

impl Series {
    /// Counts one finished request. Upstream time is observed only when a replica answered.
    pub(super) fn record(&mut self, sample: &RequestSample<'_>) {
        let o = sample.outcomes;
        let replica = sample.replica.unwrap_or(NO_REPLICA);
        let by_replica = slot(slot(slot(&mut self.requests, sample.endpoint), sample.model), replica);
        *by_replica.entry((sample.status, sample.stream)).or_default() += 1;
        let model = slot(&mut self.models, sample.model);
        model.tool_calls += sample.tool_calls as u64;
        for (count, add) in model.outcomes.iter_mut().zip([o.calls, o.truncated, o.recovered, o.as_text]) {
            *count += u64::from(add);
        }
        if sample.replica.is_some() {
            model.upstream.observe(&LATENCY_BUCKETS, sample.upstream);
        }
        if let Some(ttft) = sample.ttft {
            model.ttft.observe(&LATENCY_BUCKETS, ttft);
        }
        model.added.observe(&ADDED_BUCKETS, sample.added);
    }

    /// Counts one retry after `replica` of `model` failed, under the `reason` label.
    pub(super) fn retry(&mut self, model: &str, replica: &str, reason: &str) {
        *slot(slot(slot(&mut self.retries, model), replica), reason) += 1;
    }

    /// Counts one request for model `from` that went on to its fallback `to`.
    pub(super) fn fallback(&mut self, from: &str, to: &str) {
        *slot(slot(&mut self.fallbacks, from), to) += 1;
    }

    /// Counts one cooldown of `replica` of `model`.
    pub(super) fn cooldown(&mut self, model: &str, replica: &str) {
        *slot(slot(&mut self.cooldowns, model), replica) += 1;
    }
}
