//! [`ChatRequest`]: a chat request read only as deep as the proxy needs, and rewritten for
//! vLLM with the [`Plan`] for answering the client.

use std::sync::Arc;

use serde_json::Value;

use super::fields::{Fields, Layout, Messages};
use super::messages::{role, write_messages};
use super::tools::{ToolsCache, parse_choice, tool_name};
use crate::openai::{ApiError, ErrorKind};
use crate::proxy::plan::{Plan, ToolChoice};
use crate::toolcall::Tools;

/// A chat request read only as deep as the proxy needs: top-level fields stay raw JSON
/// text borrowed from the body, so a long system prompt or tool list is never rebuilt.
#[derive(Debug)]
pub(crate) struct ChatRequest<'a> {
    fields: Fields<'a>,
}

impl<'a> ChatRequest<'a> {
    pub(crate) fn parse(body: &'a [u8]) -> Result<Self, ApiError> {
        let text = crate::utf8::from_utf8(body).map_err(|e| {
            ApiError::new(ErrorKind::BadRequest, format!("request body is not valid UTF-8: {e}"))
        })?;
        let trimmed = text.trim_start();
        if !trimmed.starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            return Err(ApiError::new(ErrorKind::BadRequest, "request body must be a JSON object"));
        }
        if let Some(fields) = Fields::split(text) {
            return Ok(Self { fields });
        }
        let fields: Fields<'a> = serde_json::from_str(text).map_err(|e| {
            ApiError::new(ErrorKind::BadRequest, format!("request body is not valid JSON: {e}"))
        })?;
        Ok(Self { fields })
    }

    /// A request another API's adapter wrote, split as its `layout` says: not read again.
    pub(crate) fn laid_out(body: &'a [u8], layout: &Layout<'a>) -> Result<Self, ApiError> {
        crate::utf8::from_utf8(body)
            .ok()
            .and_then(|text| Fields::laid_out(text, layout))
            .map(|fields| Self { fields })
            .ok_or_else(|| {
                ApiError::new(ErrorKind::Internal, "the converted request does not match its layout")
            })
    }

    /// A hash of the conversation's prefix: every message up to and including the first
    /// user turn (the system prompt and the question that starts the conversation). Later
    /// turns of one conversation share it; `None` when there is no user turn.
    pub(crate) fn affinity(&self) -> Option<u64> {
        use std::hash::{BuildHasher as _, Hasher as _};
        let Messages::List(messages) = &self.fields.messages else { return None };
        let first_user = messages.iter().position(|m| role(m).as_deref() == Some("user"))?;
        let mut hasher = foldhash::fast::FixedState::with_seed(0x6166_6669_6e69_7479).build_hasher();
        for message in &messages[..=first_user] {
            hasher.write(message.as_bytes());
            hasher.write_u8(0);
        }
        Some(hasher.finish())
    }

    /// Whether the client asked for a stream (`rewrite` rejects a `stream` that is not a bool).
    pub(crate) fn wants_stream(&self) -> bool {
        self.fields.get("stream").is_some_and(|raw| raw.trim() == "true")
    }

    /// The model the client named, if any.
    pub(crate) fn model(&self) -> Result<Option<String>, ApiError> {
        match self.fields.get("model").map(serde_json::from_str::<Value>) {
            None | Some(Ok(Value::Null)) => Ok(None),
            Some(Ok(Value::String(m))) => Ok(Some(m)),
            Some(_) => Err(ApiError::bad_field("`model` must be a string", "model")),
        }
    }

    fn value(&self, key: &str) -> Option<Value> {
        self.fields.get(key).and_then(|raw| serde_json::from_str(raw).ok())
    }

    /// `stream`, and whether the client asked for usage in the stream
    /// (`stream_options.include_usage`); a 400 naming the field when either is not a bool.
    pub(crate) fn stream_flags(&self) -> Result<(bool, bool), ApiError> {
        let stream = match self.value("stream") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(ApiError::bad_field("`stream` must be true or false", "stream")),
        };
        let include_usage = match self.value("stream_options") {
            None | Some(Value::Null) => false,
            Some(Value::Object(options)) => match options.get("include_usage") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => stream && *b,
                Some(_) => {
                    return Err(ApiError::bad_field(
                        "`stream_options.include_usage` must be true or false",
                        "stream_options",
                    ));
                }
            },
            Some(_) => {
                return Err(ApiError::bad_field("`stream_options` must be an object", "stream_options"));
            }
        };
        Ok((stream, include_usage))
    }

    /// The upstream body for the upstream model `upstream_model`, and the response plan.
    ///
    /// `id_len`: the exact length of alphanumeric tool call ids the model's chat template
    /// accepts (Mistral's: 9), when it constrains them; history ids are mapped to fit.
    /// `upstream_parses`: vLLM runs its own tool parser (`tool_format = "vllm"`): `tools`,
    /// `tool_choice`, `parallel_tool_calls` and `skip_special_tokens` go to it as the client
    /// wrote them (the history is still repaired), and the plan still applies the choice to
    /// the calls vLLM returns.
    pub(crate) fn rewrite(
        &self,
        upstream_model: &str,
        id_len: Option<usize>,
        upstream_parses: bool,
        cache: &ToolsCache,
    ) -> Result<(Vec<u8>, Plan), ApiError> {
        let model = self.model()?.unwrap_or_else(|| upstream_model.to_owned());
        let (stream, include_usage) = self.stream_flags()?;

        let messages = match &self.fields.messages {
            Messages::Absent => return Err(ApiError::bad_field("`messages` is required", "messages")),
            Messages::Invalid => {
                return Err(ApiError::bad_field(
                    "`messages` must be an array of message objects",
                    "messages",
                ));
            }
            Messages::List(list) => list,
        };
        if messages.is_empty() {
            return Err(ApiError::bad_field("`messages` must not be empty", "messages"));
        }

        let tools_raw = self.fields.get("tools").filter(|r| {
            let t = r.trim();
            t != "null" && t != "[]"
        });
        let tools = match tools_raw {
            Some(raw) => cache.get(raw)?,
            None => Arc::new(Tools::none()),
        };
        let choice = parse_choice(self.value("tool_choice").as_ref())?;
        if let ToolChoice::Named(name) = &choice
            && tools.get(name).is_none()
        {
            return Err(ApiError::bad_field(
                format!("`tool_choice` names `{name}`, which is not one of `tools`"),
                "tool_choice",
            ));
        }
        let parallel = match self.value("parallel_tool_calls") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => b,
            Some(_) => {
                return Err(ApiError::bad_field(
                    "`parallel_tool_calls` must be true or false",
                    "parallel_tool_calls",
                ));
            }
        };
        let instruction = match (&choice, tools_raw.is_some() && !upstream_parses) {
            (ToolChoice::Required, true) => {
                Some("You must reply with a call to one of the provided tools.".to_owned())
            }
            (ToolChoice::Named(name), true) => {
                Some(format!("You must reply with a call to the tool `{name}`."))
            }
            _ => None,
        };

        let thinking = super::thinking::requested(self.fields.get("chat_template_kwargs"));
        let messages_len: usize = messages.iter().map(|m| m.len() + 1).sum();
        let mut out = Vec::with_capacity(messages_len + tools_raw.map_or(0, str::len) + 512);
        out.push(b'{');
        let mut first = true;
        let mut field = |out: &mut Vec<u8>, key: &str, value: &[u8]| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            write_key(out, key);
            out.push(b':');
            out.extend_from_slice(value);
        };
        for (key, raw) in self.fields.iter() {
            match key {
                "model" | "stream_options" => {}
                "parallel_tool_calls"
                | "tool_choice"
                | "skip_special_tokens"
                | "spaces_between_special_tokens"
                | "tools"
                    if !upstream_parses => {}
                "messages" => {
                    field(
                        &mut out,
                        key,
                        write_messages(messages, instruction.as_deref(), id_len)?.as_bytes(),
                    );
                }
                _ => {
                    if let Some(raw) = raw {
                        field(&mut out, key, raw.as_bytes());
                    }
                }
            }
        }
        let mut model_json = Vec::with_capacity(upstream_model.len() + 2);
        crate::openai::push_json_string(&mut model_json, upstream_model);
        field(&mut out, "model", &model_json);
        if stream {
            // Always ask for usage upstream (for the request log); the client gets it only if asked.
            // (Without `stream: true` vLLM refuses `stream_options`: it is dropped then.)
            field(&mut out, "stream_options", br#"{"include_usage":true}"#);
        }
        let mut tools = tools;
        if upstream_parses {
            out.push(b'}');
            return Ok((
                out,
                Plan { model, stream, include_usage, tools, choice, parallel, hold_calls: true, thinking },
            ));
        }
        if let Some(raw) = tools_raw {
            match &choice {
                ToolChoice::Named(name) => {
                    // Only the named tool is sent, and only it may come back as a call.
                    let mut list: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
                    list.retain(|t| tool_name(t) == Some(name.as_str()));
                    let only = Value::Array(list);
                    tools = Arc::new(
                        Tools::from_openai(&only)
                            .map_err(|e| ApiError::bad_field(format!("invalid `tools`: {e}"), "tools"))?,
                    );
                    field(&mut out, "tools", only.to_string().as_bytes());
                }
                _ => field(&mut out, "tools", raw.as_bytes()),
            }
            field(&mut out, "tool_choice", br#""none""#);
        }
        // Tool markers are special tokens: kept, and without the spaces vLLM's detokenizer
        // puts around special tokens unless told not to (Kimi's and others' markers).
        field(&mut out, "skip_special_tokens", b"false");
        field(&mut out, "spaces_between_special_tokens", b"false");
        out.push(b'}');

        Ok((out, Plan { model, stream, include_usage, tools, choice, parallel, hold_calls: true, thinking }))
    }
}

/// `key` as a JSON string: copied between quotes when it holds nothing to escape (every
/// key a client sends), else escaped.
fn write_key(out: &mut Vec<u8>, key: &str) {
    if key.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.push(b'"');
    } else {
        crate::openai::push_json_string(out, key);
    }
}
