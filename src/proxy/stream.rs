//! Streaming translation: upstream SSE payloads in, client SSE frames out, in the order
//! the client contract fixes: a role delta first, text deltas, one header delta per call
//! then its argument fragments (index only), a finish chunk, the usage chunk
//! (`choices: []`, only when asked), `[DONE]`. Pure apart from ids; no I/O.

use serde_json::{Value, json};

use super::choice::{ChoiceTranslator, Out, upstream_finish};
use super::rewrite::Plan;
use crate::openai::{ApiError, ErrorKind};
use crate::toolcall::{Format, Reasoning};

/// Whether the stream is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    More,
    Done,
}

#[derive(Debug)]
pub(crate) struct StreamTranslator {
    plan: Plan,
    format: Format,
    reasoning: Reasoning,
    id: String,
    created: u64,
    keep_raw: bool,
    choices: Vec<Option<ChoiceTranslator>>,
    usage: Option<Value>,
    items: Vec<Out>,
}

impl StreamTranslator {
    pub(crate) fn new(
        plan: Plan,
        format: Format,
        reasoning: Reasoning,
        id: String,
        created: u64,
        keep_raw: bool,
    ) -> Self {
        Self {
            plan,
            format,
            reasoning,
            id,
            created,
            keep_raw,
            choices: Vec::new(),
            usage: None,
            items: Vec::new(),
        }
    }

    /// Translates one upstream `data:` payload, appending client frames to `out`.
    pub(crate) fn on_payload(&mut self, payload: &str, out: &mut Vec<u8>) -> Result<Progress, ApiError> {
        if payload.trim() == "[DONE]" {
            return self.on_done(out);
        }
        let chunk: Value = serde_json::from_str(payload).map_err(|e| {
            ApiError::new(
                ErrorKind::BadGateway,
                format!("upstream sent a stream event that is not JSON ({e})"),
            )
        })?;
        if chunk.get("error").is_some() || chunk.get("object").and_then(Value::as_str) == Some("error") {
            let status = chunk
                .get("error")
                .and_then(|e| e.get("code"))
                .or_else(|| chunk.get("code"))
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| (400..600).contains(c))
                .unwrap_or(502);
            return Err(ApiError::from_upstream(status, payload.as_bytes()));
        }
        if let Some(usage) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage = Some(usage.clone());
        }
        let Some(Value::Array(choices)) = chunk.get("choices") else { return Ok(Progress::More) };
        for choice in choices {
            let index = choice
                .get("index")
                .and_then(Value::as_u64)
                .and_then(|i| usize::try_from(i).ok())
                .unwrap_or(0);
            let delta = choice.get("delta");
            let text = delta.and_then(|d| d.get("content")).and_then(Value::as_str).unwrap_or("");
            let finish = choice.get("finish_reason").and_then(Value::as_str);
            self.on_choice(index, text, finish, out);
        }
        Ok(Progress::More)
    }

    fn on_choice(&mut self, ci: usize, text: &str, finish: Option<&str>, out: &mut Vec<u8>) {
        if self.choices.len() <= ci {
            self.choices.resize_with(ci + 1, || None);
        }
        if self.choices[ci].is_none() {
            self.choices[ci] =
                Some(ChoiceTranslator::new(self.format, self.reasoning, &self.plan, self.keep_raw));
            self.frame(ci, &json!({"role": "assistant", "content": ""}), None, out);
        }
        let mut items = std::mem::take(&mut self.items);
        let Some(choice) = self.choices[ci].as_mut() else { return };
        if choice.finished().is_some() {
            self.items = items;
            return;
        }
        if !text.is_empty() {
            choice.feed(text, &mut items);
        }
        let reason = finish.map(|f| choice.finish(upstream_finish(f), &mut items));
        for item in items.drain(..) {
            let delta = match item {
                Out::Content(text) => json!({"content": text}),
                Out::Reasoning(text) => json!({"reasoning_content": text, "reasoning": text}),
                Out::CallHeader { index, id, name } => json!({"tool_calls": [{
                    "index": index, "id": id, "type": "function",
                    "function": {"name": name, "arguments": ""}}]}),
                Out::CallArgs { index, fragment } => {
                    json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
                }
            };
            self.frame(ci, &delta, None, out);
        }
        self.items = items;
        if let Some(reason) = reason {
            self.frame(ci, &json!({}), Some(reason), out);
        }
    }

    /// The upstream's `[DONE]`: usage if asked, then our `[DONE]`.
    fn on_done(&mut self, out: &mut Vec<u8>) -> Result<Progress, ApiError> {
        if self.choices.iter().flatten().any(|c| c.finished().is_none()) {
            return Err(ApiError::new(
                ErrorKind::BadGateway,
                "upstream ended the stream before the answer finished",
            ));
        }
        if self.plan.include_usage
            && let Some(usage) = &self.usage
        {
            let chunk = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.plan.model, "choices": [], "usage": usage});
            push_event(out, &chunk.to_string());
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
        Ok(Progress::Done)
    }

    fn frame(&self, index: usize, delta: &Value, finish: Option<&str>, out: &mut Vec<u8>) {
        let chunk = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.plan.model,
            "choices": [{"index": index, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        push_event(out, &chunk.to_string());
    }

    /// Complete tool calls and the finish reason of each choice (for the request log).
    pub(crate) fn summary(&self) -> (usize, Option<&'static str>) {
        let calls = self.choices.iter().flatten().map(ChoiceTranslator::calls).sum();
        (calls, self.choices.iter().flatten().find_map(ChoiceTranslator::finished))
    }

    /// The raw upstream text of each choice (when tracing).
    pub(crate) fn raw(&self) -> Vec<&str> {
        self.choices.iter().flatten().filter_map(ChoiceTranslator::raw).collect()
    }
}

/// Appends one `data:` event.
pub(crate) fn push_event(out: &mut Vec<u8>, payload: &str) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(payload.as_bytes());
    out.extend_from_slice(b"\n\n");
}
