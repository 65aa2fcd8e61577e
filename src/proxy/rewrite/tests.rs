//! The request rewrite: what vLLM gets for each kind of request, and the 400s that name the field at fault.

use serde_json::{Map, Value, json};

use super::messages::role;
use super::{ChatRequest, ToolsCache};
use crate::openai::ApiError;
use crate::proxy::plan::{Plan, ToolChoice};

#[allow(clippy::needless_pass_by_value, reason = "tests pass json! literals")]
fn rewrite_chat(req: Value, model: &str) -> Result<(Map<String, Value>, Plan), ApiError> {
    let body = req.to_string();
    let (out, plan) =
        ChatRequest::parse(body.as_bytes())?.rewrite(model, None, false, &ToolsCache::default())?;
    match serde_json::from_slice(&out).expect("the upstream body is JSON") {
        Value::Object(map) => Ok((map, plan)),
        _ => unreachable!(),
    }
}

fn obj(v: Value) -> Value {
    v
}

#[test]
fn roles_fast_and_slow() {
    let cases = [
        (r#"{"role":"user","content":"hi"}"#, Some("user")),
        (r#" { "role" : "system" , "content": "{\"role\":\"user\"}"}"#, Some("system")),
        (r#"{"content":"\"role\":\"user\"","role":"assistant"}"#, Some("assistant")),
        (r#"{"role":"us\u0065r"}"#, Some("user")),
        (r#"{"content":"no role"}"#, None),
    ];
    for (message, expected) in cases {
        assert_eq!(role(message).as_deref(), expected, "{message}");
    }
}

#[test]
fn affinity_keys_the_prefix_up_to_the_first_user_turn() {
    let key = |messages: Value| {
        let body = json!({"messages": messages}).to_string();
        ChatRequest::parse(body.as_bytes()).expect("parses").affinity()
    };
    let system = json!({"role": "system", "content": "You are a coding agent."});
    let first = json!({"role": "user", "content": "Read src/main.rs"});
    let turn1 = key(json!([system, first]));
    let turn2 = key(
        json!([system, first, {"role": "assistant", "content": "Done."}, {"role": "user", "content": "Now lib.rs"}]),
    );
    assert!(turn1.is_some());
    assert_eq!(turn1, turn2, "later turns keep the key");
    assert_ne!(turn1, key(json!([system, {"role": "user", "content": "Another task"}])));
    assert_ne!(turn1, key(json!([{"role": "system", "content": "Another prompt"}, first])));
    assert_eq!(
        key(json!([first])),
        key(json!([first, {"role": "assistant", "content": "x"}, {"role": "user", "content": "y"}]))
    );
    assert_eq!(key(json!([system])), None, "no user turn, no key");
}

#[test]
fn duplicate_and_escaped_keys() {
    // The last of duplicate keys wins (as vLLM's Python reads JSON), and each is sent once.
    let body = br#"{"stream": true, "messages": [{"role": "user", "content": "hi"}], "stream": false, "max\u005ftokens": 5}"#;
    let (out, plan) = ChatRequest::parse(body)
        .expect("parses")
        .rewrite("up", None, false, &ToolsCache::default())
        .expect("rewrites");
    assert!(!plan.stream);
    let text = String::from_utf8(out).expect("utf-8");
    assert_eq!(text.matches("\"stream\"").count(), 1, "{text}");
    assert!(text.contains("\"max_tokens\":5"), "an escaped key is read and written plainly: {text}");
    assert!(ChatRequest::parse(b"[1, 2]").is_err());
}

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "read_file", "parameters": {"properties": {"path": {"type": "string"}}}}},
           {"type": "function", "function": {"name": "run", "parameters": {}}}])
}

#[test]
fn continue_request_is_rewritten() {
    let req = obj(json!({
        "model": "qwen3-coder-30b", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        "tools": tools(), "parallel_tool_calls": false, "max_tokens": 100, "top_k": 20,
        "chat_template_kwargs": {"enable_thinking": false}
    }));
    let (up, plan) = rewrite_chat(req, "Qwen/Qwen3-Coder").expect("valid");
    assert_eq!(up["model"], "Qwen/Qwen3-Coder");
    assert_eq!(up["tool_choice"], "none");
    assert_eq!(up["skip_special_tokens"], false);
    assert!(!up.contains_key("parallel_tool_calls"));
    assert_eq!(up["top_k"], 20);
    assert_eq!(up["chat_template_kwargs"], json!({"enable_thinking": false}));
    assert_eq!(up["tools"], tools());
    assert_eq!(
        (plan.model.as_str(), plan.stream, plan.include_usage, plan.parallel),
        ("qwen3-coder-30b", true, true, false)
    );
    assert_eq!(plan.choice, ToolChoice::Auto);
    assert_eq!(plan.max_calls(), 1);
}

#[test]
fn named_and_required_are_steered() {
    let req = obj(json!({"messages": [{"role": "user", "content": "x"}], "tools": tools(),
        "tool_choice": {"type": "function", "function": {"name": "run"}}}));
    let (up, plan) = rewrite_chat(req, "m").expect("valid");
    assert_eq!(plan.choice, ToolChoice::Named("run".into()));
    assert_eq!(up["tools"].as_array().map(Vec::len), Some(1));
    assert_eq!(up["messages"][0]["role"], "system");
    assert!(up["messages"][0]["content"].as_str().is_some_and(|s| s.contains("`run`")));
    let req =
        obj(json!({"messages": [{"role": "system", "content": "base"}, {"role": "user", "content": "x"}],
        "tools": tools(), "tool_choice": "required"}));
    let (up, _) = rewrite_chat(req, "m").expect("valid");
    assert!(up["messages"][0]["content"].as_str().is_some_and(|s| s.starts_with("base\n\nYou must")));
    assert_eq!(up["messages"].as_array().map(Vec::len), Some(2));
}

#[test]
fn no_tools_means_no_tool_fields() {
    let req =
        obj(json!({"messages": [{"role": "user", "content": "x"}], "tool_choice": "auto", "tools": []}));
    let (up, plan) = rewrite_chat(req, "m").expect("valid");
    assert!(!up.contains_key("tools") && !up.contains_key("tool_choice"));
    assert_eq!(plan.max_calls(), 0);
    assert!(!up.contains_key("stream_options"));
}

#[test]
fn history_arguments_are_repaired() {
    let req = obj(json!({"messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "run", "arguments": "{\"cmd\": \"ls\"}"}},
            {"id": "b", "type": "function", "function": {"name": "run", "arguments": "{\"cmd\": \"ls"}},
            {"id": "c", "type": "function", "function": {"name": "run", "arguments": {"cmd": "pwd"}}},
            {"id": "d", "type": "function", "function": {"name": "run"}},
            {"id": "e", "type": "function", "function": {"name": "run", "arguments": "{'cmd': 'py'}"}}]},
        {"role": "tool", "tool_call_id": "b", "content": "error"}]}));
    let (up, _) = rewrite_chat(req, "m").expect("valid");
    let calls = up["messages"][1]["tool_calls"].as_array().expect("calls");
    let args: Vec<Value> = calls
        .iter()
        .map(|c| serde_json::from_str(c["function"]["arguments"].as_str().expect("string")).expect("JSON"))
        .collect();
    assert_eq!(args[0], json!({"cmd": "ls"}));
    assert!(args[1].is_object());
    assert_eq!(args[2], json!({"cmd": "pwd"}));
    assert_eq!(args[3], json!({}));
    assert_eq!(args[4], json!({"cmd": "py"}));
    assert_eq!(calls[1]["id"], "b");
    assert_eq!(up["messages"][2]["tool_call_id"], "b");
}

/// Mistral's templates raise on any id that is not 9 alphanumerics: a history from
/// another model (or from OpenAI, `call_…`) is mapped, a call and its result still match.
#[test]
fn history_ids_fit_mistral_templates() {
    let req = json!({"messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_8f3a2b1c9d0e4f5a6b7c8d9e", "type": "function", "function": {"name": "run", "arguments": "{}"}},
            {"id": "Ab3dE6gH9", "type": "function", "function": {"name": "run", "arguments": "{}"}},
            {"id": "functions.run:2", "type": "function", "function": {"name": "run", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_8f3a2b1c9d0e4f5a6b7c8d9e", "content": "a"},
        {"role": "tool", "tool_call_id": "Ab3dE6gH9", "content": "b"},
        {"role": "tool", "tool_call_id": "functions.run:2", "content": "c"}]});
    let body = req.to_string();
    let parsed = ChatRequest::parse(body.as_bytes()).expect("valid");
    let (out, _) = parsed.rewrite("m", Some(9), false, &ToolsCache::default()).expect("valid");
    let up: Value = serde_json::from_slice(&out).expect("JSON");
    let ids: Vec<&str> = up["messages"][1]["tool_calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    for id in &ids {
        assert_eq!(id.len(), 9, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    }
    assert_eq!(ids[1], "Ab3dE6gH9", "an id that fits is kept");
    assert_ne!(ids[0], ids[2]);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(up["messages"][i + 2]["tool_call_id"], *id, "result {i} still answers its call");
    }
    // The same history maps the same way next turn (the cache prefix stays stable).
    let (again, _) = parsed.rewrite("m", Some(9), false, &ToolsCache::default()).expect("valid");
    assert_eq!(out, again);
    // Other families keep ids as the client sent them.
    let (plain, _) = parsed.rewrite("m", None, false, &ToolsCache::default()).expect("valid");
    let plain: Value = serde_json::from_slice(&plain).expect("JSON");
    assert_eq!(plain["messages"][1]["tool_calls"][0]["id"], "call_8f3a2b1c9d0e4f5a6b7c8d9e");
    assert_eq!(plain["messages"][4]["tool_call_id"], "functions.run:2");
}

#[test]
fn bad_requests_name_the_field() {
    let cases = [
        (json!({"messages": "hi"}), "messages"),
        (json!({}), "messages"),
        (json!({"messages": []}), "messages"),
        (json!({"messages": [{"role": "user", "content": "x"}], "stream": "yes"}), "stream"),
        (json!({"messages": [{"role": "user", "content": "x"}], "tools": {"a": 1}}), "tools"),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "tools": tools(), "tool_choice": "sometimes"}),
            "tool_choice",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "tools": tools(),
            "tool_choice": {"type": "function", "function": {"name": "nope"}}}),
            "tool_choice",
        ),
        (json!({"messages": [{"role": "user", "content": "x"}], "model": 3}), "model"),
        (json!({"messages": [3]}), "messages"),
        (json!({"messages": [{"role": "user", "content": "x"}], "stream_options": "x"}), "stream_options"),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "stream": true,
            "stream_options": {"include_usage": "yes"}}),
            "stream_options",
        ),
        (json!({"messages": [{"role": "assistant", "tool_calls": "oops"}]}), "messages"),
        (json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "a"}]}]}), "messages"),
        (
            json!({"messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}]}),
            "messages",
        ),
    ];
    for (req, param) in cases {
        let err = rewrite_chat(obj(req.clone()), "m").expect_err("invalid");
        assert_eq!((err.status, err.param.as_deref()), (400, Some(param)), "{req}");
    }
}

#[test]
fn keys_are_written_back_escaped_where_they_need_it() {
    let req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
        "top_k": 5, "we\"ird\\key": 1, "tab\tkey": 2});
    let (out, _) = rewrite_chat(req, "up").expect("rewrites");
    assert_eq!(out["top_k"], 5);
    assert_eq!(out["we\"ird\\key"], 1);
    assert_eq!(out["tab\tkey"], 2);
}

#[test]
fn tools_sent_again_are_skipped_and_rewrite_the_same() {
    let tools = json!([{"type": "function", "function": {"name": "rewrite_test_tool",
        "description": "Reads a file. ".repeat(60), "parameters": {"type": "object",
        "properties": {"path": {"type": "string"}}, "required": ["path"]}}}]);
    let body = json!({"model": "m", "tools": tools, "tool_choice": "auto",
        "messages": [{"role": "user", "content": "read a.rs"}]})
    .to_string();
    let cache = ToolsCache::default();
    let run = |body: &str| {
        ChatRequest::parse(body.as_bytes())
            .and_then(|r| r.rewrite("up", None, false, &cache))
            .map(|(out, _)| out)
    };
    let first = run(&body).expect("rewrites");
    let again = run(&body).expect("rewrites");
    assert_eq!(first, again);
    // The whole-body reader gives the same request.
    let whole: super::fields::Fields<'_> = serde_json::from_str(&body).expect("parses");
    let split = super::fields::Fields::split(&body).expect("splits");
    assert_eq!(format!("{:?}", whole.list), format!("{:?}", split.list));
    // A broken body after the known tools is still refused with serde_json's words.
    let broken = body.replacen(r#""tool_choice":"auto""#, r#""tool_choice":auto"#, 1);
    assert_ne!(broken, body);
    let e = run(&broken).expect_err("broken");
    assert!(e.message.contains("not valid JSON") && e.message.contains("column"), "{}", e.message);
}
