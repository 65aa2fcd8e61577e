//! One streamed Messages answer: `message_start`, then content blocks (each
//! `content_block_start`, its deltas, `content_block_stop`), `message_delta` with the stop
//! reason and usage, `message_stop`; `ping` keeps an idle stream open, `error` ends a broken
//! one.
//!
//! Thinking and text stream as they come. Calls are held until the choice finishes and
//! then written as `tool_use` blocks, each with one `input_json_delta` holding its whole
//! input: the accumulated message then has the whole answer's shape (`[thinking?, text?,
//! tool_use…]`, text after a call still joins the one text block), and a call the token
//! limit cut off is never started, in either tool-call mode (the core says how many calls
//! are complete before the finish).

use std::io::Write as _;

use serde_json::value::RawValue;

use super::answer::{SIGNATURE, Usage, input, stop_reason};
use super::error;
use crate::openai::ApiError;
use crate::proxy::choice::Out;
use crate::proxy::wire::api::StreamWire;
use crate::proxy::wire::chat::unwritable;

/// The block being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    None,
    Thinking,
    Text,
}

/// A call waiting for the choice to finish.
#[derive(Debug)]
struct Held {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Debug)]
pub(super) struct MessagesStream {
    id: String,
    model: String,
    /// How many of the calls are complete (the core says so before the finish).
    complete_calls: usize,
    open: Open,
    /// The index of the next block.
    next: usize,
    calls: Vec<Held>,
    reason: &'static str,
    /// The stop string that ended the answer (`stop_reason: stop_sequence`).
    stop_sequence: Option<String>,
}

impl MessagesStream {
    pub(super) fn new(id: &str, model: &str) -> Self {
        Self {
            id: id.to_owned(),
            model: model.to_owned(),
            complete_calls: usize::MAX,
            open: Open::None,
            next: 0,
            calls: Vec::new(),
            reason: "end_turn",
            stop_sequence: None,
        }
    }

    /// Opens a block of `kind` unless it is the one open.
    fn open(&mut self, kind: Open, out: &mut Vec<u8>) {
        if self.open == kind {
            return;
        }
        self.close(out);
        self.open = kind;
        let block: &[u8] = match kind {
            Open::Thinking => br#"{"type":"thinking","thinking":"","signature":""}"#,
            _ => br#"{"type":"text","text":""}"#,
        };
        out.extend_from_slice(
            b"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":",
        );
        let _ = write!(out, "{}", self.next);
        out.extend_from_slice(b",\"content_block\":");
        out.extend_from_slice(block);
        out.extend_from_slice(b"}\n\n");
    }

    /// Closes the open block (a thinking block gets its signature first).
    fn close(&mut self, out: &mut Vec<u8>) {
        match self.open {
            Open::None => return,
            Open::Thinking => {
                self.delta_head(out);
                out.extend_from_slice(b"{\"type\":\"signature_delta\",\"signature\":\"");
                out.extend_from_slice(SIGNATURE.as_bytes());
                out.extend_from_slice(b"\"}}\n\n");
            }
            Open::Text => {}
        }
        self.stop(out);
        self.open = Open::None;
    }

    fn stop(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            b"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":",
        );
        let _ = write!(out, "{}", self.next);
        out.extend_from_slice(b"}\n\n");
        self.next += 1;
    }

    /// The start of a delta frame for the open block, up to its `delta` value.
    fn delta_head(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":",
        );
        let _ = write!(out, "{}", self.next);
        out.extend_from_slice(b",\"delta\":");
    }

    /// A text or thinking delta: `{"type":KIND,FIELD:text}`.
    fn text_delta(&mut self, kind: Open, text: &str, out: &mut Vec<u8>) -> Result<(), ApiError> {
        if text.is_empty() {
            return Ok(());
        }
        self.open(kind, out);
        self.delta_head(out);
        out.extend_from_slice(match kind {
            Open::Thinking => b"{\"type\":\"thinking_delta\",\"thinking\":",
            _ => b"{\"type\":\"text_delta\",\"text\":",
        });
        serde_json::to_writer(&mut *out, text).map_err(|e| unwritable(&e))?;
        out.extend_from_slice(b"}}\n\n");
        Ok(())
    }

    /// The held calls as `tool_use` blocks.
    fn write_calls(&mut self, out: &mut Vec<u8>) -> Result<(), ApiError> {
        for call in std::mem::take(&mut self.calls) {
            out.extend_from_slice(
                b"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":",
            );
            let _ = write!(out, "{}", self.next);
            out.extend_from_slice(b",\"content_block\":{\"type\":\"tool_use\",\"id\":");
            serde_json::to_writer(&mut *out, &call.id).map_err(|e| unwritable(&e))?;
            out.extend_from_slice(b",\"name\":");
            serde_json::to_writer(&mut *out, &call.name).map_err(|e| unwritable(&e))?;
            out.extend_from_slice(b",\"input\":{}}}\n\n");
            let input = input(&call.arguments);
            if input != "{}" {
                self.delta_head(out);
                out.extend_from_slice(b"{\"type\":\"input_json_delta\",\"partial_json\":");
                serde_json::to_writer(&mut *out, input).map_err(|e| unwritable(&e))?;
                out.extend_from_slice(b"}}\n\n");
            }
            self.stop(out);
        }
        Ok(())
    }
}

/// `message_start`'s message: no content yet.
#[derive(serde::Serialize)]
struct Start<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: [(); 0],
    stop_reason: Option<()>,
    stop_sequence: Option<()>,
    usage: Usage,
}

impl StreamWire for MessagesStream {
    fn begin(&mut self, choice: usize, out: &mut Vec<u8>) -> Result<(), ApiError> {
        if choice != 0 {
            return Ok(());
        }
        let start = Start {
            id: &self.id,
            kind: "message",
            role: "assistant",
            model: &self.model,
            content: [],
            stop_reason: None,
            stop_sequence: None,
            usage: Usage::default(),
        };
        out.extend_from_slice(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":");
        serde_json::to_writer(&mut *out, &start).map_err(|e| unwritable(&e))?;
        out.extend_from_slice(b"}\n\n");
        Ok(())
    }

    fn item(&mut self, choice: usize, item: &Out, out: &mut Vec<u8>) -> Result<(), ApiError> {
        // Messages has one choice (vLLM is never asked for more).
        if choice != 0 {
            return Ok(());
        }
        match item {
            Out::Reasoning(text) => self.text_delta(Open::Thinking, text, out),
            Out::Content(text) => self.text_delta(Open::Text, text, out),
            Out::CallHeader { id, name, .. } => {
                self.calls.push(Held { id: id.clone(), name: name.clone(), arguments: String::new() });
                Ok(())
            }
            Out::CallArgs { index, fragment } => {
                if let Some(call) = self.calls.get_mut(*index) {
                    call.arguments.push_str(fragment);
                } else {
                    tracing::debug!(index, "messages: arguments of a call never started");
                }
                Ok(())
            }
        }
    }

    fn stop_sequence(&mut self, choice: usize, sequence: &str) {
        if choice == 0 {
            self.stop_sequence = Some(sequence.to_owned());
        }
    }

    fn complete_calls(&mut self, choice: usize, calls: usize) {
        if choice == 0 {
            self.complete_calls = calls;
        }
    }

    fn finish(&mut self, choice: usize, reason: &'static str, out: &mut Vec<u8>) -> Result<(), ApiError> {
        if choice != 0 {
            return Ok(());
        }
        self.close(out);
        // With arguments streamed as written, the last call may be one the limit cut off.
        self.calls.truncate(self.complete_calls);
        self.reason = stop_reason(reason, !self.calls.is_empty(), self.stop_sequence.is_some());
        if self.reason != "stop_sequence" {
            self.stop_sequence = None;
        }
        self.write_calls(out)?;
        Ok(())
    }

    fn done(&mut self, usage: Option<&RawValue>, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let usage = Usage::from_chat(usage);
        out.extend_from_slice(
            b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"",
        );
        out.extend_from_slice(self.reason.as_bytes());
        out.extend_from_slice(b"\",\"stop_sequence\":");
        serde_json::to_writer(&mut *out, &self.stop_sequence).map_err(|e| unwritable(&e))?;
        out.extend_from_slice(b"},\"usage\":");
        serde_json::to_writer(&mut *out, &usage).map_err(|e| unwritable(&e))?;
        out.extend_from_slice(b"}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        Ok(())
    }

    fn error(&mut self, error: &ApiError, out: &mut Vec<u8>) {
        error::frame(error, out);
    }

    fn keepalive(&self) -> &'static [u8] {
        b"event: ping\ndata: {\"type\":\"ping\"}\n\n"
    }
}
