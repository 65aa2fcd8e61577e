//! The Prometheus text exposition format 0.0.4, written by hand (a few families do not need
//! a crate): `# HELP`/`# TYPE` per family, samples with escaped label values, cumulative
//! histogram buckets.

use std::fmt::Write as _;

use super::histogram::Histogram;

/// The `Content-Type` of the exposition text.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The exposition text being written.
pub(super) struct Text(pub(super) String);

impl Text {
    pub(super) fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn labels(&mut self, labels: &[(&str, &str)]) {
        if labels.is_empty() {
            return;
        }
        self.0.push('{');
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            self.0.push_str(key);
            self.0.push_str("=\"");
            for c in value.chars() {
                match c {
                    '\\' => self.0.push_str("\\\\"),
                    '"' => self.0.push_str("\\\""),
                    '\n' => self.0.push_str("\\n"),
                    c => self.0.push(c),
                }
            }
            self.0.push('"');
        }
        self.0.push('}');
    }

    pub(super) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        self.labels(labels);
        let _ = writeln!(self.0, " {value}");
    }

    pub(super) fn histogram<const N: usize>(
        &mut self,
        name: &str,
        model: &str,
        bounds: &[f64; N],
        h: &Histogram<N>,
    ) {
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0;
        for (bound, count) in bounds.iter().zip(h.buckets) {
            cumulative += count;
            self.sample(&bucket, &[("model", model), ("le", &bound.to_string())], cumulative);
        }
        self.sample(&bucket, &[("model", model), ("le", "+Inf")], h.count);
        self.sample(&format!("{name}_sum"), &[("model", model)], h.sum);
        self.sample(&format!("{name}_count"), &[("model", model)], h.count);
    }
}
