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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::router::health::State;
use super::router::retry::RetryReason;
use crate::toolcall::Outcomes;

/// The `Content-Type` of [`Metrics::render`]'s text.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Buckets (seconds) for upstream time and time to first token.
const LATENCY_BUCKETS: [f64; 15] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

/// Buckets (seconds) for the proxy's own time: tens of microseconds to a tenth of a second.
const ADDED_BUCKETS: [f64; 11] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1];

/// The `replica` label of a request no replica answered.
const NO_REPLICA: &str = "none";

/// The `outcome` label values of `podctl_parse_outcomes_total`, in [`ModelStats::outcomes`] order.
const OUTCOMES: [&str; 4] = ["call", "truncated", "recovered", "as_text"];

/// One finished request, as the request log sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSample<'a> {
    /// `"chat"`, `"/completions"`, `"/embeddings"`, …
    pub(crate) endpoint: &'a str,
    /// A configured model name or `"unknown"` (bounded cardinality: the caller guarantees it).
    pub(crate) model: &'a str,
    /// `host:port` of the replica that answered, if one did (labelled [`NO_REPLICA`] if not).
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

/// The proxy's metrics: one per process, shared by every request.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Requests started minus requests ended.
    in_flight: AtomicI64,
    inner: Mutex<Inner>,
}

/// Label values → value, nested in label order (`BTreeMap<String, _>` is looked up by `&str`).
type Map<V> = BTreeMap<String, V>;

/// replica → (status, stream) → count.
type ByReplica = Map<BTreeMap<(u16, bool), u64>>;

#[derive(Debug, Default, Clone)]
struct Inner {
    /// endpoint → model → replica → (status, stream) → count.
    requests: Map<Map<ByReplica>>,
    models: Map<ModelStats>,
    /// model → replica → reason → count.
    retries: Map<Map<Map<u64>>>,
    /// from → to → count.
    fallbacks: Map<Map<u64>>,
    /// model → replica → count.
    cooldowns: Map<Map<u64>>,
}

#[derive(Debug, Default, Clone)]
struct ModelStats {
    tool_calls: u64,
    /// Counts in [`OUTCOMES`] order.
    outcomes: [u64; 4],
    upstream: Histogram<15>,
    ttft: Histogram<15>,
    added: Histogram<11>,
}

/// Per-bucket (not cumulative) counts; values above the last bound only in `count`.
#[derive(Debug, Clone, Copy)]
struct Histogram<const N: usize> {
    buckets: [u64; N],
    count: u64,
    sum: f64,
}

impl<const N: usize> Default for Histogram<N> {
    fn default() -> Self {
        Self { buckets: [0; N], count: 0, sum: 0.0 }
    }
}

impl<const N: usize> Histogram<N> {
    /// Records one value; `le` is inclusive, so a value equal to a bound falls in its bucket.
    fn observe(&mut self, bounds: &[f64; N], value: Duration) {
        let secs = value.as_secs_f64();
        if let Some(i) = bounds.iter().position(|&bound| secs <= bound) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }
}

/// The series for `key` in `map`, created empty on first use. The key is copied only then.
fn slot<'m, V: Default>(map: &'m mut Map<V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

impl Metrics {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A request began.
    pub(crate) fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request ended: it leaves the in-flight gauge and joins the counters and histograms.
    /// Upstream time is observed only when a replica answered.
    pub(crate) fn request(&self, sample: &RequestSample<'_>) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let o = sample.outcomes;
        let mut inner = self.inner();
        let replica = sample.replica.unwrap_or(NO_REPLICA);
        let by_replica = slot(slot(slot(&mut inner.requests, sample.endpoint), sample.model), replica);
        *by_replica.entry((sample.status, sample.stream)).or_default() += 1;
        let model = slot(&mut inner.models, sample.model);
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

    /// A request was retried after `replica` of `model` failed.
    pub(crate) fn retry(&self, model: &str, replica: &str, reason: RetryReason) {
        self.count_retry(model, replica, reason.label());
    }

    /// [`Metrics::retry`], with the reason as its label.
    fn count_retry(&self, model: &str, replica: &str, reason: &str) {
        let mut inner = self.inner();
        *slot(slot(slot(&mut inner.retries, model), replica), reason) += 1;
    }

    /// A request for model `from` went on to its fallback model `to`.
    pub(crate) fn fallback(&self, from: &str, to: &str) {
        let mut inner = self.inner();
        *slot(slot(&mut inner.fallbacks, from), to) += 1;
    }

    /// A replica entered cooldown.
    pub(crate) fn cooldown(&self, model: &str, replica: &str) {
        let mut inner = self.inner();
        *slot(slot(&mut inner.cooldowns, model), replica) += 1;
    }

    /// Everything in the text exposition format 0.0.4, with `replicas` as the live gauges.
    pub(crate) fn render(&self, replicas: &[ReplicaGauge]) -> String {
        // A copy, so the lock is held for a clone and not for the formatting.
        let inner = self.inner().clone();
        let mut out = Text(String::with_capacity(8192));

        out.family(
            "podctl_requests_total",
            "counter",
            "Requests answered, by endpoint, model, replica, status and streaming.",
        );
        for (endpoint, models) in &inner.requests {
            for (model, replicas) in models {
                for (replica, series) in replicas {
                    for (&(status, stream), &count) in series {
                        let status = status.to_string();
                        let labels = [
                            ("endpoint", endpoint.as_str()),
                            ("model", model),
                            ("replica", replica),
                            ("status", &status),
                            ("stream", if stream { "true" } else { "false" }),
                        ];
                        out.sample("podctl_requests_total", &labels, count);
                    }
                }
            }
        }

        out.family("podctl_tool_calls_total", "counter", "Tool calls returned to clients.");
        for (model, stats) in &inner.models {
            out.sample("podctl_tool_calls_total", &[("model", model)], stats.tool_calls);
        }

        out.family(
            "podctl_parse_outcomes_total",
            "counter",
            "Would-be tool calls in model output: complete (call), cut off (truncated), accepted despite imperfect markup (recovered, also counted as call), given up and returned as text (as_text).",
        );
        for (model, stats) in &inner.models {
            for (outcome, &count) in OUTCOMES.iter().zip(&stats.outcomes) {
                out.sample("podctl_parse_outcomes_total", &[("model", model), ("outcome", outcome)], count);
            }
        }

        out.family("podctl_upstream_seconds", "histogram", "Time waiting on the upstream per request.");
        for (model, stats) in &inner.models {
            if stats.upstream.count > 0 {
                out.histogram("podctl_upstream_seconds", model, &LATENCY_BUCKETS, &stats.upstream);
            }
        }
        out.family(
            "podctl_time_to_first_token_seconds",
            "histogram",
            "Streaming: time from the request to the first content or tool token sent to the client.",
        );
        for (model, stats) in &inner.models {
            if stats.ttft.count > 0 {
                out.histogram("podctl_time_to_first_token_seconds", model, &LATENCY_BUCKETS, &stats.ttft);
            }
        }
        out.family(
            "podctl_added_seconds",
            "histogram",
            "The proxy's own time per request (total minus upstream).",
        );
        for (model, stats) in &inner.models {
            out.histogram("podctl_added_seconds", model, &ADDED_BUCKETS, &stats.added);
        }

        out.family("podctl_in_flight_requests", "gauge", "Requests being answered.");
        out.sample("podctl_in_flight_requests", &[], self.in_flight.load(Ordering::Relaxed));

        let mut replicas: Vec<&ReplicaGauge> = replicas.iter().collect();
        replicas.sort_by(|a, b| (&a.model, &a.replica).cmp(&(&b.model, &b.replica)));
        out.family("podctl_replica_in_flight", "gauge", "Requests in flight on a replica.");
        for r in &replicas {
            out.sample("podctl_replica_in_flight", &names(r), r.in_flight);
        }
        out.family(
            "podctl_replica_up",
            "gauge",
            "1 when the replica takes requests (state up or unknown), else 0.",
        );
        for r in &replicas {
            let up = matches!(r.state, State::Up | State::Unknown);
            out.sample("podctl_replica_up", &names(r), u8::from(up));
        }
        out.family(
            "podctl_replica_state",
            "gauge",
            "The replica's current state (up, unknown, starting, cooldown, down): 1 on the current one.",
        );
        for r in &replicas {
            let [model, replica] = names(r);
            out.sample("podctl_replica_state", &[model, replica, ("state", r.state.name())], 1);
        }
        out.family("podctl_replica_cooldown_seconds", "gauge", "Seconds left of the replica's cooldown.");
        for r in &replicas {
            out.sample("podctl_replica_cooldown_seconds", &names(r), r.cooldown_remaining.as_secs_f64());
        }

        out.family("podctl_replica_cooldowns_total", "counter", "Times a replica entered cooldown.");
        for (model, replicas) in &inner.cooldowns {
            for (replica, &count) in replicas {
                out.sample(
                    "podctl_replica_cooldowns_total",
                    &[("model", model), ("replica", replica)],
                    count,
                );
            }
        }
        out.family("podctl_retries_total", "counter", "Requests retried after a replica failed, by reason.");
        for (model, replicas) in &inner.retries {
            for (replica, reasons) in replicas {
                for (reason, &count) in reasons {
                    let labels = [("model", model.as_str()), ("replica", replica), ("reason", reason)];
                    out.sample("podctl_retries_total", &labels, count);
                }
            }
        }
        out.family(
            "podctl_fallbacks_total",
            "counter",
            "Requests for a model that went on to its fallback model.",
        );
        for (from, tos) in &inner.fallbacks {
            for (to, &count) in tos {
                out.sample("podctl_fallbacks_total", &[("from", from), ("to", to)], count);
            }
        }
        out.0
    }
}

/// A replica's `model` and `replica` labels.
fn names(r: &ReplicaGauge) -> [(&'static str, &str); 2] {
    [("model", r.model.as_str()), ("replica", r.replica.as_str())]
}

/// The exposition text being written.
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
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

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        self.labels(labels);
        let _ = writeln!(self.0, " {value}");
    }

    fn histogram<const N: usize>(&mut self, name: &str, model: &str, bounds: &[f64; N], h: &Histogram<N>) {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use std::time::Instant;

    use super::{Metrics, ReplicaGauge, RequestSample, RetryReason, State};
    use crate::toolcall::Outcomes;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn sample<'a>(model: &'a str, replica: Option<&'a str>, status: u16) -> RequestSample<'a> {
        RequestSample {
            endpoint: "chat",
            model,
            replica,
            status,
            stream: false,
            upstream: ms(200),
            added: Duration::from_micros(300),
            ttft: None,
            tool_calls: 0,
            outcomes: Outcomes::default(),
        }
    }

    fn gauge(model: &str, replica: &str, in_flight: u64, state: State, cooldown: Duration) -> ReplicaGauge {
        ReplicaGauge {
            model: model.to_owned(),
            replica: replica.to_owned(),
            in_flight,
            state,
            cooldown_remaining: cooldown,
        }
    }

    /// Checks the text format: `# HELP` then `# TYPE` open each family once, before any of
    /// its samples; every other line is `name{labels} value` (or `name value`) with a sample
    /// name of the current family; the text ends with a newline. Returns series → value
    /// (as written).
    fn parse(text: &str) -> BTreeMap<String, String> {
        assert!(text.ends_with('\n'), "the text ends with a newline");
        let mut series = BTreeMap::new();
        let mut family: Option<(String, String)> = None;
        let mut help: Option<String> = None;
        let mut seen = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().expect("a name").to_owned();
                assert!(!seen.contains(&name), "family {name} opened twice");
                seen.push(name.clone());
                help = Some(name);
                family = None;
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                assert_eq!(help.as_deref(), Some(name), "# TYPE {name} right after its # HELP");
                assert!(["counter", "gauge", "histogram"].contains(&kind), "type {kind}");
                family = Some((name.to_owned(), kind.to_owned()));
                continue;
            }
            assert!(!line.starts_with('#'), "unexpected comment {line:?}");
            let (name, kind) = family.as_ref().unwrap_or_else(|| panic!("sample before HELP/TYPE: {line:?}"));
            let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line:?}"));
            assert!(value.parse::<f64>().is_ok(), "bad value in {line:?}");
            let metric = key.split('{').next().expect("a name");
            let allowed = if kind == "histogram" {
                [format!("{name}_bucket"), format!("{name}_sum"), format!("{name}_count")]
                    .contains(&metric.to_owned())
            } else {
                metric == name
            };
            assert!(allowed, "sample {metric} under family {name}");
            assert!(metric.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "metric name {metric:?}");
            if let Some(labels) = key.strip_prefix(metric)
                && !labels.is_empty()
            {
                check_labels(labels, line);
            }
            assert!(series.insert(key.to_owned(), value.to_owned()).is_none(), "series twice: {key}");
        }
        series
    }

    /// `{k="v",…}` with values escaped (`\\`, `\"`, `\n` only).
    fn check_labels(labels: &str, line: &str) {
        let inner =
            labels.strip_prefix('{').and_then(|l| l.strip_suffix('}')).unwrap_or_else(|| panic!("{line:?}"));
        let mut rest = inner;
        while !rest.is_empty() {
            let (key, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("label in {line:?}"));
            assert!(
                key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !key.is_empty(),
                "{line:?}"
            );
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => {
                        let (_, c) = chars.next().unwrap_or_else(|| panic!("{line:?}"));
                        assert!(matches!(c, '\\' | '"' | 'n'), "bad escape in {line:?}");
                    }
                    Some((i, '"')) => break i,
                    Some((_, '\n')) => panic!("raw newline in {line:?}"),
                    Some(_) => {}
                    None => panic!("unterminated label value in {line:?}"),
                }
            };
            rest = &after[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }

    #[test]
    fn tiny_case_renders_exactly() {
        let metrics = Metrics::new();
        metrics.retry("coder", "10.0.0.1:8000", RetryReason::Connect);
        metrics.fallback("coder", "small");
        let text = metrics.render(&[gauge(
            "coder",
            "10.0.0.1:8000",
            2,
            State::Cooldown { until: Instant::now() },
            ms(1500),
        )]);
        let want = "\
# HELP podctl_requests_total Requests answered, by endpoint, model, replica, status and streaming.
# TYPE podctl_requests_total counter
# HELP podctl_tool_calls_total Tool calls returned to clients.
# TYPE podctl_tool_calls_total counter
# HELP podctl_parse_outcomes_total Would-be tool calls in model output: complete (call), cut off (truncated), accepted despite imperfect markup (recovered, also counted as call), given up and returned as text (as_text).
# TYPE podctl_parse_outcomes_total counter
# HELP podctl_upstream_seconds Time waiting on the upstream per request.
# TYPE podctl_upstream_seconds histogram
# HELP podctl_time_to_first_token_seconds Streaming: time from the request to the first content or tool token sent to the client.
# TYPE podctl_time_to_first_token_seconds histogram
# HELP podctl_added_seconds The proxy's own time per request (total minus upstream).
# TYPE podctl_added_seconds histogram
# HELP podctl_in_flight_requests Requests being answered.
# TYPE podctl_in_flight_requests gauge
podctl_in_flight_requests 0
# HELP podctl_replica_in_flight Requests in flight on a replica.
# TYPE podctl_replica_in_flight gauge
podctl_replica_in_flight{model=\"coder\",replica=\"10.0.0.1:8000\"} 2
# HELP podctl_replica_up 1 when the replica takes requests (state up or unknown), else 0.
# TYPE podctl_replica_up gauge
podctl_replica_up{model=\"coder\",replica=\"10.0.0.1:8000\"} 0
# HELP podctl_replica_state The replica's current state (up, unknown, starting, cooldown, down): 1 on the current one.
# TYPE podctl_replica_state gauge
podctl_replica_state{model=\"coder\",replica=\"10.0.0.1:8000\",state=\"cooldown\"} 1
# HELP podctl_replica_cooldown_seconds Seconds left of the replica's cooldown.
# TYPE podctl_replica_cooldown_seconds gauge
podctl_replica_cooldown_seconds{model=\"coder\",replica=\"10.0.0.1:8000\"} 1.5
# HELP podctl_replica_cooldowns_total Times a replica entered cooldown.
# TYPE podctl_replica_cooldowns_total counter
# HELP podctl_retries_total Requests retried after a replica failed, by reason.
# TYPE podctl_retries_total counter
podctl_retries_total{model=\"coder\",replica=\"10.0.0.1:8000\",reason=\"connect\"} 1
# HELP podctl_fallbacks_total Requests for a model that went on to its fallback model.
# TYPE podctl_fallbacks_total counter
podctl_fallbacks_total{from=\"coder\",to=\"small\"} 1
";
        assert_eq!(text, want);
        parse(&text);
    }

    #[test]
    fn scripted_sequence() {
        let metrics = Metrics::new();
        let (a, b) = ("10.0.0.1:8000", "10.0.0.2:8000");
        for _ in 0..4 {
            metrics.started();
        }
        // A chat request with a complete call.
        metrics.request(&RequestSample {
            tool_calls: 1,
            outcomes: Outcomes { calls: 1, ..Outcomes::default() },
            ..sample("coder", Some(a), 200)
        });
        // The upstream failed.
        metrics.request(&RequestSample { upstream: ms(30), ..sample("coder", Some(b), 502) });
        // Streaming, cut off inside a call, recovered one, gave one up.
        metrics.request(&RequestSample {
            stream: true,
            upstream: Duration::from_secs(3),
            ttft: Some(ms(400)),
            tool_calls: 1,
            outcomes: Outcomes { calls: 1, truncated: 1, recovered: 1, as_text: 1 },
            ..sample("coder", Some(a), 200)
        });
        metrics.retry("coder", b, RetryReason::Connect);
        metrics.retry("coder", b, RetryReason::Unavailable);
        metrics.retry("coder", b, RetryReason::Connect);
        metrics.fallback("coder", "small");
        metrics.cooldown("coder", b);
        let replicas = [
            gauge("coder", b, 0, State::Cooldown { until: Instant::now() }, ms(12_250)),
            gauge("coder", a, 1, State::Up, Duration::ZERO),
            gauge("small", "10.0.0.3:8000", 0, State::Unknown, Duration::ZERO),
        ];
        let text = metrics.render(&replicas);
        let s = parse(&text);
        let get = |key: &str| s.get(key).unwrap_or_else(|| panic!("no series {key}\n{text}")).as_str();

        let req = |replica: &str, status: u16, stream: bool| {
            format!(
                "podctl_requests_total{{endpoint=\"chat\",model=\"coder\",replica=\"{replica}\",status=\"{status}\",stream=\"{stream}\"}}"
            )
        };
        assert_eq!(get(&req(a, 200, false)), "1");
        assert_eq!(get(&req(a, 200, true)), "1");
        assert_eq!(get(&req(b, 502, false)), "1");
        assert_eq!(s.keys().filter(|k| k.starts_with("podctl_requests_total")).count(), 3);

        assert_eq!(get("podctl_tool_calls_total{model=\"coder\"}"), "2");
        for (outcome, want) in [("call", "2"), ("truncated", "1"), ("recovered", "1"), ("as_text", "1")] {
            assert_eq!(
                get(&format!("podctl_parse_outcomes_total{{model=\"coder\",outcome=\"{outcome}\"}}")),
                want
            );
        }

        let bucket = |family: &str, le: &str| get(&format!("{family}_bucket{{model=\"coder\",le=\"{le}\"}}"));
        // Upstream: 0.03, 0.2, 0.2 (the two requests at 200 ms), 3 s.
        assert_eq!(bucket("podctl_upstream_seconds", "0.025"), "0");
        assert_eq!(bucket("podctl_upstream_seconds", "0.05"), "1");
        assert_eq!(bucket("podctl_upstream_seconds", "0.25"), "2");
        assert_eq!(bucket("podctl_upstream_seconds", "2.5"), "2");
        assert_eq!(bucket("podctl_upstream_seconds", "5"), "3");
        assert_eq!(bucket("podctl_upstream_seconds", "300"), "3");
        assert_eq!(bucket("podctl_upstream_seconds", "+Inf"), "3");
        assert_eq!(get("podctl_upstream_seconds_count{model=\"coder\"}"), "3");
        let sum: f64 = get("podctl_upstream_seconds_sum{model=\"coder\"}").parse().expect("a number");
        assert!((sum - 3.23).abs() < 1e-9, "{sum}");
        // Only the streaming request has a time to first token.
        assert_eq!(bucket("podctl_time_to_first_token_seconds", "0.25"), "0");
        assert_eq!(bucket("podctl_time_to_first_token_seconds", "0.5"), "1");
        assert_eq!(get("podctl_time_to_first_token_seconds_count{model=\"coder\"}"), "1");
        assert_eq!(bucket("podctl_added_seconds", "0.00025"), "0");
        assert_eq!(bucket("podctl_added_seconds", "0.0005"), "3");
        assert_eq!(bucket("podctl_added_seconds", "+Inf"), "3");
        assert_eq!(s.keys().filter(|k| k.starts_with("podctl_upstream_seconds_bucket")).count(), 16);
        assert_eq!(s.keys().filter(|k| k.starts_with("podctl_added_seconds_bucket")).count(), 12);

        assert_eq!(get("podctl_in_flight_requests"), "1");
        let rep = |family: &str, model: &str, replica: &str| {
            get(&format!("{family}{{model=\"{model}\",replica=\"{replica}\"}}"))
        };
        assert_eq!(rep("podctl_replica_in_flight", "coder", a), "1");
        assert_eq!(rep("podctl_replica_up", "coder", a), "1");
        assert_eq!(rep("podctl_replica_up", "coder", b), "0");
        assert_eq!(rep("podctl_replica_up", "small", "10.0.0.3:8000"), "1");
        assert_eq!(rep("podctl_replica_cooldown_seconds", "coder", b), "12.25");
        assert_eq!(
            get(&format!("podctl_replica_state{{model=\"coder\",replica=\"{b}\",state=\"cooldown\"}}")),
            "1"
        );
        assert_eq!(
            get(&format!("podctl_replica_state{{model=\"coder\",replica=\"{a}\",state=\"up\"}}")),
            "1"
        );
        assert_eq!(
            s.keys().filter(|k| k.starts_with("podctl_replica_state")).count(),
            3,
            "one state series per replica"
        );
        assert_eq!(rep("podctl_replica_cooldowns_total", "coder", b), "1");
        let retry = |reason: &str| {
            get(&format!("podctl_retries_total{{model=\"coder\",replica=\"{b}\",reason=\"{reason}\"}}"))
        };
        assert_eq!(retry("connect"), "2");
        assert_eq!(retry("status_503"), "1");
        assert_eq!(get("podctl_fallbacks_total{from=\"coder\",to=\"small\"}"), "1");

        // Replica gauges come out sorted, whatever order they were given in.
        let a_at = text.find(&format!("podctl_replica_in_flight{{model=\"coder\",replica=\"{a}\"}}"));
        let b_at = text.find(&format!("podctl_replica_in_flight{{model=\"coder\",replica=\"{b}\"}}"));
        assert!(a_at < b_at);
        // Same state, same text.
        assert_eq!(metrics.render(&replicas), text);
    }

    #[test]
    fn outcomes_emitted_with_zeros_once_a_model_is_seen() {
        let metrics = Metrics::new();
        metrics.started();
        metrics.request(&RequestSample {
            endpoint: "/embeddings",
            ..sample("embed", Some("10.0.0.9:8000"), 200)
        });
        let s = parse(&metrics.render(&[]));
        for outcome in ["call", "truncated", "recovered", "as_text"] {
            assert_eq!(
                s[&format!("podctl_parse_outcomes_total{{model=\"embed\",outcome=\"{outcome}\"}}")],
                "0"
            );
        }
        assert_eq!(s["podctl_tool_calls_total{model=\"embed\"}"], "0");
        assert!(!s.keys().any(|k| k.starts_with("podctl_time_to_first_token_seconds")), "no ttft, no series");
    }

    #[test]
    fn no_upstream_time_without_a_replica() {
        let metrics = Metrics::new();
        metrics.started();
        metrics.request(&RequestSample {
            status: 400,
            upstream: Duration::ZERO,
            ..sample("unknown", None, 400)
        });
        let s = parse(&metrics.render(&[]));
        assert!(!s.keys().any(|k| k.starts_with("podctl_upstream_seconds")));
        assert_eq!(s["podctl_added_seconds_count{model=\"unknown\"}"], "1");
        assert_eq!(
            s["podctl_requests_total{endpoint=\"chat\",model=\"unknown\",replica=\"none\",status=\"400\",stream=\"false\"}"],
            "1"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::new();
        metrics.count_retry("a\\b", "q\"uote", "new\nline");
        let text = metrics.render(&[]);
        assert!(
            text.contains(
                "podctl_retries_total{model=\"a\\\\b\",replica=\"q\\\"uote\",reason=\"new\\nline\"} 1\n"
            ),
            "{text}"
        );
        parse(&text);
    }

    #[test]
    fn bucket_bounds_are_inclusive() {
        let metrics = Metrics::new();
        // Exactly on bounds: 5 ms and 1 s (upstream), 50 µs and 0.1 s (added); just above 5 ms.
        for (upstream, added) in [
            (ms(5), Duration::from_micros(50)),
            (Duration::from_secs(1), ms(100)),
            (Duration::from_micros(5001), Duration::from_micros(51)),
            (Duration::from_secs(301), ms(101)),
        ] {
            metrics.started();
            metrics.request(&RequestSample { upstream, added, ..sample("m", Some("r:1"), 200) });
        }
        let s = parse(&metrics.render(&[]));
        let bucket =
            |family: &str, le: &str| s[&format!("{family}_bucket{{model=\"m\",le=\"{le}\"}}")].as_str();
        assert_eq!(bucket("podctl_upstream_seconds", "0.005"), "1");
        assert_eq!(bucket("podctl_upstream_seconds", "0.01"), "2");
        assert_eq!(bucket("podctl_upstream_seconds", "0.5"), "2");
        assert_eq!(bucket("podctl_upstream_seconds", "1"), "3");
        assert_eq!(bucket("podctl_upstream_seconds", "300"), "3");
        assert_eq!(bucket("podctl_upstream_seconds", "+Inf"), "4");
        assert_eq!(bucket("podctl_added_seconds", "0.00005"), "1");
        assert_eq!(bucket("podctl_added_seconds", "0.0001"), "2");
        assert_eq!(bucket("podctl_added_seconds", "0.05"), "2");
        assert_eq!(bucket("podctl_added_seconds", "0.1"), "3");
        assert_eq!(bucket("podctl_added_seconds", "+Inf"), "4");
    }

    #[test]
    fn in_flight_follows_started_and_ended() {
        let metrics = Metrics::new();
        let in_flight = |m: &Metrics| parse(&m.render(&[]))["podctl_in_flight_requests"].clone();
        assert_eq!(in_flight(&metrics), "0");
        metrics.started();
        metrics.started();
        metrics.started();
        assert_eq!(in_flight(&metrics), "3");
        metrics.request(&sample("m", Some("r:1"), 200));
        assert_eq!(in_flight(&metrics), "2");
        metrics.request(&sample("m", Some("r:1"), 499));
        metrics.request(&sample("m", Some("r:1"), 200));
        assert_eq!(in_flight(&metrics), "0");
    }

    #[test]
    fn concurrent_requests_all_count() {
        let metrics = Metrics::new();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let metrics = &metrics;
                scope.spawn(move || {
                    let replica = format!("r:{t}");
                    for _ in 0..250 {
                        metrics.started();
                        metrics.request(&sample("m", Some(&replica), 200));
                    }
                });
            }
        });
        let s = parse(&metrics.render(&[]));
        assert_eq!(s["podctl_upstream_seconds_count{model=\"m\"}"], "1000");
        assert_eq!(s["podctl_in_flight_requests"], "0");
    }
}
