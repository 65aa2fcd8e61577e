//! Anthropic Messages: errors in Anthropic's shape and Claude Code's wording (vLLM's
//! context-length 400s, a stream that breaks, keys, models), and `count_tokens` from
//! vLLM's `/tokenize`.

use serde_json::{Value, json};

use crate::errors::assert_anthropic_error;
use crate::messages::{KEY, MODEL, cc_request, cc_tools, env, frames};
use crate::standin::{DEFAULT_MODEL, Reply};

fn error_type(body: &Value) -> &str {
    body["error"]["type"].as_str().unwrap_or_default()
}

/// vLLM's two context-length wordings come back as the ones Claude Code acts on, with
/// vLLM's numbers: the stand-in checks `max_tokens` against its 32768-token context itself.
#[tokio::test(flavor = "multi_thread")]
async fn context_length_errors_in_claude_codes_wording() {
    let env = env().await;
    let mut request = cc_request(false);
    request["max_tokens"] = json!(32768);
    // The pattern Claude Code matches.
    let re = regex::Regex::new(r"input length and `max_tokens` exceed context limit: (\d+) \+ (\d+) > (\d+)")
        .expect("regex");
    for stream in [false, true] {
        request["stream"] = json!(stream);
        let (status, body) = env.messages(&request).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_type(&body), "invalid_request_error");
        let message = assert_anthropic_error(&body);
        let caps = re.captures(&message).unwrap_or_else(|| panic!("{message}"));
        assert_eq!((&caps[2], &caps[3]), ("32768", "32768"), "{message}");
        assert!(caps[1].parse::<u64>().is_ok_and(|n| n > 0));
    }
    env.standin.push_reply(Reply::context_length_error());
    let (status, body) = env.messages(&cc_request(false)).await;
    assert_eq!(status, 400);
    let message = assert_anthropic_error(&body);
    assert_eq!(message, "prompt is too long: 39000 tokens > 32768 maximum");
    let re = regex::Regex::new(r"prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*(\d+)").expect("regex");
    assert!(re.is_match(&message));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_stream_ends_with_an_error_event() {
    let env = env().await;
    env.standin.push_reply(Reply::drop_mid_stream("Some words and then", 2));
    let (status, text) = env.messages_stream(&cc_request(true)).await;
    assert_eq!(status, 200);
    let events = frames(&text);
    let (name, data) = events.last().expect("events");
    assert_eq!(name, "error", "{text}");
    assert_eq!(data["error"]["type"], "api_error");
    assert!(data["error"]["message"].as_str().is_some_and(|m| m.contains("upstream")), "{data}");
    assert!(!events.iter().any(|(n, _)| n == "message_stop"), "a broken stream never looks complete");
    assert_eq!(events[0].0, "message_start");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_in_anthropics_shape() {
    let env = env().await;
    let body = cc_request(false);
    let wrong =
        env.client.post(format!("{}/v1/messages", env.url)).header("x-api-key", "sk-wrong").json(&body);
    let response = wrong.send().await.expect("answer");
    assert_eq!(response.status(), 401);
    let answer: Value = response.json().await.expect("JSON");
    assert_anthropic_error(&answer);
    assert_eq!(error_type(&answer), "authentication_error");

    let mut other = body.clone();
    other["model"] = json!("llama-4");
    let (status, answer) = env.messages(&other).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(error_type(&answer), "not_found_error");

    env.standin.push_reply(Reply::error(500, "engine died"));
    env.standin.push_reply(Reply::error(500, "engine died"));
    env.standin.push_reply(Reply::error(500, "engine died"));
    let (status, answer) = env.messages(&body).await;
    assert!(status >= 500, "{answer}");
    assert_eq!(error_type(&answer), "api_error", "{answer}");

    let wrong_method = env.client.get(format!("{}/v1/messages", env.url)).header("x-api-key", KEY);
    let response = wrong_method.send().await.expect("answer");
    assert_eq!(response.status(), 405);
    assert_anthropic_error(&response.json().await.expect("JSON"));
}

#[tokio::test(flavor = "multi_thread")]
async fn count_tokens_asks_vllms_tokenize() {
    let env = env().await;
    let mut request = cc_request(false);
    request.as_object_mut().expect("object").remove("max_tokens");
    let response =
        env.messages_post("/v1/messages/count_tokens?beta=true").json(&request).send().await.expect("answer");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    let sent =
        env.standin.requests().into_iter().rev().find(|r| r.path == "/tokenize").expect("tokenize called");
    assert_eq!(sent.body["model"], DEFAULT_MODEL);
    assert_eq!(sent.body["add_generation_prompt"], true);
    assert_eq!(sent.body["chat_template_kwargs"], json!({"enable_thinking": true}));
    let messages = &sent.body["messages"];
    assert!(!messages.to_string().contains("billing-header"), "converted as for generating");
    assert_eq!(
        sent.body["tools"].as_array().expect("tools").len(),
        cc_tools().as_array().expect("t").len() - 1
    );
    // The stand-in counts a token per byte of the messages' and tools' JSON.
    let expected = messages.to_string().len() + sent.body["tools"].to_string().len();
    assert_eq!(body, json!({"input_tokens": expected}));
    assert!(env.standin.last_chat_request().is_none(), "nothing generated");

    let bad = env
        .messages_post("/v1/messages/count_tokens")
        .json(&json!({"model": MODEL, "messages": "nope"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(bad.status(), 400);
    assert_anthropic_error(&bad.json().await.expect("JSON"));
}
