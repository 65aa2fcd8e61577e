//! The `input` of a Responses request (a string, or items) as chat messages.
//!
//! * `message` items (`role` user, assistant, developer or system; `content` a string or
//!   `input_text`/`output_text`/`refusal`/`input_image` parts; a message without `type` too):
//!   developer and system text becomes the system message, user and assistant turns keep
//!   their order, images become `image_url` parts (vLLM takes them for vision models).
//! * `function_call` items join the assistant turn before them as its `tool_calls`; each
//!   `function_call_output` becomes a `role: "tool"` message for its `call_id`, which must
//!   name a call earlier in `input` (a 400 otherwise, as the real API answers).
//! * `reasoning` items: their text (`content`, else `summary`) goes back as the next
//!   assistant turn's `reasoning_content`; `encrypted_content` is another server's, dropped.
//! * `custom_tool_call` / `custom_tool_call_output` (Codex's free-form tools) are a call with
//!   arguments `{"input": …}` and its result, so the history still reads; other item types
//!   (`web_search_call`, `image_generation_call`, `item_reference`, …) are dropped with a
//!   debug log: nothing here can have run them.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::openai::ApiError;
use crate::proxy::wire::to_chat::{CallOut, ContentOut, ImageUrl, MessageOut, PartOut};

/// One input item: every field any item type has, so one pass reads them all.
#[derive(Deserialize)]
struct ItemIn<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    role: Option<Cow<'a, str>>,
    #[serde(default)]
    content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
    #[serde(default)]
    output: Option<&'a RawValue>,
    /// A `custom_tool_call`'s free-form input.
    #[serde(borrow, default)]
    input: Option<Cow<'a, str>>,
    #[serde(default)]
    summary: Option<&'a RawValue>,
}

/// One content part (`input_text`, `output_text`, `input_image`, `reasoning_text`, …).
#[derive(Deserialize)]
struct PartIn<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    /// Kept as the client's JSON string: one text part goes out as it came.
    #[serde(default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    refusal: Option<Cow<'a, str>>,
    #[serde(default)]
    image_url: Option<&'a RawValue>,
}

/// An `image_url` given the chat way, as an object.
#[derive(Deserialize)]
struct UrlIn<'a> {
    #[serde(borrow)]
    url: Cow<'a, str>,
}

/// Where in the request a field is (`input[3].content[1].image_url`), written out only for
/// an error: a request that reads cleanly formats no names.
#[derive(Clone, Copy)]
struct Field {
    item: Option<usize>,
    sub: &'static str,
    part: Option<usize>,
    leaf: &'static str,
}

impl Field {
    const INPUT: Self = Self { item: None, sub: "", part: None, leaf: "" };

    fn item(i: usize) -> Self {
        Self { item: Some(i), ..Self::INPUT }
    }

    /// A field of the item (`.call_id`); of a part once `part` is set (`.image_url`).
    fn sub(self, name: &'static str) -> Self {
        if self.part.is_some() { Self { leaf: name, ..self } } else { Self { sub: name, ..self } }
    }

    fn part(self, i: usize) -> Self {
        Self { part: Some(i), ..self }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("input")?;
        if let Some(i) = self.item {
            write!(f, "[{i}]")?;
        }
        f.write_str(self.sub)?;
        if let Some(i) = self.part {
            write!(f, "[{i}]")?;
        }
        f.write_str(self.leaf)
    }
}

fn bad(field: Field, why: impl std::fmt::Display) -> ApiError {
    let field = field.to_string();
    ApiError::bad_field(format!("`{field}` {why}"), &field)
}

fn typed<'a, T: Deserialize<'a>>(raw: &'a RawValue, field: Field, should: &str) -> Result<T, ApiError> {
    serde_json::from_str(raw.get()).map_err(|e| bad(field, format_args!("must be {should} ({e})")))
}

/// Appends the chat messages `input` says to `messages`.
pub(crate) fn read<'a>(input: &'a RawValue, messages: &mut Vec<MessageOut<'a>>) -> Result<(), ApiError> {
    if input.get().starts_with('"') {
        messages.push(MessageOut { content: Some(ContentOut::Json(input)), ..MessageOut::text("user", "") });
        return Ok(());
    }
    let items: Vec<&'a RawValue> = typed(input, Field::INPUT, "a string or an array of items")?;
    let mut reasoning: Option<String> = None;
    let mut calls: Vec<Cow<'a, str>> = Vec::new();
    for (i, raw) in items.into_iter().enumerate() {
        let field = Field::item(i);
        let item: ItemIn<'a> = typed(raw, field, "an input item object")?;
        let kind = item.kind.as_deref().unwrap_or("message");
        match kind {
            "message" => message(&item, field, &mut reasoning, messages)?,
            "function_call" | "custom_tool_call" => {
                let call_id = item.call_id.ok_or_else(|| bad(field.sub(".call_id"), "is required"))?;
                let name = item.name.ok_or_else(|| bad(field.sub(".name"), "is required"))?;
                let arguments = if kind == "function_call" {
                    item.arguments.ok_or_else(|| bad(field.sub(".arguments"), "is required"))?
                } else {
                    let input = item.input.unwrap_or_default();
                    Cow::Owned(serde_json::json!({"input": input}).to_string())
                };
                calls.push(call_id.clone());
                let call = CallOut::new(call_id, name, arguments);
                match messages.last_mut() {
                    Some(last) if last.role == "assistant" => {
                        if last.reasoning_content.is_none() {
                            last.reasoning_content = reasoning.take().map(Cow::Owned);
                        }
                        last.tool_calls.push(call);
                    }
                    _ => {
                        let mut turn = assistant(None, &mut reasoning);
                        turn.tool_calls.push(call);
                        messages.push(turn);
                    }
                }
            }
            "function_call_output" | "custom_tool_call_output" => {
                let call_id = item.call_id.ok_or_else(|| bad(field.sub(".call_id"), "is required"))?;
                if !calls.contains(&call_id) {
                    return Err(bad(
                        field.sub(".call_id"),
                        format_args!("`{call_id}` matches no function_call earlier in `input`"),
                    ));
                }
                let output = item.output.ok_or_else(|| bad(field.sub(".output"), "is required"))?;
                let text = output_text(output, field.sub(".output"))?;
                messages.push(MessageOut { content: Some(text), ..MessageOut::tool_result(call_id, "") });
            }
            "reasoning" => {
                let text = reasoning_text(&item, field)?;
                if !text.is_empty() {
                    let held = reasoning.get_or_insert_with(String::new);
                    held.push_str(&text);
                }
            }
            other => {
                tracing::debug!(kind = other, "responses: an input item type podctl cannot use is dropped");
            }
        }
    }
    Ok(())
}

/// An assistant turn saying `content`, carrying the reasoning held for it.
fn assistant<'a>(content: Option<ContentOut<'a>>, reasoning: &mut Option<String>) -> MessageOut<'a> {
    let mut turn = MessageOut::text("assistant", "");
    turn.content = content;
    turn.reasoning_content = reasoning.take().map(Cow::Owned);
    turn
}

fn message<'a>(
    item: &ItemIn<'a>,
    field: Field,
    reasoning: &mut Option<String>,
    messages: &mut Vec<MessageOut<'a>>,
) -> Result<(), ApiError> {
    let role = match item.role.as_deref() {
        Some("user") => "user",
        Some("assistant") => "assistant",
        Some("system" | "developer") => "system",
        Some(other) => {
            return Err(bad(
                field.sub(".role"),
                format_args!("must be user, assistant, system or developer, not `{other}`"),
            ));
        }
        None => return Err(bad(field.sub(".role"), "is required")),
    };
    let content = match item.content {
        Some(raw) => content(raw, field.sub(".content"))?,
        None => return Err(bad(field.sub(".content"), "is required")),
    };
    if role == "assistant" {
        messages.push(assistant(Some(content), reasoning));
    } else {
        messages.push(MessageOut { content: Some(content), ..MessageOut::text(role, "") });
    }
    Ok(())
}

/// A message's content: its text, or its parts where there is an image. A string, or one
/// text part, goes out as the client's JSON string.
fn content<'a>(raw: &'a RawValue, field: Field) -> Result<ContentOut<'a>, ApiError> {
    if raw.get().starts_with('"') {
        return Ok(ContentOut::Json(raw));
    }
    let parts: Vec<PartIn<'a>> = typed(raw, field, "a string or an array of parts with a `type`")?;
    let mut out = Vec::with_capacity(parts.len());
    let mut only_text: Option<&'a RawValue> = None;
    for (i, part) in parts.into_iter().enumerate() {
        let at = field.part(i);
        match &*part.kind {
            "input_text" | "output_text" | "text" | "summary_text" | "reasoning_text" => {
                let text = part.text.filter(|t| t.get() != "null");
                if text.is_some_and(|t| !t.get().starts_with('"')) {
                    return Err(bad(at.sub(".text"), "must be a string"));
                }
                only_text = if out.is_empty() { text } else { None };
                out.push(PartOut::Text { text: text.map(json_text).unwrap_or_default() });
            }
            "refusal" => {
                only_text = None;
                let text = match part.refusal {
                    Some(refusal) => refusal,
                    None => part.text.map(json_text).unwrap_or_default(),
                };
                out.push(PartOut::Text { text });
            }
            "input_image" => {
                let Some(url) = part.image_url.filter(|u| u.get() != "null") else {
                    return Err(bad(
                        at.sub(".image_url"),
                        "is required: podctl takes images as URLs or data URLs (file ids need stored files)",
                    ));
                };
                let url = if url.get().starts_with('"') {
                    typed(url, field, "a URL string")?
                } else {
                    typed::<UrlIn<'a>>(url, field, "a URL string")?.url
                };
                out.push(PartOut::ImageUrl { image_url: ImageUrl { url } });
            }
            other => {
                tracing::debug!(kind = other, "responses: a content part type podctl cannot use is dropped");
            }
        }
    }
    if let (1, Some(text)) = (out.len(), only_text) {
        return Ok(ContentOut::Json(text));
    }
    // Text alone is sent as one string: every chat template reads that.
    if out.iter().all(|p| matches!(p, PartOut::Text { .. })) {
        let mut texts = out.into_iter().filter_map(|p| match p {
            PartOut::Text { text } => Some(text),
            PartOut::ImageUrl { .. } => None,
        });
        let first = texts.next().unwrap_or_default();
        let rest: Vec<Cow<'a, str>> = texts.collect();
        if rest.is_empty() {
            return Ok(ContentOut::Text(first));
        }
        let mut joined = first.into_owned();
        for t in &rest {
            joined.push_str(t);
        }
        return Ok(ContentOut::Text(Cow::Owned(joined)));
    }
    Ok(ContentOut::Parts(out))
}

/// A JSON string's text (checked a string by the caller; RawValue holds valid JSON).
fn json_text(raw: &RawValue) -> Cow<'_, str> {
    serde_json::from_str(raw.get()).unwrap_or_default()
}

/// A call's output as the tool message's content: its text (parts joined; images cannot go
/// in a tool turn).
fn output_text(raw: &RawValue, field: Field) -> Result<ContentOut<'_>, ApiError> {
    match content(raw, field)? {
        ContentOut::Parts(parts) => Ok(ContentOut::Text(Cow::Owned(
            parts
                .into_iter()
                .filter_map(|p| match p {
                    PartOut::Text { text } => Some(text),
                    PartOut::ImageUrl { .. } => {
                        tracing::debug!(
                            "responses: an image in a call output is dropped (tool turns are text)"
                        );
                        None
                    }
                })
                .collect::<Vec<_>>()
                .concat(),
        ))),
        text => Ok(text),
    }
}

/// A reasoning item's readable text: `content` (`reasoning_text`), else its `summary`.
fn reasoning_text(item: &ItemIn<'_>, field: Field) -> Result<String, ApiError> {
    for raw in [item.content, item.summary].into_iter().flatten() {
        if raw.get() == "null" {
            continue;
        }
        let parts: Vec<PartIn<'_>> = typed(raw, field, "an array of text parts")?;
        let text: String = parts
            .iter()
            .filter_map(|p| p.text.filter(|t| t.get().starts_with('"')).map(json_text))
            .collect::<Vec<_>>()
            .join("\n");
        if !text.is_empty() {
            return Ok(text);
        }
    }
    Ok(String::new())
}

/// The system text first, as one message: open-model chat templates (Qwen3's among them)
/// refuse a system message anywhere else, and Responses puts `instructions` and developer
/// messages apart from the turns.
pub(crate) fn system_first(messages: Vec<MessageOut<'_>>) -> Vec<MessageOut<'_>> {
    let systems = messages.iter().filter(|m| m.role == "system").count();
    if systems == 0 || (systems == 1 && messages[0].role == "system") {
        return messages;
    }
    let mut system = String::new();
    let mut rest = Vec::with_capacity(messages.len());
    for m in messages {
        if m.role != "system" {
            rest.push(m);
            continue;
        }
        let text = m.content.as_ref().and_then(ContentOut::text).unwrap_or_default();
        if !system.is_empty() && !text.is_empty() {
            system.push_str("\n\n");
        }
        system.push_str(&text);
    }
    let mut out = Vec::with_capacity(rest.len() + 1);
    out.push(MessageOut::text("system", system));
    out.extend(rest);
    out
}
