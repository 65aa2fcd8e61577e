//! Translation: what the upstream is sent, and what the client gets back.

use serde_json::{Value, json};

use crate::harness::{ALIAS, Env, READ_CALL, check_stream, continue_request, tools};
use crate::standin::{Config, Reply};

#[tokio::test(flavor = "multi_thread")]
async fn upstream_gets_tool_choice_none_and_every_other_field() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text("ok"));
    let mut request = continue_request(false);
    request["top_k"] = json!(20);
    request["repetition_penalty"] = json!(1.05);
    request["chat_template_kwargs"] = json!({"enable_thinking": false});
    request["structured_outputs"] = json!({"regex": "ok"});
    let (status, _) = env.chat(&request).await;
    assert_eq!(status, 200);
    let sent = env.standin.last_chat_request().expect("upstream was called");
    assert_eq!(sent["tool_choice"], "none");
    assert_eq!(sent["skip_special_tokens"], false);
    assert_eq!(sent["spaces_between_special_tokens"], false);
    assert_eq!(sent["model"], crate::standin::DEFAULT_MODEL);
    assert!(sent.get("parallel_tool_calls").is_none());
    assert_eq!(sent["tools"], tools());
    assert_eq!(sent["top_k"], 20);
    assert_eq!(sent["repetition_penalty"], 1.05);
    assert_eq!(sent["chat_template_kwargs"], json!({"enable_thinking": false}));
    assert_eq!(sent["structured_outputs"], json!({"regex": "ok"}));
    assert_eq!(sent["max_tokens"], 1024);
}

#[tokio::test(flavor = "multi_thread")]
async fn non_streaming_tool_call() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text(READ_CALL));
    let (status, body) = env.chat(&continue_request(false)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], ALIAS);
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], "Let me look at it.");
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().is_some_and(|id| id.starts_with("call_")));
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "read_file");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().expect("string")).expect("JSON");
    assert_eq!(args, json!({"filepath": "src/main.rs"}));
    assert!(body["usage"]["prompt_tokens"].is_u64());
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_tool_call_split_mid_tag() {
    let env = Env::start().await;
    // Pieces of 3, 5 and 1 characters cut every tag; the stand-in also cuts each SSE line.
    env.standin.push_reply(Reply::chunked(READ_CALL, vec![3, 5, 1]));
    let (status, events) = env.chat_stream(&continue_request(true)).await;
    assert_eq!(status, 200);
    let (content, calls, finish) = check_stream(&events);
    assert_eq!(content, "Let me look at it.");
    assert_eq!(finish, "tool_calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1, "read_file");
    assert_eq!(serde_json::from_str::<Value>(&calls[0].2).expect("JSON"), json!({"filepath": "src/main.rs"}));
    // include_usage was asked: exactly one usage chunk with empty choices.
    let usage: Vec<&Value> = events.iter().filter(|e| e.get("usage").is_some_and(|u| !u.is_null())).collect();
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0]["choices"], json!([]));
    // Every chunk names the alias the client asked for.
    assert!(events.iter().filter(|e| e.is_object()).all(|e| e["model"] == ALIAS));
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_without_usage_request_has_no_usage_chunk() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text("plain answer"));
    let mut request = continue_request(true);
    request.as_object_mut().expect("object").remove("stream_options");
    let (_, events) = env.chat_stream(&request).await;
    let (content, calls, finish) = check_stream(&events);
    assert_eq!((content.as_str(), calls.len(), finish.as_str()), ("plain answer", 0, "stop"));
    assert!(events.iter().all(|e| e.get("usage").is_none_or(Value::is_null)));
    // Upstream was still asked for usage (for the request log).
    let sent = env.standin.last_chat_request().expect("sent");
    assert_eq!(sent["stream_options"]["include_usage"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn hermes_format_streaming_and_not() {
    let env =
        Env::with(Config::default(), |c| c.models[0].tool_format = podctl::toolcall::Format::Hermes).await;
    let text = "<tool_call>\n{\"name\": \"run_terminal_command\", \"arguments\": {\"command\": \"echo '</tool_call>'\", \"timeout\": \"30\"}}\n</tool_call>";
    env.standin.push_reply(Reply::chunked(text, vec![2, 7]));
    env.standin.push_reply(Reply::text(text));
    let (_, events) = env.chat_stream(&continue_request(true)).await;
    let (_, calls, finish) = check_stream(&events);
    assert_eq!(finish, "tool_calls");
    let args: Value = serde_json::from_str(&calls[0].2).expect("JSON");
    assert_eq!(args, json!({"command": "echo '</tool_call>'", "timeout": 30}));
    let (_, body) = env.chat(&continue_request(false)).await;
    let args =
        body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].as_str().expect("args");
    assert_eq!(
        serde_json::from_str::<Value>(args).expect("JSON"),
        json!({"command": "echo '</tool_call>'", "timeout": 30})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_false_keeps_first_call_and_ids_are_unique() {
    let env = Env::start().await;
    let two = format!(
        "{READ_CALL}\n<tool_call>\n<function=read_file>\n<parameter=filepath>\nb.rs\n</parameter>\n</function>\n</tool_call>"
    );
    env.standin.push_reply(Reply::text(two.clone()));
    env.standin.push_reply(Reply::text(two));
    let (_, body) = env.chat(&continue_request(false)).await;
    assert_eq!(body["choices"][0]["message"]["tool_calls"].as_array().map(Vec::len), Some(1));
    let mut request = continue_request(false);
    request["parallel_tool_calls"] = json!(true);
    let (_, body) = env.chat(&request).await;
    let calls = body["choices"][0]["message"]["tool_calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 2);
    assert_ne!(calls[0]["id"], calls[1]["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn tool_choice_none_named_and_required() {
    let env = Env::start().await;
    for _ in 0..3 {
        env.standin.push_reply(Reply::text(READ_CALL));
    }
    let mut none = continue_request(false);
    none["tool_choice"] = json!("none");
    let (_, body) = env.chat(&none).await;
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(body["choices"][0]["message"].get("tool_calls").is_none());
    assert_eq!(body["choices"][0]["message"]["content"], "Let me look at it.", "markup removed");

    let mut named = continue_request(false);
    named["tool_choice"] = json!({"type": "function", "function": {"name": "read_file"}});
    let (_, body) = env.chat(&named).await;
    assert_eq!(body["choices"][0]["finish_reason"], "stop", "a forced named call reports stop");
    assert_eq!(body["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "read_file");
    let sent = env.standin.last_chat_request().expect("sent");
    assert_eq!(sent["tools"].as_array().map(Vec::len), Some(1), "only the named tool is sent");
    assert!(sent["messages"][0]["content"].as_str().is_some_and(|s| s.contains("`read_file`")));

    let mut required = continue_request(false);
    required["tool_choice"] = json!("required");
    let (_, body) = env.chat(&required).await;
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_call_is_not_executable() {
    let env = Env::start().await;
    let cut = "Writing.\n<tool_call>\n<function=create_new_file>\n<parameter=filepath>\na.py\n</parameter>\n<parameter=contents>\nprint(";
    env.standin.push_reply(Reply::text(cut).length());
    env.standin.push_reply(Reply::chunked(cut, vec![3]).length());
    let (_, body) = env.chat(&continue_request(false)).await;
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert!(body["choices"][0]["message"].get("tool_calls").is_none());
    assert_eq!(body["choices"][0]["message"]["content"], "Writing.");
    let (_, events) = env.chat_stream(&continue_request(true)).await;
    let (content, calls, finish) = check_stream(&events);
    assert_eq!(finish, "length", "never tool_calls for a truncated call");
    assert!(calls.is_empty(), "a held call the token limit cut off is never sent: {calls:?}");
    assert_eq!(content, "Writing.", "the stream adds up to the whole answer");
}

/// `stream_tool_arguments`: the old behaviour, for clients that read `finish_reason`: the
/// call's header and arguments go out as they come, so a cut-off call's header did.
#[tokio::test(flavor = "multi_thread")]
async fn streamed_arguments_go_out_as_written_when_asked() {
    let env = Env::with(Config::default(), |c| c.stream_tool_arguments = true).await;
    let cut = "Writing.\n<tool_call>\n<function=create_new_file>\n<parameter=filepath>\na.py\n</parameter>\n<parameter=contents>\nprint(";
    env.standin.push_reply(Reply::chunked(cut, vec![3]).length());
    let (_, events) = env.chat_stream(&continue_request(true)).await;
    let (_, calls, finish) = check_stream(&events);
    assert_eq!(finish, "length", "never tool_calls for a truncated call");
    assert_eq!(calls.len(), 1, "the header went out before the cut");
    // A whole call streams its string arguments piece by piece.
    let whole = "<tool_call>\n<function=create_new_file>\n<parameter=filepath>\na.py\n</parameter>\n<parameter=contents>\nprint(1)\n</parameter>\n</function>\n</tool_call>";
    env.standin.push_reply(Reply::chunked(whole, vec![3]));
    let (_, events) = env.chat_stream(&continue_request(true)).await;
    let pieces = events
        .iter()
        .filter(|e| {
            e["choices"][0]["delta"]["tool_calls"][0].get("id").is_none()
                && e["choices"][0]["delta"].get("tool_calls").is_some()
        })
        .count();
    assert!(pieces > 2, "the arguments came in several pieces: {pieces}");
}

#[tokio::test(flavor = "multi_thread")]
async fn history_with_broken_arguments_is_repaired_for_vllm() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text("done"));
    let mut request = continue_request(false);
    request["messages"] = json!([
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "read_file", "arguments": "{\"filepath\": \"a.rs"}}]},
        {"role": "tool", "tool_call_id": "call_a", "content": "error: bad arguments"},
        {"role": "user", "content": "try again"}
    ]);
    let (status, body) = env.chat(&request).await;
    assert_eq!(status, 200, "the stand-in, like vLLM, would answer 400 to the raw history: {body}");
    let sent = env.standin.last_chat_request().expect("sent");
    let args = sent["messages"][2]["tool_calls"][0]["function"]["arguments"].as_str().expect("string");
    assert!(serde_json::from_str::<Value>(args).expect("JSON").is_object());
    assert_eq!(sent["messages"][3]["tool_call_id"], "call_a");
}

#[tokio::test(flavor = "multi_thread")]
async fn reasoning_goes_to_reasoning_content() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text("<think>plan first</think>\n\nThe answer."));
    env.standin.push_reply(Reply::chunked("<think>plan first</think>\n\nThe answer.", vec![2]));
    let (_, body) = env.chat(&continue_request(false)).await;
    let message = &body["choices"][0]["message"];
    assert_eq!(
        (message["content"].as_str(), message["reasoning_content"].as_str()),
        (Some("The answer."), Some("plan first"))
    );
    assert_eq!(message["reasoning"], "plan first");
    let (_, events) = env.chat_stream(&continue_request(true)).await;
    let reasoning: String = events
        .iter()
        .filter_map(|e| e.get("choices")?.get(0)?.get("delta")?.get("reasoning_content")?.as_str())
        .collect();
    assert_eq!(reasoning, "plan first");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_tool_choice_returns_only_that_tool() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text(READ_CALL));
    let mut named = continue_request(false);
    named["tool_choice"] = json!({"type": "function", "function": {"name": "create_new_file"}});
    let (_, body) = env.chat(&named).await;
    let message = &body["choices"][0]["message"];
    assert!(message.get("tool_calls").is_none(), "read_file was not the forced tool: {message}");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_history_arguments_mean_no_arguments() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::text("ok"));
    let mut request = continue_request(false);
    request["messages"] = json!([
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": ""}},
            {"id": "c2", "type": "function", "function": {"name": "read_file", "arguments": "null"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "x"},
        {"role": "tool", "tool_call_id": "c2", "content": "y"}
    ]);
    let (status, _) = env.chat(&request).await;
    assert_eq!(status, 200);
    let sent = env.standin.last_chat_request().expect("sent");
    for call in sent["messages"][1]["tool_calls"].as_array().expect("calls") {
        assert_eq!(call["function"]["arguments"], "{}");
    }
}

/// Mistral: the ids handed out are 9 alphanumerics, and a history sent back (with those ids,
/// or with OpenAI-style ones from another model) reaches vLLM with ids its template accepts.
#[tokio::test(flavor = "multi_thread")]
async fn mistral_ids_fit_its_template_both_ways() {
    let env =
        Env::with(Config::default(), |c| c.models[0].tool_format = podctl::toolcall::Format::Mistral).await;
    env.standin.push_reply(Reply::text("[TOOL_CALLS]read_file[ARGS]{\"filepath\": \"a.rs\"}"));
    let (_, body) = env.chat(&continue_request(false)).await;
    let call = &body["choices"][0]["message"]["tool_calls"][0];
    let given = call["id"].as_str().expect("id").to_owned();
    assert!(given.len() == 9 && given.bytes().all(|b| b.is_ascii_alphanumeric()), "{given}");

    env.standin.push_reply(Reply::text("Done."));
    let mut request = continue_request(false);
    let messages = request["messages"].as_array_mut().expect("messages");
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
        call,
        {"id": "call_Xy12_from_another_model", "type": "function",
         "function": {"name": "read_file", "arguments": "{\"filepath\": \"b.rs\"}"}}]}));
    messages.push(json!({"role": "tool", "tool_call_id": given, "content": "fn a() {}"}));
    messages.push(
        json!({"role": "tool", "tool_call_id": "call_Xy12_from_another_model", "content": "fn b() {}"}),
    );
    let (status, _) = env.chat(&request).await;
    assert_eq!(status, 200);
    let sent = env.standin.last_chat_request().expect("sent");
    let sent_messages = sent["messages"].as_array().expect("messages");
    let n = sent_messages.len();
    let ids: Vec<&str> = sent_messages[n - 3]["tool_calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids[0], given, "our own id fits already");
    assert!(ids[1].len() == 9 && ids[1].bytes().all(|b| b.is_ascii_alphanumeric()), "{}", ids[1]);
    assert_eq!(sent_messages[n - 2]["tool_call_id"], ids[0]);
    assert_eq!(sent_messages[n - 1]["tool_call_id"], ids[1]);
}

/// The events of one choice of a stream with several (`n`): its chunks, the usage chunk and
/// `[DONE]`, so each can be checked as a stream of its own.
fn choice_events(events: &[Value], index: u64) -> Vec<Value> {
    events
        .iter()
        .filter(|e| match e["choices"].as_array() {
            Some(choices) if !choices.is_empty() => {
                assert_eq!(choices.len(), 1, "one choice per chunk: {e}");
                choices[0]["index"] == index
            }
            _ => true,
        })
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn several_choices_are_translated_each_on_its_own() {
    let env = Env::start().await;
    // The stand-in answers `n` choices with the same text; streamed, their chunks interleave
    // piece by piece as vLLM's do, and every tag is cut.
    env.standin.push_reply(Reply::chunked(READ_CALL, vec![3, 5, 1]));
    env.standin.push_reply(Reply::text(READ_CALL));
    let mut request = continue_request(true);
    request["n"] = json!(2);
    let (status, events) = env.chat_stream(&request).await;
    assert_eq!(status, 200);
    let mut ids = Vec::new();
    for index in 0..2 {
        let (content, calls, finish) = check_stream(&choice_events(&events, index));
        assert_eq!(
            (content.as_str(), finish.as_str()),
            ("Let me look at it.", "tool_calls"),
            "choice {index}"
        );
        assert_eq!(calls.len(), 1, "choice {index}");
        assert_eq!(calls[0].1, "read_file");
        assert_eq!(
            serde_json::from_str::<Value>(&calls[0].2).expect("JSON"),
            json!({"filepath": "src/main.rs"})
        );
        ids.push(calls[0].0.clone());
    }
    assert_ne!(ids[0], ids[1], "tool call ids are unique across choices");
    assert!(
        !events.iter().any(|e| e["choices"].as_array().is_some_and(|c| c.iter().any(|c| c["index"] == 2)))
    );

    let mut request = continue_request(false);
    request["n"] = json!(2);
    let (status, body) = env.chat(&request).await;
    assert_eq!(status, 200, "{body}");
    let choices = body["choices"].as_array().expect("choices");
    assert_eq!(choices.len(), 2, "{body}");
    for (index, choice) in choices.iter().enumerate() {
        assert_eq!(choice["index"], index);
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["message"]["content"], "Let me look at it.");
        assert_eq!(choice["message"]["tool_calls"][0]["function"]["name"], "read_file");
    }
    assert_ne!(choices[0]["message"]["tool_calls"][0]["id"], choices[1]["message"]["tool_calls"][0]["id"]);
    assert_eq!(env.standin.last_chat_request().expect("sent")["n"], 2);
}

/// Reasoning per request: a request that turns thinking off (`chat_template_kwargs`) is read
/// as the answer from its first token, though the profile says the prompt opens `<think>`;
/// one that says nothing keeps the profile's reading.
#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_turns_thinking_off_is_read_as_the_answer() {
    use podctl::toolcall::Reasoning;
    let env = Env::with(Config::default(), |c| c.models[0].reasoning = Reasoning::PromptOpened).await;
    for stream in [false, true] {
        for (kwargs, content, reasoning) in [
            (json!({"enable_thinking": false}), "Plan: read it.", ""),
            (json!({"thinking": false}), "Plan: read it.", ""),
            (json!({}), "", "Plan: read it."),
        ] {
            env.standin.push_reply(Reply::text("Plan: read it."));
            let mut request = continue_request(stream);
            request["chat_template_kwargs"] = kwargs.clone();
            let (got_content, got_reasoning) = if stream {
                let (status, events) = env.chat_stream(&request).await;
                assert_eq!(status, 200);
                let delta = |key: &str| -> String {
                    events.iter().filter_map(|e| e["choices"][0]["delta"][key].as_str()).collect()
                };
                (delta("content"), delta("reasoning_content"))
            } else {
                let (status, body) = env.chat(&request).await;
                assert_eq!(status, 200, "{body}");
                let m = &body["choices"][0]["message"];
                (
                    m["content"].as_str().unwrap_or("").to_owned(),
                    m["reasoning_content"].as_str().unwrap_or("").to_owned(),
                )
            };
            assert_eq!(
                (got_content.as_str(), got_reasoning.as_str()),
                (content, reasoning),
                "{kwargs} stream {stream}"
            );
            let sent = env.standin.last_chat_request().expect("sent");
            assert_eq!(sent["chat_template_kwargs"], kwargs, "passed on as written");
        }
    }
}
