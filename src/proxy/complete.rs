//! Non-streaming translation: the upstream's `chat.completion` in, the client's out.
//! Pure apart from ids.

use serde_json::{Map, Value, json};

use super::choice::{ABORTED, ChoiceTranslator, Out, aborted, upstream_finish};
use super::rewrite::Plan;
use crate::openai::{ApiError, ErrorKind, unix_now};
use crate::toolcall::{Format, Reasoning};

#[derive(Debug)]
pub(crate) struct Completed {
    pub(crate) body: Value,
    pub(crate) calls: usize,
    /// How the model's would-be calls turned out (for metrics).
    pub(crate) outcomes: crate::toolcall::Outcomes,
    pub(crate) finish: Option<&'static str>,
    /// Raw upstream text per choice (when tracing).
    pub(crate) raw: Vec<String>,
}

pub(crate) fn translate_completion(
    upstream: &Value,
    plan: &Plan,
    format: Format,
    reasoning: Reasoning,
    id: &str,
    keep_raw: bool,
) -> Result<Completed, ApiError> {
    let Some(Value::Array(choices)) = upstream.get("choices") else {
        return Err(ApiError::new(ErrorKind::BadGateway, "upstream answer has no `choices`"));
    };
    let mut out_choices = Vec::with_capacity(choices.len());
    let (mut calls, mut finish, mut raw) = (0, None, Vec::new());
    let mut outcomes = crate::toolcall::Outcomes::default();
    for (position, choice) in choices.iter().enumerate() {
        let message = choice.get("message");
        let text = message.and_then(|m| m.get("content")).and_then(Value::as_str).unwrap_or("");
        let upstream_reason = choice.get("finish_reason").and_then(Value::as_str).unwrap_or("stop");
        if upstream_reason == ABORTED {
            return Err(aborted());
        }
        let mut translator = ChoiceTranslator::new(format, reasoning, plan, keep_raw);
        let mut items = Vec::new();
        translator.feed(text, &mut items);
        let reason = translator.finish(upstream_finish(upstream_reason), &mut items);

        let mut content = String::new();
        let mut thought = message
            .and_then(|m| m.get("reasoning_content").or_else(|| m.get("reasoning")))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut tool_calls: Vec<Value> = Vec::new();
        for item in items {
            match item {
                Out::Content(t) => content.push_str(&t),
                Out::Reasoning(t) => thought.push_str(&t),
                Out::CallHeader { id, name, .. } => {
                    tool_calls.push(
                        json!({"id": id, "type": "function", "function": {"name": name, "arguments": ""}}),
                    );
                }
                Out::CallArgs { index, fragment } => {
                    if let Some(Value::String(args)) =
                        tool_calls.get_mut(index).and_then(|c| c.pointer_mut("/function/arguments"))
                    {
                        args.push_str(&fragment);
                    }
                }
            }
        }
        // Only complete calls are executable: a truncated one (finish `length`) is dropped.
        tool_calls.truncate(translator.calls());
        let mut msg = Map::new();
        msg.insert("role".into(), json!("assistant"));
        msg.insert("content".into(), if content.is_empty() { Value::Null } else { Value::String(content) });
        if !thought.is_empty() {
            msg.insert("reasoning_content".into(), Value::String(thought.clone()));
            msg.insert("reasoning".into(), Value::String(thought));
        }
        if !tool_calls.is_empty() {
            msg.insert("tool_calls".into(), Value::Array(tool_calls));
        }
        let index = choice.get("index").cloned().unwrap_or_else(|| json!(position));
        out_choices.push(json!({"index": index, "message": msg, "logprobs": null, "finish_reason": reason}));
        calls += translator.calls();
        outcomes.add(translator.outcomes());
        finish = finish.or(Some(reason));
        if let Some(text) = translator.raw() {
            raw.push(text.to_owned());
        }
    }
    let created = upstream.get("created").and_then(Value::as_u64).unwrap_or_else(unix_now);
    let mut body = json!({"id": id, "object": "chat.completion", "created": created, "model": plan.model,
        "choices": out_choices});
    if let Some(usage) = upstream.get("usage").filter(|u| !u.is_null()) {
        body["usage"] = usage.clone();
    }
    Ok(Completed { body, calls, outcomes, finish, raw })
}
