//! Non-streaming translation: the upstream's `chat.completion` in, the client's answer out
//! (written by its API, [`Api::render_whole`]). Pure apart from ids.
//!
//! Only the fields the translation needs are read from vLLM's answer
//! ([`upstream::Completion`]: its text is borrowed unless it has escapes, `usage` is kept as
//! raw JSON), and the client's answer is written straight to bytes.

use super::choice::{ABORTED, ChoiceTranslator, Out, aborted, upstream_finish};
use super::plan::Plan;
use super::wire::{Api, Call, Choice, Extra, Whole};
use crate::openai::{ApiError, ErrorKind, unix_now, upstream};
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

/// How to translate one answer.
pub(crate) struct Translation<'a> {
    pub(crate) api: &'a dyn Api,
    pub(crate) plan: &'a Plan,
    pub(crate) extra: &'a Extra,
    pub(crate) format: Format,
    pub(crate) reasoning: Reasoning,
    pub(crate) id: &'a str,
    pub(crate) keep_raw: bool,
}

/// Translates vLLM's answer `bytes` for the client.
pub(crate) fn translate_completion(bytes: &[u8], t: &Translation<'_>) -> Result<Completed, ApiError> {
    let Translation { api, plan, extra, format, reasoning, id, keep_raw } = *t;
    let answer = crate::openai::read_completion(bytes).map_err(|e| {
        ApiError::new(
            ErrorKind::BadGateway,
            format!("upstream answered HTTP 200 with a body that is not JSON ({e})"),
        )
    })?;
    let Some(choices) = answer.choices else {
        return Err(ApiError::new(ErrorKind::BadGateway, "upstream answer has no `choices`"));
    };
    let mut translated = Vec::with_capacity(choices.len());
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
        if let Some(calls) = message.and_then(|m| m.tool_calls.as_deref()) {
            translator.whole_calls(calls, &mut items);
        }
        let reason = translator.finish(upstream_finish(upstream_reason), &mut items);

        let mut out = Choice {
            index: choice.index.unwrap_or(position as u64),
            content: String::new(),
            reasoning: message.and_then(upstream::Message::reasoning).unwrap_or("").to_owned(),
            calls: Vec::new(),
            reason,
            stop_sequence: if reason == "stop" { choice.stop_string() } else { None },
        };
        for item in items {
            match item {
                Out::Content(t) => out.content.push_str(&t),
                Out::Reasoning(t) => out.reasoning.push_str(&t),
                Out::CallHeader { id, name, .. } => {
                    out.calls.push(Call { id, name, arguments: String::new() });
                }
                Out::CallArgs { index, fragment } => {
                    if let Some(call) = out.calls.get_mut(index) {
                        call.arguments.push_str(&fragment);
                    }
                }
            }
        }
        // Only complete calls are executable: a truncated one (finish `length`) is dropped.
        out.calls.truncate(translator.calls());
        translated.push(out);
        calls += translator.calls();
        outcomes.add(translator.outcomes());
        finish = finish.or(Some(reason));
        if let Some(text) = translator.raw() {
            raw.push(text.to_owned());
        }
    }
    let usage = answer.usage.filter(|u| u.get().trim() != "null");
    let created = answer.created.unwrap_or_else(unix_now);
    let body = api.render_whole(&Whole { choices: translated, usage, created }, plan, extra, id)?;
    Ok(Completed { body, calls, outcomes, finish, raw })
}
