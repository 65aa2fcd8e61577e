//! The chat request another API's request becomes: typed, borrowed from the client's bytes
//! where it can be, and serialised once for the translation core (which then rewrites it
//! for vLLM exactly as it does a Chat Completions request: tool_choice, history repair,
//! schema typing).
//!
//! Large parts (tool schemas, call arguments already JSON) stay raw JSON: they are never
//! parsed into trees here.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::openai::{ApiError, ErrorKind};

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

/// A chat request, as the core reads it.
#[derive(Debug, Default, Serialize)]
pub(crate) struct ChatOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<Cow<'a, str>>,
    pub(crate) messages: Vec<MessageOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<ToolOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<ChoiceOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) stream: bool,
    /// Streams always ask for usage: the other APIs report it at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) stop: Vec<Cow<'a, str>>,
    /// vLLM's own fields ([`VLLM_EXTRAS`]), as the client wrote them.
    #[serde(flatten)]
    pub(crate) extras: Extras<'a>,
}

/// vLLM's own top-level fields, in the client's order.
#[derive(Debug, Default)]
pub(crate) struct Extras<'a>(pub(crate) Vec<(&'a str, &'a RawValue)>);

impl<'a> Extras<'a> {
    /// Keeps `value` when `key` is one of [`VLLM_EXTRAS`].
    pub(crate) fn offer(&mut self, key: &'a str, value: &'a RawValue) {
        if VLLM_EXTRAS.contains(&key) {
            self.0.push((key, value));
        }
    }
}

impl Serialize for Extras<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
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
    Parts(Vec<PartOut<'a>>),
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

impl ChatOut<'_> {
    /// The request's bytes for the core.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>, ApiError> {
        serde_json::to_vec(self)
            .map_err(|e| ApiError::new(ErrorKind::Internal, format!("cannot write the chat request: {e}")))
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
            tools: vec![ToolOut::function("read".into(), None, Some(&schema))],
            tool_choice: Some(ChoiceOut::Named("read".into())),
            stream: true,
            stream_options: Some(StreamOptions { include_usage: true }),
            max_tokens: Some(10),
            extras,
            ..ChatOut::default()
        };
        let v: Value = serde_json::from_slice(&out.to_bytes().expect("bytes")).expect("json");
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
}
