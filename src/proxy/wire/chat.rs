//! OpenAI Chat Completions (`POST /v1/chat/completions`): the request is already what the
//! core reads; the answer is `chat.completion.chunk`s (a role delta first, text deltas, one
//! header delta per call then its argument fragments, a finish chunk, the usage chunk when
//! asked, `[DONE]`) or one `chat.completion`.

use std::borrow::Cow;

use axum::response::Response;
use serde_json::value::RawValue;

use super::api::{Api, Converted, Extra, StreamWire, Whole};
use crate::openai::chat::{self, ChunkChoice, ChunkHead, ChunkWriter, Delta, ToolCall};
use crate::openai::{ApiError, ErrorKind, completion_id};
use crate::proxy::choice::Out;
use crate::proxy::plan::Plan;
use crate::proxy::reply::error_response;
use crate::proxy::sse::{push_event, push_event_with};

/// Chat Completions.
#[derive(Debug)]
pub(crate) struct ChatApi;

impl Api for ChatApi {
    fn endpoint(&self) -> &'static str {
        "chat"
    }

    fn to_chat<'a>(&self, body: &'a [u8]) -> Result<Converted<'a>, ApiError> {
        Ok(Converted { chat: Cow::Borrowed(body), layout: None, extra: Extra::default() })
    }

    fn stream_writer(
        &self,
        plan: &Plan,
        _extra: &Extra,
        id: &str,
        created: u64,
    ) -> Box<dyn StreamWire + Send> {
        Box::new(ChatStream {
            id: id.to_owned(),
            created,
            model: plan.model.clone(),
            include_usage: plan.include_usage,
            writer: ChunkWriter::default(),
        })
    }

    fn render_whole(
        &self,
        answer: &Whole<'_>,
        plan: &Plan,
        _extra: &Extra,
        id: &str,
    ) -> Result<Vec<u8>, ApiError> {
        let choices = answer
            .choices
            .iter()
            .map(|c| {
                let calls = c.calls.iter().map(|k| ToolCall::whole(&k.id, &k.name, &k.arguments)).collect();
                chat::CompletionChoice::new(
                    c.index,
                    chat::Message::new(nonempty(&c.content), nonempty(&c.reasoning), calls),
                    c.reason,
                )
            })
            .collect();
        let usage = answer.usage.filter(|u| u.get().trim() != "null");
        serde_json::to_vec(&chat::Completion::new(id, answer.created, &plan.model, choices, usage))
            .map_err(|e| unwritable(&e))
    }

    fn error_response(&self, error: &ApiError) -> Response {
        error_response(error)
    }

    fn response_id(&self) -> String {
        completion_id()
    }
}

/// `text`, unless it is empty.
fn nonempty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// A chunk that could not be written (the wire types always serialise: never expected).
pub(crate) fn unwritable(e: &serde_json::Error) -> ApiError {
    ApiError::new(ErrorKind::Internal, format!("cannot write the answer: {e}"))
}

/// Writes one streamed chat answer.
#[derive(Debug)]
struct ChatStream {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
    /// Writes this answer's chunks (their shared fields serialised once).
    writer: ChunkWriter,
}

impl ChatStream {
    /// One chunk: `delta` for choice `index`.
    fn frame(
        &mut self,
        index: usize,
        delta: Delta<'_>,
        finish: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<(), ApiError> {
        let head = ChunkHead { id: &self.id, created: self.created, model: &self.model };
        let choice = [ChunkChoice::new(index, delta, finish)];
        push_event_with(out, |out| self.writer.write(head, &choice, None, out)).map_err(|e| unwritable(&e))
    }
}

impl StreamWire for ChatStream {
    fn begin(&mut self, choice: usize, out: &mut Vec<u8>) -> Result<(), ApiError> {
        self.frame(choice, Delta::role(), None, out)
    }

    fn item(&mut self, choice: usize, item: &Out, out: &mut Vec<u8>) -> Result<(), ApiError> {
        match item {
            Out::Content(text) => {
                let head = ChunkHead { id: &self.id, created: self.created, model: &self.model };
                push_event_with(out, |out| self.writer.write_content(head, choice, text, out))
                    .map_err(|e| unwritable(&e))
            }
            Out::Reasoning(text) => self.frame(choice, Delta::reasoning(text), None, out),
            Out::CallHeader { index, id, name } => {
                let call = [ToolCall::header(*index, id, name)];
                self.frame(choice, Delta::tool_calls(&call), None, out)
            }
            Out::CallArgs { index, fragment } => {
                let call = [ToolCall::arguments(*index, fragment)];
                self.frame(choice, Delta::tool_calls(&call), None, out)
            }
        }
    }

    fn finish(&mut self, choice: usize, reason: &'static str, out: &mut Vec<u8>) -> Result<(), ApiError> {
        self.frame(choice, Delta::default(), Some(reason), out)
    }

    /// Usage if asked (`choices: []`), then `[DONE]`.
    fn done(&mut self, usage: Option<&RawValue>, out: &mut Vec<u8>) -> Result<(), ApiError> {
        if self.include_usage
            && let Some(usage) = usage
        {
            let head = ChunkHead { id: &self.id, created: self.created, model: &self.model };
            push_event_with(out, |out| self.writer.write(head, &[], Some(usage), out))
                .map_err(|e| unwritable(&e))?;
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
        Ok(())
    }

    /// One error event; the body then ends without `[DONE]`, so it never looks complete.
    fn error(&mut self, error: &ApiError, out: &mut Vec<u8>) {
        push_event(out, &error.stream_payload());
    }

    /// An SSE comment: RunPod's proxy (100 s) and others keep the request open.
    fn keepalive(&self) -> &'static [u8] {
        b": keep-alive\n\n"
    }
}
