//! Streaming translation: upstream SSE payloads in, the client API's frames out (its
//! [`StreamWire`] writes them). Each choice goes through its own engine and tool-call
//! policy; the wire is told when a choice begins, each item in the order the engine decides
//! it, each choice's finish, and the end. Pure apart from ids; no I/O.

use serde_json::value::RawValue;

use super::choice::{ABORTED, ChoiceTranslator, Out, aborted, upstream_finish};
use super::plan::Plan;
use super::wire::StreamWire;
use crate::openai::upstream::CallDelta;
use crate::openai::{ApiError, ErrorKind};
use crate::openai::{ChunkReader, Event};
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
    keep_raw: bool,
    choices: Vec<Option<ChoiceTranslator>>,
    /// Reads the upstream's events (the repeated ones by the last one's bytes).
    reader: ChunkReader,
    /// The upstream's last `usage`, as it came.
    usage: Option<Box<RawValue>>,
    /// Reused for each chunk's translated items.
    items: Vec<Out>,
    /// Writes the answer in the client's API.
    wire: Box<dyn StreamWire + Send>,
    /// The wire began choice 0 before the answer came ([`StreamTranslator::begun`]).
    begun: bool,
}

impl StreamTranslator {
    pub(crate) fn new(
        plan: Plan,
        format: Format,
        reasoning: Reasoning,
        keep_raw: bool,
        wire: Box<dyn StreamWire + Send>,
    ) -> Self {
        Self {
            plan,
            format,
            reasoning,
            keep_raw,
            choices: Vec::new(),
            reader: ChunkReader::default(),
            usage: None,
            items: Vec::new(),
            wire,
            begun: false,
        }
    }

    /// The wire has already begun choice 0 (it said, while the model loaded, that it was
    /// loading): the answer goes on in that choice.
    pub(crate) fn begun(mut self) -> Self {
        self.begun = true;
        self
    }

    /// Translates one upstream `data:` payload, appending client frames to `out`.
    pub(crate) fn on_payload(&mut self, payload: &str, out: &mut Vec<u8>) -> Result<Progress, ApiError> {
        // An event is an object far more often than not: `[DONE]` is looked for only when not.
        if !payload.starts_with('{') && payload.trim() == "[DONE]" {
            return self.on_done(out);
        }
        let event = self.reader.read(payload).map_err(|e| {
            ApiError::new(
                ErrorKind::BadGateway,
                format!("upstream sent a stream event that is not JSON ({e})"),
            )
        })?;
        let chunk = match event {
            Event::Text(text) => {
                self.on_choice(text.index(), text.reasoning(), text.content(), &[], None, out)?;
                return Ok(Progress::More);
            }
            Event::Chunk(chunk) => chunk,
        };
        if chunk.is_error() {
            return Err(ApiError::from_upstream(chunk.error_status(), payload.as_bytes()));
        }
        if let Some(usage) = chunk.usage {
            self.wire.usage(usage);
            self.usage = Some(usage.to_owned());
        }
        let Some(choices) = &chunk.choices.0 else { return Ok(Progress::More) };
        if choices.iter().any(|c| c.finish_reason.as_str() == Some(ABORTED)) {
            return Err(aborted());
        }
        for choice in choices {
            let text = choice.delta.content.as_str().unwrap_or("");
            // vLLM started with a reasoning parser splits reasoning out itself: pass it on.
            let thought = choice.delta.reasoning().unwrap_or("");
            let calls = choice.delta.tool_calls.0.as_deref().unwrap_or(&[]);
            let end = choice.finish_reason.as_str().map(|reason| (reason, choice.stop_reason.as_str()));
            self.on_choice(choice.index(), thought, text, calls, end, out)?;
        }
        Ok(Progress::More)
    }

    fn on_choice(
        &mut self,
        ci: usize,
        thought: &str,
        text: &str,
        calls: &[CallDelta<'_>],
        end: Option<(&str, Option<&str>)>,
        out: &mut Vec<u8>,
    ) -> Result<(), ApiError> {
        if self.choices.len() <= ci {
            self.choices.resize_with(ci + 1, || None);
        }
        if self.choices[ci].is_none() {
            self.choices[ci] =
                Some(ChoiceTranslator::new(self.format, self.reasoning, &self.plan, self.keep_raw));
            if !(ci == 0 && std::mem::take(&mut self.begun)) {
                self.wire.begin(ci, out)?;
            }
        }
        if !thought.is_empty() {
            self.wire.item(ci, &Out::Reasoning(thought.to_owned()), out)?;
        }
        let mut items = std::mem::take(&mut self.items);
        let Some(choice) = self.choices[ci].as_mut() else { return Ok(()) };
        if choice.finished().is_some() {
            self.items = items;
            return Ok(());
        }
        if !text.is_empty() {
            choice.feed(text, &mut items);
        }
        if !calls.is_empty() {
            choice.feed_calls(calls, &mut items);
        }
        let reason = end.map(|(f, _)| choice.finish(upstream_finish(f), &mut items));
        let complete = choice.calls();
        let written: Result<(), ApiError> =
            items.drain(..).try_for_each(|item| self.wire.item(ci, &item, out));
        self.items = items;
        written?;
        if let Some(reason) = reason {
            if let (Some((_, Some(sequence))), "stop") = (end, reason) {
                self.wire.stop_sequence(ci, sequence);
            }
            self.wire.complete_calls(ci, complete);
            self.wire.finish(ci, reason, out)?;
        }
        Ok(())
    }

    /// The upstream's `[DONE]`: the answer is over.
    fn on_done(&mut self, out: &mut Vec<u8>) -> Result<Progress, ApiError> {
        if self.choices.iter().flatten().any(|c| c.finished().is_none()) {
            return Err(ApiError::new(
                ErrorKind::BadGateway,
                "upstream ended the stream before the answer finished",
            ));
        }
        self.wire.done(self.usage.as_deref(), out)?;
        Ok(Progress::Done)
    }

    /// The stream cannot go on: its last frame, in the client's API.
    pub(crate) fn error_frame(&mut self, error: &ApiError, out: &mut Vec<u8>) {
        self.wire.error(error, out);
    }

    /// What keeps an idle stream open, in the client's API.
    pub(crate) fn keepalive(&self) -> &'static [u8] {
        self.wire.keepalive()
    }

    /// Complete tool calls and the finish reason of each choice (for the request log).
    pub(crate) fn summary(&self) -> (usize, Option<&'static str>) {
        let calls = self.choices.iter().flatten().map(ChoiceTranslator::calls).sum();
        (calls, self.choices.iter().flatten().find_map(ChoiceTranslator::finished))
    }

    /// How the model's would-be calls turned out, over every choice (for metrics).
    pub(crate) fn outcomes(&self) -> crate::toolcall::Outcomes {
        let mut all = crate::toolcall::Outcomes::default();
        for choice in self.choices.iter().flatten() {
            all.add(choice.outcomes());
        }
        all
    }

    /// The raw upstream text of each choice (when tracing).
    pub(crate) fn raw(&self) -> Vec<&str> {
        self.choices.iter().flatten().filter_map(ChoiceTranslator::raw).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;
    use crate::proxy::plan::ToolChoice;
    use crate::proxy::wire::chat::ChatApi;
    use crate::proxy::wire::{Api as _, Extra};
    use crate::toolcall::Tools;

    fn translator(include_usage: bool) -> StreamTranslator {
        let tools = Tools::from_openai(&json!([{"type": "function", "function": {"name": "read_file",
            "parameters": {"properties": {"path": {"type": "string"}}}}}]))
        .expect("tools");
        let plan = Plan {
            model: "alias".into(),
            stream: true,
            include_usage,
            tools: Arc::new(tools),
            choice: ToolChoice::Auto,
            parallel: true,
            hold_calls: false,
            thinking: None,
        };
        let wire = ChatApi.stream_writer(&plan, &Extra::default(), "chatcmpl-t", 1);
        StreamTranslator::new(plan, Format::Qwen3Coder, Reasoning::Auto, false, wire)
    }

    fn chunk(index: u32, delta: &Value, finish: Option<&str>) -> String {
        json!({"choices": [{"index": index, "delta": delta, "finish_reason": finish}]}).to_string()
    }

    fn events(out: &[u8]) -> Vec<Value> {
        String::from_utf8_lossy(out)
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).unwrap_or_else(|_| json!(d)))
            .collect()
    }

    #[test]
    fn upstream_reasoning_and_finish_on_the_last_text_chunk() {
        let mut t = translator(true);
        let mut out = Vec::new();
        t.on_payload(&chunk(0, &json!({"reasoning_content": "think"}), None), &mut out).expect("ok");
        t.on_payload(
            &chunk(0, &json!({"content": "<tool_call>\n<function=read_file>\n<parameter=path>\na\n"}), None),
            &mut out,
        )
        .expect("ok");
        // vLLM puts `length`/`stop` on the chunk with the last tokens.
        t.on_payload(
            &chunk(0, &json!({"content": "</parameter>\n</function>\n</tool_call>"}), Some("stop")),
            &mut out,
        )
        .expect("ok");
        t.on_payload(&json!({"choices": [], "usage": {"total_tokens": 5}}).to_string(), &mut out)
            .expect("ok");
        assert_eq!(t.on_payload("[DONE]", &mut out).expect("ok"), Progress::Done);
        let ev = events(&out);
        assert_eq!(ev[0]["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));
        assert_eq!(ev[1]["choices"][0]["delta"]["reasoning_content"], "think");
        assert_eq!(ev[2]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"], "read_file");
        let finish: Vec<&Value> =
            ev.iter().filter(|e| e["choices"][0]["finish_reason"].is_string()).collect();
        assert_eq!(finish.len(), 1);
        assert_eq!(finish[0]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(ev[ev.len() - 2]["usage"]["total_tokens"], 5);
        assert_eq!(ev[ev.len() - 2]["choices"], json!([]));
        assert_eq!(ev[ev.len() - 1], json!("[DONE]"));
        assert_eq!(t.summary(), (1, Some("tool_calls")));
    }

    /// vLLM's newer reasoning field beside a `null` old one: streamed as the whole answer has it.
    #[test]
    fn reasoning_under_either_name_is_passed_on() {
        let mut t = translator(false);
        let mut out = Vec::new();
        t.on_payload(&chunk(0, &json!({"reasoning_content": null, "reasoning": "newer"}), None), &mut out)
            .expect("ok");
        t.on_payload(&chunk(0, &json!({"content": "done"}), Some("stop")), &mut out).expect("ok");
        let ev = events(&out);
        assert_eq!(ev[1]["choices"][0]["delta"]["reasoning_content"], "newer", "{ev:?}");
    }

    #[test]
    fn several_choices_are_kept_apart() {
        let mut t = translator(false);
        let mut out = Vec::new();
        t.on_payload(&chunk(0, &json!({"content": "first "}), None), &mut out).expect("ok");
        t.on_payload(&chunk(1, &json!({"content": "second "}), None), &mut out).expect("ok");
        t.on_payload(&chunk(0, &json!({"content": "one"}), Some("stop")), &mut out).expect("ok");
        t.on_payload(&chunk(1, &json!({"content": "two"}), Some("length")), &mut out).expect("ok");
        t.on_payload("[DONE]", &mut out).expect("ok");
        let ev = events(&out);
        let text = |i: u64| -> String {
            ev.iter()
                .filter(|e| e["choices"][0]["index"] == i)
                .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
                .collect()
        };
        assert_eq!((text(0), text(1)), ("first one".to_owned(), "second two".to_owned()));
        assert!(ev.iter().all(|e| e.get("usage").is_none()), "usage not asked");
    }

    #[test]
    fn broken_streams_are_errors() {
        let mut t = translator(false);
        let mut out = Vec::new();
        t.on_payload(&chunk(0, &json!({"content": "partial"}), None), &mut out).expect("ok");
        assert_eq!(t.on_payload("[DONE]", &mut out).expect_err("no finish").status, 502);
        let err = translator(false)
            .on_payload(r#"{"object":"error","message":"boom","code":500}"#, &mut out)
            .expect_err("error event");
        assert_eq!((err.status, err.message.as_str()), (500, "boom"));
        assert!(translator(false).on_payload("<html>", &mut out).is_err());
    }
}
