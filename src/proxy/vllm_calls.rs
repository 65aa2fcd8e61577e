//! Calls vLLM's own tool parser decoded (profiles with `tool_format = "vllm"`), turned into
//! the engine's events so that the client's policy (`tool_choice`, `parallel_tool_calls`,
//! holding each call until it is complete) applies to them exactly as to the calls podctl
//! parses itself, in every client API.
//!
//! A streamed call is complete when the next call begins or the choice ends with `stop`;
//! its arguments must then be one JSON object, else it is dropped as if cut off. Ended by
//! `length`, the last call is cut off: vLLM's parsers cannot tell a finished last call from
//! a truncated one, so it is never executable (streamed or whole).

use crate::openai::upstream::{CallDelta, WholeCall};
use crate::toolcall::{Event, Sink, UpstreamFinish};

/// The calls of one choice.
#[derive(Debug, Default)]
pub(crate) struct VllmCalls {
    /// vLLM's index of the call being streamed, and its arguments so far.
    open: Option<(usize, String)>,
    /// Calls begun, as the engine's events count them.
    begun: usize,
}

impl VllmCalls {
    /// One chunk's call deltas.
    pub(crate) fn feed(&mut self, deltas: &[CallDelta<'_>], sink: &mut impl Sink) {
        for delta in deltas {
            let index = delta.index();
            if self.open.as_ref().is_none_or(|(i, _)| *i != index) {
                self.close(true, sink);
                let name = delta.function.name.as_str().unwrap_or("");
                sink.event(Event::CallStart { index: self.begun, name, id: delta.id.as_str() });
                self.open = Some((index, String::new()));
                self.begun += 1;
            }
            if let (Some(fragment), Some((_, args))) = (delta.function.arguments.as_str(), &mut self.open)
                && !fragment.is_empty()
            {
                args.push_str(fragment);
                sink.event(Event::CallArgs { index: self.begun - 1, fragment });
            }
        }
    }

    /// The choice ended.
    pub(crate) fn finish(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) {
        self.close(upstream == UpstreamFinish::Stop, sink);
    }

    /// A whole answer's calls (the last stays open until [`VllmCalls::finish`]).
    pub(crate) fn whole(&mut self, calls: &[WholeCall<'_>], sink: &mut impl Sink) {
        for call in calls {
            self.close(true, sink);
            let name = call.function.name.as_ref();
            sink.event(Event::CallStart { index: self.begun, name, id: call.id.as_deref() });
            let args = call.function.arguments.as_deref().unwrap_or("");
            if !args.is_empty() {
                sink.event(Event::CallArgs { index: self.begun, fragment: args });
            }
            self.open = Some((usize::MAX, args.to_owned()));
            self.begun += 1;
        }
    }

    /// Ends the open call: complete if `complete` and its arguments are one JSON object.
    fn close(&mut self, complete: bool, sink: &mut impl Sink) {
        let Some((_, args)) = self.open.take() else { return };
        let index = self.begun - 1;
        if args.trim().is_empty() && complete {
            // A call without arguments: `{}`, so every API's client reads an object.
            sink.event(Event::CallArgs { index, fragment: "{}" });
            sink.event(Event::CallEnd { index });
        } else if complete && is_object(&args) {
            sink.event(Event::CallEnd { index });
        } else {
            sink.event(Event::CallTruncated { index });
        }
    }
}

fn is_object(args: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(args).is_ok() && args.trim_start().starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolcall::OwnedEvent;

    fn deltas(json: &str) -> Vec<CallDelta<'_>> {
        serde_json::from_str(json).expect("deltas")
    }

    #[test]
    fn streamed_calls_end_when_the_next_begins_or_the_choice_stops() {
        let mut calls = VllmCalls::default();
        let mut events: Vec<OwnedEvent> = Vec::new();
        let first = r#"[{"index":0,"id":"chatcmpl-tool-1","type":"function","function":{"name":"read","arguments":""}}]"#;
        calls.feed(&deltas(first), &mut events);
        calls.feed(&deltas(r#"[{"index":0,"function":{"arguments":"{\"p\": "}}]"#), &mut events);
        calls.feed(&deltas(r#"[{"index":0,"function":{"arguments":"1}"}}]"#), &mut events);
        calls.feed(&deltas(r#"[{"index":1,"id":"x","function":{"name":"ls"}}]"#), &mut events);
        calls.finish(UpstreamFinish::Stop, &mut events);
        assert_eq!(
            events,
            [
                OwnedEvent::CallStart { index: 0, name: "read".into(), id: Some("chatcmpl-tool-1".into()) },
                OwnedEvent::CallArgs { index: 0, fragment: "{\"p\": 1}".into() },
                OwnedEvent::CallEnd { index: 0 },
                OwnedEvent::CallStart { index: 1, name: "ls".into(), id: Some("x".into()) },
                OwnedEvent::CallArgs { index: 1, fragment: "{}".into() },
                OwnedEvent::CallEnd { index: 1 },
            ]
        );
    }

    #[test]
    fn a_call_cut_off_or_not_an_object_is_never_complete() {
        let mut events: Vec<OwnedEvent> = Vec::new();
        let mut calls = VllmCalls::default();
        calls.feed(
            &deltas(r#"[{"index":0,"id":"a","function":{"name":"w","arguments":"{\"c\": \"he"}}]"#),
            &mut events,
        );
        calls.finish(UpstreamFinish::Length, &mut events);
        assert_eq!(events.last(), Some(&OwnedEvent::CallTruncated { index: 0 }));

        let whole: Vec<WholeCall<'_>> = serde_json::from_str(
            r#"[{"id":"a","function":{"name":"w","arguments":"{\"c\": 1}"}},{"id":"b","function":{"name":"w","arguments":"[1]"}}]"#,
        )
        .expect("calls");
        let mut events: Vec<OwnedEvent> = Vec::new();
        let mut calls = VllmCalls::default();
        calls.whole(&whole, &mut events);
        calls.finish(UpstreamFinish::Stop, &mut events);
        assert!(events.contains(&OwnedEvent::CallEnd { index: 0 }), "{events:?}");
        assert_eq!(events.last(), Some(&OwnedEvent::CallTruncated { index: 1 }), "an array is not arguments");
        let mut events: Vec<OwnedEvent> = Vec::new();
        let mut calls = VllmCalls::default();
        calls.whole(&whole[..1], &mut events);
        calls.finish(UpstreamFinish::Length, &mut events);
        assert_eq!(events.last(), Some(&OwnedEvent::CallTruncated { index: 0 }), "cut off by the limit");
    }
}
