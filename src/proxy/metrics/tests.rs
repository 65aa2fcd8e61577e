//! The metrics: exact exposition text, a scripted sequence of requests, escaping, bucket bounds and concurrency, each read back through a checker of the text format.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{Metrics, ReplicaGauge, RequestSample};
use crate::proxy::router::health::State;
use crate::proxy::router::retry::RetryReason;
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
        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !key.is_empty(), "{line:?}");
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
    assert_eq!(get(&format!("podctl_replica_state{{model=\"coder\",replica=\"{a}\",state=\"up\"}}")), "1");
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
    metrics
        .request(&RequestSample { endpoint: "/embeddings", ..sample("embed", Some("10.0.0.9:8000"), 200) });
    let s = parse(&metrics.render(&[]));
    for outcome in ["call", "truncated", "recovered", "as_text"] {
        assert_eq!(s[&format!("podctl_parse_outcomes_total{{model=\"embed\",outcome=\"{outcome}\"}}")], "0");
    }
    assert_eq!(s["podctl_tool_calls_total{model=\"embed\"}"], "0");
    assert!(!s.keys().any(|k| k.starts_with("podctl_time_to_first_token_seconds")), "no ttft, no series");
}

#[test]
fn no_upstream_time_without_a_replica() {
    let metrics = Metrics::new();
    metrics.started();
    metrics.request(&RequestSample { status: 400, upstream: Duration::ZERO, ..sample("unknown", None, 400) });
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
    let bucket = |family: &str, le: &str| s[&format!("{family}_bucket{{model=\"m\",le=\"{le}\"}}")].as_str();
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
