//! Latency histograms: the bucket bounds and per-bucket counts.

use std::time::Duration;

/// Buckets (seconds) for upstream time and time to first token.
pub(super) const LATENCY_BUCKETS: [f64; 15] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

/// Buckets (seconds) for the proxy's own time: tens of microseconds to a tenth of a second.
pub(super) const ADDED_BUCKETS: [f64; 11] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1];

/// Per-bucket (not cumulative) counts; values above the last bound only in `count`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Histogram<const N: usize> {
    pub(super) buckets: [u64; N],
    pub(super) count: u64,
    pub(super) sum: f64,
}

impl<const N: usize> Default for Histogram<N> {
    fn default() -> Self {
        Self { buckets: [0; N], count: 0, sum: 0.0 }
    }
}

impl<const N: usize> Histogram<N> {
    /// Records one value; `le` is inclusive, so a value equal to a bound falls in its bucket.
    pub(super) fn observe(&mut self, bounds: &[f64; N], value: Duration) {
        let secs = value.as_secs_f64();
        if let Some(i) = bounds.iter().position(|&bound| secs <= bound) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }
}
