//! `tool_format = "vllm"`: vLLM runs its own tool parser (gpt-oss, families podctl does not
//! parse). The client's `tool_choice` goes to vLLM as written, vLLM's `tool_calls` come back
//! through the same policy as parsed ones: held until complete, never executable when cut
//! off, streamed ≡ whole.

use serde_json::{Value, json};

use crate::harness::{Env, check_stream, continue_request};
use crate::standin::{Config, Reply};
use podctl::toolcall::Format;

async fn env() -> Env {
    Env::with(Config { tool_parser: true, ..Config::default() }, |c| c.models[0].tool_format = Format::Vllm)
        .await
}

const ARGS: &str = r#"{"filepath": "src/main.rs"}"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_request_reaches_vllm_as_the_client_wrote_it() {
    let env = env().await;
    env.standin.push_reply(Reply::text("ok"));
    let mut request = continue_request(false);
    request["tool_choice"] = json!("auto");
    request["parallel_tool_calls"] = json!(false);
    let (status, body) = env.chat(&request).await;
    assert_eq!(status, 200, "{body}");
    let sent = env.standin.last_chat_request().expect("upstream was called");
    assert_eq!(sent["tool_choice"], "auto");
    assert_eq!(sent["parallel_tool_calls"], false);
    assert_eq!(sent["tools"], request["tools"]);
    assert!(sent.get("skip_special_tokens").is_none(), "vLLM's parser decides: {sent}");
    assert!(sent.get("spaces_between_special_tokens").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn vllms_calls_come_back_whole_and_streamed_alike() {
    let env = env().await;
    env.standin.push_reply(Reply::parsed("Let me look.", &[("read_file", ARGS)]));
    let (status, whole) = env.chat(&continue_request(false)).await;
    assert_eq!(status, 200, "{whole}");
    let choice = &whole["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], "Let me look.");
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().is_some_and(|id| id.starts_with("chatcmpl-tool-")), "vLLM's own id: {call}");
    assert_eq!(call["function"]["name"], "read_file");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().expect("string")).expect("JSON");
    assert_eq!(args, json!({"filepath": "src/main.rs"}));

    env.standin.push_reply(Reply::parsed("Let me look.", &[("read_file", ARGS), ("read_file", "{}")]));
    let mut request = continue_request(true);
    request["parallel_tool_calls"] = json!(true);
    let (status, events) = env.chat_stream(&request).await;
    assert_eq!(status, 200);
    let (content, calls, finish) = check_stream(&events);
    assert_eq!((content.as_str(), finish.as_str()), ("Let me look.", "tool_calls"));
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(serde_json::from_str::<Value>(&calls[0].2).expect("JSON"), args);
    assert_eq!(calls[1].2, "{}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_vllm_was_cut_off_in_is_never_sent() {
    let env = env().await;
    let cut = r#"{"filepath": "src/ma"#;
    for stream in [false, true] {
        env.standin.push_reply(Reply::parsed("Reading.", &[("read_file", cut)]).length());
        let mut request = continue_request(stream);
        request["parallel_tool_calls"] = json!(true);
        if stream {
            let (status, events) = env.chat_stream(&request).await;
            assert_eq!(status, 200);
            let (content, calls, finish) = check_stream(&events);
            assert_eq!((content.as_str(), finish.as_str()), ("Reading.", "length"));
            assert!(calls.is_empty(), "{calls:?}");
        } else {
            let (status, body) = env.chat(&request).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["choices"][0]["finish_reason"], "length");
            assert!(
                body["choices"][0]["message"]
                    .get("tool_calls")
                    .is_none_or(|c| c == &json!([]) || c.is_null()),
                "{body}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clients_tool_choice_still_applies_to_vllms_calls() {
    let env = env().await;
    env.standin.push_reply(Reply::parsed("", &[("read_file", ARGS), ("read_file", ARGS)]));
    let mut request = continue_request(false);
    request["parallel_tool_calls"] = json!(false);
    let (_, body) = env.chat(&request).await;
    assert_eq!(body["choices"][0]["message"]["tool_calls"].as_array().map(Vec::len), Some(1), "{body}");
}
