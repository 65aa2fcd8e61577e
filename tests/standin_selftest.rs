//! The vLLM stand-in (`tests/standin`) itself, driven with reqwest over real sockets: it must
//! behave as documented before the proxy's tests can trust it.

mod standin;

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{Value, json};
use standin::reply::pieces;
use standin::validate::{AUTO_NEEDS_PARSER, NAMED_NEEDS_PARSER, REQUIRED_NEEDS_PARSER};
use standin::{Config, DEFAULT_MODEL, GARBAGE, Reply, StandIn};

const TOOLS: &str = r#"[{"type": "function", "function": {"name": "read_file",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}]"#;

fn tools() -> Value {
    serde_json::from_str(TOOLS).expect("TOOLS is JSON")
}

fn chat(stream: bool) -> Value {
    json!({"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": stream})
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

async fn post(s: &StandIn, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", s.root_url()))
        .json(body)
        .send()
        .await
        .expect("stand-in answers")
}

/// Status, content type and JSON body.
async fn post_json(s: &StandIn, path: &str, body: &Value) -> (u16, String, Value) {
    let r = post(s, path, body).await;
    let status = r.status().as_u16();
    let content_type = content_type(&r);
    (status, content_type, r.json().await.expect("JSON body"))
}

fn content_type(r: &reqwest::Response) -> String {
    r.headers()[reqwest::header::CONTENT_TYPE].to_str().expect("ASCII content type").to_owned()
}

/// The body as the client's byte stream delivers it, and how it ended.
async fn frames(r: reqwest::Response) -> (Vec<Bytes>, Result<(), reqwest::Error>) {
    let mut stream = r.bytes_stream();
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(bytes) => out.push(bytes),
            Err(e) => return (out, Err(e)),
        }
    }
    (out, Ok(()))
}

/// The payloads of a complete SSE text, checking the `data: …\n\n` framing.
fn events(frames: &[Bytes]) -> Vec<String> {
    let text = String::from_utf8(frames.concat()).expect("UTF-8 stream");
    assert!(text.ends_with("\n\n"), "events end with a blank line: {text:?}");
    text.split_terminator("\n\n")
        .map(|e| e.strip_prefix("data: ").unwrap_or_else(|| panic!("not a data line: {e:?}")).to_owned())
        .collect()
}

/// The JSON chunks of a stream, which must end with `[DONE]`.
fn chunks(events: &[String]) -> Vec<Value> {
    let (last, rest) = events.split_last().expect("at least one event");
    assert_eq!(last, "[DONE]");
    rest.iter().map(|e| serde_json::from_str(e).expect("chunk is JSON")).collect()
}

async fn stream_chunks(s: &StandIn, path: &str, body: &Value) -> Vec<Value> {
    let r = post(s, path, body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(content_type(&r), "text/event-stream; charset=utf-8");
    let (frames, end) = frames(r).await;
    end.expect("stream ends cleanly");
    chunks(&events(&frames))
}

fn contents(chunks: &[Value]) -> Vec<&str> {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .filter(|t| !t.is_empty())
        .collect()
}

fn assert_flat_error(body: &Value, status: u16, kind: &str, message: &str) {
    assert_eq!(
        body,
        &json!({"object": "error", "message": message, "type": kind, "param": null, "code": status})
    );
}

#[test]
fn pieces_cycle_through_char_counts() {
    assert_eq!(pieces("abcdefghij", &[3, 5, 1]), ["abc", "defgh", "i", "j"]);
    assert_eq!(pieces("é✓🎉xy", &[2]), ["é✓", "🎉x", "y"]);
    assert_eq!(pieces("abc", &[]), ["abc"]);
    assert_eq!(pieces("abc", &[0, 2]), ["ab", "c"]);
    assert!(pieces("", &[4]).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn models_list_is_vllms_shape() {
    let s = StandIn::start().await;
    let r = reqwest::get(format!("{}/models", s.base_url())).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["object"], "list");
    let card = &body["data"][0];
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    for (key, want) in [
        ("id", json!(DEFAULT_MODEL)),
        ("object", json!("model")),
        ("owned_by", json!("vllm")),
        ("root", json!(DEFAULT_MODEL)),
        ("parent", Value::Null),
        ("max_model_len", json!(32768)),
    ] {
        assert_eq!(card[key], want, "{key}");
    }
    assert!(card["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(card["permission"][0]["object"], "model_permission");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_version_and_unknown_paths() {
    let s = StandIn::start().await;
    let health = reqwest::get(format!("{}/health", s.root_url())).await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.bytes().await.unwrap().is_empty());
    s.set_health(503);
    assert_eq!(reqwest::get(format!("{}/health", s.root_url())).await.unwrap().status(), 503);

    let version: Value =
        reqwest::get(format!("{}/version", s.root_url())).await.unwrap().json().await.unwrap();
    assert_eq!(version, json!({"version": "0.32.0"}));

    let missing = reqwest::get(format!("{}/nope", s.base_url())).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json::<Value>().await.unwrap(), json!({"detail": "Not Found"}));
    let wrong_method = reqwest::get(format!("{}/chat/completions", s.base_url())).await.unwrap();
    assert_eq!(wrong_method.status(), 405);
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_without_streaming_is_one_completion_object() {
    let s = StandIn::start().await;
    s.push_reply(Reply::chunked("Hello there, friend", vec![5]).prompt_tokens(42));
    let (status, content_type, body) = post_json(&s, "/v1/chat/completions", &chat(false)).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], DEFAULT_MODEL);
    assert!(body["created"].is_u64());
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], "Hello there, friend");
    assert_eq!(choice["message"]["tool_calls"], json!([]));
    assert_eq!(choice["message"]["reasoning_content"], Value::Null);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["stop_reason"], Value::Null);
    assert_eq!(choice["logprobs"], Value::Null);
    // Four 5-char pieces: four completion tokens.
    assert_eq!(body["usage"]["prompt_tokens"], 42);
    assert_eq!(body["usage"]["completion_tokens"], 4);
    assert_eq!(body["usage"]["total_tokens"], 46);
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_stream_has_vllms_event_order() {
    let s = StandIn::start().await;
    s.push_reply(Reply::chunked("<tool_call>\n<function=x>", vec![3, 5, 1]).prompt_tokens(7));
    let body = with(chat(true), "stream_options", json!({"include_usage": true}));
    let chunks = stream_chunks(&s, "/v1/chat/completions", &body).await;

    let id = chunks[0]["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"));
    for c in &chunks {
        assert_eq!(c["id"], id);
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["model"], DEFAULT_MODEL);
        assert_eq!(c["created"], chunks[0]["created"]);
    }
    let (first, rest) = chunks.split_first().unwrap();
    assert_eq!(first["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));
    assert_eq!(first["choices"][0]["finish_reason"], Value::Null);

    // Pieces of 3, 5, 1, 3, 5, … chars, cut mid-tag.
    let (usage, rest) = rest.split_last().unwrap();
    let (finish, text) = rest.split_last().unwrap();
    assert_eq!(contents(text), ["<to", "ol_ca", "l", "l>\n", "<func", "t", "ion", "=x>"]);
    for c in &chunks {
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        let usage_key = c["choices"] == json!([]);
        let want: &[&str] = if usage_key {
            &["id", "object", "created", "model", "choices", "usage"]
        } else {
            &["id", "object", "created", "model", "choices"]
        };
        assert_eq!(keys, want);
    }
    assert_eq!(
        text[0]["choices"][0],
        json!({"index": 0, "delta": {"content": "<to"}, "logprobs": null, "finish_reason": null})
    );
    assert!(text.iter().all(|c| c["choices"][0]["finish_reason"].is_null()));
    assert_eq!(
        finish["choices"][0],
        json!({"index": 0, "delta": {"content": ""}, "logprobs": null, "finish_reason": "stop", "stop_reason": null})
    );
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"], json!({"prompt_tokens": 7, "total_tokens": 15, "completion_tokens": 8}));
    assert!(chunks.iter().all(|c| c.get("usage").is_none() || c["choices"] == json!([])));
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_chunk_only_when_asked() {
    let s = StandIn::start().await;
    for options in [None, Some(json!({"include_usage": false})), Some(json!({}))] {
        let body = match options {
            Some(o) => with(chat(true), "stream_options", o),
            None => chat(true),
        };
        let chunks = stream_chunks(&s, "/v1/chat/completions", &body).await;
        assert!(chunks.iter().all(|c| c.get("usage").is_none()), "{body}");
        assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "stop");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_events_arrive_cut_mid_line() {
    let s = StandIn::start().await;
    let r =
        post(&s, "/v1/chat/completions", &with(chat(true), "stream_options", json!({"include_usage": true})))
            .await;
    let (frames, end) = frames(r).await;
    end.unwrap();
    let text = String::from_utf8(frames.concat()).unwrap();
    // Every event has a frame boundary strictly inside its `data:` line.
    let mut boundaries = frames.iter().scan(0, |at, f| {
        *at += f.len();
        Some(*at)
    });
    let mut start = 0;
    let mut count = 0;
    for event in text.split_terminator("\n\n") {
        let line_end = start + event.len();
        assert!(
            boundaries.any(|b| b > start + "data:".len() && b < line_end),
            "no cut inside event {event:?}"
        );
        start = line_end + 2;
        count += 1;
    }
    assert!(count >= 5 && frames.len() >= 2 * count, "{} frames for {count} events", frames.len());
    assert_eq!(chunks(&events(&frames)).len(), count - 1);

    let whole = StandIn::start_with(Config { split_sse_lines: false, ..Config::default() }).await;
    let chunks = stream_chunks(&whole, "/v1/chat/completions", &chat(true)).await;
    assert_eq!(contents(&chunks).concat(), "Hello! How can I help you today?");
}

#[tokio::test(flavor = "multi_thread")]
async fn length_finish_rides_on_the_last_piece() {
    let s = StandIn::start().await;
    s.push_reply(Reply::text("abcdefgh").length());
    let chunks = stream_chunks(&s, "/v1/chat/completions", &chat(true)).await;
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["delta"], json!({"content": "efgh"}));
    assert_eq!(last["choices"][0]["finish_reason"], "length");
    assert_eq!(contents(&chunks), ["abcd", "efgh"]);

    s.push_reply(Reply::text("abcdefgh").length());
    let (_, _, body) = post_json(&s, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(body["choices"][0]["finish_reason"], "length");
}

#[tokio::test(flavor = "multi_thread")]
async fn tools_with_auto_choice_get_vllms_400_even_when_streaming() {
    let s = StandIn::start().await;
    for stream in [false, true] {
        for choice in [None, Some(json!("auto"))] {
            let mut body = with(chat(stream), "tools", tools());
            if let Some(choice) = choice {
                body["tool_choice"] = choice;
            }
            let (status, content_type, error) = post_json(&s, "/v1/chat/completions", &body).await;
            assert_eq!((status, content_type.as_str()), (400, "application/json"), "{body}");
            assert_flat_error(&error, 400, "BadRequestError", AUTO_NEEDS_PARSER);
        }
    }
    assert_eq!(
        AUTO_NEEDS_PARSER,
        "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set"
    );
    assert_eq!(s.pending_replies(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn required_and_named_choices_are_refused_none_is_served() {
    let s = StandIn::start().await;
    let named = json!({"type": "function", "function": {"name": "read_file"}});
    for (choice, message) in [(json!("required"), REQUIRED_NEEDS_PARSER), (named, NAMED_NEEDS_PARSER)] {
        let body = with(with(chat(true), "tools", tools()), "tool_choice", choice);
        let (status, _, error) = post_json(&s, "/v1/chat/completions", &body).await;
        assert_eq!(status, 400);
        assert_flat_error(&error, 400, "BadRequestError", message);
    }
    let none = with(with(chat(false), "tools", tools()), "tool_choice", json!("none"));
    assert_eq!(post_json(&s, "/v1/chat/completions", &none).await.0, 200);
    // An empty tool list is no tools (and makes `required` mean `none`).
    let empty = with(chat(false), "tools", json!([]));
    assert_eq!(post_json(&s, "/v1/chat/completions", &empty).await.0, 200);
    let required_empty = with(empty, "tool_choice", json!("required"));
    assert_eq!(post_json(&s, "/v1/chat/completions", &required_empty).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn tool_choice_schema_errors() {
    let s = StandIn::start().await;
    let auto_without_tools = with(chat(false), "tool_choice", json!("auto"));
    let unknown_function = with(
        with(chat(false), "tools", tools()),
        "tool_choice",
        json!({"type": "function", "function": {"name": "nope"}}),
    );
    let bad_value = with(with(chat(false), "tools", tools()), "tool_choice", json!("sometimes"));
    for (body, needle) in [
        (auto_without_tools, "`tools` must be set"),
        (unknown_function, "does not match any of the specified `tools`"),
        (bad_value, "Invalid value for `tool_choice`"),
    ] {
        let (status, _, error) = post_json(&s, "/v1/chat/completions", &body).await;
        assert_eq!(status, 400, "{body}");
        assert!(error["message"].as_str().unwrap().contains(needle), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_model_is_404_absent_model_is_the_served_one() {
    let s = StandIn::start().await;
    for path in ["/v1/chat/completions", "/v1/completions"] {
        let body = json!({"model": "gpt-4o", "messages": [], "prompt": "x", "stream": true});
        let (status, content_type, error) = post_json(&s, path, &body).await;
        assert_eq!((status, content_type.as_str()), (404, "application/json"));
        assert_flat_error(&error, 404, "NotFoundError", "The model `gpt-4o` does not exist.");
    }
    let mut body = chat(false);
    body.as_object_mut().unwrap().remove("model");
    assert_eq!(post_json(&s, "/v1/chat/completions", &body).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_bodies_are_400() {
    let s = StandIn::start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", s.base_url());
    let valid = chat(false).to_string();
    for (content_type, body) in [
        ("application/json", "{not json"),
        ("application/json", "{\"model\": \"x\"}"),
        ("application/json", "[]"),
        // FastAPI reads a body as JSON only with no content type or a JSON one.
        ("text/plain", valid.as_str()),
    ] {
        let r = client
            .post(&url)
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let error: Value = r.json().await.unwrap();
        assert_eq!(error["object"], "error");
        assert_eq!(error["code"], 400);
    }
    for content_type in [None, Some("application/json; charset=utf-8")] {
        let mut request = client.post(&url).body(valid.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        assert_eq!(request.send().await.unwrap().status(), 200, "{content_type:?}");
    }
    let options_without_stream = with(chat(false), "stream_options", json!({"include_usage": true}));
    assert_eq!(post_json(&s, "/v1/chat/completions", &options_without_stream).await.0, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn history_arguments_must_be_json_object_strings() {
    let s = StandIn::start().await;
    let with_arguments = |arguments: Value| {
        let mut call = json!({"id": "c1", "type": "function", "function": {"name": "read_file"}});
        // Null stands for "no arguments field".
        if !arguments.is_null() {
            call["function"]["arguments"] = arguments;
        }
        with(
            chat(false),
            "messages",
            json!([{"role": "user", "content": "read a"},
                {"role": "assistant", "content": null, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": "file a"},
                {"role": "user", "content": "thanks"}]),
        )
    };
    for good in [json!(r#"{"path": "a"}"#), json!("")] {
        assert_eq!(
            post_json(&s, "/v1/chat/completions", &with_arguments(good.clone())).await.0,
            200,
            "{good}"
        );
    }
    for bad in [json!(r#"{"path": "a""#), json!("[1, 2]"), json!("\"a\""), json!({"path": "a"}), Value::Null]
    {
        let (status, _, error) = post_json(&s, "/v1/chat/completions", &with_arguments(bad.clone())).await;
        assert_eq!(status, 400, "{bad}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("messages[1].tool_calls[0].function.arguments"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_are_used_in_order_then_the_default() {
    let s = StandIn::start_with(Config { default_reply: Reply::text("default"), ..Config::default() }).await;
    s.push_reply(Reply::text("one"));
    s.push_reply(Reply::text("two"));
    // A rejected request does not use up a reply.
    assert_eq!(post_json(&s, "/v1/chat/completions", &with(chat(false), "tools", tools())).await.0, 400);
    assert_eq!(s.pending_replies(), 2);
    for want in ["one", "two", "default", "default"] {
        let (_, _, body) = post_json(&s, "/v1/chat/completions", &chat(false)).await;
        assert_eq!(body["choices"][0]["message"]["content"], want);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn error_replies_are_plain_json_even_when_streaming() {
    let s = StandIn::start().await;
    s.push_reply(Reply::context_length_error());
    s.push_reply(Reply::error(500, "EngineCore died"));
    let (status, content_type, error) = post_json(&s, "/v1/chat/completions", &chat(true)).await;
    assert_eq!((status, content_type.as_str()), (400, "application/json"));
    assert!(error["message"].as_str().unwrap().contains("maximum context length"));
    assert_eq!(error["type"], "BadRequestError");
    let (status, _, error) = post_json(&s, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(status, 500);
    assert_flat_error(&error, 500, "InternalServerError", "EngineCore died");

    let nested = StandIn::start_with(Config { nested_errors: true, ..Config::default() }).await;
    nested.push_reply(Reply::error(400, "bad"));
    let (_, _, error) = post_json(&nested, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(
        error,
        json!({"error": {"message": "bad", "type": "BadRequestError", "param": null, "code": 400}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_mid_stream_cuts_the_connection() {
    let s = StandIn::start().await;
    s.push_reply(Reply::drop_mid_stream("abcdefghijkl", 2));
    let r =
        post(&s, "/v1/chat/completions", &with(chat(true), "stream_options", json!({"include_usage": true})))
            .await;
    assert_eq!(r.status(), 200);
    let (frames, end) = frames(r).await;
    assert!(end.is_err(), "the body must end in an error, not cleanly");
    let events = events(&frames);
    assert_eq!(events.len(), 3, "{events:?}");
    let chunks: Vec<Value> = events.iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    assert_eq!(contents(&chunks), ["abcd", "efgh"]);
    assert!(chunks.iter().all(|c| c["choices"][0]["finish_reason"].is_null()));

    s.push_reply(Reply::drop_mid_stream("abcdefghijkl", 2));
    let r = post(&s, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.is_err());
    // A scripted drop is not a client going away.
    assert_eq!(s.cancelled(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn stall_holds_back_even_the_headers() {
    let s = StandIn::start().await;
    let stall = Duration::from_millis(300);
    for stream in [true, false] {
        s.push_reply(Reply::stall(stall, Reply::text("late")));
        let started = Instant::now();
        let r = post(&s, "/v1/chat/completions", &chat(stream)).await;
        assert!(started.elapsed() >= stall, "headers after {:?}", started.elapsed());
        assert_eq!(r.status(), 200);
    }
    s.push_reply(Reply::stall(stall, Reply::error(503, "busy")));
    assert_eq!(post(&s, "/v1/chat/completions", &chat(true)).await.status(), 503);
}

#[tokio::test(flavor = "multi_thread")]
async fn stall_mid_stream_goes_silent_between_pieces() {
    let s = StandIn::start().await;
    // A long pause: the first two pieces come, then nothing.
    s.push_reply(Reply::stall_mid_stream("abcdefghijkl", 2, Duration::from_secs(30)));
    let r = post(&s, "/v1/chat/completions", &chat(true)).await;
    let mut stream = r.bytes_stream();
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("efgh") {
        let frame = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap();
        seen.extend_from_slice(&frame.unwrap().unwrap());
    }
    let before = events(&[Bytes::from(seen)]);
    let chunks: Vec<Value> = before.iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    assert_eq!(contents(&chunks), ["abcd", "efgh"]);
    assert!(tokio::time::timeout(Duration::from_millis(200), stream.next()).await.is_err(), "silent");
    drop(stream);

    // A short pause: the stream then goes on to the end.
    let pause = Duration::from_millis(200);
    s.push_reply(Reply::stall_mid_stream("abcdefghijkl", 2, pause));
    let started = Instant::now();
    let chunks = stream_chunks(&s, "/v1/chat/completions", &chat(true)).await;
    assert!(started.elapsed() >= pause);
    assert_eq!(contents(&chunks), ["abcd", "efgh", "ijkl"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn text_delay_paces_the_pieces() {
    let s = StandIn::start().await;
    let delay = Duration::from_millis(100);
    s.push_reply(Reply::text("abcdefghijkl").delay(delay));
    let started = Instant::now();
    let chunks = stream_chunks(&s, "/v1/chat/completions", &chat(true)).await;
    assert!(started.elapsed() >= 2 * delay);
    assert_eq!(contents(&chunks), ["abcd", "efgh", "ijkl"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_is_not_json() {
    let s = StandIn::start().await;
    s.push_reply(Reply::Garbage);
    let r = post(&s, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    s.push_reply(Reply::Garbage);
    let r = post(&s, "/v1/chat/completions", &chat(true)).await;
    let (frames, end) = frames(r).await;
    end.unwrap();
    let events = events(&frames);
    assert_eq!(events[1], GARBAGE);
    assert!(serde_json::from_str::<Value>(&events[1]).is_err());
    assert_eq!(events.last().unwrap(), "[DONE]");
}

#[tokio::test(flavor = "multi_thread")]
async fn client_going_away_mid_stream_counts_as_cancelled() {
    let s = StandIn::start().await;
    s.push_reply(Reply::text("a long answer that takes a while").delay(Duration::from_millis(50)));
    let r = post(&s, "/v1/chat/completions", &chat(true)).await;
    let mut stream = r.bytes_stream();
    stream.next().await.unwrap().unwrap();
    assert_eq!(s.cancelled(), 0);
    drop(stream);
    assert!(s.wait_cancelled(1, Duration::from_secs(2)).await, "the stand-in saw the client go");
    assert_eq!(s.cancelled(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_going_away_is_noticed_while_the_upstream_is_silent() {
    let s = StandIn::start().await;
    // 30 s before the next write: only a read-side EOF can reveal the client left.
    s.push_reply(Reply::stall_mid_stream("abcdefghijkl", 1, Duration::from_secs(30)));
    let r = post(&s, "/v1/chat/completions", &chat(true)).await;
    let mut stream = r.bytes_stream();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    assert!(s.wait_cancelled(1, Duration::from_secs(1)).await, "cancelled: {}", s.cancelled());
}

#[tokio::test(flavor = "multi_thread")]
async fn client_going_away_during_a_stall_counts_as_cancelled() {
    let s = StandIn::start().await;
    for stream in [true, false] {
        s.push_reply(Reply::stall(Duration::from_secs(30), Reply::text("never")));
        let client = reqwest::Client::builder().timeout(Duration::from_millis(100)).build().unwrap();
        let sent = client.post(format!("{}/chat/completions", s.base_url())).json(&chat(stream)).send().await;
        assert!(sent.unwrap_err().is_timeout());
    }
    assert!(s.wait_cancelled(2, Duration::from_secs(2)).await, "cancelled: {}", s.cancelled());
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_responses_are_not_cancelled() {
    let s = StandIn::start().await;
    let body = with(chat(true), "stream_options", json!({"include_usage": true}));
    stream_chunks(&s, "/v1/chat/completions", &body).await;
    post_json(&s, "/v1/chat/completions", &chat(false)).await;
    stream_chunks(&s, "/v1/completions", &json!({"prompt": "x", "stream": true})).await;
    assert_eq!(s.cancelled(), 0);
    assert!(!s.wait_cancelled(1, Duration::from_millis(50)).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_key_guards_v1_only_like_vllm() {
    let s = StandIn::start_with(Config { require_key: Some("sekret".into()), ..Config::default() }).await;
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", s.base_url());
    for auth in [None, Some("Bearer wrong"), Some("sekret"), Some("Bearer ")] {
        let mut request = client.post(&url).json(&chat(false));
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 401, "{auth:?}");
        assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "Unauthorized"}));
    }
    let ok = client.post(&url).bearer_auth("sekret").json(&chat(false)).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(client.get(format!("{}/health", s.root_url())).send().await.unwrap().status(), 200);
    assert_eq!(client.get(format!("{}/version", s.root_url())).send().await.unwrap().status(), 200);
    assert_eq!(client.get(format!("{}/models", s.base_url())).send().await.unwrap().status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_is_recorded() {
    let s = StandIn::start().await;
    let client = reqwest::Client::new();
    let body = with(chat(false), "top_k", json!(20));
    client
        .post(format!("{}/chat/completions?x=1", s.base_url()))
        .header("X-Custom", "yes")
        .bearer_auth("k")
        .json(&body)
        .send()
        .await
        .unwrap();
    client.post(format!("{}/tokenize", s.root_url())).body("not json").send().await.unwrap();
    reqwest::get(format!("{}/health", s.root_url())).await.unwrap();

    let seen = s.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/v1/chat/completions"));
    assert_eq!(seen[0].query.as_deref(), Some("x=1"));
    assert_eq!(seen[0].header("x-custom"), Some("yes"));
    assert_eq!(seen[0].header("authorization"), Some("Bearer k"));
    assert_eq!(seen[0].body, body);
    assert_eq!(seen[1].body, Value::Null);
    assert_eq!(&seen[1].raw_body[..], b"not json");
    assert_eq!((seen[2].method.as_str(), seen[2].path.as_str()), ("GET", "/health"));
    assert_eq!(s.last_chat_request(), Some(body));
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_answer_with_text_streaming_or_not() {
    let s = StandIn::start().await;
    s.push_reply(Reply::chunked("fn main() {}", vec![5]));
    let (status, _, body) =
        post_json(&s, "/v1/completions", &json!({"prompt": "<|fim_prefix|>", "max_tokens": 9})).await;
    assert_eq!(status, 200);
    assert!(body["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["choices"][0]["text"], "fn main() {}");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["completion_tokens"], 3);

    s.push_reply(Reply::chunked("fn main() {}", vec![5]));
    let request = json!({"model": DEFAULT_MODEL, "prompt": "x", "stream": true,
        "stream_options": {"include_usage": true}});
    let chunks = stream_chunks(&s, "/v1/completions", &request).await;
    let texts: Vec<&str> = chunks.iter().filter_map(|c| c["choices"][0]["text"].as_str()).collect();
    assert_eq!(texts, ["fn ma", "in() ", "{}", ""]);
    assert!(chunks.iter().all(|c| c["object"] == "text_completion"));
    assert_eq!(chunks[3]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[4]["choices"], json!([]));
    assert_eq!(chunks[4]["usage"]["completion_tokens"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn embeddings_and_tokenizer_endpoints() {
    let s = StandIn::start().await;
    let (status, _, body) = post_json(&s, "/v1/embeddings", &json!({"input": ["a", "b"]})).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], DEFAULT_MODEL);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!((data[1]["object"].as_str(), data[1]["index"].as_u64()), (Some("embedding"), Some(1)));
    assert_eq!(data[0]["embedding"].as_array().unwrap().len(), standin::EMBEDDING_DIM);
    assert_ne!(data[0]["embedding"], data[1]["embedding"]);
    assert_eq!(body["usage"]["prompt_tokens"], 2);

    let (status, _, tokens) =
        post_json(&s, "/tokenize", &json!({"model": DEFAULT_MODEL, "prompt": "héllo"})).await;
    assert_eq!(status, 200);
    assert_eq!(tokens["count"], 6);
    assert_eq!(tokens["max_model_len"], 32768);
    let (_, _, text) = post_json(&s, "/detokenize", &json!({"tokens": tokens["tokens"]})).await;
    assert_eq!(text, json!({"prompt": "héllo"}));
    assert_eq!(post_json(&s, "/tokenize", &json!({"model": "other", "prompt": "x"})).await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_is_graceful_and_frees_the_port() {
    let s = StandIn::start().await;
    let url = format!("{}/models", s.base_url());
    let client = reqwest::Client::new();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    // The client's idle keep-alive connection must not hold up the stop.
    let started = Instant::now();
    s.stop().await;
    assert!(started.elapsed() < Duration::from_secs(4), "stop took {:?}", started.elapsed());
    assert!(reqwest::Client::new().get(&url).send().await.is_err());
}
