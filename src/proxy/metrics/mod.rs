//! Prometheus metrics: counters and histograms fed by the request log, gauges read from the
//! replicas at scrape time, rendered in the text exposition format 0.0.4 (hand-rolled: a
//! few families do not need a crate).
//!
//! Lock-light: the in-flight gauge is an atomic; everything else sits behind one mutex that
//! a finished request takes once. Series are nested maps keyed by owned label values and
//! looked up by borrowed ones, so a request whose label set exists already allocates
//! nothing. Label values are bounded by the callers (configured model names, replica
//! addresses, fixed endpoint and reason names). Output is sorted by label values, so it is
//! deterministic.
//!
//! Files by job: `sample` (what callers report), `series` (the counts, keyed by label
//! values), `histogram`, `registry` (the live [`Metrics`]), `render` (the families in
//! order) and `text` (the exposition format).

mod histogram;
mod registry;
mod render;
mod sample;
mod series;
#[cfg(test)]
mod tests;
mod text;

pub(crate) use registry::Metrics;
pub(crate) use sample::{ReplicaGauge, RequestSample};
pub(crate) use text::CONTENT_TYPE;
