//! Running the engine for a test and checking what any run must satisfy: a sink that keeps
//! both the merged events and the message they add up to, and the event-stream contract.

use std::sync::Arc;

use podctl::toolcall::{
    Engine, Event, FinishReason, Format, Message, MessageBuilder, OwnedEvent, Reasoning, Sink, Tools,
    UpstreamFinish,
};
use serde_json::Value;

/// Keeps the merged events and the message they add up to.
#[derive(Debug, Default)]
pub(crate) struct Tee {
    pub(crate) events: Vec<OwnedEvent>,
    pub(crate) builder: MessageBuilder,
}

impl Sink for Tee {
    fn event(&mut self, event: Event<'_>) {
        self.events.event(event);
        self.builder.event(event);
    }
}

/// What one run of the engine produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    /// Merged events with empty text pieces removed (an empty delta carries nothing).
    pub(crate) events: Vec<OwnedEvent>,
    pub(crate) message: Message,
    pub(crate) finish: FinishReason,
}

/// Feeds `chunks` in order to a fresh engine and finishes it.
pub(crate) fn run_chunks(
    format: Format,
    tools: &Arc<Tools>,
    reasoning: Reasoning,
    chunks: &[&str],
    upstream: UpstreamFinish,
) -> Run {
    let mut engine = Engine::new(format, Arc::clone(tools), reasoning);
    let mut tee = Tee::default();
    for chunk in chunks {
        engine.feed(chunk, &mut tee);
    }
    let finish = engine.finish(upstream, &mut tee);
    Run { events: normalize(tee.events), message: tee.builder.build(finish), finish }
}

/// Drops empty text/argument pieces and merges what then becomes adjacent.
pub(crate) fn normalize(events: Vec<OwnedEvent>) -> Vec<OwnedEvent> {
    let mut out: Vec<OwnedEvent> = Vec::with_capacity(events.len());
    for event in events {
        match event {
            OwnedEvent::Content(s) | OwnedEvent::Reasoning(s) | OwnedEvent::CallArgs { fragment: s, .. }
                if s.is_empty() => {}
            OwnedEvent::Content(s) => match out.last_mut() {
                Some(OwnedEvent::Content(prev)) => prev.push_str(&s),
                _ => out.push(OwnedEvent::Content(s)),
            },
            OwnedEvent::Reasoning(s) => match out.last_mut() {
                Some(OwnedEvent::Reasoning(prev)) => prev.push_str(&s),
                _ => out.push(OwnedEvent::Reasoning(s)),
            },
            OwnedEvent::CallArgs { index, fragment } => match out.last_mut() {
                Some(OwnedEvent::CallArgs { index: i, fragment: prev }) if *i == index => {
                    prev.push_str(&fragment);
                }
                _ => out.push(OwnedEvent::CallArgs { index, fragment }),
            },
            other => out.push(other),
        }
    }
    out
}

/// Checks the event-stream contract of one finished run; returns a description of the
/// first violation.
///
/// * calls are numbered 0, 1, 2… in order; each is `CallStart`, `CallArgs`*, then exactly
///   one `CallEnd` or `CallTruncated`, and nothing else happens while a call is open;
/// * every call's concatenated arguments parse as a JSON object;
/// * the finish reason is `tool_calls` iff a call ended complete and upstream said `stop`,
///   `length` iff upstream said `length` (spec section 6);
/// * the message's content/reasoning are the concatenated `Content`/`Reasoning` events,
///   and its tool calls are exactly the calls that got `CallEnd`;
/// * outside `none`, content and reasoning are already trimmed (spec rule 9).
pub(crate) fn check_run(format: Format, upstream: UpstreamFinish, run: &Run) -> Result<(), String> {
    let mut open: Option<(usize, String, String)> = None;
    let mut next = 0usize;
    let mut complete: Vec<(String, String)> = Vec::new();
    let mut content = String::new();
    let mut reasoning = String::new();
    for (at, event) in run.events.iter().enumerate() {
        match (event, &mut open) {
            (OwnedEvent::Content(s), None) => content.push_str(s),
            (OwnedEvent::Reasoning(s), None) => reasoning.push_str(s),
            (OwnedEvent::CallStart { index, name, .. }, None) => {
                if *index != next {
                    return Err(format!("event {at}: CallStart index {index}, expected {next}"));
                }
                next += 1;
                open = Some((*index, name.clone(), String::new()));
            }
            (OwnedEvent::CallArgs { index, fragment }, Some((i, _, args))) if index == i => {
                args.push_str(fragment);
            }
            (OwnedEvent::CallEnd { index } | OwnedEvent::CallTruncated { index }, Some((i, name, args)))
                if index == i =>
            {
                match serde_json::from_str::<Value>(args) {
                    Ok(Value::Object(_)) => {}
                    _ => {
                        return Err(format!(
                            "call {i} ({name}): arguments are not one JSON object: {args:?}"
                        ));
                    }
                }
                if matches!(event, OwnedEvent::CallEnd { .. }) {
                    complete.push((name.clone(), args.clone()));
                }
                open = None;
            }
            (event, open) => {
                return Err(format!(
                    "event {at}: {event:?} out of order (open call: {:?})",
                    open.as_ref().map(|o| o.0)
                ));
            }
        }
    }
    if let Some((i, name, _)) = open {
        return Err(format!("call {i} ({name}) never got CallEnd/CallTruncated"));
    }
    let expected_finish = FinishReason::decide(upstream, complete.len());
    if run.finish != expected_finish {
        return Err(format!(
            "finish {:?} but {} complete call(s) under {upstream:?}",
            run.finish,
            complete.len()
        ));
    }
    let non_empty = |s: String| if s.is_empty() { None } else { Some(s) };
    if run.message.content != non_empty(content.clone())
        || run.message.reasoning != non_empty(reasoning.clone())
    {
        return Err("message text differs from the concatenated events".to_owned());
    }
    let calls: Vec<(String, String)> =
        run.message.tool_calls.iter().map(|c| (c.name.clone(), c.arguments.clone())).collect();
    if calls != complete {
        return Err(format!("message tool_calls {calls:?} are not the CallEnd calls {complete:?}"));
    }
    if format != Format::None {
        if content.trim() != content {
            return Err(format!("content is not trimmed: {content:?}"));
        }
        if reasoning.trim() != reasoning {
            return Err(format!("reasoning is not trimmed: {reasoning:?}"));
        }
    }
    Ok(())
}

/// JSON equality for arguments: object key order is free; an expected integer needs an
/// integer, an expected float accepts any number of the same value (`30` == `30.0`).
pub(crate) fn json_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            if e.is_i64() || e.is_u64() {
                (a.is_i64() || a.is_u64()) && e == a
            } else {
                e.as_f64() == a.as_f64()
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len() && e.iter().all(|(k, v)| a.get(k).is_some_and(|w| json_matches(v, w)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(v, w)| json_matches(v, w))
        }
        _ => expected == actual,
    }
}
