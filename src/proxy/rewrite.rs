//! The chat request as vLLM (without a tool parser) must see it, and the plan for
//! answering the client (spec sections 7–8). Pure: JSON in, JSON and a [`Plan`] out.
//!
//! * Upstream gets the client's `tools` with `tool_choice: "none"` (vLLM answers 400 to
//!   anything else without a parser but still renders the tools into the prompt), no
//!   `parallel_tool_calls`, and `skip_special_tokens: false` (tool markers must survive).
//! * The client's `tool_choice`, `parallel_tool_calls`, stream flags and tool schemas go
//!   into the [`Plan`] and are honoured on the response side.
//! * `required` and a named function are steered with an instruction in the system prompt
//!   (a named function is the only tool sent).
//! * Every history `tool_calls[].function.arguments` becomes a valid JSON-object string:
//!   vLLM decodes them before templating, and one bad string fails every later turn.
//! * Every other field, known or not, is passed through unchanged.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::openai::{ApiError, ErrorKind};
use crate::toolcall::Tools;

/// The client's `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum ToolChoice {
    #[default]
    Auto,
    None,
    Required,
    Named(String),
}

/// How to answer the client, decided from its request.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The model name the client asked for (echoed in responses).
    pub(crate) model: String,
    pub(crate) stream: bool,
    pub(crate) include_usage: bool,
    pub(crate) tools: Arc<Tools>,
    pub(crate) choice: ToolChoice,
    /// `parallel_tool_calls: false` returns only the first call.
    pub(crate) parallel: bool,
}

impl Plan {
    /// Calls may be returned at all.
    pub(crate) fn calls_allowed(&self) -> bool {
        self.choice != ToolChoice::None && !self.tools.is_empty()
    }

    /// At most this many calls are returned.
    pub(crate) fn max_calls(&self) -> usize {
        if !self.calls_allowed() {
            0
        } else if self.parallel {
            usize::MAX
        } else {
            1
        }
    }
}

fn bad(message: impl Into<String>, param: &str) -> ApiError {
    ApiError::new(ErrorKind::BadRequest, message).param(param)
}

/// Rewrites `body` for the upstream whose model id is `upstream_model`.
pub(crate) fn rewrite_chat(
    mut body: Map<String, Value>,
    upstream_model: &str,
) -> Result<(Map<String, Value>, Plan), ApiError> {
    let model = match body.get("model") {
        Some(Value::String(m)) => m.clone(),
        None | Some(Value::Null) => upstream_model.to_owned(),
        Some(_) => return Err(bad("`model` must be a string", "model")),
    };
    body.insert("model".into(), Value::String(upstream_model.to_owned()));

    let stream = match body.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("`stream` must be true or false", "stream")),
    };
    let include_usage = stream
        && body.get("stream_options").and_then(|o| o.get("include_usage")).and_then(Value::as_bool)
            == Some(true);
    if stream {
        // Always ask for usage upstream (for the request log); the client gets it only if asked.
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }

    match body.get_mut("messages") {
        Some(Value::Array(messages)) if !messages.is_empty() => repair_history(messages)?,
        Some(Value::Array(_)) => return Err(bad("`messages` must not be empty", "messages")),
        None => return Err(bad("`messages` is required", "messages")),
        Some(_) => return Err(bad("`messages` must be an array of message objects", "messages")),
    }

    let tools_value = match body.get("tools") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) if list.is_empty() => None,
        Some(v) => Some(v.clone()),
    };
    let tools = match &tools_value {
        Some(v) => Tools::from_openai(v).map_err(|e| bad(format!("invalid `tools`: {e}"), "tools"))?,
        None => Tools::none(),
    };
    let choice = parse_choice(body.get("tool_choice"))?;
    if let ToolChoice::Named(name) = &choice
        && tools.get(name).is_none()
    {
        return Err(bad(format!("`tool_choice` names `{name}`, which is not one of `tools`"), "tool_choice"));
    }
    let parallel = match body.remove("parallel_tool_calls") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(bad("`parallel_tool_calls` must be true or false", "parallel_tool_calls")),
    };

    if tools_value.is_some() {
        body.insert("tool_choice".into(), Value::String("none".into()));
        match &choice {
            ToolChoice::Required => {
                steer(&mut body, "You must reply with a call to one of the provided tools.");
            }
            ToolChoice::Named(name) => {
                if let Some(Value::Array(list)) = body.get_mut("tools") {
                    list.retain(|t| tool_name(t) == Some(name.as_str()));
                }
                steer(&mut body, &format!("You must reply with a call to the tool `{name}`."));
            }
            ToolChoice::Auto | ToolChoice::None => {}
        }
    } else {
        body.remove("tools");
        body.remove("tool_choice");
    }
    body.insert("skip_special_tokens".into(), Value::Bool(false));

    let plan = Plan { model, stream, include_usage, tools: Arc::new(tools), choice, parallel };
    Ok((body, plan))
}

fn tool_name(tool: &Value) -> Option<&str> {
    tool.get("function").unwrap_or(tool).get("name").and_then(Value::as_str)
}

fn parse_choice(value: Option<&Value>) -> Result<ToolChoice, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(ToolChoice::Auto),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(bad(
                format!("unknown `tool_choice` \"{other}\" (auto, none, required or a function)"),
                "tool_choice",
            )),
        },
        Some(Value::Object(o)) => o
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .map(|n| ToolChoice::Named(n.to_owned()))
            .ok_or_else(|| {
                bad(
                    "`tool_choice` object needs {\"type\": \"function\", \"function\": {\"name\": …}}",
                    "tool_choice",
                )
            }),
        Some(_) => Err(bad("`tool_choice` must be a string or an object", "tool_choice")),
    }
}

/// Adds an instruction to the system prompt (first message), creating one if needed.
/// Chat templates accept a system message only first, so it is never appended later.
fn steer(body: &mut Map<String, Value>, instruction: &str) {
    let Some(Value::Array(messages)) = body.get_mut("messages") else { return };
    let first_is_system =
        messages.first().and_then(|m| m.get("role")).and_then(Value::as_str) == Some("system");
    if first_is_system && let Some(Value::Object(system)) = messages.first_mut() {
        match system.get_mut("content") {
            Some(Value::String(text)) => {
                text.push_str("\n\n");
                text.push_str(instruction);
            }
            Some(Value::Array(parts)) => parts.push(json!({"type": "text", "text": instruction})),
            _ => {
                system.insert("content".into(), Value::String(instruction.to_owned()));
            }
        }
    } else {
        messages.insert(0, json!({"role": "system", "content": instruction}));
    }
}

/// Makes every history call's `arguments` a JSON-object string (spec section 8).
fn repair_history(messages: &mut [Value]) -> Result<(), ApiError> {
    for (i, message) in messages.iter_mut().enumerate() {
        let Value::Object(message) = message else {
            return Err(bad(format!("messages[{i}] must be an object"), "messages"));
        };
        let Some(Value::Array(calls)) = message.get_mut("tool_calls") else { continue };
        for call in calls {
            let Some(Value::Object(function)) = call.get_mut("function") else { continue };
            let repaired = match function.get("arguments") {
                Some(Value::String(text)) => crate::toolcall::repair_arguments(text),
                Some(Value::Object(map)) => Value::Object(map.clone()).to_string(),
                _ => "{}".to_owned(),
            };
            function.insert("arguments".into(), Value::String(repaired));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
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
        let req = obj(
            json!({"messages": [{"role": "system", "content": "base"}, {"role": "user", "content": "x"}],
            "tools": tools(), "tool_choice": "required"}),
        );
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
            .map(|c| {
                serde_json::from_str(c["function"]["arguments"].as_str().expect("string")).expect("JSON")
            })
            .collect();
        assert_eq!(args[0], json!({"cmd": "ls"}));
        assert!(args[1].is_object());
        assert_eq!(args[2], json!({"cmd": "pwd"}));
        assert_eq!(args[3], json!({}));
        assert_eq!(args[4], json!({"cmd": "py"}));
        assert_eq!(calls[1]["id"], "b");
        assert_eq!(up["messages"][2]["tool_call_id"], "b");
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
        ];
        for (req, param) in cases {
            let err = rewrite_chat(obj(req.clone()), "m").expect_err("invalid");
            assert_eq!((err.status, err.param.as_deref()), (400, Some(param)), "{req}");
        }
    }
}
