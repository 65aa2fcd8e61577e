//! A Messages request as the chat request vLLM gets (the mapping is in the guide's
//! `agent-apis.md`): system blocks joined (Claude Code's per-request billing block dropped,
//! so vLLM's prefix cache keeps matching), `tool_use` as assistant `tool_calls`, each
//! `tool_result` as a `role: "tool"` message right after the turn that called it, images as
//! `image_url` parts, and `tool_choice`, `thinking`, `stop_sequences` in chat's terms.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::request::{Block, Content, ImageSource, MessagesRequest, System, ToolChoiceIn, ToolIn};
use crate::openai::{ApiError, ErrorKind};
use crate::proxy::memo::Memo;
use crate::proxy::wire::to_chat::{
    CallOut, ChatOut, ChoiceOut, ContentOut, ImageUrl, MessageOut, PartOut, StreamOptions, ToolOut, ToolsJson,
};

/// The system block Claude Code adds to every request (`cc_version=…; cch=…` changes
/// each time): sent on, it would make every prompt differ from its first tokens.
const BILLING_HEADER: &str = "x-anthropic-billing-header:";

/// What the history needs beyond `max_tokens`: `count_tokens` has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    Generate,
    Count,
}

/// The chat request for `r`.
pub(super) fn to_chat(r: MessagesRequest<'_>, purpose: Purpose) -> Result<ChatOut<'_>, ApiError> {
    let max_tokens = match (r.max_tokens, purpose) {
        (None, Purpose::Generate) => {
            return Err(ApiError::bad_field("max_tokens: Field required", "max_tokens"));
        }
        (m, _) => m,
    };
    let Some(turns) = r.messages else {
        return Err(ApiError::bad_field("messages: Field required", "messages"));
    };
    let mut messages = Vec::with_capacity(turns.len() + 1);
    let mut system = Vec::new();
    let mut system_json = None;
    match r.system {
        Some(System::Json(raw)) => system_json = Some(raw),
        Some(System::Content(content)) => system_texts(content, &mut system),
        None => {}
    }
    // Ids of the calls the last assistant turn made: only they may have results next.
    let mut called: Vec<Cow<'_, str>> = Vec::new();
    for (i, turn) in turns.into_iter().enumerate() {
        match turn.role.as_ref() {
            "user" => {
                user_turn(i, turn.content, &called, &mut messages)?;
                called.clear();
            }
            "assistant" => called = assistant_turn(i, turn.content, &mut messages)?,
            // Newer Claude Code puts system entries in `messages`: those before any turn
            // join the system prompt, later ones stay where they are.
            "system" if messages.is_empty() => system_texts(turn.content, &mut system),
            "system" => {
                let mut texts = Vec::new();
                system_texts(turn.content, &mut texts);
                messages.push(MessageOut::text("system", join(texts, "\n\n")));
            }
            other => {
                return Err(ApiError::bad_field(
                    format!("messages.{i}.role: Input should be 'user' or 'assistant', not `{other}`"),
                    "messages",
                ));
            }
        }
    }
    match system_json {
        // One system string: on as the client wrote it.
        Some(raw) if system.is_empty() => messages
            .insert(0, MessageOut { content: Some(ContentOut::Json(raw)), ..MessageOut::text("system", "") }),
        Some(raw) => {
            // Joined with system entries from `messages`: read out of its quotes first.
            let text = serde_json::from_str::<String>(raw.get())
                .map_err(|e| ApiError::bad_field(format!("system: {e}"), "system"))?;
            system.insert(0, Cow::Owned(text));
            messages.insert(0, MessageOut::text("system", join(system, "\n\n")));
        }
        None if !system.is_empty() => messages.insert(0, MessageOut::text("system", join(system, "\n\n"))),
        None => {}
    }
    let prefill = purpose == Purpose::Generate && messages.last().is_some_and(is_prefill);
    let mut out = ChatOut {
        model: r.model,
        messages,
        stream: r.stream && purpose == Purpose::Generate,
        stream_options: (r.stream && purpose == Purpose::Generate)
            .then_some(StreamOptions { include_usage: true }),
        max_tokens,
        temperature: r.temperature,
        top_p: r.top_p,
        stop: r.stop_sequences,
        extras: r.extras,
        ..ChatOut::default()
    };
    if let Some(raw) = r.tools.filter(|t| *t != "null") {
        out.tools.clone_from(TOOLS.get(raw, chat_tools)?.as_ref());
    }
    if let Some(choice) = r.tool_choice {
        apply_choice(choice, &mut out)?;
    }
    if let Some(thinking) = r.thinking
        && !out.extras.0.iter().any(|(k, _)| *k == "chat_template_kwargs")
    {
        // Whether the chat template opens a reasoning section (Qwen3's, DeepSeek's read
        // `enable_thinking`; templates without one ignore it). The client's own
        // `chat_template_kwargs` win.
        let kwargs = match thinking.kind.as_ref() {
            "enabled" | "adaptive" => Some(r#"{"enable_thinking":true}"#),
            "disabled" => Some(r#"{"enable_thinking":false}"#),
            _ => None,
        };
        if let Some(kwargs) = kwargs.and_then(|k| serde_json::from_str::<&'static RawValue>(k).ok()) {
            out.extras.0.push(("chat_template_kwargs", kwargs));
        }
    }
    if prefill {
        // A last assistant turn is the start of the answer (Anthropic's prefill): vLLM
        // continues it instead of opening a new turn.
        for (key, value) in [("continue_final_message", "true"), ("add_generation_prompt", "false")] {
            if let Ok(value) = serde_json::from_str::<&'static RawValue>(value) {
                out.extras.0.push((key, value));
            }
        }
    }
    Ok(out)
}

/// Tool lists already converted, by the client's text.
static TOOLS: Memo<Option<ToolsJson>> = Memo::new();

/// A `tools` list as chat's: client tools as functions; the server tool types
/// (`bash_…`, `web_search_…`), which cannot run here, left out.
fn chat_tools(raw: &str) -> Result<Option<ToolsJson>, ApiError> {
    let tools: Vec<ToolIn<'_>> = serde_json::from_str(raw)
        .map_err(|e| ApiError::new(ErrorKind::BadRequest, format!("invalid request: tools: {e}")))?;
    let mut out = Vec::with_capacity(tools.len());
    for tool in tools {
        match (tool.name, tool.input_schema, tool.kind.as_deref()) {
            (Some(name), Some(schema), _) => {
                out.push(ToolOut::function(name, tool.description, Some(schema)));
            }
            // A client tool without parameters.
            (Some(name), None, None | Some("custom")) => {
                out.push(ToolOut::function(name, tool.description, None));
            }
            (name, _, kind) => {
                tracing::debug!(?name, ?kind, "messages: a tool type that cannot run here is ignored");
            }
        }
    }
    ToolsJson::write(&out)
}

/// An assistant turn with text and no calls, last in the history.
fn is_prefill(message: &MessageOut<'_>) -> bool {
    message.role == "assistant"
        && message.tool_calls.is_empty()
        && matches!(&message.content, Some(ContentOut::Text(text)) if !text.is_empty())
}

fn apply_choice<'a>(choice: ToolChoiceIn<'a>, out: &mut ChatOut<'a>) -> Result<(), ApiError> {
    out.tool_choice = Some(match choice.kind.as_ref() {
        "auto" => ChoiceOut::Auto,
        "any" => ChoiceOut::Required,
        "none" => ChoiceOut::None,
        "tool" => match choice.name {
            Some(name) => ChoiceOut::Named(name),
            None => {
                return Err(ApiError::bad_field("tool_choice.name: Field required", "tool_choice"));
            }
        },
        other => {
            return Err(ApiError::bad_field(
                format!("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none', not `{other}`"),
                "tool_choice",
            ));
        }
    });
    if choice.disable_parallel_tool_use == Some(true) {
        out.parallel_tool_calls = Some(false);
    }
    Ok(())
}

/// The texts of system `content`, without Claude Code's billing block.
fn system_texts<'a>(content: Content<'a>, into: &mut Vec<Cow<'a, str>>) {
    match content {
        Content::Text(text) => into.push(text),
        Content::Blocks(blocks) => {
            for block in blocks {
                match (block.kind.as_ref(), block.text) {
                    ("text", Some(text)) if text.starts_with(BILLING_HEADER) => {}
                    ("text", Some(text)) => into.push(text),
                    (kind, _) => {
                        tracing::debug!(kind, "messages: a system block that is not text is ignored");
                    }
                }
            }
        }
    }
}

/// A user turn: its tool results (as `tool` messages, first, in order), then what it says.
fn user_turn<'a>(
    i: usize,
    content: Content<'a>,
    called: &[Cow<'_, str>],
    messages: &mut Vec<MessageOut<'a>>,
) -> Result<(), ApiError> {
    let blocks = match content {
        Content::Text(text) => {
            messages.push(MessageOut::text("user", text));
            return Ok(());
        }
        Content::Blocks(blocks) => blocks,
    };
    let mut parts: Vec<PartOut<'a>> = Vec::new();
    for (j, block) in blocks.into_iter().enumerate() {
        match block.kind.as_ref() {
            "text" => parts.push(PartOut::Text { text: block.text.unwrap_or_default() }),
            "image" => parts.push(image(i, j, &block)?),
            "tool_result" => {
                let Some(id) = block.tool_use_id else {
                    return Err(ApiError::bad_field(
                        format!("messages.{i}.content.{j}.tool_use_id: Field required"),
                        "messages",
                    ));
                };
                if !called.contains(&id) {
                    return Err(ApiError::bad_field(
                        format!(
                            "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` \
                             blocks: {id}. Each `tool_result` block must have a corresponding \
                             `tool_use` block in the previous message."
                        ),
                        "messages",
                    ));
                }
                let text = result_text(block.content);
                // The model must see that the tool failed: chat has no flag for it.
                let text = if block.is_error == Some(true) {
                    Cow::Owned(format!("[tool error] {text}"))
                } else {
                    text
                };
                messages.push(MessageOut::tool_result(id, text));
            }
            kind => tracing::debug!(kind, "messages: a user block of this type is ignored"),
        }
    }
    if parts.is_empty() {
        return Ok(());
    }
    let all_text = parts.iter().all(|p| matches!(p, PartOut::Text { .. }));
    let content = if all_text {
        let texts = parts.into_iter().filter_map(|p| match p {
            PartOut::Text { text } => Some(text),
            PartOut::ImageUrl { .. } => None,
        });
        ContentOut::Text(join(texts.collect(), "\n"))
    } else {
        ContentOut::Parts(parts)
    };
    let mut message = MessageOut::text("user", "");
    message.content = Some(content);
    messages.push(message);
    Ok(())
}

/// An image block as an OpenAI image part (base64 as a `data:` URL).
fn image<'a>(i: usize, j: usize, block: &Block<'a>) -> Result<PartOut<'a>, ApiError> {
    let bad = |why: &str| ApiError::bad_field(format!("messages.{i}.content.{j}.source: {why}"), "messages");
    let raw = block.source.ok_or_else(|| bad("Field required"))?;
    let source: ImageSource<'a> = serde_json::from_str(raw.get()).map_err(|e| bad(&e.to_string()))?;
    let url = match (source.kind.as_ref(), source.url, source.data) {
        ("url", Some(url), _) => url,
        ("base64", _, Some(data)) => {
            let media = source.media_type.as_deref().unwrap_or("image/png");
            Cow::Owned(format!("data:{media};base64,{data}"))
        }
        (kind, _, _) => return Err(bad(&format!("an image source of type `{kind}` needs `url` or `data`"))),
    };
    Ok(PartOut::ImageUrl { image_url: ImageUrl { url } })
}

/// A tool result's content as text (text blocks joined, an image as a placeholder, other
/// blocks dropped).
fn result_text(content: Option<Content<'_>>) -> Cow<'_, str> {
    match content {
        None => Cow::Borrowed(""),
        Some(Content::Text(text)) => text,
        Some(Content::Blocks(blocks)) => {
            let mut texts = Vec::with_capacity(blocks.len());
            for block in blocks {
                match (block.kind.as_ref(), block.text) {
                    ("text", Some(text)) => texts.push(text),
                    // The model is told something was there (a chat tool message is text only).
                    ("image", _) => texts.push(Cow::Borrowed("[image omitted]")),
                    (kind, _) => {
                        tracing::debug!(kind, "messages: a tool result block that is not text is dropped");
                    }
                }
            }
            join(texts, "\n")
        }
    }
}

/// An assistant turn: its text, its thinking (sent back as `reasoning_content`), its calls.
/// Returns the ids of its calls.
fn assistant_turn<'a>(
    i: usize,
    content: Content<'a>,
    messages: &mut Vec<MessageOut<'a>>,
) -> Result<Vec<Cow<'a, str>>, ApiError> {
    let blocks = match content {
        Content::Text(text) => {
            messages.push(MessageOut::text("assistant", text));
            return Ok(Vec::new());
        }
        Content::Blocks(blocks) => blocks,
    };
    let (mut texts, mut thoughts, mut calls, mut ids) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (j, block) in blocks.into_iter().enumerate() {
        match block.kind.as_ref() {
            "text" => texts.extend(block.text),
            "thinking" => thoughts.extend(block.thinking),
            "tool_use" => {
                let field = |name: &str| {
                    ApiError::bad_field(
                        format!("messages.{i}.content.{j}.{name}: Field required"),
                        "messages",
                    )
                };
                let id = block.id.ok_or_else(|| field("id"))?;
                let name = block.name.ok_or_else(|| field("name"))?;
                let input = block.input.map_or("{}", RawValue::get);
                ids.push(id.clone());
                calls.push(CallOut::new(id, name, input));
            }
            kind => tracing::debug!(kind, "messages: an assistant block of this type is ignored"),
        }
    }
    let text = join(texts, "");
    let all_calls = !calls.is_empty() && text.is_empty();
    let mut message = MessageOut::text("assistant", text);
    if all_calls {
        message.content = None;
    }
    if !thoughts.is_empty() {
        message.reasoning_content = Some(join(thoughts, ""));
    }
    message.tool_calls = calls;
    messages.push(message);
    Ok(ids)
}

/// `pieces` as one text: borrowed when there is only one.
fn join<'a>(mut pieces: Vec<Cow<'a, str>>, separator: &str) -> Cow<'a, str> {
    match pieces.len() {
        0 => Cow::Borrowed(""),
        1 => pieces.pop().unwrap_or_default(),
        _ => Cow::Owned(pieces.join(separator)),
    }
}
