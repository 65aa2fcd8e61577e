//! What `podctl serve` adds to the proxy's `/metrics`: swaps, starts by outcome, how long
//! starts took and how long requests waited for them (histograms), in the Prometheus text
//! format, per model.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Bucket bounds (seconds): a test double's start to a real model's download.
const BUCKETS: [f64; 12] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];

#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Per bucket, not cumulative; values above the last bound only in `count`.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Debug, Clone, Default)]
struct PerModel {
    swaps: u64,
    ready: u64,
    failed: u64,
    load: Histogram,
    wait: Histogram,
    wake: Histogram,
}

/// The serve's counters.
#[derive(Debug, Default)]
pub struct Metrics(Mutex<BTreeMap<String, PerModel>>);

impl Metrics {
    fn with(&self, model: &str, f: impl FnOnce(&mut PerModel)) {
        let mut all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(all.entry(model.to_owned()).or_default());
    }

    /// `model` was started after `stopped` others were swapped out for it.
    pub fn swapped(&self, model: &str, stopped: usize) {
        self.with(model, |m| m.swaps += stopped as u64);
    }

    /// A start of `model` became ready after `took`.
    pub fn loaded(&self, model: &str, took: Duration) {
        self.with(model, |m| {
            m.ready += 1;
            m.load.observe(took);
        });
    }

    /// `model` woke from sleep in `took`.
    pub fn woke(&self, model: &str, took: Duration) {
        self.with(model, |m| m.wake.observe(took));
    }

    pub fn load_failed(&self, model: &str) {
        self.with(model, |m| m.failed += 1);
    }

    /// A request waited `waited` for `model` to load.
    pub fn waited(&self, model: &str, waited: Duration) {
        self.with(model, |m| m.wait.observe(waited));
    }

    /// The families, in the text exposition format.
    pub fn render(&self) -> String {
        let all = self.0.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut out = String::new();
        let _ = writeln!(out, "# HELP podctl_serve_swaps_total Models stopped to make room for this one.");
        let _ = writeln!(out, "# TYPE podctl_serve_swaps_total counter");
        for (model, m) in &all {
            let _ = writeln!(out, "podctl_serve_swaps_total{{model=\"{}\"}} {}", escape(model), m.swaps);
        }
        let _ = writeln!(out, "# HELP podctl_serve_loads_total Starts of a model, by outcome.");
        let _ = writeln!(out, "# TYPE podctl_serve_loads_total counter");
        for (model, m) in &all {
            for (outcome, n) in [("ready", m.ready), ("failed", m.failed)] {
                let _ = writeln!(
                    out,
                    "podctl_serve_loads_total{{model=\"{}\",outcome=\"{outcome}\"}} {n}",
                    escape(model)
                );
            }
        }
        histogram(&mut out, "podctl_serve_load_seconds", "Time from start to ready.", &all, |m| &m.load);
        histogram(
            &mut out,
            "podctl_serve_wake_seconds",
            "Time from /wake_up to awake (its count: the wake-ups).",
            &all,
            |m| &m.wake,
        );
        histogram(
            &mut out,
            "podctl_serve_load_wait_seconds",
            "Time requests waited for their model to load.",
            &all,
            |m| &m.wait,
        );
        out
    }
}

fn histogram(
    out: &mut String,
    name: &str,
    help: &str,
    all: &BTreeMap<String, PerModel>,
    pick: impl Fn(&PerModel) -> &Histogram,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for (model, m) in all {
        let h = pick(m);
        let model = escape(model);
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(h.buckets) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{model=\"{model}\",le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{model=\"{model}\",le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "{name}_sum{{model=\"{model}\"}} {}", h.sum);
        let _ = writeln!(out, "{name}_count{{model=\"{model}\"}} {}", h.count);
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counters_per_model() {
        let m = Metrics::default();
        m.loaded("a", Duration::from_millis(300));
        m.loaded("a", Duration::from_secs(2));
        m.swapped("a", 1);
        m.waited("b", Duration::from_mins(15));
        let text = m.render();
        for line in [
            "podctl_serve_swaps_total{model=\"a\"} 1",
            "podctl_serve_loads_total{model=\"a\",outcome=\"ready\"} 2",
            "podctl_serve_load_seconds_bucket{model=\"a\",le=\"0.25\"} 0",
            "podctl_serve_load_seconds_bucket{model=\"a\",le=\"0.5\"} 1",
            "podctl_serve_load_seconds_bucket{model=\"a\",le=\"2.5\"} 2",
            "podctl_serve_load_seconds_count{model=\"a\"} 2",
            "podctl_serve_load_wait_seconds_bucket{model=\"b\",le=\"600\"} 0",
            "podctl_serve_load_wait_seconds_bucket{model=\"b\",le=\"+Inf\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "`{line}` in\n{text}");
        }
    }
}
