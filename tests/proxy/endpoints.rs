//! Auth, models, health and the pass-through endpoints.

use serde_json::{Value, json};

use crate::harness::{ALIAS, Env, continue_request};
use crate::standin::{Config, DEFAULT_MODEL, Reply};

#[tokio::test(flavor = "multi_thread")]
async fn auth_on_everything_but_health() {
    let env = Env::with(Config::default(), |c| c.keys = vec!["sk-good".into(), "sk-other".into()]).await;
    let url = format!("{}/v1/models", env.url);
    let none = env.client.get(&url).send().await.expect("answer");
    assert_eq!(none.status().as_u16(), 401);
    let body: Value = none.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], 401);
    let wrong = env.client.get(&url).bearer_auth("sk-bad").send().await.expect("answer");
    assert_eq!(wrong.status().as_u16(), 401);
    let text = wrong.text().await.expect("body");
    assert!(!text.contains("sk-bad") && !text.contains("sk-good"), "keys never echoed: {text}");
    for key in ["sk-good", "sk-other"] {
        assert_eq!(
            env.client.get(&url).bearer_auth(key).send().await.expect("answer").status().as_u16(),
            200
        );
    }
    let chat = env
        .client
        .post(format!("{}/v1/chat/completions", env.url))
        .json(&json!({}))
        .send()
        .await
        .expect("answer");
    assert_eq!(chat.status().as_u16(), 401);
    for path in ["/health", "/health/ready"] {
        let response = env.client.get(format!("{}{path}", env.url)).send().await.expect("answer");
        assert_eq!(response.status().as_u16(), 200, "{path} needs no key");
    }
}

/// Anthropic's clients send the key as `x-api-key`: the same keys, the same checks.
#[tokio::test(flavor = "multi_thread")]
async fn the_key_may_come_as_x_api_key() {
    let env = Env::with(Config::default(), |c| c.keys = vec!["sk-good".into()]).await;
    let url = format!("{}/v1/models", env.url);
    let status =
        |request: reqwest::RequestBuilder| async { request.send().await.expect("answer").status().as_u16() };
    assert_eq!(status(env.client.get(&url).header("x-api-key", "sk-good")).await, 200);
    assert_eq!(
        status(env.client.get(&url).header("x-api-key", " sk-good ")).await,
        200,
        "trimmed like Bearer"
    );
    assert_eq!(status(env.client.get(&url).header("x-api-key", "sk-bad")).await, 401);
    assert_eq!(status(env.client.get(&url).header("x-api-key", "")).await, 401);
    // A Bearer header is read first: a wrong one is refused whatever x-api-key says.
    let both = env.client.get(&url).bearer_auth("sk-bad").header("x-api-key", "sk-good");
    assert_eq!(status(both).await, 401);
    let missing: Value = env.client.get(&url).send().await.expect("answer").json().await.expect("JSON");
    let message = missing["error"]["message"].as_str().expect("message");
    assert!(message.contains("x-api-key"), "the hint names both ways: {message}");
}

/// Claude Code and Codex ask for names the pod does not serve (`claude-sonnet-…`, `gpt-5…`):
/// alias patterns map them to a served model, and the answer names what was asked for.
#[tokio::test(flavor = "multi_thread")]
async fn alias_patterns_map_the_names_agents_ask_for() {
    let env =
        Env::with(Config::default(), |c| c.models[0].aliases = vec!["claude-*".into(), "gpt-5*".into()])
            .await;
    for asked in ["claude-sonnet-4-5-20250929", "gpt-5.1-codex"] {
        env.standin.push_reply(Reply::text("mapped"));
        let mut request = continue_request(false);
        request["model"] = json!(asked);
        let (status, body) = env.chat(&request).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["model"], asked, "the answer names the model asked for");
        assert_eq!(env.standin.last_chat_request().expect("sent")["model"], DEFAULT_MODEL);
    }
    let mut other = continue_request(false);
    other["model"] = json!("llama-4");
    let (status, body) = env.chat(&other).await;
    assert_eq!(status, 404, "no pattern matches: {body}");
    // Patterns are not names a client can list.
    let list: Value = env.get("/v1/models").send().await.expect("answer").json().await.expect("JSON");
    let ids: Vec<&str> =
        list["data"].as_array().expect("data").iter().filter_map(|m| m["id"].as_str()).collect();
    assert!(ids.iter().all(|id| !id.contains('*')), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn models_lists_alias_and_upstream_id_and_both_work() {
    let env = Env::start().await;
    let list: Value = env.get("/v1/models").send().await.expect("answer").json().await.expect("JSON");
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> =
        list["data"].as_array().expect("data").iter().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(ids, [ALIAS, DEFAULT_MODEL]);
    assert!(list["data"][0]["max_model_len"].is_u64(), "upstream details kept on the alias");
    env.standin.push_reply(Reply::text("by id"));
    let (status, body) =
        env.chat(&json!({"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "x"}]})).await;
    assert_eq!(status, 200);
    assert_eq!(body["model"], DEFAULT_MODEL);
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_readiness() {
    let env = Env::start().await;
    let health = env.client.get(format!("{}/health", env.url)).send().await.expect("answer");
    assert_eq!(health.status().as_u16(), 200);
    let ready = env.client.get(format!("{}/health/ready", env.url)).send().await.expect("answer");
    assert_eq!(ready.status().as_u16(), 200);
    env.standin.set_health(503);
    let ready = env.client.get(format!("{}/health/ready", env.url)).send().await.expect("answer");
    assert_eq!(ready.status().as_u16(), 503);
    let body: Value = ready.json().await.expect("JSON");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| m.contains("503") && m.contains("starting")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pass_through_endpoints_map_the_model() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text("fn main() {}"));
    let completion: Value = env
        .post_json("/v1/completions", &json!({"model": ALIAS, "prompt": "<|fim_prefix|>fn", "max_tokens": 8}))
        .await;
    assert_eq!(completion["choices"][0]["text"], "fn main() {}");
    let sent = env.standin.requests().into_iter().rev().find(|r| r.path == "/v1/completions").expect("sent");
    assert_eq!(sent.body["model"], DEFAULT_MODEL);

    // Streaming autocomplete is passed through as a stream.
    env.standin.push_reply(Reply::chunked("let x = 1;", vec![3]));
    let text = env
        .post("/v1/completions")
        .json(&json!({"model": ALIAS, "prompt": "p", "stream": true}))
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("body");
    let events = crate::harness::parse_sse(&text);
    let joined: String =
        events.iter().filter_map(|e| e.get("choices")?.get(0)?.get("text")?.as_str()).collect();
    assert_eq!(joined, "let x = 1;");
    assert_eq!(events.last(), Some(&json!("[DONE]")));

    let embedding: Value = env.post_json("/v1/embeddings", &json!({"model": ALIAS, "input": "hello"})).await;
    assert_eq!(embedding["data"][0]["object"], "embedding");
    let tokens: Value = env.post_json("/tokenize", &json!({"model": ALIAS, "prompt": "hi"})).await;
    assert!(tokens["count"].is_u64());
    let text: Value = env.post_json("/detokenize", &json!({"model": ALIAS, "tokens": [1, 2]})).await;
    assert!(text["prompt"].is_string());
    let version: Value = env.get("/version").send().await.expect("answer").json().await.expect("JSON");
    assert_eq!(version["version"], "0.32.0");
}

/// A burst on a cold proxy learns the upstream's model id with one lookup: the requests that
/// come while it runs wait for it (they each used to ask `/v1/models` themselves).
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_on_a_cold_proxy_asks_for_the_model_once() {
    let slow = Config { models_delay: std::time::Duration::from_millis(200), ..Config::default() };
    let env = Env::with(slow, |_| {}).await;
    let body = json!({"model": ALIAS, "messages": [{"role": "user", "content": "hi"}]});
    let answers = futures_util::future::join_all((0..32).map(|_| env.chat(&body))).await;
    assert!(answers.iter().all(|(status, _)| *status == 200), "{answers:?}");
    let lookups = env.standin.requests().iter().filter(|r| r.path == "/v1/models").count();
    assert_eq!(lookups, 1, "one lookup for the burst");
}
