//! One streamed Responses answer: `response.created` and `response.in_progress`, then each
//! output item as `response.output_item.added`, its deltas and `response.output_item.done`,
//! then `response.completed` (or `response.incomplete` at the token limit) carrying the
//! whole `response`, built from the same items the deltas wrote. No `[DONE]`.
//!
//! Order, so the stream adds up to the whole answer whatever the chunking: reasoning streams
//! at once in its item, closed when text or a streamed call begins; text streams at once in the
//! message item, which stays open to the end (text written after a call still belongs to
//! it); calls come last. Held calls (the default) arrive complete and go out at the finish,
//! after the message; with `--stream-tool-arguments` each call is added as it starts and its
//! arguments stream as written, and a call the token limit cut off is never done and is not
//! in the final output. Whitespace before the first word is held, so whitespace alone never
//! opens a message (the whole answer has none either).

use std::mem;

use serde::Serialize;
use serde_json::value::RawValue;

use super::error::ErrorBody;
use super::output::{Head, Item, Kind, PartView, ResponseView, Usage, custom_input, says_something, status};
use crate::openai::{ApiError, ErrorKind, push_json_string};
use crate::proxy::choice::Out;
use crate::proxy::wire::api::StreamWire;

#[derive(Debug)]
pub(crate) struct ResponsesStream {
    head: Head,
    /// Calls come whole (held until complete) rather than as written.
    hold: bool,
    seq: u64,
    started: bool,
    /// Every item so far, in output order (the final `response.output`).
    output: Vec<Item>,
    /// The open reasoning and message items (their output index).
    reasoning: Option<usize>,
    message: Option<usize>,
    /// Whitespace that came before the message's first word.
    pending: String,
    /// Streamed calls still open: (client index, output index).
    open_calls: Vec<(usize, usize)>,
    /// Held calls waiting for the finish: (client index, item).
    held: Vec<(usize, Item)>,
    /// How many calls were complete when the choice finished.
    complete: Option<usize>,
    reason: Option<&'static str>,
}

#[derive(Serialize)]
struct ResponseEv<'a> {
    response: ResponseView<'a>,
}

#[derive(Serialize)]
struct ItemEv<'a> {
    output_index: usize,
    item: super::output::ItemView<'a>,
}

#[derive(Serialize)]
struct PartEv<'a> {
    item_id: &'a str,
    output_index: usize,
    content_index: u32,
    part: PartView<'a>,
}

#[derive(Serialize)]
struct DeltaEv<'a> {
    item_id: &'a str,
    output_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_index: Option<u32>,
    delta: &'a str,
}

#[derive(Serialize)]
struct TextDoneEv<'a> {
    item_id: &'a str,
    output_index: usize,
    content_index: u32,
    text: &'a str,
}

#[derive(Serialize)]
struct InputDoneEv<'a> {
    item_id: &'a str,
    output_index: usize,
    input: &'a str,
}

#[derive(Serialize)]
struct ArgsDoneEv<'a> {
    item_id: &'a str,
    output_index: usize,
    name: &'a str,
    arguments: &'a str,
}

fn unwritable(e: &serde_json::Error) -> ApiError {
    ApiError::new(ErrorKind::Internal, format!("cannot write the answer: {e}"))
}

/// What every event starts with: `event: KIND`, `data: {"type":KIND,"sequence_number":n`.
fn event_head(out: &mut Vec<u8>, seq: u64, kind: &str) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\ndata: {\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"sequence_number\":");
    out.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
}

/// One event: `event: KIND` and `data: {"type": KIND, "sequence_number": n, …body}`.
fn frame(
    out: &mut Vec<u8>,
    seq: &mut u64,
    kind: &'static str,
    body: &impl Serialize,
) -> Result<(), ApiError> {
    let start = out.len();
    event_head(out, *seq, kind);
    let body_at = out.len();
    if let Err(e) = serde_json::to_writer(&mut *out, body) {
        out.truncate(start);
        return Err(unwritable(&e));
    }
    // The body's own `{` becomes the comma after the prefix (`{}` adds nothing).
    if out.len() - body_at <= 2 {
        out.truncate(body_at);
        out.push(b'}');
    } else {
        out[body_at] = b',';
    }
    out.extend_from_slice(b"\n\n");
    *seq += 1;
    Ok(())
}

/// A delta event, as [`frame`] writes it with a [`DeltaEv`], byte for byte, by hand: an
/// answer writes one per token, and serde's serializer cost more than the rest of the event.
fn delta_frame(out: &mut Vec<u8>, seq: &mut u64, kind: &'static str, ev: &DeltaEv<'_>) {
    event_head(out, *seq, kind);
    out.extend_from_slice(b",\"item_id\":");
    push_json_string(out, ev.item_id);
    out.extend_from_slice(b",\"output_index\":");
    out.extend_from_slice(itoa::Buffer::new().format(ev.output_index).as_bytes());
    if let Some(content_index) = ev.content_index {
        out.extend_from_slice(b",\"content_index\":");
        out.extend_from_slice(itoa::Buffer::new().format(content_index).as_bytes());
    }
    out.extend_from_slice(b",\"delta\":");
    push_json_string(out, ev.delta);
    out.extend_from_slice(b"}\n\n");
    *seq += 1;
}

impl ResponsesStream {
    pub(crate) fn new(head: Head, hold: bool) -> Self {
        Self {
            head,
            hold,
            seq: 0,
            started: false,
            output: Vec::new(),
            reasoning: None,
            message: None,
            pending: String::new(),
            open_calls: Vec::new(),
            held: Vec::new(),
            complete: None,
            reason: None,
        }
    }

    fn response_event(
        &mut self,
        out: &mut Vec<u8>,
        kind: &'static str,
        state: &'static str,
        usage: Option<Usage>,
        error: Option<&ApiError>,
    ) -> Result<(), ApiError> {
        let response = ResponseView {
            head: &self.head,
            status: state,
            output: &self.output,
            usage,
            error: error.map(ErrorBody::new),
            light: state == "in_progress",
        };
        frame(out, &mut self.seq, kind, &ResponseEv { response })
    }

    /// `response.created` and `response.in_progress`, once, before anything else (the
    /// SDKs' stream helpers refuse any event before `response.created`).
    fn start(&mut self, out: &mut Vec<u8>) -> Result<(), ApiError> {
        if !mem::replace(&mut self.started, true) {
            self.response_event(out, "response.created", "in_progress", None, None)?;
            self.response_event(out, "response.in_progress", "in_progress", None, None)?;
        }
        Ok(())
    }

    /// Adds `item` at the end of the output: `output_item.added` and, for reasoning and
    /// messages, `content_part.added`.
    fn open(&mut self, item: Item, out: &mut Vec<u8>) -> Result<usize, ApiError> {
        let index = self.output.len();
        frame(
            out,
            &mut self.seq,
            "response.output_item.added",
            &ItemEv { output_index: index, item: item.view(true) },
        )?;
        if matches!(item.kind, Kind::Message | Kind::Reasoning) {
            let ev = PartEv {
                item_id: &item.id,
                output_index: index,
                content_index: 0,
                part: PartView::of(&item.kind, ""),
            };
            frame(out, &mut self.seq, "response.content_part.added", &ev)?;
        }
        self.output.push(item);
        Ok(index)
    }

    /// Appends `text` to item `index` and writes its delta event.
    fn delta(&mut self, index: usize, text: &str, out: &mut Vec<u8>) {
        let Some(item) = self.output.get_mut(index) else { return };
        item.text.push_str(text);
        let (kind, content_index) = match item.kind {
            Kind::Reasoning => ("response.reasoning_text.delta", Some(0)),
            Kind::Message => ("response.output_text.delta", Some(0)),
            Kind::Call { .. } => ("response.function_call_arguments.delta", None),
            // A custom call's input is only known whole (its arguments are `{"input": …}`).
            Kind::Custom { .. } => return,
        };
        let ev = DeltaEv { item_id: &item.id, output_index: index, content_index, delta: text };
        delta_frame(out, &mut self.seq, kind, &ev);
    }

    /// Ends item `index`: its text's done events, then `output_item.done`.
    fn close(&mut self, index: usize, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let Some(item) = self.output.get_mut(index) else { return Ok(()) };
        let seq = &mut self.seq;
        if let Kind::Custom { .. } = item.kind {
            item.text = custom_input(&item.text);
        }
        let item = &*item;
        match &item.kind {
            Kind::Custom { .. } => {
                let ev = DeltaEv {
                    item_id: &item.id,
                    output_index: index,
                    content_index: None,
                    delta: &item.text,
                };
                frame(out, seq, "response.custom_tool_call_input.delta", &ev)?;
                let ev = InputDoneEv { item_id: &item.id, output_index: index, input: &item.text };
                frame(out, seq, "response.custom_tool_call_input.done", &ev)?;
            }
            Kind::Call { name, .. } => {
                let ev = ArgsDoneEv { item_id: &item.id, output_index: index, name, arguments: &item.text };
                frame(out, seq, "response.function_call_arguments.done", &ev)?;
            }
            kind => {
                let done = if *kind == Kind::Message {
                    "response.output_text.done"
                } else {
                    "response.reasoning_text.done"
                };
                let ev =
                    TextDoneEv { item_id: &item.id, output_index: index, content_index: 0, text: &item.text };
                frame(out, seq, done, &ev)?;
                let part = PartView::of(kind, &item.text);
                let ev = PartEv { item_id: &item.id, output_index: index, content_index: 0, part };
                frame(out, seq, "response.content_part.done", &ev)?;
            }
        }
        frame(out, seq, "response.output_item.done", &ItemEv { output_index: index, item: item.view(false) })
    }

    fn close_reasoning(&mut self, out: &mut Vec<u8>) -> Result<(), ApiError> {
        match self.reasoning.take() {
            Some(index) => self.close(index, out),
            None => Ok(()),
        }
    }

    fn content(&mut self, text: &str, out: &mut Vec<u8>) -> Result<(), ApiError> {
        if let Some(index) = self.message {
            self.delta(index, text, out);
            return Ok(());
        }
        if !says_something(text) {
            self.pending.push_str(text);
            return Ok(());
        }
        self.close_reasoning(out)?;
        let index = self.open(Item::new(Kind::Message), out)?;
        self.message = Some(index);
        let mut first = mem::take(&mut self.pending);
        first.push_str(text);
        self.delta(index, &first, out);
        Ok(())
    }

    fn reasoning(&mut self, text: &str, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let index = if let Some(index) = self.reasoning {
            index
        } else {
            let index = self.open(Item::new(Kind::Reasoning), out)?;
            self.reasoning = Some(index);
            index
        };
        self.delta(index, text, out);
        Ok(())
    }

    fn call_header(&mut self, index: usize, id: &str, name: &str, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let item = Item::new(Kind::call(&self.head.echo, id, name));
        if self.hold {
            // Nothing goes out yet: reasoning written after this call still has its item open.
            self.held.push((index, item));
        } else {
            self.close_reasoning(out)?;
            let at = self.open(item, out)?;
            self.open_calls.push((index, at));
        }
        Ok(())
    }

    fn call_args(&mut self, index: usize, fragment: &str, out: &mut Vec<u8>) {
        if self.hold {
            if let Some((_, item)) = self.held.iter_mut().rev().find(|(i, _)| *i == index) {
                item.text.push_str(fragment);
            }
            return;
        }
        if let Some(&(_, at)) = self.open_calls.iter().find(|(i, _)| *i == index) {
            self.delta(at, fragment, out);
        }
    }
}

impl StreamWire for ResponsesStream {
    fn begin(&mut self, choice: usize, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let _ = choice;
        self.start(out)
    }

    /// Responses has one answer per request: only the first choice is written.
    fn item(&mut self, choice: usize, item: &Out, out: &mut Vec<u8>) -> Result<(), ApiError> {
        if choice != 0 {
            return Ok(());
        }
        match item {
            Out::Content(text) => self.content(text, out),
            Out::Reasoning(text) => self.reasoning(text, out),
            Out::CallHeader { index, id, name } => self.call_header(*index, id, name, out),
            Out::CallArgs { index, fragment } => {
                self.call_args(*index, fragment, out);
                Ok(())
            }
        }
    }

    fn complete_calls(&mut self, choice: usize, complete: usize) {
        if choice == 0 {
            self.complete = Some(complete);
        }
    }

    fn finish(&mut self, choice: usize, reason: &'static str, out: &mut Vec<u8>) -> Result<(), ApiError> {
        if choice != 0 || self.reason.is_some() {
            return Ok(());
        }
        self.reason = Some(reason);
        self.close_reasoning(out)?;
        if let Some(index) = self.message.take() {
            if reason == "length" {
                self.output[index].status = "incomplete";
            }
            self.close(index, out)?;
        }
        // Streamed calls: the complete ones are done; one the token limit cut off never is,
        // and leaves the output (it was shown as added, never as a call to run).
        let complete = self.complete.unwrap_or(usize::MAX);
        let mut cut = Vec::new();
        for (client, at) in mem::take(&mut self.open_calls) {
            if client < complete {
                self.close(at, out)?;
            } else {
                cut.push(at);
            }
        }
        for at in cut.into_iter().rev() {
            self.output.remove(at);
        }
        for (_, item) in mem::take(&mut self.held) {
            let args = item.text.clone();
            let at = self.open(Item { text: String::new(), ..item }, out)?;
            self.delta(at, &args, out);
            self.close(at, out)?;
        }
        Ok(())
    }

    fn done(&mut self, usage: Option<&RawValue>, out: &mut Vec<u8>) -> Result<(), ApiError> {
        self.start(out)?;
        let state = status(self.reason.unwrap_or("stop"));
        let kind = if state == "incomplete" { "response.incomplete" } else { "response.completed" };
        self.response_event(out, kind, state, Usage::from_upstream(usage), None)
    }

    /// `response.failed` with the error's code (`context_length_exceeded` for a prompt too long).
    fn error(&mut self, error: &ApiError, out: &mut Vec<u8>) {
        let start = out.len();
        let written = self
            .start(out)
            .and_then(|()| self.response_event(out, "response.failed", "failed", None, Some(error)));
        if written.is_err() {
            out.truncate(start);
        }
    }

    /// An SSE comment: Codex's SSE reader (`eventsource-stream`) skips it.
    fn keepalive(&self) -> &'static [u8] {
        b": keep-alive\n\n"
    }
}

#[cfg(test)]
mod frame_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The hand-written delta event is [`frame`]'s with serde, byte for byte.
        #[test]
        fn a_delta_event_is_written_as_serde_writes_it(
            item_id in any::<String>(),
            output_index in 0usize..1000,
            content_index in prop::option::of(0u32..3),
            delta in any::<String>(),
            seq in 0u64..100_000,
        ) {
            let ev = DeltaEv { item_id: &item_id, output_index, content_index, delta: &delta };
            let (mut by_hand, mut by_serde) = (Vec::new(), Vec::new());
            let (mut a, mut b) = (seq, seq);
            delta_frame(&mut by_hand, &mut a, "response.output_text.delta", &ev);
            frame(&mut by_serde, &mut b, "response.output_text.delta", &ev).expect("writes");
            prop_assert_eq!(String::from_utf8(by_hand).expect("UTF-8"), String::from_utf8(by_serde).expect("UTF-8"));
            prop_assert_eq!(a, b);
        }
    }
}
