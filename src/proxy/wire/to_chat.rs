//! The chat request another API's request becomes: typed, borrowed from the client's bytes
//! where it can be, and serialised once for the translation core (which then rewrites it
//! for vLLM exactly as it does a Chat Completions request: tool_choice, history repair,
//! schema typing).
//!
//! Large parts (tool schemas, call arguments already JSON) stay raw JSON: they are never
//! parsed into trees here.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::openai::{ApiError, ErrorKind};
use crate::proxy::rewrite::Layout;

/// Top-level request fields vLLM reads beyond the OpenAI ones: passed on unchanged from a
/// Messages or Responses request, so sampling and structured output work in every API.
pub(crate) const VLLM_EXTRAS: &[&str] = &[
    "top_k",
    "min_p",
    "repetition_penalty",
    "presence_penalty",
    "frequency_penalty",
    "length_penalty",
    "seed",
    "min_tokens",
    "ignore_eos",
    "include_stop_str_in_output",
    "chat_template_kwargs",
    "structured_outputs",
    "guided_json",
    "guided_regex",
    "guided_choice",
    "guided_grammar",
    "response_format",
    "priority",
    "cache_salt",
    "mm_processor_kwargs",
    "vllm_xargs",
];

/// A chat request, as the core reads it: written by [`ChatOut::write`], which hands the core
/// the fields' places too, so the core does not read the bytes again.
#[derive(Debug, Default)]
pub(crate) struct ChatOut<'a> {
    pub(crate) model: Option<Cow<'a, str>>,
    pub(crate) messages: Vec<MessageOut<'a>>,
    /// The tools as chat has them, converted once per distinct list ([`super::memo`]).
    pub(crate) tools: Option<ToolsJson>,
    pub(crate) tool_choice: Option<ChoiceOut<'a>>,
    pub(crate) parallel_tool_calls: Option<bool>,
    pub(crate) stream: bool,
    /// Streams always ask for usage: the other APIs report it at the end.
    pub(crate) stream_options: Option<StreamOptions>,
    pub(crate) max_tokens: Option<u64>,
    pub(crate) temperature: Option<f64>,
    pub(crate) top_p: Option<f64>,
    pub(crate) stop: Vec<Cow<'a, str>>,
    /// vLLM's own fields ([`VLLM_EXTRAS`]), as the client wrote them.
    pub(crate) extras: Extras<'a>,
    /// Fields an adapter adds in chat's terms (Responses' `reasoning_effort`,
    /// `response_format`), written after the rest.
    pub(crate) added: Vec<(&'static str, Box<RawValue>)>,
}

/// vLLM's own top-level fields, in the client's order.
#[derive(Debug, Default)]
pub(crate) struct Extras<'a>(pub(crate) Vec<(&'a str, &'a RawValue)>);

impl<'a> Extras<'a> {
    /// The value of `key`, if the client sent it.
    pub(crate) fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

impl<'a> Extras<'a> {
    /// Keeps `value` when `key` is one of [`VLLM_EXTRAS`].
    pub(crate) fn offer(&mut self, key: &'a str, value: &'a RawValue) {
        if VLLM_EXTRAS.contains(&key) {
            self.0.push((key, value));
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct StreamOptions {
    pub(crate) include_usage: bool,
}

/// One chat message.
#[derive(Debug, Serialize)]
pub(crate) struct MessageOut<'a> {
    pub(crate) role: &'static str,
    /// Absent only on an assistant turn that is all calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content: Option<ContentOut<'a>>,
    /// Reasoning sent back in the history (templates that render past thinking read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reasoning_content: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tool_calls: Vec<CallOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_call_id: Option<Cow<'a, str>>,
}

impl<'a> MessageOut<'a> {
    /// A message of `role` saying `text`.
    pub(crate) fn text(role: &'static str, text: impl Into<Cow<'a, str>>) -> Self {
        Self {
            role,
            content: Some(ContentOut::Text(text.into())),
            reasoning_content: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// The result of call `id`.
    pub(crate) fn tool_result(id: impl Into<Cow<'a, str>>, text: impl Into<Cow<'a, str>>) -> Self {
        Self { tool_call_id: Some(id.into()), ..Self::text("tool", text) }
    }
}

/// A message's content: one text, or parts (text and images).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ContentOut<'a> {
    Text(Cow<'a, str>),
    /// A JSON string as the client wrote it: copied out, never unescaped and escaped again
    /// (a tool's output or a system prompt is most of a request's bytes).
    Json(&'a RawValue),
    Parts(Vec<PartOut<'a>>),
}

impl<'a> ContentOut<'a> {
    /// The text, where the content is one (a [`ContentOut::Json`] read out of its quotes).
    pub(crate) fn text(&self) -> Option<Cow<'a, str>> {
        match self {
            Self::Text(text) => Some(text.clone()),
            Self::Json(raw) => serde_json::from_str(raw.get()).ok(),
            Self::Parts(_) => None,
        }
    }
}

/// One part of a message's content.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum PartOut<'a> {
    Text { text: Cow<'a, str> },
    ImageUrl { image_url: ImageUrl<'a> },
}

#[derive(Debug, Serialize)]
pub(crate) struct ImageUrl<'a> {
    /// An `http(s)` URL or a `data:` URL.
    pub(crate) url: Cow<'a, str>,
}

/// One call in an assistant turn of the history.
#[derive(Debug, Serialize)]
pub(crate) struct CallOut<'a> {
    pub(crate) id: Cow<'a, str>,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: FunctionOut<'a>,
}

impl<'a> CallOut<'a> {
    /// Call `id` of `name` with `arguments` (a JSON text; the core repairs bad ones).
    pub(crate) fn new(
        id: impl Into<Cow<'a, str>>,
        name: impl Into<Cow<'a, str>>,
        arguments: impl Into<Cow<'a, str>>,
    ) -> Self {
        Self {
            id: id.into(),
            kind: "function",
            function: FunctionOut { name: name.into(), arguments: arguments.into() },
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct FunctionOut<'a> {
    pub(crate) name: Cow<'a, str>,
    pub(crate) arguments: Cow<'a, str>,
}

/// A converted tool list: chat's `tools` JSON text, shared by every request that sent the
/// same list.
#[derive(Debug, Clone)]
pub(crate) struct ToolsJson(pub(crate) Arc<RawValue>);

impl Serialize for ToolsJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl ToolsJson {
    /// `tools` as chat's JSON text; `None` when there are none.
    pub(crate) fn write(tools: &[ToolOut<'_>]) -> Result<Option<Self>, ApiError> {
        if tools.is_empty() {
            return Ok(None);
        }
        let text = serde_json::to_string(tools)
            .map_err(|e| ApiError::new(ErrorKind::Internal, format!("cannot write the tools: {e}")))?;
        let raw = RawValue::from_string(text)
            .map_err(|e| ApiError::new(ErrorKind::Internal, format!("cannot write the tools: {e}")))?;
        Ok(Some(Self(Arc::from(raw))))
    }
}

/// One tool the model may call.
#[derive(Debug, Serialize)]
pub(crate) struct ToolOut<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: ToolFunction<'a>,
}

impl<'a> ToolOut<'a> {
    pub(crate) fn function(
        name: Cow<'a, str>,
        description: Option<Cow<'a, str>>,
        parameters: Option<&'a RawValue>,
    ) -> Self {
        Self { kind: "function", function: ToolFunction { name, description, parameters } }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ToolFunction<'a> {
    pub(crate) name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parameters: Option<&'a RawValue>,
}

/// `tool_choice` as Chat Completions has it.
#[derive(Debug, Clone)]
pub(crate) enum ChoiceOut<'a> {
    Auto,
    None,
    Required,
    Named(Cow<'a, str>),
}

impl Serialize for ChoiceOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Named<'b> {
            #[serde(rename = "type")]
            kind: &'static str,
            function: NamedFunction<'b>,
        }
        #[derive(Serialize)]
        struct NamedFunction<'b> {
            name: &'b str,
        }
        match self {
            Self::Auto => s.serialize_str("auto"),
            Self::None => s.serialize_str("none"),
            Self::Required => s.serialize_str("required"),
            Self::Named(name) => Named { kind: "function", function: NamedFunction { name } }.serialize(s),
        }
    }
}

impl<'a> ChatOut<'a> {
    /// The request's bytes for the core, and where each field and message lies in them.
    pub(crate) fn write(&self) -> Result<(Vec<u8>, Layout<'a>), ApiError> {
        self.write_fields()
            .map_err(|e| ApiError::new(ErrorKind::Internal, format!("cannot write the chat request: {e}")))
    }

    fn write_fields(&self) -> Result<(Vec<u8>, Layout<'a>), serde_json::Error> {
        let size = self.tools.as_ref().map_or(0, |t| t.0.get().len()) + 512;
        let mut w = Writer { out: Vec::with_capacity(size), layout: Layout::default() };
        w.out.push(b'{');
        if let Some(model) = &self.model {
            w.field("model", model)?;
        }
        w.messages(&self.messages)?;
        if let Some(tools) = &self.tools {
            w.field("tools", tools)?;
        }
        if let Some(choice) = &self.tool_choice {
            w.field("tool_choice", choice)?;
        }
        if let Some(parallel) = self.parallel_tool_calls {
            w.field("parallel_tool_calls", &parallel)?;
        }
        if self.stream {
            w.field("stream", &true)?;
        }
        if let Some(options) = &self.stream_options {
            w.field("stream_options", options)?;
        }
        if let Some(n) = self.max_tokens {
            w.field("max_tokens", &n)?;
        }
        if let Some(t) = self.temperature {
            w.field("temperature", &t)?;
        }
        if let Some(p) = self.top_p {
            w.field("top_p", &p)?;
        }
        if !self.stop.is_empty() {
            w.field("stop", &self.stop)?;
        }
        for (key, value) in &self.extras.0 {
            w.field(key, value)?;
        }
        for (key, value) in &self.added {
            w.field(key, value)?;
        }
        w.out.push(b'}');
        Ok((w.out, w.layout))
    }
}

/// Writes the top-level object field by field, noting where each value lies.
struct Writer<'a> {
    out: Vec<u8>,
    layout: Layout<'a>,
}

impl<'a> Writer<'a> {
    /// `"key":` (keys here are plain: nothing to escape).
    fn key(&mut self, key: &str) {
        if !self.layout.fields.is_empty() {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'a str, value: &T) -> Result<(), serde_json::Error> {
        self.key(key);
        let start = self.out.len();
        serde_json::to_writer(&mut self.out, value)?;
        self.layout.fields.push((key, Some(start..self.out.len())));
        Ok(())
    }

    fn messages(&mut self, messages: &[MessageOut<'_>]) -> Result<(), serde_json::Error> {
        self.key("messages");
        self.out.push(b'[');
        for (i, message) in messages.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            let start = self.out.len();
            serde_json::to_writer(&mut self.out, message)?;
            self.layout.messages.push(start..self.out.len());
        }
        self.out.push(b']');
        self.layout.fields.push(("messages", None));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn writes_what_the_core_reads() {
        let schema = RawValue::from_string(r#"{"type":"object"}"#.into()).expect("raw");
        let k = RawValue::from_string("5".into()).expect("raw");
        let mut extras = Extras::default();
        extras.offer("top_k", &k);
        extras.offer("not_vllms", &k);
        let mut assistant = MessageOut::text("assistant", "");
        assistant.content = None;
        assistant.tool_calls.push(CallOut::new("c1", "read", r#"{"p":1}"#));
        let out = ChatOut {
            model: Some("m".into()),
            messages: vec![MessageOut::text("system", "s"), assistant, MessageOut::tool_result("c1", "ok")],
            tools: ToolsJson::write(&[ToolOut::function("read".into(), None, Some(&schema))]).expect("tools"),
            tool_choice: Some(ChoiceOut::Named("read".into())),
            stream: true,
            stream_options: Some(StreamOptions { include_usage: true }),
            max_tokens: Some(10),
            extras,
            ..ChatOut::default()
        };
        let v: Value = serde_json::from_slice(&out.write().expect("bytes").0).expect("json");
        assert_eq!(
            v,
            json!({"model": "m", "messages": [
                {"role": "system", "content": "s"},
                {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                    "function": {"name": "read", "arguments": "{\"p\":1}"}}]},
                {"role": "tool", "content": "ok", "tool_call_id": "c1"}],
              "tools": [{"type": "function", "function": {"name": "read", "parameters": {"type": "object"}}}],
              "tool_choice": {"type": "function", "function": {"name": "read"}},
              "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 10, "top_k": 5})
        );
    }

    #[test]
    fn the_layout_reads_as_the_bytes_parse() {
        use crate::proxy::rewrite::{ChatRequest, ToolsCache};
        let schema =
            RawValue::from_string(r#"{"type":"object","properties":{"p":{"type":"string"}}}"#.into())
                .expect("raw");
        let kwargs = RawValue::from_string(r#"{"enable_thinking":false}"#.into()).expect("raw");
        let mut extras = Extras::default();
        extras.offer("chat_template_kwargs", &kwargs);
        let mut assistant = MessageOut::text("assistant", "");
        assistant.content = None;
        assistant.tool_calls.push(CallOut::new("c1", "read", r#"{"p":"a \"quoted\" path"}"#));
        let out = ChatOut {
            model: Some("claude-x".into()),
            messages: vec![
                MessageOut::text("system", "line one\nline \"two\""),
                MessageOut::text("user", "hi"),
                assistant,
                MessageOut::tool_result("c1", "ok"),
            ],
            tools: ToolsJson::write(&[ToolOut::function(
                "read".into(),
                Some("Reads.".into()),
                Some(&schema),
            )])
            .expect("tools"),
            tool_choice: Some(ChoiceOut::Required),
            stream: true,
            stream_options: Some(StreamOptions { include_usage: true }),
            max_tokens: Some(10),
            stop: vec!["END".into()],
            extras,
            added: vec![("reasoning_effort", RawValue::from_string(r#""low""#.into()).expect("raw"))],
            ..ChatOut::default()
        };
        let (bytes, layout) = out.write().expect("writes");
        let cache = ToolsCache::default();
        let from_layout = ChatRequest::laid_out(&bytes, &layout).expect("fits");
        let parsed = ChatRequest::parse(&bytes).expect("parses");
        assert_eq!(from_layout.affinity(), parsed.affinity());
        assert_eq!(from_layout.wants_stream(), parsed.wants_stream());
        let (a, plan_a) = from_layout.rewrite("up", None, false, &cache).expect("rewrites");
        let (b, plan_b) = parsed.rewrite("up", None, false, &cache).expect("rewrites");
        assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        assert_eq!(format!("{plan_a:?}"), format!("{plan_b:?}"));
        assert!(ChatRequest::laid_out(b"{}", &layout).is_err(), "a layout that does not fit is refused");
    }
}
