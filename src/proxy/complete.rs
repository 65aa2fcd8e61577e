//! Non-streaming translation: the upstream's `chat.completion` in, the client's out.
//! Pure apart from ids.
//!
//! Both sides are typed and borrowed: only the fields the translation needs are read from
//! vLLM's answer (its text is borrowed unless it has escapes, `usage` is copied as raw
//! JSON), and the client's answer is written straight to bytes.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::choice::{ABORTED, ChoiceTranslator, Out, aborted, upstream_finish};
use super::plan::Plan;
use crate::openai::{ApiError, ErrorKind, unix_now};
use crate::toolcall::{Format, Reasoning};

#[derive(Debug)]
pub(crate) struct Completed {
    /// The client's answer, serialised.
    pub(crate) body: Vec<u8>,
    pub(crate) calls: usize,
    /// How the model's would-be calls turned out (for metrics).
    pub(crate) outcomes: crate::toolcall::Outcomes,
    pub(crate) finish: Option<&'static str>,
    /// Raw upstream text per choice (when tracing).
    pub(crate) raw: Vec<String>,
}

/// vLLM's answer, as far as the translation reads it.
#[derive(Deserialize)]
struct Upstream<'a> {
    #[serde(borrow)]
    choices: Option<Vec<UpChoice<'a>>>,
    created: Option<u64>,
    #[serde(borrow)]
    usage: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct UpChoice<'a> {
    index: Option<u64>,
    #[serde(borrow)]
    message: Option<UpMessage<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct UpMessage<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning: Option<Cow<'a, str>>,
}

/// The client's `chat.completion`.
#[derive(Serialize)]
struct Answer<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: Vec<Choice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct Choice {
    index: u64,
    message: Message,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct Message {
    role: &'static str,
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<Call>,
}

#[derive(Serialize)]
struct Call {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function,
}

#[derive(Serialize)]
struct Function {
    name: String,
    arguments: String,
}

/// Translates vLLM's answer `bytes` for the client.
pub(crate) fn translate_completion(
    bytes: &[u8],
    plan: &Plan,
    format: Format,
    reasoning: Reasoning,
    id: &str,
    keep_raw: bool,
) -> Result<Completed, ApiError> {
    let upstream: Upstream<'_> = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            ErrorKind::BadGateway,
            format!("upstream answered HTTP 200 with a body that is not JSON ({e})"),
        )
    })?;
    let Some(choices) = upstream.choices else {
        return Err(ApiError::new(ErrorKind::BadGateway, "upstream answer has no `choices`"));
    };
    let mut out_choices = Vec::with_capacity(choices.len());
    let (mut calls, mut finish, mut raw) = (0, None, Vec::new());
    let mut outcomes = crate::toolcall::Outcomes::default();
    for (position, choice) in choices.iter().enumerate() {
        let message = choice.message.as_ref();
        let text = message.and_then(|m| m.content.as_deref()).unwrap_or("");
        let upstream_reason = choice.finish_reason.as_deref().unwrap_or("stop");
        if upstream_reason == ABORTED {
            return Err(aborted());
        }
        let mut translator = ChoiceTranslator::new(format, reasoning, plan, keep_raw);
        let mut items = Vec::new();
        translator.feed(text, &mut items);
        let reason = translator.finish(upstream_finish(upstream_reason), &mut items);

        let mut content = String::new();
        let mut thought: String = message
            .and_then(|m| m.reasoning_content.as_deref().or(m.reasoning.as_deref()))
            .unwrap_or("")
            .to_owned();
        let mut tool_calls: Vec<Call> = Vec::new();
        for item in items {
            match item {
                Out::Content(t) => content.push_str(&t),
                Out::Reasoning(t) => thought.push_str(&t),
                Out::CallHeader { id, name, .. } => tool_calls.push(Call {
                    id,
                    kind: "function",
                    function: Function { name, arguments: String::new() },
                }),
                Out::CallArgs { index, fragment } => {
                    if let Some(call) = tool_calls.get_mut(index) {
                        call.function.arguments.push_str(&fragment);
                    }
                }
            }
        }
        // Only complete calls are executable: a truncated one (finish `length`) is dropped.
        tool_calls.truncate(translator.calls());
        let thought = (!thought.is_empty()).then_some(thought);
        out_choices.push(Choice {
            index: choice.index.unwrap_or(position as u64),
            message: Message {
                role: "assistant",
                content: (!content.is_empty()).then_some(content),
                reasoning_content: thought.clone(),
                reasoning: thought,
                tool_calls,
            },
            logprobs: None,
            finish_reason: reason,
        });
        calls += translator.calls();
        outcomes.add(translator.outcomes());
        finish = finish.or(Some(reason));
        if let Some(text) = translator.raw() {
            raw.push(text.to_owned());
        }
    }
    let answer = Answer {
        id,
        object: "chat.completion",
        created: upstream.created.unwrap_or_else(unix_now),
        model: &plan.model,
        choices: out_choices,
        usage: upstream.usage.filter(|u| u.get().trim() != "null"),
    };
    let body = serde_json::to_vec(&answer)
        .map_err(|e| ApiError::new(ErrorKind::Internal, format!("cannot write the answer: {e}")))?;
    Ok(Completed { body, calls, outcomes, finish, raw })
}
