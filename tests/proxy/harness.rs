//! Starts a stand-in upstream and the proxy in front of it, and speaks to the proxy.

use std::time::Duration;

use podctl::proxy::ProxyConfig;
use podctl::proxy::config::ModelConfig;
use podctl::toolcall::Format;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::standin::{Config, StandIn};

pub(crate) const ALIAS: &str = "qwen3-coder-30b";

pub(crate) struct Env {
    pub(crate) standin: StandIn,
    /// `http://127.0.0.1:PORT` of the proxy.
    pub(crate) url: String,
    pub(crate) client: reqwest::Client,
    pub(crate) shutdown: CancellationToken,
    pub(crate) server: JoinHandle<std::io::Result<()>>,
    pub(crate) key: Option<String>,
}

/// The proxy's defaults, serving [`ALIAS`] from `upstream`, with a 1 MiB body limit and a
/// 5 s grace (the tests bind their own port).
pub(crate) fn config(upstream: String) -> ProxyConfig {
    ProxyConfig {
        port: 0,
        models: vec![ModelConfig::single(Some(ALIAS.into()), upstream, None, Format::Qwen3Coder)],
        max_body: 1 << 20,
        grace: Duration::from_secs(5),
        ..ProxyConfig::default()
    }
}

impl Env {
    pub(crate) async fn start() -> Self {
        Self::with(Config::default(), |_| {}).await
    }

    pub(crate) async fn with(standin: Config, tweak: impl FnOnce(&mut ProxyConfig)) -> Self {
        let standin = StandIn::start_with(standin).await;
        let mut config = config(standin.base_url());
        tweak(&mut config);
        Self::serve(standin, config).await
    }

    pub(crate) async fn serve(standin: StandIn, config: ProxyConfig) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let key = config.keys.first().cloned();
        // Two event loops, as `podctl proxy` runs on a 2-core machine: each test's
        // connections land on either, and the stop must end both.
        let hooks = podctl::proxy::Hooks { loops: 2, ..podctl::proxy::Hooks::default() };
        let server =
            tokio::spawn(async move { podctl::proxy::serve_with(listener, &config, token, hooks).await });
        Self { standin, url, client: reqwest::Client::new(), shutdown, server, key }
    }

    pub(crate) fn post(&self, path: &str) -> reqwest::RequestBuilder {
        let builder = self.client.post(format!("{}{path}", self.url));
        match &self.key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    pub(crate) fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let builder = self.client.get(format!("{}{path}", self.url));
        match &self.key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    /// POSTs `body` to `path` and returns the JSON answer.
    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Value {
        self.post(path).json(body).send().await.expect("proxy answers").json().await.expect("JSON body")
    }

    /// A non-streaming chat request: status and JSON body.
    pub(crate) async fn chat(&self, body: &Value) -> (u16, Value) {
        let response = self.post("/v1/chat/completions").json(body).send().await.expect("proxy answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// A streaming chat request: status and the SSE events (JSON payloads, `[DONE]` as a
    /// string, comments as `: …` strings).
    pub(crate) async fn chat_stream(&self, body: &Value) -> (u16, Vec<Value>) {
        let response = self.post("/v1/chat/completions").json(body).send().await.expect("proxy answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, parse_sse(&text))
    }
}

pub(crate) fn parse_sse(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|event| match event.strip_prefix("data: ") {
            Some("[DONE]") => json!("[DONE]"),
            Some(data) => serde_json::from_str(data).unwrap_or_else(|e| panic!("bad event {data:?}: {e}")),
            None => json!(event),
        })
        .collect()
}

/// Continue.dev-like tools (9 of them in the real IDE; these cover every type).
pub(crate) fn tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "read_file", "description": "Read a file",
            "parameters": {"type": "object", "properties": {"filepath": {"type": "string"}}, "required": ["filepath"]}}},
        {"type": "function", "function": {"name": "create_new_file",
            "parameters": {"type": "object", "properties": {"filepath": {"type": "string"}, "contents": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "run_terminal_command",
            "parameters": {"type": "object", "properties": {"command": {"type": "string"},
                "waitForCompletion": {"type": "boolean"}, "timeout": {"type": "integer"}}}}}
    ])
}

/// A request the way Continue sends one.
pub(crate) fn continue_request(stream: bool) -> Value {
    json!({
        "model": ALIAS,
        "messages": [
            {"role": "system", "content": "You are a coding agent."},
            {"role": "user", "content": "Read src/main.rs"}
        ],
        "tools": tools(),
        "parallel_tool_calls": false,
        "max_tokens": 1024,
        "stream": stream,
        "stream_options": {"include_usage": true}
    })
}

pub(crate) const READ_CALL: &str = "Let me look at it.\n<tool_call>\n<function=read_file>\n<parameter=filepath>\nsrc/main.rs\n</parameter>\n</function>\n</tool_call>";

/// Checks the client contract on a stream and returns (content, calls as (id, name, args)).
pub(crate) fn check_stream(events: &[Value]) -> (String, Vec<(String, String, String)>, String) {
    assert_eq!(events.last(), Some(&json!("[DONE]")), "a stream ends with [DONE]: {events:?}");
    let chunks: Vec<&Value> = events.iter().filter(|e| e.is_object()).collect();
    let first = chunks[0]["choices"][0]["delta"].clone();
    assert_eq!(first, json!({"role": "assistant", "content": ""}), "first delta");
    let mut content = String::new();
    let mut calls: Vec<(String, String, String)> = Vec::new();
    let mut finish = None;
    for chunk in &chunks {
        let choices = chunk["choices"].as_array().expect("choices");
        if choices.is_empty() {
            assert!(chunk.get("usage").is_some(), "an empty-choices chunk carries usage");
            assert!(finish.is_some(), "usage comes after the finish chunk");
            continue;
        }
        assert!(chunk.get("usage").is_none_or(Value::is_null), "usage only on its own chunk");
        let choice = &choices[0];
        let delta = &choice["delta"];
        let has_text = delta.get("content").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        if let Some(calls_delta) = delta.get("tool_calls") {
            assert!(!has_text, "content and tool_calls never share a delta: {delta}");
            let call = &calls_delta[0];
            let index = usize::try_from(call["index"].as_u64().expect("index")).expect("small");
            if let Some(id) = call.get("id") {
                assert_eq!(index, calls.len(), "headers come in index order, one per call");
                assert_eq!(call["type"], "function");
                assert_eq!(call["function"]["arguments"], "", "no placeholder arguments in the header");
                calls.push((
                    id.as_str().expect("id").to_owned(),
                    call["function"]["name"].as_str().expect("name").to_owned(),
                    String::new(),
                ));
            } else {
                assert_eq!(index + 1, calls.len(), "fragments belong to the latest call");
                assert!(
                    call.get("type").is_none() && call["function"].get("name").is_none(),
                    "fragments carry index only"
                );
                calls[index].2.push_str(call["function"]["arguments"].as_str().expect("fragment"));
            }
        } else if has_text {
            content.push_str(delta["content"].as_str().unwrap_or_default());
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            assert!(finish.is_none(), "one finish chunk");
            finish = Some(reason.to_owned());
        }
    }
    for (_, _, args) in &calls {
        let parsed: Value = serde_json::from_str(args).expect("arguments are JSON");
        assert!(parsed.is_object());
    }
    (content, calls, finish.expect("a finish chunk"))
}
