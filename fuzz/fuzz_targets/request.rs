//! Fuzzes the chat request path: arbitrary bytes through `ChatRequest::parse` and
//! `rewrite`, with and without Mistral's 9-character call ids.
//!
//! Checks: no panic; an error is a client error (400), never a 5xx; an accepted request
//! becomes one valid JSON object with each key once, `skip_special_tokens: false`, the
//! upstream model, no `parallel_tool_calls`, `tool_choice: "none"` exactly when tools are
//! sent, `stream_options` only on a stream; every repaired history call has a JSON-object
//! `arguments` string (and fitted ids); and the same request rewrites the same way twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podctl::proxy::fuzzing::rewrite_chat;
use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

const UPSTREAM: &str = "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8";

/// The top-level keys in order with their raw values; any depth (raw values are skipped
/// without recursion).
fn fields(body: &str) -> Vec<(String, &RawValue)> {
    struct Visit;
    impl<'de> Visitor<'de> for Visit {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(body);
    let out = de
        .deserialize_map(Visit)
        .unwrap_or_else(|e| panic!("upstream body is not a JSON object ({e}): {body}"));
    de.end().unwrap_or_else(|e| panic!("trailing bytes after the upstream body ({e}): {body}"));
    out
}

fn fits(id: &str, len: usize) -> bool {
    id.len() == len && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else { return };
    let id_len = (control & 1 == 1).then_some(9);
    let rewritten = match rewrite_chat(body, UPSTREAM, id_len) {
        Ok(r) => r,
        Err(e) => {
            assert_eq!(e.status, 400, "a bad request is the client's error: {e:?}");
            assert!(!e.message.is_empty());
            return;
        }
    };
    assert_eq!(rewritten.body, rewritten.again, "the same request rewrote differently");
    let text = std::str::from_utf8(&rewritten.body).expect("the upstream body is UTF-8");
    let fields = fields(text);
    for (i, (key, _)) in fields.iter().enumerate() {
        assert!(!fields[i + 1..].iter().any(|(k, _)| k == key), "key {key:?} twice: {text}");
    }
    let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.get());
    assert_eq!(get("skip_special_tokens"), Some("false"), "{text}");
    assert_eq!(get("model"), Some(format!("\"{UPSTREAM}\"").as_str()), "{text}");
    assert_eq!(get("parallel_tool_calls"), None, "{text}");
    match (get("tools"), get("tool_choice")) {
        (Some(_), Some(choice)) => assert_eq!(choice, "\"none\"", "{text}"),
        (None, None) => assert!(!rewritten.has_tools, "declared tools were not sent: {text}"),
        _ => panic!("tools and tool_choice: \"none\" go together: {text}"),
    }
    match get("stream_options") {
        Some(options) => {
            assert!(rewritten.stream, "stream_options without a stream: {text}");
            assert_eq!(options, r#"{"include_usage":true}"#);
        }
        None => assert!(!rewritten.stream, "a stream without stream_options: {text}"),
    }
    let messages = get("messages").expect("messages are sent");
    let messages: Vec<&RawValue> = serde_json::from_str(messages).expect("messages are an array");
    assert!(!messages.is_empty());
    for message in messages {
        let raw = message.get();
        assert!(raw.trim_start().starts_with('{'), "a message is an object: {raw}");
        // The messages the rewrite parsed (and so repaired): their calls are fit for vLLM.
        let repaired =
            raw.contains("\"tool_calls\"") || (id_len.is_some() && raw.contains("\"tool_call_id\""));
        if !repaired {
            continue;
        }
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(raw) else {
            panic!("a repaired message is not an object: {raw}");
        };
        if let (Some(len), Some(id)) = (id_len, message.get("tool_call_id").and_then(Value::as_str)) {
            assert!(fits(id, len), "tool_call_id not fitted: {raw}");
        }
        match message.get("tool_calls") {
            None | Some(Value::Null) => {}
            Some(Value::Array(calls)) => {
                for call in calls {
                    let args = call["function"]["arguments"].as_str().unwrap_or_else(|| panic!("{raw}"));
                    let value: Value = serde_json::from_str(args)
                        .unwrap_or_else(|e| panic!("history arguments not JSON ({e}): {raw}"));
                    assert!(value.is_object(), "history arguments not an object: {raw}");
                    if let (Some(len), Some(id)) = (id_len, call.get("id").and_then(Value::as_str)) {
                        assert!(fits(id, len), "call id not fitted: {raw}");
                    }
                }
            }
            Some(other) => panic!("tool_calls passed on as {other}: {raw}"),
        }
    }
});
