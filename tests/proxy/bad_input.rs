//! Malformed and hostile requests on every endpoint, one table row each: every row gets its
//! status and an OpenAI-shaped error naming the problem, and after every row a good request
//! is served at once (nothing wedged, nothing panicked). Raw-socket rows cover what an HTTP
//! client will not send: invalid bytes in the head, header floods, a stalled body.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::errors::{assert_anthropic_error, assert_openai_error};
use crate::harness::{ALIAS, Env, continue_request, tools};
use crate::responses::assert_responses_error;
use crate::standin::{Config, Reply};

const KEY: &str = "sk-bad-input";
/// The body timeout the rows run under (the slow-loris rows wait for it).
const BODY_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long the good request after a row may take: "at once", with room for a loaded CI.
const SERVED_WITHIN: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
enum Auth {
    /// The right key.
    Key,
    /// No `Authorization` header.
    Missing,
    /// This `Authorization` value.
    Header(&'static str),
}

/// The error shape a row's answer must have: its API's.
#[derive(Debug, Clone, Copy)]
enum Shape {
    OpenAi,
    Anthropic,
    /// OpenAI Responses: `code` a string or null.
    Responses,
}

fn shape_of(path: &str) -> Shape {
    if path.starts_with("/v1/messages") {
        Shape::Anthropic
    } else if path.starts_with("/v1/responses") {
        Shape::Responses
    } else {
        Shape::OpenAi
    }
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    Raw(Vec<u8>),
}

struct Row {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    auth: Auth,
    headers: Vec<(&'static str, &'static str)>,
    body: Body,
    status: u16,
    /// A word the error message (or, for a 200, the body) must contain.
    word: &'static str,
    shape: Shape,
}

fn row(name: &'static str, path: &'static str, body: Body, status: u16, word: &'static str) -> Row {
    let shape = shape_of(path);
    Row { name, method: "POST", path, auth: Auth::Key, headers: Vec::new(), body, status, word, shape }
}

fn chat(name: &'static str, body: Value, status: u16, word: &'static str) -> Row {
    row(name, "/v1/chat/completions", Body::Json(body), status, word)
}

fn raw_chat(name: &'static str, body: impl Into<Vec<u8>>, status: u16, word: &'static str) -> Row {
    row(name, "/v1/chat/completions", Body::Raw(body.into()), status, word)
}

fn get(
    name: &'static str,
    method: &'static str,
    path: &'static str,
    auth: Auth,
    status: u16,
    word: &'static str,
) -> Row {
    let shape = shape_of(path);
    Row { name, method, path, auth, headers: Vec::new(), body: Body::None, status, word, shape }
}

fn user() -> Value {
    json!([{"role": "user", "content": "hi"}])
}

/// A chat request with `field` set to `value`.
fn with(field: &str, value: Value) -> Value {
    let mut body = json!({"model": ALIAS, "messages": user()});
    body[field] = value;
    body
}

fn nested(open: &str, close: &str, depth: usize) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

#[allow(clippy::needless_pass_by_value, reason = "rows pass json! literals")]
fn history(call: Value) -> Value {
    json!({"model": ALIAS, "tools": tools(), "messages": [
        {"role": "user", "content": "read it"},
        {"role": "assistant", "content": null, "tool_calls": call},
        {"role": "tool", "tool_call_id": "call_1", "content": "fn main() {}"},
    ]})
}

fn rows() -> Vec<Row> {
    let over_limit = json!({"model": ALIAS, "messages": [{"role": "user", "content": "x".repeat(2 << 20)}]});
    let no_name = json!([{"type": "function", "function": {"parameters": {"type": "object"}}}]);
    let string_params = json!([{"type": "function", "function": {"name": "f", "parameters": "{}"}}]);
    let mut invalid_utf8 =
        br#"{"model": "qwen3-coder-30b", "messages": [{"role": "user", "content": ""#.to_vec();
    invalid_utf8.extend_from_slice(b"\xff\xfe\xc3\x28");
    invalid_utf8.extend_from_slice(br#""}]}"#);
    let mut utf8_embed = br#"{"input": ""#.to_vec();
    utf8_embed.extend_from_slice(b"\xc0\xaf\xed\xa0\x80");
    utf8_embed.extend_from_slice(br#""}"#);
    vec![
        // The body is not a request object.
        raw_chat("invalid JSON", "{model: qwen, messages: []}", 400, "not valid JSON"),
        raw_chat("truncated JSON", r#"{"messages": [{"role": "user", "content": "hi"#, 400, "not valid JSON"),
        raw_chat("empty body", "", 400, "JSON"),
        raw_chat("a JSON array", "[1, 2, 3]", 400, "JSON object"),
        raw_chat("a JSON string", r#""hello""#, 400, "JSON object"),
        raw_chat("a JSON number", "42", 400, "JSON object"),
        raw_chat("JSON null", "null", 400, "JSON object"),
        raw_chat("trailing garbage", r#"{"messages": []} {"x": 1}"#, 400, "JSON"),
        raw_chat("100,000 nested [", "[".repeat(100_000), 400, "JSON"),
        raw_chat("100,000 nested [] closed", nested("[", "]", 100_000), 400, "JSON"),
        raw_chat("invalid UTF-8 bytes", invalid_utf8, 400, "UTF-8"),
        // Each chat field with the wrong type.
        chat("messages a string", with("messages", json!("hello")), 400, "messages"),
        chat("messages an object", with("messages", json!({"role": "user"})), 400, "messages"),
        chat("messages missing", json!({"model": ALIAS}), 400, "messages"),
        chat("messages empty", with("messages", json!([])), 400, "empty"),
        chat("a message that is not an object", with("messages", json!(["hi"])), 400, "messages[0]"),
        chat(
            "a message that is null",
            with("messages", json!([{"role": "user", "content": "x"}, null])),
            400,
            "messages[1]",
        ),
        chat("model a number", with("model", json!(3)), 400, "model"),
        chat("model an object", with("model", json!({"id": ALIAS})), 400, "model"),
        chat("stream a string", with("stream", json!("yes")), 400, "stream"),
        chat("stream a number", with("stream", json!(1)), 400, "stream"),
        chat("tools a string", with("tools", json!("read_file")), 400, "tools"),
        chat("tools an object", with("tools", json!({"name": "f"})), 400, "tools"),
        chat("tool_choice a number", with("tool_choice", json!(5)), 400, "tool_choice"),
        chat("tool_choice unknown", with("tool_choice", json!("sometimes")), 400, "tool_choice"),
        chat(
            "tool_choice object without a name",
            with("tool_choice", json!({"type": "function"})),
            400,
            "tool_choice",
        ),
        chat(
            "parallel_tool_calls a string",
            with("parallel_tool_calls", json!("no")),
            400,
            "parallel_tool_calls",
        ),
        chat("stream_options a string", with("stream_options", json!("usage")), 400, "stream_options"),
        chat(
            "stream_options.include_usage a string",
            json!({"model": ALIAS, "messages": user(), "stream": true, "stream_options": {"include_usage": "yes"}}),
            400,
            "include_usage",
        ),
        // max_tokens and n go to vLLM, whose 400 comes back in the OpenAI shape.
        chat("max_tokens a word", with("max_tokens", json!("many")), 400, "valid integer"),
        chat(
            "max_tokens 10^12",
            with("max_tokens", json!(1_000_000_000_000_u64)),
            400,
            "maximum context length",
        ),
        chat("max_tokens 0", with("max_tokens", json!(0)), 400, "at least 1"),
        chat("max_tokens -5", with("max_tokens", json!(-5)), 400, "at least 1"),
        chat("n 0", with("n", json!(0)), 400, "n must be at least 1"),
        chat("n a string", with("n", json!("two")), 400, "valid integer"),
        // n > 1 is vLLM's to answer: the proxy translates each choice by its index.
        chat("n 2 passes through", with("n", json!(2)), 200, "chat.completion"),
        chat(
            "n 2 with greedy sampling",
            json!({"model": ALIAS, "messages": user(), "n": 2, "temperature": 0}),
            400,
            "n must be 1 when using greedy sampling",
        ),
        // Tools with broken schemas, and a choice of a tool that was not declared.
        chat("a tool without function.name", with("tools", no_name), 400, "no function name"),
        chat("a tool whose parameters is a string", with("tools", string_params), 400, "parameters"),
        chat(
            "tool_choice naming an undeclared tool",
            json!({"model": ALIAS, "messages": user(), "tools": tools(),
                "tool_choice": {"type": "function", "function": {"name": "delete_everything"}}}),
            400,
            "delete_everything",
        ),
        chat(
            "tool_choice naming a tool with no tools",
            with("tool_choice", json!({"type": "function", "function": {"name": "read_file"}})),
            400,
            "read_file",
        ),
        row(
            "tools nested 100,000 deep",
            "/v1/chat/completions",
            Body::Raw(
                format!(
                    r#"{{"messages": [{{"role": "user", "content": "x"}}], "tools": {}}}"#,
                    nested("[", "]", 100_000)
                )
                .into_bytes(),
            ),
            400,
            "tools",
        ),
        // A history with broken calls: repaired where it can be, a 400 naming it where not.
        chat(
            "history arguments not JSON (repaired)",
            history(
                json!([{"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": "{\"filepath\": \"src/ma"}}]),
            ),
            200,
            "chat.completion",
        ),
        chat(
            "history arguments an array (repaired)",
            history(
                json!([{"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": "[1]"}}]),
            ),
            200,
            "chat.completion",
        ),
        chat(
            "history call without function",
            history(json!([{"id": "call_1", "type": "function"}])),
            400,
            "function",
        ),
        chat(
            "history call function without name",
            history(json!([{"id": "call_1", "function": {"arguments": "{}"}}])),
            400,
            "name",
        ),
        chat("history tool_calls a string", history(json!("read_file(src/main.rs)")), 400, "tool_calls"),
        chat(
            "history tool_calls an object",
            history(json!({"function": {"name": "read_file"}})),
            400,
            "tool_calls",
        ),
        chat("history call that is a number", history(json!([7])), 400, "tool_calls[0]"),
        raw_chat(
            "a history message nested 200 deep",
            format!(
                r#"{{"messages": [{{"role": "user", "content": "x"}}, {{"role": "assistant", "tool_calls": [], "content": {}}}]}}"#,
                nested("[", "]", 200)
            ),
            400,
            "messages[1]",
        ),
        // Models and keys.
        chat("an unknown model", with("model", json!("gpt-4")), 404, "gpt-4"),
        Row { auth: Auth::Missing, ..chat("no key", continue_request(false), 401, "missing API key") },
        Row {
            auth: Auth::Header("Bearer sk-wrong"),
            ..chat("a wrong key", continue_request(false), 401, "invalid API key")
        },
        Row {
            auth: Auth::Header("Bearer"),
            ..chat("Bearer with no key", continue_request(false), 401, "missing API key")
        },
        Row {
            auth: Auth::Header("Basic c2stYmFkLWlucHV0Og=="),
            ..chat("Basic auth", continue_request(false), 401, "missing API key")
        },
        Row {
            auth: Auth::Header("sk-bad-input"),
            ..chat("the key without a scheme", continue_request(false), 401, "missing API key")
        },
        // Size.
        chat("a body over the limit", over_limit.clone(), 413, "larger than"),
        row(
            "a completions body over the limit",
            "/v1/completions",
            Body::Json(over_limit),
            413,
            "larger than",
        ),
        // Wrong methods and paths.
        get("GET chat", "GET", "/v1/chat/completions", Auth::Key, 405, "not allowed"),
        get("PUT completions", "PUT", "/v1/completions", Auth::Key, 405, "not allowed"),
        get("POST version", "POST", "/version", Auth::Key, 405, "not allowed"),
        get("DELETE models", "DELETE", "/v1/models", Auth::Key, 405, "not allowed"),
        get("POST metrics", "POST", "/metrics", Auth::Key, 405, "not allowed"),
        get("POST health", "POST", "/health", Auth::Key, 405, "not allowed"),
        get("PUT health/ready", "PUT", "/health/ready", Auth::Key, 405, "not allowed"),
        get("an unknown path", "POST", "/v1/assistants", Auth::Key, 404, "/v1/assistants"),
        // The other endpoints.
        row(
            "completions: a JSON array",
            "/v1/completions",
            Body::Raw(b"[\"prompt\"]".to_vec()),
            400,
            "JSON object",
        ),
        row(
            "completions: model a number",
            "/v1/completions",
            Body::Json(json!({"model": 7, "prompt": "x"})),
            400,
            "model",
        ),
        row(
            "completions: max_tokens 10^12",
            "/v1/completions",
            Body::Json(json!({"model": ALIAS, "prompt": "x", "max_tokens": 1_000_000_000_000_u64})),
            400,
            "maximum context length",
        ),
        row("completions: no prompt", "/v1/completions", Body::Json(json!({"model": ALIAS})), 400, "prompt"),
        row("embeddings: invalid UTF-8", "/v1/embeddings", Body::Raw(utf8_embed), 400, "JSON"),
        row(
            "embeddings: nested 100,000 deep",
            "/v1/embeddings",
            Body::Raw(nested("{\"a\":", "}", 100_000).into_bytes()),
            400,
            "JSON",
        ),
        row(
            "embeddings: an unknown model",
            "/v1/embeddings",
            Body::Json(json!({"model": "text-embedding-3", "input": "x"})),
            404,
            "text-embedding-3",
        ),
        row("embeddings: no input", "/v1/embeddings", Body::Json(json!({"model": ALIAS})), 400, "input"),
        row("tokenize: invalid JSON", "/tokenize", Body::Raw(b"{prompt}".to_vec()), 400, "not valid JSON"),
        row("tokenize: a JSON string", "/tokenize", Body::Raw(b"\"hello\"".to_vec()), 400, "JSON object"),
        row(
            "detokenize: truncated",
            "/detokenize",
            Body::Raw(b"{\"tokens\": [1, 2".to_vec()),
            400,
            "not valid JSON",
        ),
        row(
            "detokenize: a token out of vocabulary",
            "/detokenize",
            Body::Json(json!({"tokens": [1, 1_000_000]})),
            400,
            "out of vocabulary",
        ),
        Row {
            auth: Auth::Missing,
            ..row("tokenize: no key", "/tokenize", Body::Json(json!({"prompt": "x"})), 401, "missing API key")
        },
        get("version: no key", "GET", "/version", Auth::Missing, 401, "missing API key"),
        get("models: a wrong key", "GET", "/v1/models", Auth::Header("Bearer nope"), 401, "invalid API key"),
        get("metrics: no key", "GET", "/metrics", Auth::Missing, 401, "missing API key"),
        Row {
            headers: vec![("content-type", "text/plain")],
            ..chat("a JSON body sent as text/plain", continue_request(false), 200, "chat.completion")
        },
        // Anthropic Messages (`/v1/messages`): Anthropic's error shape, checked by `Shape`.
        raw_messages("messages: broken JSON", "{model: claude, max_tokens: 5}", 400, "not valid JSON"),
        raw_messages("messages: a JSON array", "[1, 2]", 400, "JSON object"),
        raw_messages("messages: an empty body", "", 400, "JSON"),
        messages("messages: no max_tokens", json!({"model": ALIAS, "messages": user()}), 400, "max_tokens"),
        messages("messages: max_tokens a string", anthropic("max_tokens", json!("lots")), 400, "max_tokens"),
        messages("messages: messages a string", anthropic("messages", json!("hi")), 400, "messages"),
        messages("messages: no messages", json!({"model": ALIAS, "max_tokens": 5}), 400, "messages"),
        messages(
            "messages: content a number",
            anthropic("messages", json!([{"role": "user", "content": 5}])),
            400,
            "messages",
        ),
        messages(
            "messages: an unknown role",
            anthropic("messages", json!([{"role": "tool", "content": "x"}])),
            400,
            "role",
        ),
        messages("messages: stream a string", anthropic("stream", json!("yes")), 400, "stream"),
        messages("messages: system a number", anthropic("system", json!(5)), 400, "system"),
        messages("messages: tools not a list", anthropic("tools", json!({"name": "x"})), 400, "tools"),
        messages(
            "messages: tool_use without id",
            anthropic(
                "messages",
                json!([{"role": "user", "content": "go"}, {"role": "assistant", "content": [
                {"type": "tool_use", "name": "Read", "input": {}}]}]),
            ),
            400,
            "id",
        ),
        messages(
            "messages: tool_result for an unknown id",
            anthropic(
                "messages",
                json!([{"role": "user", "content": "go"}, {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "x"}]}]),
            ),
            400,
            "toolu_9",
        ),
        messages(
            "messages: an image without a source",
            anthropic("messages", json!([{"role": "user", "content": [{"type": "image"}]}])),
            400,
            "source",
        ),
        messages(
            "messages: tool_choice tool without a name",
            anthropic("tool_choice", json!({"type": "tool"})),
            400,
            "name",
        ),
        messages(
            "messages: an unknown tool_choice",
            anthropic("tool_choice", json!({"type": "sometimes"})),
            400,
            "tool_choice",
        ),
        messages(
            "messages: unknown block types are ignored",
            anthropic(
                "messages",
                json!([{"role": "user", "content": [{"type": "hologram", "data": {"x": 1}},
                {"type": "text", "text": "hi"}]}]),
            ),
            200,
            "\"type\":\"message\"",
        ),
        messages(
            "messages: unknown tool types and fields are ignored",
            json!({"model": ALIAS, "max_tokens": 5, "messages": user(), "speed": "fast", "service_tier": "auto",
                "tools": [{"type": "computer_20250124", "name": "computer", "display_width_px": 1024}]}),
            200,
            "\"type\":\"message\"",
        ),
        messages("messages: a body over the limit", over_limit_messages(), 413, "larger than"),
        Row {
            auth: Auth::Missing,
            headers: vec![("x-api-key", "sk-nope")],
            ..messages(
                "messages: a wrong x-api-key",
                anthropic("stream", json!(false)),
                401,
                "invalid API key",
            )
        },
        Row {
            auth: Auth::Missing,
            ..messages("messages: no key", anthropic("stream", json!(false)), 401, "missing API key")
        },
        row(
            "count_tokens: broken JSON",
            "/v1/messages/count_tokens",
            Body::Raw(b"{".to_vec()),
            400,
            "not valid JSON",
        ),
        row(
            "count_tokens: messages a number",
            "/v1/messages/count_tokens",
            Body::Json(json!({"model": ALIAS, "messages": 3})),
            400,
            "messages",
        ),
        // OpenAI Responses (`/v1/responses`).
        responses("responses: broken JSON", Body::Raw(b"{\"input\": [".to_vec()), 400, "JSON"),
        responses("responses: input a number", Body::Json(json!({"model": ALIAS, "input": 5})), 400, "input"),
        responses("responses: no input", Body::Json(json!({"model": ALIAS})), 400, "input"),
        responses(
            "responses: max_output_tokens a string",
            Body::Json(json!({"model": ALIAS, "input": "x", "max_output_tokens": "lots"})),
            400,
            "max_output_tokens",
        ),
        responses(
            "responses: tools an object",
            Body::Json(json!({"model": ALIAS, "input": "x", "tools": {"type": "function"}})),
            400,
            "tools",
        ),
        responses(
            "responses: a message with a made-up role",
            Body::Json(
                json!({"model": ALIAS, "input": [{"type": "message", "role": "robot", "content": "x"}]}),
            ),
            400,
            "robot",
        ),
        responses(
            "responses: an input item of an unknown type is ignored",
            Body::Json(
                json!({"model": ALIAS, "input": [{"type": "future_item", "x": 1}, {"role": "user", "content": "hi"}]}),
            ),
            200,
            "\"object\":\"response\"",
        ),
        responses(
            "responses: a function_call_output for an unknown call_id",
            Body::Json(
                json!({"model": ALIAS, "input": [{"type": "function_call_output", "call_id": "call_nope", "output": "x"}]}),
            ),
            400,
            "call_nope",
        ),
        responses(
            "responses: previous_response_id",
            Body::Json(json!({"model": ALIAS, "input": "x", "previous_response_id": "resp_123"})),
            400,
            "stateless",
        ),
        responses(
            "responses: an unknown model",
            Body::Json(json!({"model": "gpt-4", "input": "x"})),
            404,
            "gpt-4",
        ),
        responses(
            "responses: a body over the limit",
            Body::Json(json!({"model": ALIAS, "input": "x".repeat(2 << 20)})),
            413,
            "larger than",
        ),
        Row {
            auth: Auth::Header("Bearer sk-wrong"),
            ..responses(
                "responses: a wrong key",
                Body::Json(json!({"model": ALIAS, "input": "x"})),
                401,
                "invalid API key",
            )
        },
    ]
}

fn messages(name: &'static str, body: Value, status: u16, word: &'static str) -> Row {
    row(name, "/v1/messages", Body::Json(body), status, word)
}

fn raw_messages(name: &'static str, body: &'static str, status: u16, word: &'static str) -> Row {
    row(name, "/v1/messages", Body::Raw(body.as_bytes().to_vec()), status, word)
}

/// A Messages request with `field` set to `value`.
fn anthropic(field: &str, value: Value) -> Value {
    let mut body = json!({"model": ALIAS, "max_tokens": 5, "messages": user()});
    body[field] = value;
    body
}

fn over_limit_messages() -> Value {
    anthropic("messages", json!([{"role": "user", "content": "x".repeat(2 << 20)}]))
}

fn responses(name: &'static str, body: Body, status: u16, word: &'static str) -> Row {
    row(name, "/v1/responses", body, status, word)
}

async fn start() -> Env {
    let mut env = Env::with(Config::default(), |c| {
        c.keys = vec![KEY.into()];
        c.body_timeout = BODY_TIMEOUT;
        c.header_timeout = BODY_TIMEOUT;
    })
    .await;
    // Every good request on a new connection: it proves the proxy still accepts at once, and
    // no pooled connection idles into the header timeout (which also closes a keep-alive
    // connection waiting for its next request), where reusing it would race its close.
    env.client = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
    env
}

/// A good request is answered at once, and the proxy task is still running.
async fn still_serves(env: &Env, after: &str) {
    assert!(!env.server.is_finished(), "the proxy stopped after {after}");
    env.standin.push_reply(Reply::text("still here"));
    let answer = tokio::time::timeout(SERVED_WITHIN, env.chat(&continue_request(false))).await;
    let (status, body) = answer.unwrap_or_else(|_| panic!("a good request hung after {after}"));
    assert_eq!(status, 200, "a good request failed after {after}: {body}");
    assert_eq!(body["choices"][0]["message"]["content"], "still here", "after {after}: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_request_gets_a_clear_4xx_and_nothing_wedges() {
    let env = start().await;
    let rows = rows();
    assert!(rows.len() >= 30, "{} rows", rows.len());
    for row in rows {
        let name = row.name;
        let method = reqwest::Method::from_bytes(row.method.as_bytes()).expect("method");
        let mut request = env.client.request(method, format!("{}{}", env.url, row.path));
        request = match row.auth {
            Auth::Key => request.bearer_auth(KEY),
            Auth::Missing => request,
            Auth::Header(value) => request.header("authorization", value),
        };
        request = match row.body {
            Body::None => request,
            Body::Json(value) => request.header("content-type", "application/json").body(value.to_string()),
            Body::Raw(bytes) => request.header("content-type", "application/json").body(bytes),
        };
        for (name, value) in row.headers {
            request = request.header(name, value);
        }
        let response = tokio::time::timeout(SERVED_WITHIN, request.send())
            .await
            .unwrap_or_else(|_| panic!("{name}: no answer"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_else(|e| panic!("{name}: body: {e}"));
        assert_eq!(status, row.status, "{name}: {text}");
        if status == 200 {
            assert!(text.contains(row.word), "{name}: {text}");
        } else {
            let body: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {text}"));
            let message = match row.shape {
                Shape::OpenAi => assert_openai_error(&body, status),
                Shape::Anthropic => assert_anthropic_error(&body),
                Shape::Responses => assert_responses_error(&body),
            };
            assert!(message.contains(row.word), "{name}: {message:?} does not say {:?}", row.word);
        }
        still_serves(&env, name).await;
    }
}

/// What rows with a 200 promise beyond the status: what went upstream.
#[tokio::test(flavor = "multi_thread")]
async fn repaired_history_and_n_reach_upstream_as_vllm_needs_them() {
    let env = start().await;
    let (status, body) = env
        .chat(&history(json!([{"id": "call_1", "type": "function",
            "function": {"name": "read_file", "arguments": "{\"filepath\": \"src/ma"}}])))
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = env.standin.last_chat_request().expect("sent");
    let args = sent["messages"][1]["tool_calls"][0]["function"]["arguments"].as_str().expect("a string");
    assert!(serde_json::from_str::<Value>(args).expect("JSON").is_object(), "{args}");
    let (status, _) = env.chat(&with("n", json!(3))).await;
    assert_eq!(status, 200);
    assert_eq!(env.standin.last_chat_request().expect("sent")["n"], 3);
}

/// Sends `head` (and `body`) on a raw connection and returns what came back before the
/// connection closed or went quiet: `None` for a connection closed (or reset) with no answer.
async fn raw(env: &Env, head: &[u8], body: &[u8]) -> Option<String> {
    let addr = env.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may refuse before it has read everything: a failed write is an answer too.
    let _ = stream.write_all(head).await;
    let _ = stream.write_all(body).await;
    read_answer(&mut stream).await
}

async fn read_answer(stream: &mut TcpStream) -> Option<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Err(elapsed) => {
                panic!("{elapsed}: no answer and no close; got {:?}", String::from_utf8_lossy(&out))
            }
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                if complete(&out) {
                    break;
                }
            }
        }
    }
    (!out.is_empty()).then(|| String::from_utf8_lossy(&out).into_owned())
}

/// A whole response with a `content-length` body has arrived.
fn complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
        .and_then(|v| v.parse::<usize>().ok());
    length.is_some_and(|n| body.len() >= n)
}

fn status_of(answer: &str) -> u16 {
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not HTTP: {answer:?}"))
}

fn body_of(answer: &str) -> Value {
    let (_, body) = answer.split_once("\r\n\r\n").expect("a body");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

fn head(method: &str, path: &str, extra: &str) -> Vec<u8> {
    format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {KEY}\r\n{extra}\r\n")
        .into_bytes()
}

/// What an HTTP client library will not send: a 4xx (OpenAI-shaped where the proxy, not
/// hyper, answers) or a closed connection, and the proxy still serves.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_heads_get_a_4xx_or_a_close() {
    let env = start().await;

    let flood: String =
        (0..200).flat_map(|i| ["x-flood-".to_owned(), i.to_string(), ": 1\r\n".to_owned()]).collect();
    let answer = raw(&env, &head("GET", "/v1/models", &flood), b"").await;
    if let Some(answer) = &answer {
        assert_eq!(status_of(answer), 431, "200 headers: {answer}");
    }
    still_serves(&env, "200 headers").await;

    // 60 kB fits the default limit on headers (64 kB): served like any request.
    let big = format!("x-big: {}\r\n", "a".repeat(60_000));
    let answer = raw(&env, &head("GET", "/v1/models", &big), b"").await.expect("an answer");
    assert_eq!(status_of(&answer), 200, "{answer}");
    still_serves(&env, "a 60 kB header").await;

    // 100 kB is over it: 431, or the connection is closed.
    let over = format!("x-big: {}\r\n", "a".repeat(100_000));
    if let Some(answer) = raw(&env, &head("GET", "/v1/models", &over), b"").await {
        assert_eq!(status_of(&answer), 431, "a 100 kB header: {answer}");
    }
    still_serves(&env, "a 100 kB header").await;

    // 1 MiB does not: 431, or the connection is closed.
    let huge = format!("x-huge: {}\r\n", "a".repeat(1 << 20));
    if let Some(answer) = raw(&env, &head("GET", "/v1/models", &huge), b"").await {
        assert_eq!(status_of(&answer), 431, "a 1 MiB header: {answer}");
    }
    still_serves(&env, "a 1 MiB header").await;

    // Invalid UTF-8 in the key: no key the proxy could accept.
    let mut bad_key = b"GET /v1/models HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ".to_vec();
    bad_key.extend_from_slice(b"sk-\xff\xfe\r\n\r\n");
    let answer = raw(&env, &bad_key, b"").await.expect("an answer");
    assert_eq!(status_of(&answer), 401, "{answer}");
    assert!(assert_openai_error(&body_of(&answer), 401).contains("API key"));
    still_serves(&env, "invalid UTF-8 in a header").await;

    // Invalid bytes in the path: hyper refuses the head.
    if let Some(answer) = raw(&env, b"GET /v1/mod\xffels HTTP/1.1\r\nhost: localhost\r\n\r\n", b"").await {
        assert!((400..500).contains(&status_of(&answer)), "{answer}");
    }
    still_serves(&env, "invalid bytes in the path").await;

    // Content-Length and Transfer-Encoding together (request smuggling): never two requests.
    let smuggle = head(
        "POST",
        "/tokenize",
        "content-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n",
    );
    let answer = raw(&env, &smuggle, b"0\r\n\r\nGET /metrics HTTP/1.1\r\nhost: localhost\r\n\r\n").await;
    if let Some(answer) = &answer {
        assert!((400..500).contains(&status_of(answer)), "{answer}");
        assert_eq!(answer.matches("HTTP/1.1").count(), 1, "one answer only: {answer}");
    }
    still_serves(&env, "content-length with transfer-encoding").await;

    // Headers that never end (slow-loris): nothing else waits on them, and the connection
    // is closed once the header timeout is over.
    let addr = env.url.trim_start_matches("http://");
    let mut slow = TcpStream::connect(addr).await.expect("connect");
    let started = std::time::Instant::now();
    slow.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\nx-slow: ")
        .await
        .expect("part of a head");
    still_serves(&env, "a head that never ends").await;
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(BODY_TIMEOUT * 4, slow.read_to_end(&mut sink)).await;
    assert!(closed.is_ok(), "a head that never ends still holds its connection");
    assert!(started.elapsed() >= BODY_TIMEOUT, "closed before the header timeout");

    // A Content-Length that is not a number.
    let answer = raw(&env, &head("POST", "/v1/chat/completions", "content-length: lots\r\n"), b"{}").await;
    if let Some(answer) = &answer {
        assert!((400..500).contains(&status_of(answer)), "{answer}");
    }
    still_serves(&env, "a bad content-length").await;
}

/// A client that sends its headers and part of its body, then stalls or trickles, gets 408
/// once the body timeout is over, and its connection is closed: it cannot hold a task open.
#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_body_gets_408_and_the_connection_closes() {
    let env = start().await;
    for (path, trickle) in [("/v1/chat/completions", false), ("/v1/embeddings", true)] {
        let addr = env.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let started = std::time::Instant::now();
        stream
            .write_all(&head("POST", path, "content-type: application/json\r\ncontent-length: 100000\r\n"))
            .await
            .expect("head");
        stream.write_all(br#"{"model": "qwen3-coder-30b", "messages": ["#).await.expect("part of the body");
        let (mut read, mut write) = stream.into_split();
        let trickler = tokio::spawn(async move {
            // One byte every 200 ms: never idle, never done.
            while trickle && write.write_all(b" ").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            write
        });
        let mut out = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(10), read.read_to_end(&mut out)).await;
        let answer = String::from_utf8_lossy(&out).into_owned();
        assert!(closed.is_ok(), "{path}: the connection stayed open: {answer:?}");
        let waited = started.elapsed();
        assert!(
            waited >= BODY_TIMEOUT && waited < BODY_TIMEOUT + Duration::from_secs(5),
            "{path}: {waited:?}"
        );
        assert_eq!(status_of(&answer), 408, "{path}: {answer}");
        let message = assert_openai_error(&body_of(&answer), 408);
        assert!(message.contains("--body-timeout-secs"), "{message}");
        trickler.abort();
        still_serves(&env, "a stalled body").await;
    }
}
