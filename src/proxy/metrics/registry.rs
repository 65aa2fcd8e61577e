//! [`Metrics`], one per process: the in-flight gauge is an atomic; everything else sits
//! behind one mutex that a finished request takes once.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::render::render;
use super::sample::{ReplicaGauge, RequestSample};
use super::series::Series;
use crate::proxy::router::retry::RetryReason;

/// The proxy's metrics: one per process, shared by every request.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Requests started minus requests ended.
    in_flight: AtomicI64,
    series: Mutex<Series>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn series(&self) -> MutexGuard<'_, Series> {
        self.series.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A request began.
    pub(crate) fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request ended: it leaves the in-flight gauge and joins the counters and histograms.
    /// Upstream time is observed only when a replica answered.
    pub(crate) fn request(&self, sample: &RequestSample<'_>) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.series().record(sample);
    }

    /// A request was retried after `replica` of `model` failed.
    pub(crate) fn retry(&self, model: &str, replica: &str, reason: RetryReason) {
        self.count_retry(model, replica, reason.label());
    }

    /// [`Metrics::retry`], with the reason as its label.
    pub(super) fn count_retry(&self, model: &str, replica: &str, reason: &str) {
        self.series().retry(model, replica, reason);
    }

    /// A request for model `from` went on to its fallback model `to`.
    pub(crate) fn fallback(&self, from: &str, to: &str) {
        self.series().fallback(from, to);
    }

    /// A replica entered cooldown.
    pub(crate) fn cooldown(&self, model: &str, replica: &str) {
        self.series().cooldown(model, replica);
    }

    /// Everything in the text exposition format 0.0.4, with `replicas` as the live gauges.
    pub(crate) fn render(&self, replicas: &[ReplicaGauge]) -> String {
        // A copy, so the lock is held for a clone and not for the formatting.
        let series = self.series().clone();
        render(&series, self.in_flight.load(Ordering::Relaxed), replicas)
    }
}
