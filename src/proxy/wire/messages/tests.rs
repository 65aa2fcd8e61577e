//! The streamed Messages answer accumulates (as Anthropic's SDKs accumulate it) to exactly
//! the whole answer, whatever the upstream chunking, in both tool-call modes; and every
//! stream keeps the event contract Claude Code relies on.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::MessagesApi;
use crate::proxy::complete::{Translation, translate_completion};
use crate::proxy::plan::{Plan, ToolChoice};
use crate::proxy::stream::{Progress, StreamTranslator};
use crate::proxy::wire::api::{Api as _, Extra};
use crate::toolcall::{Format, Reasoning, Tools};

const CALL: &str = "<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/main.rs\n</parameter>\n</function>\n</tool_call>";
const CALL2: &str =
    "<tool_call>\n<function=list_dir>\n<parameter=path>\nsrc\n</parameter>\n</function>\n</tool_call>";

/// (model text, vLLM's finish).
fn answers() -> Vec<(String, &'static str)> {
    vec![
        (format!("I'll read it.\n{CALL}"), "stop"),
        (format!("Two at once.\n{CALL}\n{CALL2}"), "stop"),
        (format!("{CALL}\nand some words after"), "stop"),
        // The limit cuts the call off mid-value: never a tool_use.
        ("Writing it.\n<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/ma".to_owned(), "length"),
        (format!("{CALL}\n<tool_call>\n<function=list_dir>\n<parameter=pa"), "length"),
        ("<think>let me plan</think>The answer is 4.".to_owned(), "stop"),
        ("plain prose, \"quoted\" and 🎉 naïve".to_owned(), "length"),
    ]
}

fn plan(hold_calls: bool) -> Plan {
    let tools = Tools::from_openai(&json!([
        {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object",
            "properties": {"path": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "list_dir", "parameters": {"type": "object",
            "properties": {"path": {"type": "string"}}}}}]))
    .expect("tools");
    Plan {
        model: "claude-sonnet-4-5".into(),
        stream: true,
        include_usage: true,
        tools: Arc::new(tools),
        choice: ToolChoice::Auto,
        parallel: true,
        hold_calls,
        thinking: None,
    }
}

const USAGE: &str = r#"{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}"#;

fn whole(text: &str, finish: &str, hold_calls: bool) -> Value {
    whole_stopped(text, finish, hold_calls, None)
}

/// `stop`: vLLM's `stop_reason` (the stop string that ended the answer).
fn whole_stopped(text: &str, finish: &str, hold_calls: bool, stop: Option<&str>) -> Value {
    let upstream = json!({"id": "x", "created": 1, "choices": [{"index": 0, "finish_reason": finish,
        "stop_reason": stop,
        "message": {"role": "assistant", "content": text}}], "usage": serde_json::from_str::<Value>(USAGE).expect("usage")});
    translated(&upstream, hold_calls)
}

/// vLLM's whole answer `upstream`, as the Messages answer the client gets.
fn translated(upstream: &Value, hold_calls: bool) -> Value {
    let plan = plan(hold_calls);
    let t = Translation {
        api: &MessagesApi,
        plan: &plan,
        extra: &Extra::default(),
        format: Format::Qwen3Coder,
        reasoning: Reasoning::Auto,
        id: "msg_t",
        keep_raw: false,
    };
    let done = translate_completion(upstream.to_string().as_bytes(), &t).expect("translates");
    serde_json::from_slice(&done.body).expect("JSON")
}

fn streamed(text: &str, finish: &str, cuts: &[usize], hold_calls: bool) -> String {
    streamed_stopped(text, finish, cuts, hold_calls, None)
}

fn streamed_stopped(
    text: &str,
    finish: &str,
    cuts: &[usize],
    hold_calls: bool,
    stop: Option<&str>,
) -> String {
    let plan = plan(hold_calls);
    let wire = MessagesApi.stream_writer(&plan, &Extra::default(), "msg_t", 1);
    let mut t = StreamTranslator::new(plan, Format::Qwen3Coder, Reasoning::Auto, false, wire);
    let chars: Vec<char> = text.chars().collect();
    let (mut out, mut at, mut i) = (Vec::new(), 0, 0);
    while at < chars.len() {
        let n = cuts[i % cuts.len()].max(1);
        i += 1;
        let end = (at + n).min(chars.len());
        let piece: String = chars[at..end].iter().collect();
        let last = end == chars.len();
        let chunk = json!({"choices": [{"index": 0, "delta": {"content": piece},
            "finish_reason": if last { Some(finish) } else { None },
            "stop_reason": if last { stop } else { None }}]});
        t.on_payload(&chunk.to_string(), &mut out).expect("chunk");
        at = end;
    }
    t.on_payload(&format!(r#"{{"choices":[],"usage":{USAGE}}}"#), &mut out).expect("usage");
    assert_eq!(t.on_payload("[DONE]", &mut out).expect("done"), Progress::Done);
    String::from_utf8(out).expect("UTF-8")
}

/// The stream's events, checked against the contract, accumulated into the message.
pub(crate) fn accumulate(stream: &str) -> Value {
    let mut message = Value::Null;
    let mut open: Option<usize> = None;
    let mut partial = String::new();
    let mut ended = false;
    for frame in stream.split("\n\n").filter(|f| !f.is_empty()) {
        let (name, data) = frame
            .strip_prefix("event: ")
            .and_then(|f| f.split_once("\ndata: "))
            .unwrap_or_else(|| panic!("not an event frame: {frame:?}"));
        let data: Value = serde_json::from_str(data).expect("data is JSON");
        assert_eq!(data["type"], name, "the data names its event");
        assert!(!ended, "nothing after message_stop");
        if name == "ping" {
            continue;
        }
        if name != "message_start" {
            assert!(message.is_object(), "message_start comes first");
        }
        match name {
            "message_start" => {
                assert!(message.is_null(), "one message_start");
                message = data["message"].clone();
                assert_eq!(message["content"], json!([]));
            }
            "content_block_start" => {
                assert!(open.is_none(), "a block starts after the last one stopped");
                let index = usize::try_from(data["index"].as_u64().expect("index")).expect("small");
                let content = message["content"].as_array_mut().expect("content");
                assert_eq!(index, content.len(), "blocks start in index order");
                content.push(data["content_block"].clone());
                open = Some(index);
                partial.clear();
            }
            "content_block_delta" => {
                let index = usize::try_from(data["index"].as_u64().expect("index")).expect("small");
                assert_eq!(open, Some(index), "a delta only for the block started and not stopped");
                let block = &mut message["content"][index];
                let delta = &data["delta"];
                match (delta["type"].as_str(), block["type"].as_str()) {
                    (Some("text_delta"), Some("text")) => {
                        let text = format!(
                            "{}{}",
                            block["text"].as_str().expect("text"),
                            delta["text"].as_str().expect("s")
                        );
                        block["text"] = json!(text);
                    }
                    (Some("thinking_delta"), Some("thinking")) => {
                        let text = format!(
                            "{}{}",
                            block["thinking"].as_str().expect("t"),
                            delta["thinking"].as_str().expect("s")
                        );
                        block["thinking"] = json!(text);
                    }
                    (Some("signature_delta"), Some("thinking")) => {
                        block["signature"] = delta["signature"].clone();
                    }
                    (Some("input_json_delta"), Some("tool_use")) => {
                        partial.push_str(delta["partial_json"].as_str().expect("s"));
                    }
                    other => panic!("delta {other:?} does not fit its block"),
                }
            }
            "content_block_stop" => {
                let index = usize::try_from(data["index"].as_u64().expect("index")).expect("small");
                assert_eq!(open, Some(index), "stops the open block");
                let block = &mut message["content"][index];
                if block["type"] == "tool_use" && !partial.is_empty() {
                    let input: Value = serde_json::from_str(&partial).expect("partial_json adds up to JSON");
                    assert!(input.is_object(), "a tool_use input is an object");
                    block["input"] = input;
                }
                open = None;
            }
            "message_delta" => {
                assert!(open.is_none(), "every block stopped before message_delta");
                message["stop_reason"] = data["delta"]["stop_reason"].clone();
                message["stop_sequence"] = data["delta"]["stop_sequence"].clone();
                for (k, v) in data["usage"].as_object().expect("usage") {
                    message["usage"][k] = v.clone();
                }
            }
            "message_stop" => ended = true,
            other => panic!("unexpected event {other}"),
        }
    }
    assert!(ended, "a stream ends with message_stop");
    message
}

/// Call ids are random: each checked, then numbered.
fn without_call_ids(mut message: Value) -> Value {
    let blocks = message["content"].as_array_mut().into_iter().flatten();
    for (n, block) in blocks.filter(|b| b["type"] == "tool_use").enumerate() {
        assert!(block["id"].as_str().is_some_and(|id| id.len() > 8), "{block}");
        block["id"] = json!(n);
    }
    message
}

#[test]
fn the_whole_answer_has_anthropics_shape() {
    let body = whole(&answers()[1].0, "stop", true);
    assert_eq!(body["type"], "message");
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["stop_reason"], "tool_use");
    let content = body["content"].as_array().expect("content");
    assert_eq!(content[0], json!({"type": "text", "text": "Two at once."}));
    assert_eq!(content[1]["input"], json!({"path": "src/main.rs"}));
    assert_eq!(content[2]["name"], "list_dir");
    assert_eq!(
        body["usage"],
        json!({"input_tokens": 12, "output_tokens": 7,
        "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
    );
    let cut = whole(&answers()[3].0, "length", true);
    assert_eq!(cut["stop_reason"], "max_tokens");
    assert!(cut["content"].as_array().expect("content").iter().all(|b| b["type"] != "tool_use"), "{cut}");
}

#[test]
fn a_stop_string_is_a_stop_sequence_whole_and_streamed() {
    let body = whole_stopped("The answer is", "stop", true, Some("\n\n"));
    assert_eq!(body["stop_reason"], "stop_sequence");
    assert_eq!(body["stop_sequence"], "\n\n");
    let streamed = accumulate(&streamed_stopped("The answer is", "stop", &[3], true, Some("\n\n")));
    assert_eq!(streamed["stop_reason"], "stop_sequence");
    assert_eq!(streamed["stop_sequence"], "\n\n");
    // The end of the turn, or a stop token (a number), is `end_turn`, with no sequence.
    let body = whole_stopped("Done.", "stop", true, None);
    assert_eq!((body["stop_reason"].as_str(), body["stop_sequence"].is_null()), (Some("end_turn"), true));
    let token = json!({"id": "x", "created": 1, "choices": [{"index": 0, "finish_reason": "stop",
        "stop_reason": 151_645, "message": {"role": "assistant", "content": "Done."}}]});
    assert_eq!(translated(&token, true)["stop_reason"], "end_turn");
    // A call still makes it `tool_use`.
    let called = whole_stopped(&answers()[1].0, "stop", true, Some("END"));
    assert_eq!((called["stop_reason"].as_str(), called["stop_sequence"].is_null()), (Some("tool_use"), true));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn streaming_accumulates_to_the_whole_answer(
        which in 0..7usize,
        cuts in proptest::collection::vec(1..12usize, 1..6),
        hold_calls in any::<bool>(),
    ) {
        let (text, finish) = &answers()[which];
        let expected = without_call_ids(whole(text, finish, hold_calls));
        let got = without_call_ids(accumulate(&streamed(text, finish, &cuts, hold_calls)));
        prop_assert_eq!(&got, &expected);
        if *finish == "length" {
            prop_assert!(expected["content"].as_array().is_some_and(|c| c.iter().all(|b| b["type"] != "tool_use"))
                || which == 4, "{}", expected);
        }
    }
}
