//! Unit tests of the Responses adapter: requests read into chat requests, answers written
//! whole and streamed, and the property that a stream, however vLLM chunks it, adds up to
//! exactly the whole answer (ids aside), in both tool-call modes.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::ResponsesApi;
use crate::proxy::complete::{Translation, translate_completion};
use crate::proxy::plan::{Plan, ToolChoice};
use crate::proxy::stream::{Progress, StreamTranslator};
use crate::proxy::wire::Api as _;
use crate::toolcall::{Format, Reasoning, Tools};

fn chat_of(request: &Value) -> Value {
    let body = serde_json::to_vec(request).expect("json");
    let converted = ResponsesApi.to_chat(&body).expect("converts");
    serde_json::from_slice(&converted.chat).expect("chat json")
}

fn refused(request: &Value) -> crate::openai::ApiError {
    ResponsesApi.to_chat(&serde_json::to_vec(request).expect("json")).expect_err("refused")
}

#[test]
fn a_codex_request_becomes_a_chat_request() {
    let request = json!({
        "model": "gpt-5-codex", "instructions": "You are Codex.",
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Sandbox: none."}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "read a.txt"}]},
            {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "I should read it."}],
             "encrypted_content": "gAAA"},
            {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{\"command\":[\"cat\",\"a.txt\"]}"},
            {"type": "function_call_output", "call_id": "c1", "output": "hello"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "It says hello."}]},
            {"role": "user", "content": "thanks"},
            {"type": "web_search_call", "id": "ws_1"}
        ],
        "tools": [
            {"type": "function", "name": "shell", "description": "Runs a command", "strict": false,
             "parameters": {"type": "object", "properties": {"command": {"type": "array"}}}},
            {"type": "custom", "name": "apply_patch", "format": {"type": "grammar"}},
            {"type": "web_search"}, {"type": "namespace", "name": "mcp"}, {"type": "image_generation"}
        ],
        "tool_choice": "auto", "parallel_tool_calls": false, "reasoning": {"effort": "high", "summary": "auto"},
        "store": false, "stream": true, "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "abc", "max_output_tokens": 300, "top_k": 20, "unknown_field": {"x": 1}
    });
    let chat = chat_of(&request);
    assert_eq!(
        chat,
        json!({
            "model": "gpt-5-codex",
            "messages": [
                {"role": "system", "content": "You are Codex.\n\nSandbox: none."},
                {"role": "user", "content": "read a.txt"},
                {"role": "assistant", "reasoning_content": "I should read it.", "tool_calls": [{"id": "c1",
                    "type": "function", "function": {"name": "shell", "arguments": "{\"command\":[\"cat\",\"a.txt\"]}"}}]},
                {"role": "tool", "content": "hello", "tool_call_id": "c1"},
                {"role": "assistant", "content": "It says hello."},
                {"role": "user", "content": "thanks"}
            ],
            "tools": [{"type": "function", "function": {"name": "shell", "description": "Runs a command",
                "parameters": {"type": "object", "properties": {"command": {"type": "array"}}}}},
                {"type": "function", "function": {"name": "apply_patch", "parameters": {"type": "object",
                    "properties": {"input": {"type": "string", "description": "The tool's free-form input, as raw text"}},
                    "required": ["input"]}}}],
            "tool_choice": "auto", "parallel_tool_calls": false, "stream": true,
            "stream_options": {"include_usage": true}, "max_tokens": 300, "top_k": 20,
            "reasoning_effort": "high"
        })
    );
}

#[test]
fn texts_go_out_as_the_client_escaped_them_and_read_the_same() {
    // Escapes serde_json would write differently (`\u00e9`, `\/`) stay as the client wrote
    // them: the bytes are copied, and vLLM reads the same text.
    let body = br#"{"instructions": "Use \"tabs\"\tand \u00e9\n<\/tool_call>",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "caf\u00e9 \ud83d\ude00"}]},
            {"type": "function_call", "call_id": "c1", "name": "read", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "line 1\nline \"2\""}]}"#;
    let converted = ResponsesApi.to_chat(body).expect("converts");
    let text = String::from_utf8(converted.chat.to_vec()).expect("utf-8");
    assert!(text.contains(r#""Use \"tabs\"\tand \u00e9\n<\/tool_call>""#), "{text}");
    let chat: Value = serde_json::from_slice(&converted.chat).expect("chat json");
    assert_eq!(
        chat["messages"][0],
        json!({"role": "system", "content": "Use \"tabs\"\tand é\n</tool_call>"})
    );
    assert_eq!(chat["messages"][1]["content"], "café 😀");
    assert_eq!(chat["messages"][3]["content"], "line 1\nline \"2\"");
    // Two text parts are joined, escapes read.
    let chat = chat_of(&json!({"input": [{"role": "user", "content": [
        {"type": "input_text", "text": "a\"b"}, {"type": "input_text", "text": "\u{e9}"}]}]}));
    assert_eq!(chat["messages"][0]["content"], "a\"bé");
    // A text that is not a string is refused where it is.
    for (request, param) in [
        (
            json!({"input": [{"role": "user", "content": [{"type": "input_text", "text": 5}]}]}),
            "input[0].content[0].text",
        ),
        (json!({"input": "x", "instructions": ["a"]}), "instructions"),
    ] {
        let e = refused(&request);
        assert_eq!((e.status, e.param.as_deref()), (400, Some(param)), "{request}: {e:?}");
    }
}

#[test]
fn request_shapes_map_as_the_guide_says() {
    let chat = chat_of(
        &json!({"model": "m", "input": "hi", "tool_choice": {"type": "function", "name": "f"},
        "tools": [{"type": "function", "name": "f"}], "reasoning": {"effort": "none"},
        "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true}}}),
    );
    assert_eq!(chat["messages"], json!([{"role": "user", "content": "hi"}]));
    assert_eq!(chat["tool_choice"], json!({"type": "function", "function": {"name": "f"}}));
    assert_eq!(chat["chat_template_kwargs"], json!({"enable_thinking": false}));
    assert_eq!(
        chat["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}})
    );
    assert!(chat.get("stream").is_none() && chat.get("stream_options").is_none());
    // Images go on as image parts; a call output given as parts is its text.
    let chat = chat_of(&json!({"input": [
        {"role": "user", "content": [{"type": "input_text", "text": "what is this?"},
            {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "auto"}]},
        {"type": "custom_tool_call", "call_id": "p1", "name": "apply_patch", "input": "*** Begin Patch"},
        {"type": "custom_tool_call_output", "call_id": "p1", "output": [{"type": "input_text", "text": "applied"}]}
    ], "tool_choice": "required"}));
    assert_eq!(
        chat["messages"][0]["content"],
        json!([{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}])
    );
    assert_eq!(
        chat["messages"][1]["tool_calls"][0]["function"]["arguments"],
        "{\"input\":\"*** Begin Patch\"}"
    );
    assert_eq!(chat["messages"][2], json!({"role": "tool", "content": "applied", "tool_call_id": "p1"}));
    assert_eq!(chat["tool_choice"], "required");
    // `store: true` alone is accepted (nothing is stored).
    assert_eq!(chat_of(&json!({"input": "x", "store": true}))["messages"][0]["content"], "x");
}

#[test]
fn what_needs_state_or_is_malformed_is_a_clear_400() {
    for (request, param, word) in [
        (json!({"input": "x", "previous_response_id": "resp_1"}), "previous_response_id", "stateless"),
        (json!({"input": "x", "conversation": "conv_1"}), "conversation", "stateless"),
        (json!({"input": "x", "background": true}), "background", "stateless"),
        (json!({"model": "m"}), "input", "required"),
        (json!({"input": 5}), "input", "string or an array"),
        (json!({"input": "x", "max_output_tokens": "many"}), "max_output_tokens", "integer"),
        (json!({"input": "x", "tools": {"type": "function"}}), "tools", "array"),
        (json!({"input": "x", "tools": [{"type": "function"}]}), "tools[0].name", "required"),
        (json!({"input": "x", "tool_choice": "sometimes"}), "tool_choice", "auto, none or required"),
        (json!({"input": [{"type": "message", "role": "robot", "content": "x"}]}), "input[0].role", "robot"),
        (
            json!({"input": [{"type": "function_call_output", "call_id": "nope", "output": "x"}]}),
            "input[0].call_id",
            "nope",
        ),
        (
            json!({"input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}),
            "input[0].call_id",
            "required",
        ),
        (
            json!({"input": [{"role": "user", "content": "x"}, {"role": "user", "content": [
                {"type": "input_text", "text": "look"}, {"type": "input_image", "file_id": "file_1"}]}]}),
            "input[1].content[1].image_url",
            "file ids",
        ),
        (json!({"input": [{"role": "user", "content": 7}]}), "input[0].content", "string or an array"),
    ] {
        let e = refused(&request);
        assert_eq!((e.status, e.param.as_deref()), (400, Some(param)), "{request}: {e:?}");
        assert!(e.message.contains(word), "{request}: {}", e.message);
    }
    assert_eq!(ResponsesApi.to_chat(b"{not json").expect_err("broken").status, 400);
    assert_eq!(ResponsesApi.to_chat(b"[1]").expect_err("not an object").status, 400);
}

#[test]
fn errors_carry_string_codes() {
    let context = crate::openai::ApiError::from_upstream(
        400,
        br#"{"object":"error","message":"This model's maximum context length is 32768 tokens. However, you requested 40000 tokens.","type":"BadRequestError","param":null,"code":400}"#,
    );
    assert_eq!(super::error::code(&context), Some("context_length_exceeded"));
    let other = crate::openai::ApiError::bad_field("bad", "input");
    assert_eq!(super::error::code(&other), None);
}

const TOOLS: &str = r#"[{"type": "function", "function": {"name": "read_file",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "list", "parameters": {"type": "object", "properties": {}}}}]"#;

fn plan(hold: bool, stream: bool) -> Plan {
    let tools: Value = serde_json::from_str(TOOLS).expect("tools");
    Plan {
        model: "gpt-5-codex".into(),
        stream,
        include_usage: true,
        tools: Arc::new(Tools::from_openai(&tools).expect("tools")),
        choice: ToolChoice::Auto,
        parallel: true,
        hold_calls: hold,
        thinking: None,
    }
}

fn extra() -> crate::proxy::wire::Extra {
    let body = br#"{"input": "x", "tools": [{"type": "function", "name": "read_file"}], "parallel_tool_calls": true}"#;
    ResponsesApi.to_chat(body).expect("converts").extra
}

const USAGE: &str = r#"{"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18, "prompt_tokens_details": {"cached_tokens": 4}}"#;

/// The whole answer to `text` finishing with `finish`.
fn whole(text: &str, finish: &str, hold: bool) -> Value {
    let upstream = json!({"id": "x", "created": 5, "choices": [{"index": 0, "finish_reason": finish,
        "message": {"role": "assistant", "content": text}}], "usage": serde_json::from_str::<Value>(USAGE).expect("usage")});
    let (plan, extra) = (plan(hold, false), extra());
    let t = Translation {
        api: &ResponsesApi,
        plan: &plan,
        extra: &extra,
        format: Format::Qwen3Coder,
        reasoning: Reasoning::Auto,
        id: "resp_whole",
        keep_raw: false,
    };
    let done = translate_completion(&serde_json::to_vec(&upstream).expect("json"), &t).expect("translates");
    serde_json::from_slice(&done.body).expect("response json")
}

/// The streamed answer to `text` cut into `pieces`: its events, parsed.
fn streamed(pieces: &[&str], finish: &str, hold: bool) -> Vec<(String, Value)> {
    let (plan, extra) = (plan(hold, true), extra());
    let wire = ResponsesApi.stream_writer(&plan, &extra, "resp_stream", 5);
    let mut t = StreamTranslator::new(plan, Format::Qwen3Coder, Reasoning::Auto, false, wire);
    let mut out = Vec::new();
    let last = pieces.len().saturating_sub(1);
    for (i, piece) in pieces.iter().enumerate() {
        let f = (i == last).then_some(finish);
        let chunk = json!({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": f}]});
        assert_eq!(t.on_payload(&chunk.to_string(), &mut out).expect("ok"), Progress::More);
    }
    t.on_payload(&format!(r#"{{"choices": [], "usage": {USAGE}}}"#), &mut out).expect("usage");
    assert_eq!(t.on_payload("[DONE]", &mut out).expect("done"), Progress::Done);
    events(&out)
}

pub(super) fn events(out: &[u8]) -> Vec<(String, Value)> {
    let text = String::from_utf8(out.to_vec()).expect("utf-8");
    assert!(!text.contains("[DONE]"), "Responses streams have no [DONE]");
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (name, data) = e.split_once('\n').expect("event and data lines");
            let name = name.strip_prefix("event: ").expect("event line").to_owned();
            let data: Value =
                serde_json::from_str(data.strip_prefix("data: ").expect("data line")).expect("json");
            assert_eq!(data["type"], name.as_str());
            (name, data)
        })
        .collect()
}

/// Checks the event grammar and rebuilds the output from the item events; returns the
/// final `response` and the rebuilt output.
fn replay(events: &[(String, Value)]) -> Result<(Value, Vec<Value>), TestCaseError> {
    prop_assert_eq!(events[0].0.as_str(), "response.created");
    prop_assert_eq!(events[1].0.as_str(), "response.in_progress");
    let mut items: Vec<(Value, bool)> = Vec::new();
    for (n, (name, data)) in events.iter().enumerate() {
        prop_assert_eq!(data["sequence_number"].as_u64(), Some(n as u64));
        let index = data["output_index"].as_u64().and_then(|i| usize::try_from(i).ok());
        match name.as_str() {
            "response.output_item.added" => {
                prop_assert_eq!(index, Some(items.len()));
                items.push((data["item"].clone(), false));
            }
            "response.output_text.delta"
            | "response.reasoning_text.delta"
            | "response.function_call_arguments.delta"
            | "response.content_part.added" => {
                let i = index.expect("index");
                prop_assert!(i < items.len() && !items[i].1, "{name} for an item not open: {data}");
                prop_assert_eq!(&data["item_id"], &items[i].0["id"]);
                if name == "response.function_call_arguments.delta" {
                    let args = format!(
                        "{}{}",
                        items[i].0["arguments"].as_str().unwrap_or(""),
                        data["delta"].as_str().unwrap_or("")
                    );
                    items[i].0["arguments"] = json!(args);
                }
            }
            "response.output_item.done" => {
                let i = index.expect("index");
                prop_assert!(i < items.len() && !items[i].1, "done twice: {data}");
                if let Some(args) = items[i].0["arguments"].as_str() {
                    prop_assert_eq!(&data["item"]["arguments"], &json!(args));
                }
                items[i] = (data["item"].clone(), true);
            }
            _ => {}
        }
    }
    let (last, end) = events.last().expect("events");
    prop_assert!(matches!(last.as_str(), "response.completed" | "response.incomplete"), "{last}");
    let done: Vec<Value> = items.into_iter().filter(|(_, d)| *d).map(|(v, _)| v).collect();
    Ok((end["response"].clone(), done))
}

/// `v` without the ids a fresh answer draws anew.
fn no_ids(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.remove("id");
            if map.contains_key("call_id") {
                map.insert("call_id".into(), json!("call"));
            }
            for value in map.values_mut() {
                *value = no_ids(value.take());
            }
        }
        Value::Array(list) => list.iter_mut().for_each(|x| *x = no_ids(x.take())),
        _ => {}
    }
    v
}

const CALL: &str = "<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/main.rs\n</parameter>\n</function>\n</tool_call>";
const SECOND: &str = "<tool_call>\n<function=list>\n</function>\n</tool_call>";

/// (text, finish, whether stream-args mode adds up too: not when the first prose follows a call).
fn cases() -> Vec<(String, &'static str, bool)> {
    vec![
        ("Just an answer, no calls.".into(), "stop", true),
        ("<think>Let me think.</think>\nThe answer is 4.".into(), "stop", true),
        (format!("<think>Read it.</think>Let me look.\n{CALL}"), "stop", true),
        (format!("{CALL}\n{SECOND}"), "stop", true),
        (format!("First {CALL} then {SECOND} and done."), "stop", true),
        (format!("{CALL}\nAfter the call."), "stop", false),
        ("Cut off in the mid".into(), "length", true),
        (format!("Writing: {}", &CALL[..60]), "length", true),
        (format!("Two: {CALL}{}", &SECOND[..30]), "length", true),
        ("  \n ".into(), "stop", true),
        (format!("<think>First.</think>{CALL}<think>Then more.</think>"), "stop", false),
    ]
}

fn pieces<'a>(text: &'a str, cuts: &[usize]) -> Vec<&'a str> {
    let mut points: Vec<usize> =
        cuts.iter().map(|c| c % (text.len() + 1)).filter(|&c| text.is_char_boundary(c)).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut at = 0;
    for p in points.into_iter().chain([text.len()]) {
        if p > at {
            out.push(&text[at..p]);
            at = p;
        }
    }
    if out.is_empty() {
        out.push("");
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_stream_adds_up_to_the_whole_answer(
        case in 0..11usize,
        cuts in proptest::collection::vec(0..400usize, 0..24),
        hold in any::<bool>(),
    ) {
        let (text, finish, args_mode_too) = cases().swap_remove(case);
        prop_assume!(hold || args_mode_too);
        let whole = whole(&text, finish, hold);
        let events = streamed(&pieces(&text, &cuts), finish, hold);
        let (response, rebuilt) = replay(&events)?;
        // The final event's output is what the item events said, item by item.
        prop_assert_eq!(&response["output"], &json!(rebuilt));
        let mut expected = no_ids(whole);
        let mut got = no_ids(response);
        // `created_at` is the upstream's in the whole answer, the stream's own start else.
        expected.as_object_mut().map(|m| m.remove("created_at"));
        got.as_object_mut().map(|m| m.remove("created_at"));
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn the_whole_answer_has_the_response_shape() {
    let body = whole(&format!("<think>Read it.</think>Let me look.\n{CALL}"), "stop", true);
    assert_eq!(body["object"], "response");
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("resp_")));
    assert_eq!((body["status"].as_str(), body["model"].as_str()), (Some("completed"), Some("gpt-5-codex")));
    let output = body["output"].as_array().expect("output");
    let kinds: Vec<&str> = output.iter().filter_map(|i| i["type"].as_str()).collect();
    assert_eq!(kinds, ["reasoning", "message", "function_call"]);
    assert_eq!(output[0]["content"], json!([{"type": "reasoning_text", "text": "Read it."}]));
    assert_eq!(output[1]["content"][0]["type"], "output_text");
    assert_eq!(body["output_text"], output[1]["content"][0]["text"]);
    let call = &output[2];
    assert!(call["id"].as_str().is_some_and(|id| id.starts_with("fc_")));
    assert!(call["call_id"].as_str().is_some_and(|id| id.starts_with("call_")));
    assert_eq!((call["name"].as_str(), call["status"].as_str()), (Some("read_file"), Some("completed")));
    assert_eq!(
        serde_json::from_str::<Value>(call["arguments"].as_str().expect("args")).expect("json"),
        json!({"path": "src/main.rs"})
    );
    assert_eq!(
        body["usage"],
        json!({"input_tokens": 11, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 7,
            "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 18})
    );
    assert_eq!((body["parallel_tool_calls"].as_bool(), body["store"].as_bool()), (Some(true), Some(false)));
    assert_eq!(body["tools"][0]["name"], "read_file");
    assert_eq!(body["incomplete_details"], Value::Null);
    let cut = whole(&format!("Writing: {}", &CALL[..60]), "length", true);
    assert_eq!(
        (cut["status"].as_str(), cut["incomplete_details"]["reason"].as_str()),
        (Some("incomplete"), Some("max_output_tokens"))
    );
    assert!(cut["output"].as_array().expect("output").iter().all(|i| i["type"] != "function_call"), "{cut}");
}

#[test]
fn a_cut_off_call_is_never_added_or_done() {
    for hold in [true, false] {
        let events = streamed(&[&format!("Writing: {}", &CALL[..70])], "length", hold);
        let calls_done = events
            .iter()
            .filter(|(n, d)| n == "response.output_item.done" && d["item"]["type"] == "function_call")
            .count();
        assert_eq!(calls_done, 0, "hold {hold}: {events:?}");
        if hold {
            assert!(events.iter().all(|(_, d)| d["item"]["type"] != "function_call"), "{events:?}");
        }
        assert_eq!(events.last().map(|(n, _)| n.as_str()), Some("response.incomplete"));
    }
}

#[test]
fn a_failed_stream_ends_with_response_failed() {
    let (plan, extra) = (plan(true, true), extra());
    let mut wire = ResponsesApi.stream_writer(&plan, &extra, "resp_f", 5);
    let mut out = Vec::new();
    let error =
        crate::openai::ApiError::from_upstream(400, b"This model's maximum context length is 4096 tokens.");
    wire.error(&error, &mut out);
    let ev = events(&out);
    let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["response.created", "response.in_progress", "response.failed"]);
    let failed = &ev[2].1["response"];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "context_length_exceeded");
    assert!(failed["error"]["message"].as_str().is_some_and(|m| m.contains("maximum context length")));
    assert_eq!(wire.keepalive(), b": keep-alive\n\n");
}

/// Codex's free-form tools (`apply_patch`): offered as a function taking `{"input": …}`, the
/// call answered as a `custom_tool_call` with the raw input, whole and streamed alike.
#[test]
fn custom_tools_are_offered_as_functions_and_called_as_custom_tool_calls() {
    let request = json!({"input": "patch it", "tools": [{"type": "custom", "name": "apply_patch",
        "description": "Edit files.", "format": {"type": "grammar", "syntax": "lark", "definition": "start: begin"}}],
        "tool_choice": {"type": "custom", "name": "apply_patch"}});
    let chat = chat_of(&request);
    let tool = &chat["tools"][0]["function"];
    assert_eq!(tool["name"], "apply_patch");
    assert_eq!(tool["parameters"]["required"], json!(["input"]));
    assert!(
        tool["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("Edit files.") && d.contains("start: begin"))
    );
    assert_eq!(chat["tool_choice"], json!({"type": "function", "function": {"name": "apply_patch"}}));

    let body = serde_json::to_vec(&request).expect("json");
    let extra = ResponsesApi.to_chat(&body).expect("converts").extra;
    let tools = json!([{"type": "function", "function": {"name": "apply_patch", "parameters":
        serde_json::from_str::<Value>(super::request::CUSTOM_PARAMETERS).expect("schema")}}]);
    let text = "<tool_call>\n<function=apply_patch>\n<parameter=input>\n*** Begin Patch\n*** End Patch\n</parameter>\n</function>\n</tool_call>";
    for hold in [true, false] {
        let plan = Plan { tools: Arc::new(Tools::from_openai(&tools).expect("tools")), ..plan(hold, false) };
        let upstream =
            json!({"choices": [{"index": 0, "finish_reason": "stop", "message": {"content": text}}]});
        let t = Translation {
            api: &ResponsesApi,
            plan: &plan,
            extra: &extra,
            format: Format::Qwen3Coder,
            reasoning: Reasoning::Auto,
            id: "resp_c",
            keep_raw: false,
        };
        let done =
            translate_completion(&serde_json::to_vec(&upstream).expect("json"), &t).expect("translates");
        let whole: Value = serde_json::from_slice(&done.body).expect("json");
        let call = &whole["output"][0];
        assert_eq!(
            (call["type"].as_str(), call["name"].as_str()),
            (Some("custom_tool_call"), Some("apply_patch")),
            "{whole}"
        );
        assert_eq!(call["input"], "*** Begin Patch\n*** End Patch");
        assert!(call["id"].as_str().is_some_and(|id| id.starts_with("ctc_")));

        let plan = Plan { stream: true, ..plan };
        let wire = ResponsesApi.stream_writer(&plan, &extra, "resp_c", 5);
        let mut t = StreamTranslator::new(plan, Format::Qwen3Coder, Reasoning::Auto, false, wire);
        let mut out = Vec::new();
        for piece in text.as_bytes().chunks(7) {
            let chunk = json!({"choices": [{"index": 0, "delta": {"content": std::str::from_utf8(piece).expect("ascii")}, "finish_reason": null}]});
            t.on_payload(&chunk.to_string(), &mut out).expect("ok");
        }
        t.on_payload(
            &json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).to_string(),
            &mut out,
        )
        .expect("ok");
        t.on_payload("[DONE]", &mut out).expect("done");
        let ev = events(&out);
        let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"response.custom_tool_call_input.done"), "{names:?}");
        assert!(!names.contains(&"response.function_call_arguments.delta"), "{names:?}");
        let (_, last) = ev.last().expect("events");
        assert_eq!(
            no_ids(last["response"]["output"].clone()),
            no_ids(whole["output"].clone()),
            "hold {hold}"
        );
    }
}
