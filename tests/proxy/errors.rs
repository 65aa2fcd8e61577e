//! Every error the proxy can meet, always in the OpenAI shape.

use serde_json::{Value, json};

use crate::harness::{Env, config, continue_request};
use crate::standin::{Reply, StandIn};

/// Checks the OpenAI error shape `{"error": {"message", "type", "param", "code"}}` and
/// returns the message.
/// Anthropic's error shape (`/v1/messages`): `{"type": "error", "error": {"type", "message"}}`;
/// returns the message.
pub(crate) fn assert_anthropic_error(body: &Value) -> String {
    assert_eq!(body["type"], "error", "Anthropic error shape: {body}");
    assert!(body["error"]["type"].is_string(), "{body}");
    body["error"]["message"].as_str().expect("message").to_owned()
}

pub(crate) fn assert_openai_error(body: &Value, status: u16) -> String {
    let error = &body["error"];
    assert!(error.is_object(), "OpenAI error shape: {body}");
    assert_eq!(error["code"], status, "{body}");
    assert!(error["type"].is_string(), "{body}");
    assert!(error.get("param").is_some_and(|p| p.is_null() || p.is_string()), "{body}");
    error["message"].as_str().expect("message").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn vllm_flat_errors_are_rewritten_with_status_and_message() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::context_length_error());
    env.standin.push_reply(Reply::context_length_error());
    let (status, body) = env.chat(&continue_request(false)).await;
    assert_eq!(status, 400);
    assert!(assert_openai_error(&body, 400).contains("maximum context length"), "{body}");
    // With stream: true, vLLM's 400 is plain JSON and so is ours (no SSE for a refused request).
    let response =
        env.post("/v1/chat/completions").json(&continue_request(true)).send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert!(assert_openai_error(&body, 400).contains("maximum context length"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_upstream_is_a_502_with_a_hint() {
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let standin = StandIn::start().await;
    let env = Env::serve(standin, config(format!("http://127.0.0.1:{port}/v1"))).await;
    let (status, body) = env.chat(&continue_request(false)).await;
    assert_eq!(status, 502);
    let message = assert_openai_error(&body, 502);
    assert!(message.contains("podctl status") && message.contains(&port.to_string()), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_dropping_mid_stream_gives_an_error_event_and_no_done() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::drop_mid_stream(crate::harness::READ_CALL, 4));
    let (status, events) = env.chat_stream(&continue_request(true)).await;
    assert_eq!(status, 200);
    assert!(!events.contains(&json!("[DONE]")), "a broken stream must not look complete: {events:?}");
    let last = events.last().expect("events");
    assert!(last.get("error").is_some(), "ends with an error event: {last}");
    assert!(events.iter().all(|e| {
        e.get("choices")
            .and_then(|c| c.get(0))
            .and_then(|c| c.get("finish_reason"))
            .is_none_or(Value::is_null)
    }));
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_from_upstream() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::Garbage);
    env.standin.push_reply(Reply::Garbage);
    let (status, body) = env.chat(&continue_request(false)).await;
    assert_eq!(status, 502);
    assert!(assert_openai_error(&body, 502).contains("not JSON"));
    let (status, events) = env.chat_stream(&continue_request(true)).await;
    assert_eq!(status, 200);
    assert!(events.last().is_some_and(|e| e.get("error").is_some()), "{events:?}");
    assert!(!events.contains(&json!("[DONE]")));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_4xx_naming_the_problem() {
    let env = Env::start().await;
    let response = env.post("/v1/chat/completions").body("{\"messages\": [").send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert!(assert_openai_error(&body, 400).contains("not valid JSON"));

    let (status, body) = env.chat(&json!({"model": "qwen3-coder-30b", "messages": "hello"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "messages");

    // Over the 1 MiB limit the harness sets.
    let huge = json!({"messages": [{"role": "user", "content": "x".repeat(2 << 20)}]});
    let response = env.post("/v1/chat/completions").json(&huge).send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 413);
    let body: Value = response.json().await.expect("JSON");
    assert!(assert_openai_error(&body, 413).contains("larger than"));

    let (status, body) =
        env.chat(&json!({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]})).await;
    assert_eq!(status, 404);
    let message = assert_openai_error(&body, 404);
    assert!(message.contains("gpt-4") && message.contains("qwen3-coder-30b"), "{message}");

    let response = env.get("/v1/nothing").send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 404);
    assert_openai_error(&response.json().await.expect("JSON"), 404);

    // The proxy is still fine.
    env.standin.push_reply(Reply::text("still here"));
    let (status, body) = env.chat(&continue_request(false)).await;
    assert_eq!((status, body["choices"][0]["message"]["content"].as_str()), (200, Some("still here")));
}

#[tokio::test(flavor = "multi_thread")]
async fn vllm_refusing_the_proxys_key_is_a_502_naming_the_setting() {
    let config =
        crate::standin::Config { require_key: Some("vllm-key".into()), ..crate::standin::Config::default() };
    let env = Env::with(config, |_| {}).await;
    let (status, body) = env.chat(&continue_request(false)).await;
    assert_eq!(status, 502, "{body}");
    assert!(assert_openai_error(&body, 502).contains("PODCTL_UPSTREAM_API_KEY"));
}

#[tokio::test(flavor = "multi_thread")]
async fn models_with_vllm_down_is_an_error_not_an_empty_list() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let mut config = config(format!("http://127.0.0.1:{port}/v1"));
    config.models[0].name = None;
    let env = Env::serve(StandIn::start().await, config).await;
    let response = env.get("/v1/models").send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 502);
    assert!(assert_openai_error(&response.json().await.expect("JSON"), 502).contains("podctl status"));
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_methods_and_bearer_spelling() {
    let env = Env::with(crate::standin::Config::default(), |c| c.keys = vec!["k".into()]).await;
    let response = env.client.post(format!("{}/health", env.url)).send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 405);
    assert_openai_error(&response.json().await.expect("JSON"), 405);
    let response = env
        .client
        .get(format!("{}/v1/models", env.url))
        .header("authorization", "BEARER k")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 200, "the auth scheme is case-insensitive");
}
