//! `podctl translate`: raw model text on stdin → the OpenAI assistant message podctl would
//! return. It is how a user checks why a model's output did or did not become a call; with
//! `--chunk N` it goes through the streaming path, which must give the same answer.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};

use crate::toolcall::{
    Engine, Format, Message, MessageBuilder, OwnedEvent, Reasoning, Tools, UpstreamFinish,
};
use crate::ui::{Printer, UserError};

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// How the model writes tool calls: qwen3_coder, hermes, auto, llama3_json, mistral,
    /// deepseek_v3, deepseek_v31, kimi_k2, glm45 or none.
    #[arg(long, value_name = "FMT", value_parser = parse_format)]
    pub format: Format,
    /// A JSON file with the request's OpenAI `tools` array (or a whole request body).
    #[arg(long, value_name = "FILE")]
    pub tools: Option<PathBuf>,
    /// Feed the text in pieces of N characters through the streaming path (default: whole).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk: Option<u64>,
    /// Why the upstream stopped: stop or length.
    #[arg(long, value_name = "REASON", default_value = "stop", value_parser = parse_finish)]
    pub finish_reason: UpstreamFinish,
    /// The prompt already opened `<think>` (QwQ, Qwen3 thinking models): output starts as reasoning.
    #[arg(long)]
    pub think_opened: bool,
    /// Print the engine's events (one JSON object per line) instead of the message.
    #[arg(long)]
    pub events: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_finish(s: &str) -> Result<UpstreamFinish, String> {
    s.parse()
}

pub(super) fn run(args: &TranslateArgs, printer: &Printer) -> anyhow::Result<()> {
    let tools = match &args.tools {
        Some(path) => read_tools(path)?,
        None => Tools::none(),
    };
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).context("cannot read the model text from stdin")?;
    let text = String::from_utf8(input).map_err(|e| {
        UserError::usage(format!("stdin is not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()))
            .hint("pass the model's output text exactly as the server returned it")
    })?;
    if tools.is_empty() && args.format != Format::None && text.contains("<function=") {
        printer.warn("no --tools given: bare <function=…> blocks are only calls for declared tools");
    }
    if tools.is_empty() && args.format == Format::Llama3Json && !text.contains("<|python_tag|>") {
        printer
            .warn("no --tools given: JSON objects without <|python_tag|> are only calls for declared tools");
    }
    let reasoning = if args.think_opened { Reasoning::PromptOpened } else { Reasoning::Auto };
    let mut engine = Engine::new(args.format, Arc::new(tools), reasoning);
    let chunk = args.chunk.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));

    if args.events {
        let mut events: Vec<OwnedEvent> = Vec::new();
        for piece in pieces(&text, chunk) {
            engine.feed(piece, &mut events);
        }
        let reason = engine.finish(args.finish_reason, &mut events);
        let mut out = String::new();
        for event in &events {
            out.push_str(&event_json(event).to_string());
            out.push('\n');
        }
        out.push_str(&json!({"finish_reason": reason.as_str()}).to_string());
        printer.data(&out)?;
        return Ok(());
    }

    let mut builder = MessageBuilder::default();
    for piece in pieces(&text, chunk) {
        engine.feed(piece, &mut builder);
    }
    let reason = engine.finish(args.finish_reason, &mut builder);
    let message = builder.build(reason);
    let out = serde_json::to_string_pretty(&message_json(&message, engine.family()))?;
    printer.data(&out)?;
    Ok(())
}

fn read_tools(path: &Path) -> anyhow::Result<Tools> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        UserError::usage(format!("cannot read tools file {}: {e}", path.display()))
            .hint("--tools takes a JSON file holding the request's `tools` array")
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        UserError::usage(format!("tools file {} is not valid JSON: {e}", path.display()))
            .hint("the file must hold an OpenAI `tools` array, e.g. [{\"type\":\"function\",\"function\":{\"name\":…}}]")
    })?;
    let tools = match &value {
        Value::Object(map) if map.contains_key("tools") => &map["tools"],
        other => other,
    };
    Tools::from_openai(tools).map_err(|e| {
        UserError::usage(format!("tools file {}: {e}", path.display()))
            .hint("use the `tools` array exactly as the client sends it")
            .into()
    })
}

/// Splits `text` into pieces of `n` characters (never inside a character).
fn pieces(text: &str, n: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

/// The message in the OpenAI shape. Ids are derived from the call itself, so the same
/// input gives the same output (the proxy uses random ids).
fn message_json(message: &Message, format: Format) -> Value {
    let calls: Vec<Value> = message
        .tool_calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            json!({
                "id": call.id.clone().unwrap_or_else(|| call_id(format, i, &call.name, &call.arguments)),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            })
        })
        .collect();
    json!({
        "content": message.content,
        "reasoning_content": message.reasoning,
        "tool_calls": calls,
        "finish_reason": message.finish_reason.as_str(),
    })
}

/// A deterministic id in the shape the format's family needs (Mistral: 9 alphanumerics).
fn call_id(format: Format, index: usize, name: &str, arguments: &str) -> String {
    // FNV-1a: stable across runs and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in index.to_le_bytes().iter().chain(name.as_bytes()).chain(arguments.as_bytes()) {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    match format.call_id_len() {
        Some(len) => {
            // 62^9 < 2^64: the hash has enough digits.
            const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            (0..len)
                .map(|_| {
                    let digit = usize::try_from(hash % 62).unwrap_or(0);
                    hash /= 62;
                    char::from(ALNUM[digit])
                })
                .collect()
        }
        None => format!("call_{hash:016x}"),
    }
}

fn event_json(event: &OwnedEvent) -> Value {
    match event {
        OwnedEvent::Content(text) => json!({"content": text}),
        OwnedEvent::Reasoning(text) => json!({"reasoning": text}),
        OwnedEvent::CallStart { index, name, id: Some(id) } => {
            json!({"call_start": {"index": index, "name": name, "id": id}})
        }
        OwnedEvent::CallStart { index, name, id: None } => {
            json!({"call_start": {"index": index, "name": name}})
        }
        OwnedEvent::CallArgs { index, fragment } => {
            json!({"call_args": {"index": index, "fragment": fragment}})
        }
        OwnedEvent::CallEnd { index } => json!({"call_end": {"index": index}}),
        OwnedEvent::CallTruncated { index } => json!({"call_truncated": {"index": index}}),
    }
}

#[cfg(test)]
mod tests {
    use super::{Format, call_id, pieces};

    #[test]
    fn call_ids_follow_the_format() {
        let id = call_id(Format::Mistral, 0, "read_file", "{}");
        assert!(id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        assert_eq!(id, call_id(Format::Mistral, 0, "read_file", "{}"), "deterministic");
        assert_ne!(id, call_id(Format::Mistral, 1, "read_file", "{}"));
        assert!(call_id(Format::Llama3Json, 0, "read_file", "{}").starts_with("call_"));
    }

    #[test]
    fn pieces_split_on_characters() {
        assert_eq!(pieces("aé😀b", 1).collect::<Vec<_>>(), ["a", "é", "😀", "b"]);
        assert_eq!(pieces("abcde", 2).collect::<Vec<_>>(), ["ab", "cd", "e"]);
        assert_eq!(pieces("abc", usize::MAX).collect::<Vec<_>>(), ["abc"]);
        assert_eq!(pieces("", 3).count(), 0);
    }
}
