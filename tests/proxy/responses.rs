//! OpenAI Responses (`POST /v1/responses`) on real sockets in front of the stand-in, as Codex
//! CLI and the OpenAI SDKs use it: the chat request vLLM gets, the `response` object, the
//! event stream (and that it adds up to the whole answer), both tool-call modes, truncation,
//! errors in Responses' shape with `context_length_exceeded`, keep-alive, keys, metrics.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{ALIAS, Env, READ_CALL};
use crate::standin::{Config, Reply};

/// The error shape of the Responses API: `{error: {message, type, param, code}}` with a
/// string (or null) `code`. Returns the message.
pub(crate) fn assert_responses_error(body: &Value) -> String {
    let error = &body["error"];
    assert!(error.is_object(), "Responses error shape: {body}");
    assert!(error["type"].is_string(), "{body}");
    assert!(error.get("param").is_some_and(|p| p.is_null() || p.is_string()), "{body}");
    assert!(error.get("code").is_some_and(|c| c.is_null() || c.is_string()), "{body}");
    error["message"].as_str().expect("message").to_owned()
}

/// Codex's shell tool, flat as Responses has tools.
fn codex_tools() -> Value {
    json!([
        {"type": "function", "name": "read_file", "description": "Read a file", "strict": false,
         "parameters": {"type": "object", "properties": {"filepath": {"type": "string"}}, "required": ["filepath"]}},
        {"type": "function", "name": "shell", "parameters": {"type": "object",
            "properties": {"command": {"type": "array", "items": {"type": "string"}}}}},
        {"type": "custom", "name": "apply_patch", "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}},
        {"type": "web_search"}
    ])
}

/// A request the way `codex exec` sends one.
fn codex_request(stream: bool) -> Value {
    json!({
        "model": ALIAS,
        "instructions": "You are Codex, a coding agent.",
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "approval: never"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Read src/main.rs"}]}
        ],
        "tools": codex_tools(),
        "tool_choice": "auto",
        "parallel_tool_calls": false,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": false,
        "stream": stream,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "0199-session",
        "text": {"verbosity": "medium"},
        "client_metadata": {"x": "y"}
    })
}

async fn respond(env: &Env, body: &Value) -> (u16, Value) {
    let response = env.post("/v1/responses").json(body).send().await.expect("proxy answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// A streamed answer: status, content type, the events (name, data) and the comments.
async fn respond_stream(env: &Env, body: &Value) -> (u16, String, Vec<(String, Value)>, usize) {
    let response = env.post("/v1/responses").json(body).send().await.expect("proxy answers");
    let status = response.status().as_u16();
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = response.text().await.expect("body");
    let (events, comments) = parse_events(&text);
    (status, kind, events, comments)
}

fn parse_events(text: &str) -> (Vec<(String, Value)>, usize) {
    assert!(!text.contains("[DONE]"), "no [DONE] in Responses: {text}");
    let mut events = Vec::new();
    let mut comments = 0;
    for frame in text.split("\n\n").filter(|f| !f.is_empty()) {
        if frame.starts_with(':') {
            comments += 1;
            continue;
        }
        let (name, data) = frame.split_once('\n').unwrap_or_else(|| panic!("event and data: {frame:?}"));
        let name = name.strip_prefix("event: ").unwrap_or_else(|| panic!("event line: {frame:?}"));
        let data: Value =
            serde_json::from_str(data.strip_prefix("data: ").expect("data line")).expect("JSON data");
        assert_eq!(data["type"], name, "{data}");
        events.push((name.to_owned(), data));
    }
    (events, comments)
}

/// Checks the event grammar Codex and the SDKs rely on; returns the final `response` and
/// the items as `response.output_item.done` gave them.
fn check_events(events: &[(String, Value)]) -> (Value, Vec<Value>) {
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[..2], ["response.created", "response.in_progress"], "{names:?}");
    let mut open: Vec<Option<Value>> = Vec::new();
    let mut done = Vec::new();
    for (n, (name, data)) in events.iter().enumerate() {
        assert_eq!(data["sequence_number"], n, "{name}");
        let index = data["output_index"].as_u64().map(|i| usize::try_from(i).expect("small"));
        match name.as_str() {
            "response.output_item.added" => {
                assert_eq!(index, Some(open.len()), "items are added in output order");
                open.push(Some(data["item"].clone()));
            }
            "response.output_item.done" => {
                let item = open[index.expect("index")].take().expect("done once, after added");
                assert_eq!(item["id"], data["item"]["id"]);
                done.push(data["item"].clone());
            }
            // Every other item event (`….delta`, `content_part.added`, `….done`) names an open item.
            n if matches!(n.rsplit('.').next(), Some("delta" | "added" | "done")) => {
                let item = open[index.expect("index")].as_ref().expect("events only for an open item");
                assert_eq!(item["id"], data["item_id"], "{name}");
            }
            _ => {}
        }
    }
    let (last, end) = events.last().expect("events");
    assert!(
        matches!(last.as_str(), "response.completed" | "response.incomplete" | "response.failed"),
        "{last}"
    );
    (end["response"].clone(), done)
}

/// `v` without the ids each answer draws anew.
fn no_ids(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            for key in ["id", "created_at"] {
                map.remove(key);
            }
            if map.contains_key("call_id") {
                map.insert("call_id".into(), json!("call"));
            }
            map.values_mut().for_each(|x| *x = no_ids(x.take()));
        }
        Value::Array(list) => list.iter_mut().for_each(|x| *x = no_ids(x.take())),
        _ => {}
    }
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn a_codex_request_reaches_vllm_as_a_chat_request() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text("ok"));
    let mut request = codex_request(false);
    request["max_output_tokens"] = json!(200);
    request["top_k"] = json!(20);
    let (status, body) = respond(&env, &request).await;
    assert_eq!(status, 200, "{body}");
    let sent = env.standin.last_chat_request().expect("upstream was called");
    assert_eq!(
        sent["messages"],
        json!([{"role": "system", "content": "You are Codex, a coding agent.\n\napproval: never"},
               {"role": "user", "content": "Read src/main.rs"}])
    );
    let names: Vec<&str> = sent["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert_eq!(names, ["read_file", "shell", "apply_patch"], "hosted tools are left out");
    // The parser-less vLLM gets `none`; the proxy finds the calls itself.
    assert_eq!(sent["tool_choice"], "none");
    assert_eq!(sent["max_tokens"], 200);
    assert_eq!(sent["top_k"], 20);
    assert_eq!(sent["reasoning_effort"], "medium");
    for absent in ["input", "instructions", "store", "include", "prompt_cache_key", "text", "client_metadata"]
    {
        assert!(sent.get(absent).is_none(), "{absent} is not a chat field: {sent}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_answer_with_a_call_is_a_response_object() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text(READ_CALL));
    let (status, body) = respond(&env, &codex_request(false)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["object"].as_str(), body["status"].as_str()), (Some("response"), Some("completed")));
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("resp_")), "{body}");
    assert_eq!(body["model"], ALIAS);
    let output = body["output"].as_array().expect("output");
    assert_eq!(output.len(), 2, "{body}");
    assert_eq!(output[0]["type"], "message");
    assert_eq!(
        output[0]["content"][0],
        json!({"type": "output_text", "text": "Let me look at it.", "annotations": []})
    );
    assert_eq!(body["output_text"], "Let me look at it.");
    let call = &output[1];
    assert_eq!(
        (call["type"].as_str(), call["name"].as_str(), call["status"].as_str()),
        (Some("function_call"), Some("read_file"), Some("completed"))
    );
    assert!(call["call_id"].as_str().is_some_and(|c| c.starts_with("call_")));
    let args: Value = serde_json::from_str(call["arguments"].as_str().expect("string")).expect("JSON");
    assert_eq!(args, json!({"filepath": "src/main.rs"}));
    assert!(body["usage"]["input_tokens"].is_u64() && body["usage"]["total_tokens"].is_u64(), "{body}");
    assert_eq!(body["tools"], codex_tools(), "tools echoed as asked");
    assert_eq!(
        (body["tool_choice"].as_str(), body["parallel_tool_calls"].as_bool()),
        (Some("auto"), Some(false))
    );
    assert_eq!(body["store"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streamed_call_split_mid_tag_comes_as_items() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::chunked(READ_CALL, vec![3, 5, 1]));
    let (status, kind, events, _) = respond_stream(&env, &codex_request(true)).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    let (response, done) = check_events(&events);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let message: Vec<&str> = names.iter().copied().filter(|n| !n.contains("delta")).collect();
    assert_eq!(
        message,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let text: String = events
        .iter()
        .filter(|(n, _)| n == "response.output_text.delta")
        .filter_map(|(_, d)| d["delta"].as_str())
        .collect();
    assert_eq!(text, "Let me look at it.");
    let added = events
        .iter()
        .find(|(n, d)| n == "response.output_item.added" && d["item"]["type"] == "function_call")
        .expect("call added");
    assert_eq!(added.1["item"]["arguments"], "", "a call is added with empty arguments");
    assert_eq!(done[1]["type"], "function_call");
    assert_eq!(
        serde_json::from_str::<Value>(done[1]["arguments"].as_str().expect("args")).expect("JSON"),
        json!({"filepath": "src/main.rs"})
    );
    assert_eq!(response["status"], "completed");
    assert_eq!(response["output"], json!(done), "response.completed carries the items as done");
    assert!(response["usage"]["output_tokens"].is_u64(), "{response}");
    assert_eq!(response["model"], ALIAS);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_adds_up_to_the_whole_answer_in_both_tool_call_modes() {
    let text = format!("<think>Which file?</think>Reading it.\n{READ_CALL}");
    for stream_args in [false, true] {
        let env = Env::with(Config::default(), |c| c.stream_tool_arguments = stream_args).await;
        env.standin.push_reply(Reply::text(text.clone()));
        let (_, whole) = respond(&env, &codex_request(false)).await;
        assert_eq!(whole["output"][0]["type"], "reasoning", "{whole}");
        for sizes in [vec![1], vec![2, 7], vec![13], vec![1000]] {
            env.standin.push_reply(Reply::chunked(text.clone(), sizes.clone()));
            let (status, _, events, _) = respond_stream(&env, &codex_request(true)).await;
            assert_eq!(status, 200);
            let (response, done) = check_events(&events);
            assert_eq!(response["output"], json!(done));
            // The stand-in counts a streamed answer's tokens by its pieces: usage differs by
            // chunking there (never in vLLM), so it is compared apart.
            let (mut got, mut expected) = (no_ids(response), no_ids(whole.clone()));
            assert!(got["usage"]["output_tokens"].is_u64() && expected["usage"]["output_tokens"].is_u64());
            got["usage"] = Value::Null;
            expected["usage"] = Value::Null;
            assert_eq!(got, expected, "stream_tool_arguments {stream_args}, pieces {sizes:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn streamed_arguments_come_as_deltas_with_stream_tool_arguments() {
    let env = Env::with(Config::default(), |c| c.stream_tool_arguments = true).await;
    env.standin.push_reply(Reply::chunked(READ_CALL, vec![4]));
    let (_, _, events, _) = respond_stream(&env, &codex_request(true)).await;
    let (_, done) = check_events(&events);
    let deltas = events.iter().filter(|(n, _)| n == "response.function_call_arguments.delta").count();
    assert!(deltas > 1, "arguments stream in pieces: {events:?}");
    assert_eq!(done.last().expect("items")["type"], "function_call");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_cut_off_by_the_token_limit_is_never_an_item() {
    let cut = &READ_CALL[..READ_CALL.len() - 30];
    for stream_args in [false, true] {
        let env = Env::with(Config::default(), |c| c.stream_tool_arguments = stream_args).await;
        env.standin.push_reply(Reply::chunked(cut, vec![5]).length());
        let (status, _, events, _) = respond_stream(&env, &codex_request(true)).await;
        assert_eq!(status, 200);
        let (response, done) = check_events(&events);
        assert_eq!(events.last().expect("events").0, "response.incomplete");
        assert_eq!(response["status"], "incomplete");
        assert_eq!(response["incomplete_details"], json!({"reason": "max_output_tokens"}));
        assert!(
            done.iter().all(|i| i["type"] != "function_call"),
            "stream_tool_arguments {stream_args}: {done:?}"
        );
        assert!(response["output"].as_array().expect("output").iter().all(|i| i["type"] != "function_call"));
        if !stream_args {
            assert!(events.iter().all(|(_, d)| d["item"]["type"] != "function_call"), "never even added");
        }
        env.standin.push_reply(Reply::text(cut).length());
        let (_, whole) = respond(&env, &codex_request(false)).await;
        assert_eq!(
            (whole["status"].as_str(), whole["incomplete_details"]["reason"].as_str()),
            (Some("incomplete"), Some("max_output_tokens"))
        );
        assert_eq!(whole["output"].as_array().map(Vec::len), Some(1), "the message only: {whole}");
        assert_eq!(whole["output"][0]["status"], "incomplete");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tool_call_round_trip_reaches_vllm_in_order() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text("It prints hello."));
    let mut request = codex_request(false);
    let input = request["input"].as_array_mut().expect("input");
    input.extend([
        json!({"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Need the file."}], "encrypted_content": "opaque"}),
        json!({"type": "function_call", "id": "fc_1", "call_id": "call_abc", "name": "read_file", "arguments": "{\"filepath\":\"src/main.rs\"}"}),
        json!({"type": "function_call_output", "call_id": "call_abc", "output": "fn main() { println!(\"hello\"); }"}),
    ]);
    let (status, body) = respond(&env, &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["output_text"], "It prints hello.");
    let sent = env.standin.last_chat_request().expect("sent");
    let messages = sent["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 4, "{sent}");
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["tool_calls"][0]["id"], "call_abc");
    assert_eq!(messages[2]["tool_calls"][0]["function"]["name"], "read_file");
    assert_eq!(messages[2]["reasoning_content"], "Need the file.");
    assert_eq!(
        messages[3],
        json!({"role": "tool", "tool_call_id": "call_abc", "content": "fn main() { println!(\"hello\"); }"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn context_length_errors_carry_the_code_codex_acts_on() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::context_length_error());
    let (status, body) = respond(&env, &codex_request(false)).await;
    assert_eq!(status, 400, "{body}");
    assert!(assert_responses_error(&body).contains("maximum context length"), "{body}");
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    // Streaming: Codex reads the code only from `response.failed` (an HTTP 400 is fatal to
    // it), so the refusal is a stream that fails at once.
    env.standin.push_reply(Reply::context_length_error());
    let (status, kind, events, _) = respond_stream(&env, &codex_request(true)).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["response.created", "response.in_progress", "response.failed"]);
    let (response, _) = check_events(&events);
    assert_eq!(response["error"]["code"], "context_length_exceeded");
    assert!(
        response["error"]["message"].as_str().is_some_and(|m| m.contains("maximum context length")),
        "{response}"
    );
    // Other refusals of a streaming request stay HTTP errors.
    let (status, body) = respond(&env, &json!({"model": "nope", "input": "x", "stream": true})).await;
    assert_eq!(status, 404, "{body}");
    assert_responses_error(&body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_broken_upstream_ends_with_response_failed() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::drop_mid_stream("A long answer that never ends", 2));
    let (status, _, events, _) = respond_stream(&env, &codex_request(true)).await;
    assert_eq!(status, 200);
    let (response, _) = check_events(&events);
    assert_eq!(events.last().expect("events").0, "response.failed");
    assert_eq!(response["status"], "failed");
    assert!(response["error"]["code"].is_string() && response["error"]["message"].is_string(), "{response}");
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_alive_comments_while_upstream_is_silent() {
    let env = Env::with(Config::default(), |c| c.keepalive = Duration::from_millis(100)).await;
    env.standin.push_reply(Reply::stall_mid_stream("a quiet answer", 1, Duration::from_millis(450)));
    let (status, _, events, comments) = respond_stream(&env, &codex_request(true)).await;
    assert_eq!(status, 200);
    assert!(comments >= 2, "keep-alive comments while silent: {events:?}");
    let (response, _) = check_events(&events);
    assert_eq!(response["output_text"], "a quiet answer");
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_errors_and_metrics_are_the_endpoints_own() {
    let env = Env::with(Config::default(), |c| c.keys = vec!["sk-resp".into()]).await;
    // Codex sends `Authorization: Bearer`; `x-api-key` is taken too.
    let url = format!("{}/v1/responses", env.url);
    let body = json!({"model": ALIAS, "input": "hi"});
    let refused = env.client.post(&url).json(&body).send().await.expect("answer");
    assert_eq!(refused.status().as_u16(), 401);
    let refused: Value = refused.json().await.expect("JSON");
    assert!(assert_responses_error(&refused).contains("API key"), "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_api_key");
    let ok = env.client.post(&url).header("x-api-key", "sk-resp").json(&body).send().await.expect("answer");
    assert_eq!(ok.status().as_u16(), 200);
    let ok = env.client.post(&url).bearer_auth("sk-resp").json(&body).send().await.expect("answer");
    assert_eq!(ok.status().as_u16(), 200);
    let (status, body) =
        respond(&env, &json!({"model": ALIAS, "input": "x", "previous_response_id": "resp_1"})).await;
    assert_eq!(status, 400);
    assert!(assert_responses_error(&body).contains("stateless"), "{body}");
    assert_eq!(body["error"]["param"], "previous_response_id");
    let metrics = env.get("/metrics").send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("endpoint=\"responses\""), "{metrics}");
}
