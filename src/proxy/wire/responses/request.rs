//! A Responses request read into the chat request the core translates: top-level fields one
//! by one from the client's bytes (text borrowed, schemas and other large parts left raw),
//! the `input` items by `input.rs`, and what the answer echoes kept aside ([`Echo`]).
//!
//! podctl keeps no state, so what needs a stored response is refused with a 400 that says
//! so: `previous_response_id`, `conversation`, `background: true`, a stored `prompt`.
//! `store: true` alone is accepted and ignored (nothing is stored; the answer says
//! `store: false`): the OpenAI SDKs leave `store` to the API's default, which is `true`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::echo::Echo;
use super::input;
use crate::openai::{ApiError, ErrorKind};
use crate::proxy::members;
use crate::proxy::memo::Memo;
use crate::proxy::rewrite::Layout;
use crate::proxy::wire::to_chat::{
    ChatOut, ChoiceOut, ContentOut, Extras, MessageOut, StreamOptions, ToolOut, ToolsJson,
};

/// The request's top-level fields, in order, values raw; `tools` apart when they were
/// skipped as the list the client sent before ([`members`]).
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>, Option<&'a str>);

impl<'a> Fields<'a> {
    /// The fields by [`members::split`], or by serde_json (which says what is wrong).
    fn read(body: &'a [u8]) -> Result<Self, ApiError> {
        if let Some(fields) = std::str::from_utf8(body).ok().and_then(Self::split) {
            return Ok(fields);
        }
        serde_json::from_slice(body).map_err(|e| {
            ApiError::new(ErrorKind::BadRequest, format!("the request body is not a JSON object ({e})"))
        })
    }

    fn split(text: &'a str) -> Option<Self> {
        let found = members::split(text)?;
        if found.iter().filter(|m| m.key == "tools").count() > 1 {
            return None;
        }
        let (mut list, mut known) = (Vec::with_capacity(found.len()), None);
        for member in found {
            if member.known {
                known = Some(member.value);
                continue;
            }
            let value: &'a RawValue = serde_json::from_str(member.value).ok()?;
            members::learn(&member);
            list.push((member.key, value));
        }
        Some(Self(list, known))
    }
}

#[derive(Deserialize)]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::new();
                while let Some((Key(k), v)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    fields.push((k, v));
                }
                Ok(Fields(fields, None))
            }
        }
        d.deserialize_map(V)
    }
}

/// One tool as Responses has it (flat: `{type, name, description, parameters}`).
#[derive(Deserialize)]
struct ToolIn<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    description: Option<Cow<'a, str>>,
    #[serde(default)]
    parameters: Option<&'a RawValue>,
    /// A `custom` tool's input format (`{type: "grammar", syntax, definition}` or text).
    #[serde(borrow, default)]
    format: Option<CustomFormat<'a>>,
}

#[derive(Deserialize)]
struct CustomFormat<'a> {
    #[serde(borrow, default)]
    syntax: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    definition: Option<Cow<'a, str>>,
}

/// What a `custom` tool takes as a function: its free-form input as one string.
pub(crate) const CUSTOM_PARAMETERS: &str = r#"{"type":"object","properties":{"input":{"type":"string","description":"The tool's free-form input, as raw text"}},"required":["input"]}"#;

/// `tool_choice` as an object: `{type: "function", name}`, `{type: "allowed_tools", mode}`, …
#[derive(Deserialize)]
struct ChoiceIn<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ReasoningIn<'a> {
    #[serde(borrow, default)]
    effort: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct TextIn<'a> {
    #[serde(borrow, default)]
    format: Option<FormatIn<'a>>,
}

#[derive(Deserialize)]
struct FormatIn<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    schema: Option<&'a RawValue>,
    #[serde(default)]
    strict: Option<bool>,
}

#[derive(Serialize)]
struct NoThinking {
    enable_thinking: bool,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ResponseFormat<'a> {
    JsonObject,
    JsonSchema { json_schema: JsonSchema<'a> },
}

#[derive(Serialize)]
struct JsonSchema<'a> {
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    strict: Option<bool>,
}

/// A 400 about `field`.
fn bad(field: &str, why: impl fmt::Display) -> ApiError {
    ApiError::bad_field(format!("`{field}` {why}"), field)
}

/// `raw` read as `T`, or a 400 naming `field` and what it should be.
fn typed<'a, T: Deserialize<'a>>(raw: &'a RawValue, field: &str, should: &str) -> Result<T, ApiError> {
    serde_json::from_str(raw.get()).map_err(|e| bad(field, format_args!("must be {should} ({e})")))
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned()).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// Reads `body`, a Responses request, into the chat request for the core and the echo.
pub(crate) fn to_chat(body: &[u8]) -> Result<(Vec<u8>, Layout<'_>, Echo), ApiError> {
    let Fields(fields, known_tools) = Fields::read(body)?;
    let mut chat = ChatOut::default();
    let mut echo = Echo::default();
    let (mut instructions, mut input_raw) = (None, None);
    let (mut effort, mut format, mut has_kwargs, mut has_format) = (None, None, false, false);
    let mut extras = Extras::default();
    let mut parallel = true;
    let mut choice_raw = None;
    let mut echo_tools = match known_tools {
        Some(text) => Some(TOOLS.get(text, tools)?),
        None => None,
    };
    for (name, value) in &fields {
        let key: &str = name;
        match key {
            "model" => chat.model = Some(typed(value, "model", "a string")?),
            "instructions" if !is_null(value) => instructions = Some(*value),
            "input" => input_raw = Some(*value),
            "tools" if !is_null(value) => echo_tools = Some(TOOLS.get(value.get(), tools)?),
            "tool_choice" if !is_null(value) => {
                chat.tool_choice = Some(tool_choice(value)?);
                choice_raw = Some(*value);
            }
            "parallel_tool_calls" if !is_null(value) => {
                parallel = typed(value, key, "a boolean")?;
                chat.parallel_tool_calls = Some(parallel);
            }
            "stream" if !is_null(value) => chat.stream = typed(value, key, "a boolean")?,
            "max_output_tokens" if !is_null(value) => {
                let n: u64 = typed(value, key, "a positive integer")?;
                if n == 0 {
                    return Err(bad(key, "must be at least 1"));
                }
                chat.max_tokens = Some(n);
            }
            "temperature" if !is_null(value) => chat.temperature = Some(typed(value, key, "a number")?),
            "top_p" if !is_null(value) => chat.top_p = Some(typed(value, key, "a number")?),
            "reasoning" if !is_null(value) => {
                let r: ReasoningIn<'_> = typed(value, key, "an object")?;
                effort = r.effort;
            }
            "text" if !is_null(value) => format = typed::<TextIn<'_>>(value, key, "an object")?.format,
            "store" if !is_null(value) => {
                let _: bool = typed(value, key, "a boolean")?;
            }
            "previous_response_id" | "conversation" | "prompt" if !is_null(value) => {
                return Err(bad(
                    key,
                    "needs a stored response, and podctl is stateless: it stores nothing. Send the \
                     whole conversation in `input` (as Codex does with `store: false`)",
                ));
            }
            "background" if !is_null(value) => {
                if typed::<bool>(value, key, "a boolean")? {
                    return Err(bad(key, "is not supported: podctl is stateless and answers in the request"));
                }
            }
            _ => {
                has_kwargs |= key == "chat_template_kwargs";
                has_format |= key == "response_format";
                // A key with escapes is never one of vLLM's.
                if let Cow::Borrowed(key) = name {
                    extras.offer(key, value);
                }
            }
        }
    }
    chat.extras = extras;
    if let Some(converted) = &echo_tools {
        chat.tools.clone_from(&converted.chat);
        echo.custom.clone_from(&converted.custom);
    }
    if chat.stream {
        chat.stream_options = Some(StreamOptions { include_usage: true });
    }
    let mut messages = Vec::new();
    if let Some(text) = instructions {
        if !text.get().starts_with('"') {
            return Err(bad("instructions", "must be a string"));
        }
        // Kept as the client's JSON: a system prompt is most of a request's bytes.
        if text.get() != r#""""# {
            messages
                .push(MessageOut { content: Some(ContentOut::Json(text)), ..MessageOut::text("system", "") });
        }
    }
    match input_raw {
        None => return Err(bad("input", "is required")),
        Some(raw) => input::read(raw, &mut messages)?,
    }
    chat.messages = input::system_first(messages);
    echo_fields(&mut echo, &fields, choice_raw, parallel, echo_tools.as_deref());
    let (reasoning_effort, chat_template_kwargs) = match effort.as_deref() {
        Some("none") if !has_kwargs => (None, Some(NoThinking { enable_thinking: false })),
        Some("minimal" | "low") => (Some("low"), None),
        Some("medium") => (Some("medium"), None),
        Some("high" | "xhigh") => (Some("high"), None),
        _ => (None, None),
    };
    let response_format = if has_format { None } else { format.and_then(response_format) };
    let write = |e: serde_json::Error| {
        ApiError::new(ErrorKind::Internal, format!("cannot write the chat request: {e}"))
    };
    if let Some(effort) = reasoning_effort {
        chat.added.push(("reasoning_effort", serde_json::value::to_raw_value(effort).map_err(write)?));
    }
    if let Some(kwargs) = chat_template_kwargs {
        chat.added.push(("chat_template_kwargs", serde_json::value::to_raw_value(&kwargs).map_err(write)?));
    }
    if let Some(format) = response_format {
        chat.added.push(("response_format", serde_json::value::to_raw_value(&format).map_err(write)?));
    }
    let (bytes, layout) = chat.write()?;
    Ok((bytes, layout, echo))
}

fn response_format(format: FormatIn<'_>) -> Option<ResponseFormat<'_>> {
    match &*format.kind {
        "json_object" => Some(ResponseFormat::JsonObject),
        "json_schema" => Some(ResponseFormat::JsonSchema {
            json_schema: JsonSchema {
                name: format.name.unwrap_or(Cow::Borrowed("response")),
                schema: format.schema,
                strict: format.strict,
            },
        }),
        _ => None,
    }
}

/// A `tools` list as chat's, and the names of its `custom` tools.
struct ChatTools {
    chat: Option<ToolsJson>,
    custom: Vec<String>,
    /// The list as the client wrote it, for the answer to echo.
    echo: Box<RawValue>,
}

/// Tool lists already converted, by the client's text.
static TOOLS: Memo<ChatTools> = Memo::new();

/// The function tools, and the `custom` ones as functions taking `{"input": …}` (named in
/// `custom`); the tool types that cannot run here (`web_search`, `namespace`,
/// `image_generation`, `mcp`, …) are left out, never refused.
fn tools(list_text: &str) -> Result<ChatTools, ApiError> {
    let list: Vec<&RawValue> = serde_json::from_str(list_text)
        .map_err(|e| bad("tools", format_args!("must be an array of tools ({e})")))?;
    let mut out = Vec::with_capacity(list.len());
    let mut custom = Vec::new();
    for (i, tool) in list.into_iter().enumerate() {
        let field = format!("tools[{i}]");
        let tool: ToolIn<'_> = typed(tool, &field, "a tool object with a `type`")?;
        let is_custom = tool.kind == "custom";
        if tool.kind != "function" && !is_custom {
            tracing::debug!(kind = %tool.kind, "responses: a tool type that cannot run here is left out");
            continue;
        }
        let Some(name) = tool.name.filter(|n| !n.is_empty()) else {
            return Err(bad(&format!("{field}.name"), format_args!("is required for a {} tool", tool.kind)));
        };
        if is_custom {
            let parameters: &'static RawValue = serde_json::from_str(CUSTOM_PARAMETERS)
                .map_err(|e| ApiError::new(ErrorKind::Internal, format!("custom tool schema: {e}")))?;
            custom.push(name.clone().into_owned());
            out.push(ToolOut::function(
                name,
                custom_description(tool.description, tool.format),
                Some(parameters),
            ));
        } else {
            out.push(ToolOut::function(name, tool.description, tool.parameters.filter(|p| !is_null(p))));
        }
    }
    Ok(ChatTools { chat: ToolsJson::write(&out)?, custom, echo: raw(list_text) })
}

/// A custom tool's description, with the grammar its input must follow (the model writes
/// that input as the `input` string).
fn custom_description<'a>(
    description: Option<Cow<'a, str>>,
    format: Option<CustomFormat<'a>>,
) -> Option<Cow<'a, str>> {
    let Some(CustomFormat { syntax, definition: Some(definition) }) = format else { return description };
    let mut text = description.map(Cow::into_owned).unwrap_or_default();
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    let syntax = syntax.as_deref().unwrap_or("grammar");
    text.push_str(&format!(
        "Pass the raw input as the `input` string; it follows this {syntax} grammar:\n{definition}"
    ));
    Some(Cow::Owned(text))
}

fn tool_choice(raw: &RawValue) -> Result<ChoiceOut<'_>, ApiError> {
    if raw.get().starts_with('"') {
        let word: Cow<'_, str> = typed(raw, "tool_choice", "a string or an object")?;
        return match &*word {
            "auto" => Ok(ChoiceOut::Auto),
            "none" => Ok(ChoiceOut::None),
            "required" => Ok(ChoiceOut::Required),
            other => Err(bad("tool_choice", format_args!("must be auto, none or required, not `{other}`"))),
        };
    }
    let choice: ChoiceIn<'_> = typed(raw, "tool_choice", "a string or an object with a `type`")?;
    match (&*choice.kind, choice.name) {
        ("function" | "custom", Some(name)) => Ok(ChoiceOut::Named(name)),
        ("function", None) => Err(bad("tool_choice.name", "is required for a function")),
        ("allowed_tools", _) if choice.mode.as_deref() == Some("required") => Ok(ChoiceOut::Required),
        // Hosted and custom tools are not offered here: the model chooses among the rest.
        _ => Ok(ChoiceOut::Auto),
    }
}

/// A constant JSON text as a value to echo: read once, where it is written, then borrowed
/// from the constant (nothing copied, nothing read again).
macro_rules! fixed {
    ($text:expr) => {{
        static VALUE: std::sync::LazyLock<&'static RawValue> =
            std::sync::LazyLock::new(|| serde_json::from_str($text).unwrap_or(RawValue::NULL));
        Cow::Borrowed(*VALUE)
    }};
}

/// The fields every `response` object carries, from the request or their defaults.
fn echo_fields(
    echo: &mut Echo,
    fields: &[(Cow<'_, str>, &RawValue)],
    choice: Option<&RawValue>,
    parallel: bool,
    tools: Option<&ChatTools>,
) {
    let given = |name: &str| {
        fields.iter().find(|(k, v)| k == name && !is_null(v)).map(|(_, v)| Cow::Owned((*v).to_owned()))
    };
    let or = |name: &str, default: Cow<'static, RawValue>| given(name).unwrap_or(default);
    echo.fields = vec![
        ("instructions", or("instructions", fixed!("null"))),
        ("max_output_tokens", or("max_output_tokens", fixed!("null"))),
        ("metadata", or("metadata", fixed!("{}"))),
        ("parallel_tool_calls", if parallel { fixed!("true") } else { fixed!("false") }),
        ("previous_response_id", fixed!("null")),
        ("reasoning", or("reasoning", fixed!(r#"{"effort":null,"summary":null}"#))),
        ("store", fixed!("false")),
        ("temperature", or("temperature", fixed!("1.0"))),
        ("text", or("text", fixed!(r#"{"format":{"type":"text"}}"#))),
        ("tool_choice", choice.map_or_else(|| fixed!(r#""auto""#), |c| Cow::Owned(c.to_owned()))),
        ("tools", tools.map_or_else(|| fixed!("[]"), |t| Cow::Owned(t.echo.clone()))),
        ("top_p", or("top_p", fixed!("1.0"))),
        ("truncation", fixed!(r#""disabled""#)),
        ("background", fixed!("false")),
    ];
}
