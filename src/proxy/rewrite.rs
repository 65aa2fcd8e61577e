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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::borrow::Cow;

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

/// Parsed tools by the raw text of the request's `tools`: clients send the same tools on
/// every request, so each distinct set is read once. Bounded; cleared when full.
#[derive(Debug, Default)]
pub(crate) struct ToolsCache(Mutex<HashMap<String, Arc<Tools>, foldhash::fast::RandomState>>);

const TOOLS_CACHE_ENTRIES: usize = 64;
/// Larger tool lists are parsed each time rather than kept (bounds the cache's memory).
const TOOLS_CACHE_KEY_BYTES: usize = 256 << 10;

fn parse_tools(raw: &str) -> Result<Tools, ApiError> {
    let value: Value =
        serde_json::from_str(raw).map_err(|e| bad(format!("invalid `tools`: {e}"), "tools"))?;
    Tools::from_openai(&value).map_err(|e| bad(format!("invalid `tools`: {e}"), "tools"))
}

impl ToolsCache {
    fn get(&self, raw: &str) -> Result<Arc<Tools>, ApiError> {
        let lock = || self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tools) = lock().get(raw) {
            return Ok(Arc::clone(tools));
        }
        // Parsed without the lock: one slow request must not hold up the others.
        let tools = Arc::new(parse_tools(raw)?);
        if raw.len() <= TOOLS_CACHE_KEY_BYTES {
            let mut cache = lock();
            if cache.len() >= TOOLS_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(raw.to_owned(), Arc::clone(&tools));
        }
        Ok(tools)
    }
}

/// A chat request read only as deep as the proxy needs: top-level fields stay raw JSON
/// text borrowed from the body, so a long system prompt or tool list is never rebuilt.
#[derive(Debug)]
pub(crate) struct ChatRequest<'a> {
    fields: Fields<'a>,
}

/// The top-level fields in order, keys borrowed when they have no escapes. A dozen fields
/// are searched faster in a list than hashed into a map. `messages` is split into raw
/// messages in the same pass (its own entry has no raw value).
#[derive(Debug, Default)]
struct Fields<'a> {
    list: Vec<(Cow<'a, str>, Option<&'a RawValue>)>,
    messages: Messages<'a>,
}

/// The `messages` field.
#[derive(Debug, Default)]
enum Messages<'a> {
    #[default]
    Absent,
    /// Present but not an array.
    Invalid,
    List(Vec<&'a RawValue>),
}

impl<'a> Fields<'a> {
    /// The value of `key` (the last one, as Python's `json` reads duplicates).
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.list.iter().rev().find(|(k, _)| k == key).and_then(|(_, v)| *v)
    }

    /// Each key once, with its last value (`None` for `messages`).
    fn iter(&self) -> impl Iterator<Item = (&str, Option<&'a RawValue>)> {
        self.list
            .iter()
            .enumerate()
            .filter(|(i, (k, _))| !self.list[i + 1..].iter().any(|(later, _)| later == k))
            .map(|(_, (k, v))| (k.as_ref(), *v))
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Messages<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Messages<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<Messages<'a>, S::Error> {
                let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(8));
                while let Some(message) = seq.next_element::<&'de RawValue>()? {
                    list.push(message);
                }
                Ok(Messages::List(list))
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Messages<'a>, M::Error> {
                while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(Messages::Invalid)
            }

            fn visit_bool<E>(self, _: bool) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }

            fn visit_str<E>(self, _: &str) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }

            fn visit_unit<E>(self) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }
        }
        deserializer.deserialize_any(Visit(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Fields<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Fields<'a>, M::Error> {
                let mut list = Vec::with_capacity(map.size_hint().unwrap_or(12));
                let mut messages = Messages::Absent;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if key.0 == "messages" {
                        messages = map.next_value::<Messages<'de>>()?;
                        list.push((key.0, None));
                    } else {
                        list.push((key.0, Some(map.next_value::<&'de RawValue>()?)));
                    }
                }
                Ok(Fields { list, messages })
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// A key, borrowed from the body unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Wrap<'a>(#[serde(borrow)] Cow<'a, str>);
        Wrap::deserialize(deserializer).map(|w| Key(w.0))
    }
}

impl<'a> ChatRequest<'a> {
    pub(crate) fn parse(body: &'a [u8]) -> Result<Self, ApiError> {
        let text = std::str::from_utf8(body).map_err(|e| {
            ApiError::new(ErrorKind::BadRequest, format!("request body is not valid UTF-8: {e}"))
        })?;
        let trimmed = text.trim_start();
        if !trimmed.starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            return Err(ApiError::new(ErrorKind::BadRequest, "request body must be a JSON object"));
        }
        let fields: Fields<'a> = serde_json::from_str(text).map_err(|e| {
            ApiError::new(ErrorKind::BadRequest, format!("request body is not valid JSON: {e}"))
        })?;
        Ok(Self { fields })
    }

    /// A hash of the conversation's prefix: every message up to and including the first
    /// user turn (the system prompt and the question that starts the conversation). Later
    /// turns of one conversation share it; `None` when there is no user turn.
    pub(crate) fn affinity(&self) -> Option<u64> {
        use std::hash::{BuildHasher as _, Hasher as _};
        let Messages::List(messages) = &self.fields.messages else { return None };
        let first_user = messages.iter().position(|m| role(m.get()).as_deref() == Some("user"))?;
        let mut hasher = foldhash::fast::FixedState::with_seed(0x6166_6669_6e69_7479).build_hasher();
        for message in &messages[..=first_user] {
            hasher.write(message.get().as_bytes());
            hasher.write_u8(0);
        }
        Some(hasher.finish())
    }

    /// Whether the client asked for a stream (`rewrite` rejects a `stream` that is not a bool).
    pub(crate) fn wants_stream(&self) -> bool {
        self.fields.get("stream").is_some_and(|raw| raw.get().trim() == "true")
    }

    /// The model the client named, if any.
    pub(crate) fn model(&self) -> Result<Option<String>, ApiError> {
        match self.fields.get("model").map(|raw| serde_json::from_str::<Value>(raw.get())) {
            None | Some(Ok(Value::Null)) => Ok(None),
            Some(Ok(Value::String(m))) => Ok(Some(m)),
            Some(_) => Err(bad("`model` must be a string", "model")),
        }
    }

    fn value(&self, key: &str) -> Option<Value> {
        self.fields.get(key).and_then(|raw| serde_json::from_str(raw.get()).ok())
    }

    /// The upstream body for the upstream model `upstream_model`, and the response plan.
    ///
    /// `id_len`: the exact length of alphanumeric tool call ids the model's chat template
    /// accepts (Mistral's: 9), when it constrains them; history ids are mapped to fit.
    pub(crate) fn rewrite(
        &self,
        upstream_model: &str,
        id_len: Option<usize>,
        cache: &ToolsCache,
    ) -> Result<(Vec<u8>, Plan), ApiError> {
        let model = self.model()?.unwrap_or_else(|| upstream_model.to_owned());
        let stream = match self.value("stream") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(bad("`stream` must be true or false", "stream")),
        };
        let include_usage = match self.value("stream_options") {
            None | Some(Value::Null) => false,
            Some(Value::Object(options)) => match options.get("include_usage") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => stream && *b,
                Some(_) => {
                    return Err(bad(
                        "`stream_options.include_usage` must be true or false",
                        "stream_options",
                    ));
                }
            },
            Some(_) => return Err(bad("`stream_options` must be an object", "stream_options")),
        };

        let messages = match &self.fields.messages {
            Messages::Absent => return Err(bad("`messages` is required", "messages")),
            Messages::Invalid => {
                return Err(bad("`messages` must be an array of message objects", "messages"));
            }
            Messages::List(list) => list,
        };
        if messages.is_empty() {
            return Err(bad("`messages` must not be empty", "messages"));
        }

        let tools_raw = self.fields.get("tools").map(RawValue::get).filter(|r| {
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
            return Err(bad(
                format!("`tool_choice` names `{name}`, which is not one of `tools`"),
                "tool_choice",
            ));
        }
        let parallel = match self.value("parallel_tool_calls") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(bad("`parallel_tool_calls` must be true or false", "parallel_tool_calls")),
        };
        let instruction = match (&choice, tools_raw.is_some()) {
            (ToolChoice::Required, true) => {
                Some("You must reply with a call to one of the provided tools.".to_owned())
            }
            (ToolChoice::Named(name), true) => {
                Some(format!("You must reply with a call to the tool `{name}`."))
            }
            _ => None,
        };

        let messages_len: usize = messages.iter().map(|m| m.get().len() + 1).sum();
        let mut out = Vec::with_capacity(messages_len + tools_raw.map_or(0, str::len) + 512);
        out.push(b'{');
        let mut first = true;
        let mut field = |out: &mut Vec<u8>, key: &str, value: &str| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            out.extend_from_slice(json_key(key).as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
        };
        for (key, raw) in self.fields.iter() {
            match key {
                "model"
                | "stream_options"
                | "parallel_tool_calls"
                | "tool_choice"
                | "skip_special_tokens"
                | "tools" => {}
                "messages" => {
                    field(&mut out, key, &write_messages(messages, instruction.as_deref(), id_len)?);
                }
                _ => {
                    if let Some(raw) = raw {
                        field(&mut out, key, raw.get());
                    }
                }
            }
        }
        field(&mut out, "model", &Value::String(upstream_model.to_owned()).to_string());
        if stream {
            // Always ask for usage upstream (for the request log); the client gets it only if asked.
            // (Without `stream: true` vLLM refuses `stream_options`: it is dropped then.)
            field(&mut out, "stream_options", r#"{"include_usage":true}"#);
        }
        let mut tools = tools;
        if let Some(raw) = tools_raw {
            match &choice {
                ToolChoice::Named(name) => {
                    // Only the named tool is sent, and only it may come back as a call.
                    let mut list: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
                    list.retain(|t| tool_name(t) == Some(name.as_str()));
                    let only = Value::Array(list);
                    tools = Arc::new(
                        Tools::from_openai(&only)
                            .map_err(|e| bad(format!("invalid `tools`: {e}"), "tools"))?,
                    );
                    field(&mut out, "tools", &only.to_string());
                }
                _ => field(&mut out, "tools", raw),
            }
            field(&mut out, "tool_choice", r#""none""#);
        }
        field(&mut out, "skip_special_tokens", "false");
        out.push(b'}');

        Ok((out, Plan { model, stream, include_usage, tools, choice, parallel }))
    }
}

/// Just a message's role, borrowed when it has no escapes.
#[derive(serde::Deserialize)]
struct Role<'a> {
    #[serde(borrow)]
    role: Option<std::borrow::Cow<'a, str>>,
}

/// A message's role. Clients put `role` first, so it is read straight off the front when it
/// is there; otherwise the message is parsed (its content skipped) to find it.
fn role(message: &str) -> Option<Cow<'_, str>> {
    let rest = message.trim_start().strip_prefix('{')?.trim_start().strip_prefix("\"role\"");
    if let Some(rest) = rest.and_then(|r| r.trim_start().strip_prefix(':')).map(str::trim_start)
        && let Some(value) = rest.strip_prefix('"')
        && let Some(end) = value.find(['"', '\\'])
        && value.as_bytes()[end] == b'"'
    {
        return Some(Cow::Borrowed(&value[..end]));
    }
    serde_json::from_str::<Role<'_>>(message).ok().and_then(|r| r.role)
}

fn json_key(key: &str) -> String {
    Value::String(key.to_owned()).to_string()
}

/// The messages array for upstream: raw messages copied as they are, except those whose
/// history calls need repair (or ids that must be fitted to `id_len`) and the first one when
/// it carries the steering instruction.
fn write_messages(
    messages: &[&RawValue],
    instruction: Option<&str>,
    id_len: Option<usize>,
) -> Result<String, ApiError> {
    let mut out = String::with_capacity(messages.iter().map(|m| m.get().len() + 1).sum::<usize>() + 64);
    out.push('[');
    // Only steering needs to know the first message's role: don't parse it otherwise.
    let first_is_system =
        instruction.is_some() && messages.first().is_some_and(|m| role(m.get()).as_deref() == Some("system"));
    if let (Some(text), false) = (instruction, first_is_system) {
        out.push_str(&serde_json::json!({"role": "system", "content": text}).to_string());
        out.push(',');
    }
    for (i, raw) in messages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let text = raw.get();
        if !text.trim_start().starts_with('{') {
            return Err(bad(format!("messages[{i}] must be an object"), "messages"));
        }
        let steer_here = i == 0 && first_is_system && instruction.is_some();
        let fit_ids = id_len.filter(|_| text.contains("\"tool_call_id\"") || text.contains("\"tool_calls\""));
        if steer_here || fit_ids.is_some() || text.contains("\"tool_calls\"") {
            // Only the nesting limit can fail here: the text is one JSON object.
            let mut message: Value = serde_json::from_str(text)
                .map_err(|e| bad(format!("messages[{i}] cannot be read: {e}"), "messages"))?;
            if let Value::Object(map) = &mut message {
                repair_message(map, i)?;
                if let Some(len) = fit_ids {
                    fit_message_ids(map, len);
                }
                if steer_here && let Some(text) = instruction {
                    steer(map, text);
                }
            }
            out.push_str(&message.to_string());
        } else {
            out.push_str(text);
        }
    }
    out.push(']');
    Ok(out)
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

/// Appends an instruction to a system message's content.
fn steer(system: &mut Map<String, Value>, instruction: &str) {
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
}

/// Makes every history call's `arguments` in message `at` a JSON-object string (spec
/// section 8), keeping ids and links intact. What cannot be repaired (a `tool_calls` that
/// is not an array, a call without a named `function`) is a 400 naming it, not a request
/// vLLM's template would choke on.
fn repair_message(message: &mut Map<String, Value>, at: usize) -> Result<(), ApiError> {
    let calls = match message.get_mut("tool_calls") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(calls)) => calls,
        Some(_) => return Err(bad(format!("messages[{at}].tool_calls must be an array"), "messages")),
    };
    for (c, call) in calls.iter_mut().enumerate() {
        let function = match call.get_mut("function") {
            Some(Value::Object(function)) if function.get("name").is_some_and(Value::is_string) => function,
            _ => {
                return Err(bad(
                    format!("messages[{at}].tool_calls[{c}] needs a `function` with a string `name`"),
                    "messages",
                ));
            }
        };
        let repaired = match function.get("arguments") {
            Some(Value::String(text)) => crate::toolcall::repair_arguments(text),
            Some(Value::Object(map)) => Value::Object(map.clone()).to_string(),
            _ => "{}".to_owned(),
        };
        function.insert("arguments".into(), Value::String(repaired));
    }
    Ok(())
}

/// Maps a message's tool call ids (an assistant's `tool_calls[].id`, a tool result's
/// `tool_call_id`) to exactly `len` alphanumerics. An id that already fits is kept; any other
/// is replaced by a stable hash of it, so a call and its result still match.
fn fit_message_ids(message: &mut Map<String, Value>, len: usize) {
    if let Some(Value::String(id)) = message.get_mut("tool_call_id") {
        *id = fit_id(id, len);
    }
    if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
        for call in calls {
            if let Some(Value::String(id)) = call.get_mut("id") {
                *id = fit_id(id, len);
            }
        }
    }
}

/// `id` as exactly `len` ASCII alphanumerics: itself when it already is, otherwise a
/// base-62 rendering of its 64-bit FNV-1a hash (deterministic across requests and restarts).
pub(crate) fn fit_id(id: &str, len: usize) -> String {
    const DIGITS: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if id.len() == len && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return id.to_owned();
    }
    let mut out = String::with_capacity(len);
    let mut round = 0u64;
    while out.len() < len {
        let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ round;
        for b in id.bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        // 10 base-62 digits use 59.5 of the 64 bits.
        for _ in 0..10 {
            if out.len() == len {
                break;
            }
            out.push(char::from(DIGITS[usize::try_from(hash % 62).unwrap_or(0)]));
            hash /= 62;
        }
        round += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::needless_pass_by_value, reason = "tests pass json! literals")]
    fn rewrite_chat(req: Value, model: &str) -> Result<(Map<String, Value>, Plan), ApiError> {
        let body = req.to_string();
        let (out, plan) =
            ChatRequest::parse(body.as_bytes())?.rewrite(model, None, &ToolsCache::default())?;
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
            .rewrite("up", None, &ToolsCache::default())
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
        let (out, _) = parsed.rewrite("m", Some(9), &ToolsCache::default()).expect("valid");
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
        let (again, _) = parsed.rewrite("m", Some(9), &ToolsCache::default()).expect("valid");
        assert_eq!(out, again);
        // Other families keep ids as the client sent them.
        let (plain, _) = parsed.rewrite("m", None, &ToolsCache::default()).expect("valid");
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
            (
                json!({"messages": [{"role": "user", "content": "x"}], "stream_options": "x"}),
                "stream_options",
            ),
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
}
