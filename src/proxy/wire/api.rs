//! The contract every client API implements: the request turned into a chat request, the
//! answer written streamed or whole, errors in the API's own shape.

use std::borrow::Cow;

use axum::response::Response;
use serde_json::value::RawValue;

use crate::openai::ApiError;
use crate::proxy::choice::Out;
use crate::proxy::plan::Plan;
use crate::proxy::rewrite::Layout;

/// One client API.
pub(crate) trait Api: Send + Sync + 'static {
    /// The `endpoint` label of metrics and request logs (`chat`, `messages`, `responses`).
    fn endpoint(&self) -> &'static str;

    /// The request as a chat request for the translation core, and what the answer needs
    /// from the original that the chat request does not carry.
    fn to_chat<'a>(&self, body: &'a [u8]) -> Result<Converted<'a>, ApiError>;

    /// The writer of one streamed answer.
    fn stream_writer(&self, plan: &Plan, extra: &Extra, id: &str, created: u64)
    -> Box<dyn StreamWire + Send>;

    /// The whole answer, serialised.
    fn render_whole(
        &self,
        answer: &Whole<'_>,
        plan: &Plan,
        extra: &Extra,
        id: &str,
    ) -> Result<Vec<u8>, ApiError>;

    /// An error as this API's clients expect it over HTTP.
    fn error_response(&self, error: &ApiError) -> Response;

    /// A streaming request refused before its stream began, when this API's clients read
    /// that refusal only from a stream (Codex compacts on `context_length_exceeded` only in
    /// a `response.failed` event): the whole answer, else `None` for an HTTP error.
    fn refused_stream(&self, error: &ApiError, id: &str, model: &str) -> Option<Response> {
        let _ = (error, id, model);
        None
    }

    /// A new response id in this API's shape (`chatcmpl-…`, `msg_…`, `resp_…`).
    fn response_id(&self) -> String;
}

/// A request turned into a chat request.
#[derive(Debug)]
pub(crate) struct Converted<'a> {
    /// The chat request body (the original bytes for Chat Completions).
    pub(crate) chat: Cow<'a, [u8]>,
    /// Where the fields of a request the adapter wrote lie (`None`: the core reads them).
    pub(crate) layout: Option<Layout<'a>>,
    pub(crate) extra: Extra,
}

/// What an API's answer needs from its request beyond the [`Plan`] (Chat Completions needs
/// nothing more; the other APIs add what their answers echo).
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra {
    /// What a Responses answer echoes of its request.
    pub(crate) responses: Option<std::sync::Arc<super::responses::echo::Echo>>,
}

/// Writes one streamed answer as the client's API has it. Items come in the order the
/// engine decides them; `finish` once per choice, `done` once at the end.
pub(crate) trait StreamWire: std::fmt::Debug {
    /// Choice `choice` begins (before any of its items).
    fn begin(&mut self, choice: usize, out: &mut Vec<u8>) -> Result<(), ApiError>;

    /// What choice `choice` says next: text, reasoning, a call's header or arguments.
    fn item(&mut self, choice: usize, item: &Out, out: &mut Vec<u8>) -> Result<(), ApiError>;

    /// Choice `choice` ended, with the client's finish reason (`stop`, `length`,
    /// `tool_calls`, as Chat Completions names them).
    fn finish(&mut self, choice: usize, reason: &'static str, out: &mut Vec<u8>) -> Result<(), ApiError>;

    /// How many of choice `choice`'s calls are complete, told just before its `finish`:
    /// with `stream_tool_arguments` the last call sent may be one the token limit cut off.
    fn complete_calls(&mut self, choice: usize, calls: usize) {
        let _ = (choice, calls);
    }

    /// Choice `choice` was ended by `sequence`, one of the request's stop strings: told
    /// just before its `finish` (`stop`).
    fn stop_sequence(&mut self, choice: usize, sequence: &str) {
        let _ = (choice, sequence);
    }

    /// The upstream sent usage (with every chunk when it reports continuous usage).
    fn usage(&mut self, usage: &RawValue) {
        let _ = usage;
    }

    /// The answer is over: every choice finished. `usage`: the upstream's last.
    fn done(&mut self, usage: Option<&RawValue>, out: &mut Vec<u8>) -> Result<(), ApiError>;

    /// The stream cannot go on: the last frame, in a shape the client reads as a failure.
    fn error(&mut self, error: &ApiError, out: &mut Vec<u8>);

    /// A frame that keeps an idle stream open without saying anything.
    fn keepalive(&self) -> &'static [u8];
}

/// A whole translated answer, for [`Api::render_whole`].
#[derive(Debug)]
pub(crate) struct Whole<'a> {
    pub(crate) choices: Vec<Choice>,
    /// The upstream's `usage`, as it came.
    pub(crate) usage: Option<&'a RawValue>,
    /// When the upstream created it (Unix seconds).
    pub(crate) created: u64,
}

/// One translated choice.
#[derive(Debug)]
pub(crate) struct Choice {
    pub(crate) index: u64,
    pub(crate) content: String,
    pub(crate) reasoning: String,
    /// Complete calls only: a truncated call is never executable.
    pub(crate) calls: Vec<Call>,
    /// As Chat Completions names it: `stop`, `length`, `tool_calls`.
    pub(crate) reason: &'static str,
    /// The stop string (one of the request's `stop`) that ended a `stop` choice.
    pub(crate) stop_sequence: Option<String>,
}

/// One whole call.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) arguments: String,
}
