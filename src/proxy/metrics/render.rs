//! The families in their order, from the counts and the live replica gauges.

use super::histogram::{ADDED_BUCKETS, LATENCY_BUCKETS};
use super::sample::ReplicaGauge;
use super::series::{OUTCOMES, Series};
use super::text::Text;
use crate::proxy::router::health::State;

/// Everything in the text exposition format 0.0.4: the counts of `series`, the
/// `in_flight` gauge and `replicas` as the live gauges.
pub(super) fn render(series: &Series, in_flight: i64, replicas: &[ReplicaGauge]) -> String {
    let mut out = Text(String::with_capacity(8192));

    out.family(
        "podctl_requests_total",
        "counter",
        "Requests answered, by endpoint, model, replica, status and streaming.",
    );
    for (endpoint, models) in &series.requests {
        for (model, replicas) in models {
            for (replica, counts) in replicas {
                for (&(status, stream), &count) in counts {
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
    for (model, stats) in &series.models {
        out.sample("podctl_tool_calls_total", &[("model", model)], stats.tool_calls);
    }

    out.family(
        "podctl_parse_outcomes_total",
        "counter",
        "Would-be tool calls in model output: complete (call), cut off (truncated), accepted despite imperfect markup (recovered, also counted as call), given up and returned as text (as_text).",
    );
    for (model, stats) in &series.models {
        for (outcome, &count) in OUTCOMES.iter().zip(&stats.outcomes) {
            out.sample("podctl_parse_outcomes_total", &[("model", model), ("outcome", outcome)], count);
        }
    }

    out.family("podctl_upstream_seconds", "histogram", "Time waiting on the upstream per request.");
    for (model, stats) in &series.models {
        if stats.upstream.count > 0 {
            out.histogram("podctl_upstream_seconds", model, &LATENCY_BUCKETS, &stats.upstream);
        }
    }
    out.family(
        "podctl_time_to_first_token_seconds",
        "histogram",
        "Streaming: time from the request to the first content or tool token sent to the client.",
    );
    for (model, stats) in &series.models {
        if stats.ttft.count > 0 {
            out.histogram("podctl_time_to_first_token_seconds", model, &LATENCY_BUCKETS, &stats.ttft);
        }
    }
    out.family(
        "podctl_added_seconds",
        "histogram",
        "The proxy's own time per request (total minus upstream).",
    );
    for (model, stats) in &series.models {
        out.histogram("podctl_added_seconds", model, &ADDED_BUCKETS, &stats.added);
    }

    out.family("podctl_in_flight_requests", "gauge", "Requests being answered.");
    out.sample("podctl_in_flight_requests", &[], in_flight);

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
    for (model, replicas) in &series.cooldowns {
        for (replica, &count) in replicas {
            out.sample("podctl_replica_cooldowns_total", &[("model", model), ("replica", replica)], count);
        }
    }
    out.family("podctl_retries_total", "counter", "Requests retried after a replica failed, by reason.");
    for (model, replicas) in &series.retries {
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
    for (from, tos) in &series.fallbacks {
        for (to, &count) in tos {
            out.sample("podctl_fallbacks_total", &[("from", from), ("to", to)], count);
        }
    }
    out.0
}

/// A replica's `model` and `replica` labels.
fn names(r: &ReplicaGauge) -> [(&'static str, &str); 2] {
    [("model", r.model.as_str()), ("replica", r.replica.as_str())]
}
