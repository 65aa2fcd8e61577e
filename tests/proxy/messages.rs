//! Anthropic Messages (`/v1/messages`) on real sockets against the stand-in: what vLLM is
//! sent for Claude Code's request shapes, the whole answer, the event stream (its order and
//! that it adds up to the whole answer), truncated calls, keep-alive pings, model names.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::Env;
use crate::standin::{Config, DEFAULT_MODEL, Reply};

pub(crate) const KEY: &str = "sk-messages";
pub(crate) const MODEL: &str = "claude-sonnet-4-5-20250929";

/// A proxy with a key that maps every `claude-*` name to the stand-in's model.
pub(crate) async fn env_with(standin: Config, tweak: impl FnOnce(&mut podctl::proxy::ProxyConfig)) -> Env {
    Env::with(standin, |c| {
        c.keys = vec![KEY.into()];
        c.models[0].aliases = vec!["claude-*".into()];
        tweak(c);
    })
    .await
}

pub(crate) async fn env() -> Env {
    env_with(Config::default(), |_| {}).await
}

/// Claude Code's tools: client tools with `input_schema` (one with `cache_control`, one
/// deferred), and a server tool type that has none.
pub(crate) fn cc_tools() -> Value {
    json!([
        {"name": "Read", "description": "Read a file", "input_schema": {"type": "object",
            "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}},
        {"name": "Bash", "description": "Run a command", "input_schema": {"type": "object",
            "properties": {"command": {"type": "string"}}}, "cache_control": {"type": "ephemeral"}},
        {"name": "mcp__x__y", "description": "deferred", "defer_loading": true,
            "input_schema": {"type": "object", "properties": {}}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
    ])
}

pub(crate) const CC_READ: &str = "Let me read it.\n<tool_call>\n<function=Read>\n<parameter=file_path>\n/tmp/a.txt\n</parameter>\n</function>\n</tool_call>";

/// A request the way Claude Code sends one.
pub(crate) fn cc_request(stream: bool) -> Value {
    json!({
        "model": MODEL,
        "max_tokens": 32000,
        "stream": stream,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.328.abc; cc_entrypoint=sdk-cli; cch=1f2e3;"},
            {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Be brief."}
        ],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
            {"type": "text", "text": "Read /tmp/a.txt", "cache_control": {"type": "ephemeral"}}]}],
        "tools": cc_tools(),
        "metadata": {"user_id": "user_abc_account__session_1"},
        "thinking": {"type": "enabled", "budget_tokens": 31999},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
        "temperature": 1
    })
}

impl Env {
    /// POSTs a Messages request the way Claude Code does (`?beta=true`, `x-api-key`,
    /// `anthropic-beta`, `anthropic-version`).
    pub(crate) fn messages_post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.url))
            .header("x-api-key", KEY)
            .header("anthropic-version", "2023-06-01")
            .header("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,fine-grained-tool-streaming-2025-05-14")
    }

    pub(crate) async fn messages(&self, body: &Value) -> (u16, Value) {
        let response = self.messages_post("/v1/messages?beta=true").json(body).send().await.expect("answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    pub(crate) async fn messages_stream(&self, body: &Value) -> (u16, String) {
        let response = self.messages_post("/v1/messages?beta=true").json(body).send().await.expect("answers");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }
}

/// The events of a Messages stream: (name, data), each frame checked to be `event:` then
/// `data:` with the data naming its event.
pub(crate) fn frames(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|f| !f.is_empty())
        .map(|frame| {
            let (name, data) = frame
                .strip_prefix("event: ")
                .and_then(|f| f.split_once("\ndata: "))
                .unwrap_or_else(|| panic!("not an event frame: {frame:?}"));
            let data: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{data}: {e}"));
            assert_eq!(data["type"], name, "{frame}");
            (name.to_owned(), data)
        })
        .collect()
}

/// The stream accumulated into a message, as Anthropic's SDKs do, checking the order
/// Claude Code relies on (no delta for a block not started, `partial_json` adding up).
pub(crate) fn accumulate(events: &[(String, Value)]) -> Value {
    let mut message = Value::Null;
    let (mut open, mut partial, mut ended) = (None::<u64>, String::new(), false);
    for (name, data) in events.iter().filter(|(n, _)| n != "ping") {
        assert!(!ended, "nothing after message_stop: {name}");
        assert!(name == "message_start" || message.is_object(), "message_start first, not {name}");
        let index = data["index"].as_u64();
        match name.as_str() {
            "message_start" => message = data["message"].clone(),
            "content_block_start" => {
                assert!(open.is_none(), "blocks do not overlap");
                assert_eq!(index, Some(message["content"].as_array().expect("content").len() as u64));
                message["content"].as_array_mut().expect("content").push(data["content_block"].clone());
                (open, partial) = (index, String::new());
            }
            "content_block_delta" => {
                assert_eq!(index, open, "a delta for the open block only: {data}");
                let block = &mut message["content"][usize::try_from(index.expect("index")).expect("small")];
                let delta = &data["delta"];
                let append = |block: &mut Value, field: &str, more: &Value| {
                    block[field] = json!(format!(
                        "{}{}",
                        block[field].as_str().expect("str"),
                        more.as_str().expect("str")
                    ));
                };
                match delta["type"].as_str().expect("type") {
                    "text_delta" => append(block, "text", &delta["text"]),
                    "thinking_delta" => append(block, "thinking", &delta["thinking"]),
                    "signature_delta" => block["signature"] = delta["signature"].clone(),
                    "input_json_delta" => partial.push_str(delta["partial_json"].as_str().expect("str")),
                    other => panic!("unknown delta {other}"),
                }
            }
            "content_block_stop" => {
                assert_eq!(index, open);
                let block = &mut message["content"][usize::try_from(index.expect("index")).expect("small")];
                if block["type"] == "tool_use" && !partial.is_empty() {
                    block["input"] = serde_json::from_str(&partial).expect("partial_json adds up to JSON");
                }
                open = None;
            }
            "message_delta" => {
                message["stop_reason"] = data["delta"]["stop_reason"].clone();
                message["stop_sequence"] = data["delta"]["stop_sequence"].clone();
                for (k, v) in data["usage"].as_object().expect("usage") {
                    message["usage"][k] = v.clone();
                }
            }
            "message_stop" => ended = true,
            other => panic!("unexpected event {other}: {data}"),
        }
    }
    assert!(ended, "the stream ends with message_stop");
    message
}

/// Call ids are random: checked, then numbered.
pub(crate) fn numbered(mut message: Value) -> Value {
    for (n, block) in message["content"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "tool_use")
        .enumerate()
    {
        assert!(block["id"].as_str().is_some_and(|id| !id.is_empty()), "{block}");
        block["id"] = json!(n);
    }
    message["id"] = json!("msg");
    message
}

#[tokio::test(flavor = "multi_thread")]
async fn claude_codes_request_reaches_vllm_as_a_chat_request() {
    let env = env().await;
    env.standin.push_reply(Reply::text("ok"));
    let mut request = cc_request(false);
    request["top_k"] = json!(20);
    request["top_p"] = json!(0.9);
    request["stop_sequences"] = json!(["STOP"]);
    request["tool_choice"] = json!({"type": "any", "disable_parallel_tool_use": true});
    request["messages"] = json!([
        {"role": "system", "content": "Extra system entry."},
        {"role": "user", "content": "Read both"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "I should read.", "signature": "podctl"},
            {"type": "text", "text": "Reading."},
            {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/a"}},
            {"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {"command": "ls"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "AAA"}]},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "no such dir", "is_error": true},
            {"type": "text", "text": "and this picture"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "mystery_block", "whatever": {"a": 1}}]},
        {"role": "system", "content": [{"type": "text", "text": "Later reminder."}]}
    ]);
    let (status, body) = env.messages(&request).await;
    assert_eq!(status, 200, "{body}");
    let sent = env.standin.last_chat_request().expect("vLLM was called");
    assert_eq!(sent["model"], DEFAULT_MODEL);
    let messages = sent["messages"].as_array().expect("messages");
    // The billing block is gone; the other system blocks and the leading system entry join
    // (the core then adds its steering line for `any`).
    let system = messages[0]["content"].as_str().expect("system text");
    assert!(!system.contains("x-anthropic-billing-header"), "{system}");
    assert!(system.contains("You are Claude Code.\n\nBe brief.\n\nExtra system entry."), "{system}");
    assert_eq!(messages[1], json!({"role": "user", "content": "Read both"}));
    let assistant = &messages[2];
    assert_eq!(assistant["content"], "Reading.");
    assert_eq!(assistant["reasoning_content"], "I should read.");
    assert_eq!(assistant["tool_calls"][0]["function"]["name"], "Read");
    let args: Value =
        serde_json::from_str(assistant["tool_calls"][0]["function"]["arguments"].as_str().expect("s"))
            .expect("JSON");
    assert_eq!(args, json!({"file_path": "/a"}));
    // Results right after the turn that called them, in order, the error visible.
    assert_eq!(messages[3]["role"], "tool");
    assert_eq!(messages[3]["content"], "AAA");
    assert_eq!(messages[4]["role"], "tool");
    assert!(messages[4]["content"].as_str().expect("s").contains("error"), "{}", messages[4]);
    assert!(messages[4]["content"].as_str().expect("s").contains("no such dir"));
    let parts = messages[5]["content"].as_array().expect("parts");
    assert_eq!(parts[0], json!({"type": "text", "text": "and this picture"}));
    assert_eq!(
        parts[1],
        json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}})
    );
    assert_eq!(messages[6], json!({"role": "system", "content": "Later reminder."}));
    assert_eq!(messages.len(), 7);
    // Tools: the client tools, as functions; the server tool type is not sent.
    let names: Vec<&str> = sent["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert_eq!(names, ["Read", "Bash", "mcp__x__y"]);
    assert_eq!(sent["tools"][0]["function"]["parameters"]["required"], json!(["file_path"]));
    assert_eq!(sent["tool_choice"], "none", "the core steers `any` itself");
    assert!(system.contains("must reply with a call"), "{system}");
    assert_eq!(sent["max_tokens"], 32000);
    assert_eq!(sent["stop"], json!(["STOP"]));
    assert_eq!(sent["temperature"], 1.0);
    assert_eq!(sent["top_p"], 0.9);
    assert_eq!(sent["top_k"], 20);
    assert_eq!(sent["chat_template_kwargs"], json!({"enable_thinking": true}));
    for dropped in ["metadata", "thinking", "context_management", "output_config", "system", "stop_sequences"]
    {
        assert!(sent.get(dropped).is_none(), "{dropped} is not vLLM's: {sent}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn whole_answer_with_a_tool_call() {
    let env = env().await;
    env.standin.push_reply(Reply::text(CC_READ));
    let (status, body) = env.messages(&cc_request(false)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("msg_")), "{body}");
    assert_eq!(
        (&body["type"], &body["role"], &body["model"]),
        (&json!("message"), &json!("assistant"), &json!(MODEL))
    );
    assert_eq!(body["stop_reason"], "tool_use");
    assert_eq!(body["stop_sequence"], Value::Null);
    let content = body["content"].as_array().expect("content");
    assert_eq!(content[0], json!({"type": "text", "text": "Let me read it."}));
    assert_eq!(content[1]["type"], "tool_use");
    assert_eq!(content[1]["name"], "Read");
    assert_eq!(content[1]["input"], json!({"file_path": "/tmp/a.txt"}), "input is an object, not a string");
    assert_eq!(body["usage"]["input_tokens"], 10);
    assert!(body["usage"]["output_tokens"].is_u64());
    assert_eq!(body["usage"]["cache_read_input_tokens"], 0);
    assert_eq!(body["usage"]["cache_creation_input_tokens"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn streamed_tool_call_adds_up_to_the_whole_answer() {
    for stream_args in [false, true] {
        let env = env_with(Config { split_sse_lines: true, ..Config::default() }, |c| {
            c.stream_tool_arguments = stream_args;
        })
        .await;
        // The same pieces both times: the stand-in counts a token per piece.
        env.standin.push_reply(Reply::chunked(CC_READ, vec![3, 5, 1]));
        let (_, whole) = env.messages(&cc_request(false)).await;
        // Pieces of 3, 5 and 1 characters cut every tag.
        env.standin.push_reply(Reply::chunked(CC_READ, vec![3, 5, 1]));
        let response =
            env.messages_post("/v1/messages?beta=true").json(&cc_request(true)).send().await.expect("answer");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let events = frames(&response.text().await.expect("body"));
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).filter(|n| *n != "ping").collect();
        assert_eq!(names[0], "message_start");
        assert_eq!(&names[names.len() - 2..], ["message_delta", "message_stop"]);
        let start = &events[0].1["message"];
        assert_eq!((&start["model"], &start["content"]), (&json!(MODEL), &json!([])));
        let tool_start = events
            .iter()
            .find(|(n, d)| n == "content_block_start" && d["content_block"]["type"] == "tool_use");
        assert_eq!(tool_start.expect("a tool_use block").1["content_block"]["input"], json!({}));
        assert_eq!(
            numbered(accumulate(&events)),
            numbered(whole.clone()),
            "stream_tool_arguments = {stream_args}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_cut_off_by_the_limit_never_starts() {
    let cut = "Writing it.\n<tool_call>\n<function=Bash>\n<parameter=command>\necho hel";
    for stream_args in [false, true] {
        let env = env_with(Config::default(), |c| c.stream_tool_arguments = stream_args).await;
        let reply = || Reply::Text {
            text: cut.into(),
            chunks: vec![4],
            finish: "length",
            delay: Duration::ZERO,
            prompt_tokens: 10,
        };
        env.standin.push_reply(reply());
        let (status, whole) = env.messages(&cc_request(false)).await;
        assert_eq!(status, 200, "{whole}");
        assert_eq!(whole["stop_reason"], "max_tokens");
        assert_eq!(whole["content"], json!([{"type": "text", "text": "Writing it."}]));
        env.standin.push_reply(reply());
        let (_, text) = env.messages_stream(&cc_request(true)).await;
        let events = frames(&text);
        assert!(!text.contains("tool_use"), "no tool_use block is ever started: {text}");
        assert_eq!(numbered(accumulate(&events)), numbered(whole));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn thinking_streams_as_a_signed_thinking_block() {
    let env = env().await;
    let text = "<think>plan it</think>Four.";
    env.standin.push_reply(Reply::chunked(text, vec![2]));
    let (_, whole) = env.messages(&cc_request(false)).await;
    env.standin.push_reply(Reply::chunked(text, vec![2]));
    let (_, stream) = env.messages_stream(&cc_request(true)).await;
    let message = accumulate(&frames(&stream));
    assert_eq!(numbered(message.clone()), numbered(whole));
    let content = message["content"].as_array().expect("content");
    assert_eq!(content[0]["type"], "thinking", "{message}");
    assert_eq!(content[0]["thinking"], "plan it");
    assert!(content[0]["signature"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(content[1], json!({"type": "text", "text": "Four."}));
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(message["usage"]["input_tokens"], 10, "usage comes in message_delta");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_stream_gets_pings() {
    let env = env_with(Config::default(), |c| c.keepalive = Duration::from_millis(100)).await;
    env.standin.push_reply(Reply::stall_mid_stream("one two three four", 2, Duration::from_millis(450)));
    let (status, text) = env.messages_stream(&cc_request(true)).await;
    assert_eq!(status, 200);
    let events = frames(&text);
    assert!(events.iter().any(|(n, _)| n == "ping"), "{text}");
    assert!(!text.contains(": keep-alive"), "no chat keep-alive comments: {text}");
    assert_eq!(accumulate(&events)["content"][0]["text"], "one two three four");
}

#[tokio::test(flavor = "multi_thread")]
async fn tool_choice_maps_to_chats() {
    let env = env().await;
    for (choice, parallel) in [
        (json!({"type": "auto"}), None),
        (json!({"type": "none"}), None),
        (json!({"type": "tool", "name": "Read"}), None),
        (json!({"type": "auto", "disable_parallel_tool_use": true}), Some(false)),
    ] {
        env.standin.push_reply(Reply::text(CC_READ));
        let mut request = cc_request(false);
        request["tool_choice"] = choice.clone();
        let (status, body) = env.messages(&request).await;
        assert_eq!(status, 200, "{choice}: {body}");
        let sent = env.standin.last_chat_request().expect("sent");
        let called = body["content"].as_array().expect("content").iter().any(|b| b["type"] == "tool_use");
        match choice["type"].as_str() {
            Some("none") => assert!(!called && body["stop_reason"] == "end_turn", "{body}"),
            Some("tool") => {
                assert_eq!(sent["tools"].as_array().expect("tools").len(), 1, "only the named tool is sent");
                assert!(called);
                // Chat reports a forced named call as `stop`; Anthropic's API as `tool_use`.
                assert_eq!(body["stop_reason"], "tool_use", "{body}");
                env.standin.push_reply(Reply::text(CC_READ));
                let mut streamed = request.clone();
                streamed["stream"] = json!(true);
                let (_, text) = env.messages_stream(&streamed).await;
                let events = frames(&text);
                let stop: Vec<&Value> = events
                    .iter()
                    .filter(|(n, _)| n == "message_delta")
                    .map(|(_, d)| &d["delta"]["stop_reason"])
                    .collect();
                assert_eq!(stop, [&json!("tool_use")], "streamed");
            }
            _ => assert!(called),
        }
        assert!(
            parallel.is_none() || sent.get("parallel_tool_calls").is_none(),
            "the core applies it itself"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bearer_keys_and_the_name_asked_for() {
    let env = env().await;
    env.standin.push_reply(Reply::text("hi"));
    let response = env
        .client
        .post(format!("{}/v1/messages", env.url))
        .bearer_auth(KEY)
        .json(&json!({"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["model"], "claude-haiku-4-5");
    assert_eq!(body["content"], json!([{"type": "text", "text": "hi"}]));
    let sent = env.standin.last_chat_request().expect("sent");
    assert!(sent.get("chat_template_kwargs").is_none(), "no thinking asked, none set");
    let metrics = env
        .client
        .get(format!("{}/metrics", env.url))
        .header("x-api-key", KEY)
        .send()
        .await
        .expect("metrics");
    let metrics = metrics.text().await.expect("text");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("podctl_requests_total") && l.contains(r#"endpoint="messages""#)),
        "{metrics}"
    );
}

/// A last assistant turn is the start of the answer (Anthropic's prefill): vLLM continues it.
#[tokio::test(flavor = "multi_thread")]
async fn a_prefilled_answer_is_continued() {
    let env = env().await;
    env.standin.push_reply(Reply::text("4."));
    let request = json!({"model": MODEL, "max_tokens": 20, "messages": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "The answer is"}]});
    let (status, body) = env.messages(&request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["content"], json!([{"type": "text", "text": "4."}]));
    let sent = env.standin.last_chat_request().expect("sent");
    assert_eq!(
        (&sent["continue_final_message"], &sent["add_generation_prompt"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(sent["messages"][1], json!({"role": "assistant", "content": "The answer is"}));
    // An ordinary turn is not continued.
    env.standin.push_reply(Reply::text("ok"));
    let (status, _) = env.messages(&cc_request(false)).await;
    assert_eq!(status, 200);
    assert!(env.standin.last_chat_request().expect("sent").get("continue_final_message").is_none());
}

/// Claude Code's Read returns images as tool_result blocks: the model is told one was there.
#[tokio::test(flavor = "multi_thread")]
async fn an_image_in_a_tool_result_is_a_placeholder() {
    let env = env().await;
    env.standin.push_reply(Reply::text("ok"));
    let request = json!({"model": MODEL, "max_tokens": 20, "messages": [
        {"role": "user", "content": "look"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/a.png"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [
            {"type": "text", "text": "a picture:"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]}]}]});
    let (status, body) = env.messages(&request).await;
    assert_eq!(status, 200, "{body}");
    let sent = env.standin.last_chat_request().expect("sent");
    assert_eq!(
        sent["messages"][2],
        json!({"role": "tool", "tool_call_id": "toolu_1", "content": "a picture:\n[image omitted]"})
    );
}

/// `disable_parallel_tool_use`: only the first of the model's calls is returned.
#[tokio::test(flavor = "multi_thread")]
async fn disable_parallel_tool_use_keeps_the_first_call() {
    let env = env().await;
    let bash =
        "<tool_call>\n<function=Bash>\n<parameter=command>\nls\n</parameter>\n</function>\n</tool_call>";
    let two = format!("{CC_READ}\n{bash}");
    for (disable, expected) in [(false, 2), (true, 1)] {
        env.standin.push_reply(Reply::text(two.clone()));
        let mut request = cc_request(false);
        request["tool_choice"] = json!({"type": "auto", "disable_parallel_tool_use": disable});
        let (status, body) = env.messages(&request).await;
        assert_eq!(status, 200, "{body}");
        let calls: Vec<&Value> =
            body["content"].as_array().expect("content").iter().filter(|b| b["type"] == "tool_use").collect();
        assert_eq!(calls.len(), expected, "{body}");
        assert_eq!(calls[0]["name"], "Read");
    }
}

/// A system prompt sent as one string goes on as the client wrote it (escapes and all, it
/// reaches vLLM as the same text), alone or joined with the system entries of `messages`;
/// one that is neither a string nor blocks is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_system_string_reaches_vllm_as_the_same_text() {
    let env = env().await;
    let system = "Line one.\nLine \"two\" \\ é 😀\u{1}";
    let base = json!({"model": "claude-sonnet-4-5", "max_tokens": 64, "system": system,
        "messages": [{"role": "user", "content": "hi"}]});
    env.standin.push_reply(Reply::text("ok"));
    let (status, body) = env.messages(&base).await;
    assert_eq!(status, 200, "{body}");
    let sent = env.standin.last_chat_request().expect("vLLM was called");
    assert_eq!(sent["messages"][0], json!({"role": "system", "content": system}));
    let mut joined = base.clone();
    joined["messages"] = json!([{"role": "system", "content": "Extra."}, {"role": "user", "content": "hi"}]);
    env.standin.push_reply(Reply::text("ok"));
    let (status, body) = env.messages(&joined).await;
    assert_eq!(status, 200, "{body}");
    let sent = env.standin.last_chat_request().expect("vLLM was called");
    assert_eq!(sent["messages"][0]["content"], format!("{system}\n\nExtra."));
    let mut wrong = base;
    wrong["system"] = json!(5);
    let (status, body) = env.messages(&wrong).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("system")), "{body}");
}
