//! Turning a [`Reply`] into vLLM's response for `/v1/chat/completions` or `/v1/completions`,
//! streaming (SSE) or not, with vLLM 0.32's field set.
//!
//! Streaming order, as observed on a real vLLM: (chat only) a role chunk
//! `{"role":"assistant","content":""}`, one chunk per text piece, a finish chunk with empty
//! text, a `choices: []` usage chunk when `stream_options.include_usage` is true,
//! `data: [DONE]`, end of body. With `finish_reason: "length"` the last piece itself carries
//! the finish reason: vLLM puts the finish reason on the delta of the last generated token,
//! which is an empty end-of-sequence token on `stop` but real text when the token limit cuts
//! the output (from vLLM's source, not observed here).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use super::Shared;
use super::body::{CancelGuard, Step, play, push_event};
use super::reply::{DEFAULT_PROMPT_TOKENS, Reply, pieces};
use super::wire;

/// What a garbled upstream sends instead of JSON.
pub(crate) const GARBAGE: &str = "<html><body><h1>502 Bad Gateway</h1></body></html>";

/// Which OpenAI endpoint is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Chat,
    Completion,
}

/// How the client asked to be answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ask {
    pub(crate) api: Api,
    pub(crate) stream: bool,
    pub(crate) include_usage: bool,
    /// Choices asked for (`n`): each gets the same text, streamed interleaved as vLLM does.
    pub(crate) n: usize,
}

/// One generation: the ids and timestamps shared by all its chunks, and what the model wrote.
#[derive(Debug)]
struct Generation {
    ask: Ask,
    id: String,
    created: u64,
    model: String,
    pieces: Vec<String>,
    finish: &'static str,
    prompt_tokens: u64,
    /// Pause before each piece but the first.
    delay: Duration,
    /// Silence after this many pieces.
    pause: Option<(usize, Duration)>,
    /// Drop the connection after this many pieces.
    drop_after: Option<usize>,
    /// Calls a tool parser found (name, arguments JSON), after the text.
    calls: Vec<(String, String)>,
    /// The char counts the text was cut in (argument pieces are cut the same way).
    chunks: Vec<usize>,
}

/// Answer `reply` for a request that passed validation.
pub(crate) async fn respond(shared: Arc<Shared>, ask: Ask, mut reply: Reply) -> Response {
    let guard = CancelGuard::new(Arc::clone(&shared));
    while let Reply::Stall { first_byte, then } = reply {
        tokio::time::sleep(first_byte).await;
        reply = *then;
    }
    let split = shared.config.split_sse_lines;
    let mut g = Generation::new(ask, &shared.config.model);
    match reply {
        Reply::Error { status, message } => {
            guard.finish();
            return shared.error(status, &message);
        }
        Reply::Garbage => return garbage(&g, split, guard),
        Reply::Stall { .. } => unreachable!("stalls were unwrapped above"),
        Reply::Text { text, chunks, finish, delay, prompt_tokens } => {
            g.pieces = pieces(&text, &chunks);
            g.finish = finish;
            g.delay = delay;
            g.prompt_tokens = prompt_tokens;
        }
        Reply::Parsed { content, calls, chunks, finish } => {
            g.pieces = pieces(&content, &chunks);
            g.finish = if finish == "stop" && !calls.is_empty() { "tool_calls" } else { finish };
            g.calls = calls;
            g.chunks = chunks;
        }
        Reply::DropMidStream { text, chunks, after_chunks } => {
            g.pieces = pieces(&text, &chunks);
            g.drop_after = Some(after_chunks);
        }
        Reply::StallMidStream { text, chunks, after_chunks, pause } => {
            g.pieces = pieces(&text, &chunks);
            g.pause = Some((after_chunks, pause));
        }
    }
    if ask.stream {
        return sse(play(g.stream_steps(split), guard));
    }
    if g.drop_after.is_some() {
        let full = Bytes::from(g.full());
        let steps = vec![Step::Data(full.slice(..full.len() / 2)), Step::Flush, Step::Fail];
        return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], play(steps, guard))
            .into_response();
    }
    let silent = g.pause.map_or(Duration::ZERO, |(_, pause)| pause)
        + g.delay * u32::try_from(g.pieces.len().saturating_sub(1)).unwrap_or(u32::MAX);
    if !silent.is_zero() {
        tokio::time::sleep(silent).await;
    }
    guard.finish();
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], g.full()).into_response()
}

/// A JSON response with this status.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn sse(body: axum::body::Body) -> Response {
    // Starlette adds the charset to every text/* media type.
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")], body).into_response()
}

fn garbage(g: &Generation, split: bool, guard: CancelGuard) -> Response {
    if !g.ask.stream {
        guard.finish();
        return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], GARBAGE).into_response();
    }
    let mut steps = Vec::new();
    if g.ask.api == Api::Chat {
        push_event(&mut steps, &g.chunk(0, true, "", None), split);
    }
    push_event(&mut steps, GARBAGE, split);
    push_event(&mut steps, "[DONE]", split);
    sse(play(steps, guard))
}

/// One call as vLLM's parsers write it (`chatcmpl-tool-…` ids).
fn call_json(index: usize, name: &str, arguments: &str) -> Value {
    serde_json::json!({"id": format!("chatcmpl-tool-{:016x}{index}", fastrand::u64(..)), "type": "function",
        "function": {"name": name, "arguments": arguments}})
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Generation {
    fn new(ask: Ask, model: &str) -> Self {
        let prefix = match ask.api {
            Api::Chat => "chatcmpl",
            Api::Completion => "cmpl",
        };
        Self {
            ask,
            id: format!("{prefix}-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            created: unix_now(),
            model: model.to_owned(),
            pieces: Vec::new(),
            finish: "stop",
            prompt_tokens: DEFAULT_PROMPT_TOKENS,
            delay: Duration::ZERO,
            pause: None,
            drop_after: None,
            calls: Vec::new(),
            chunks: Vec::new(),
        }
    }

    fn completion_tokens(&self) -> u64 {
        (self.pieces.len() * self.ask.n) as u64
    }

    fn object(&self, stream: bool) -> &'static str {
        match (self.ask.api, stream) {
            (Api::Chat, false) => "chat.completion",
            (Api::Chat, true) => "chat.completion.chunk",
            (Api::Completion, _) => "text_completion",
        }
    }

    /// One streamed chunk of choice `index`: the role chunk (`role`), a text piece, or a
    /// finish chunk.
    fn chunk(&self, index: usize, role: bool, text: &str, finish: Option<&str>) -> String {
        let choice = match self.ask.api {
            Api::Chat => wire::ChunkChoice::Chat {
                index,
                delta: wire::Delta { role: role.then_some("assistant"), content: text, tool_calls: None },
                logprobs: None,
                finish_reason: finish,
                stop_reason: finish.map(|_| None),
            },
            Api::Completion => wire::ChunkChoice::Text {
                index,
                text,
                logprobs: None,
                finish_reason: finish,
                stop_reason: None,
            },
        };
        self.chunk_json(&[choice], None)
    }

    /// A chunk of choice 0 carrying one call delta.
    fn call_chunk(&self, call: Value) -> String {
        let choice = wire::ChunkChoice::Chat {
            index: 0,
            delta: wire::Delta { role: None, content: "", tool_calls: Some([call]) },
            logprobs: None,
            finish_reason: None,
            stop_reason: None,
        };
        self.chunk_json(&[choice], None)
    }

    /// The `choices: []` chunk with the usage.
    fn usage_chunk(&self) -> String {
        self.chunk_json(&[], Some(self.usage()))
    }

    fn chunk_json(&self, choices: &[wire::ChunkChoice<'_>], usage: Option<wire::Usage>) -> String {
        let chunk = wire::Chunk {
            id: &self.id,
            object: self.object(true),
            created: self.created,
            model: &self.model,
            choices,
            usage,
        };
        serde_json::to_string(&chunk).expect("a chunk serializes")
    }

    fn usage(&self) -> wire::Usage {
        let (p, c) = (self.prompt_tokens, self.completion_tokens());
        wire::Usage { prompt_tokens: p, total_tokens: p + c, completion_tokens: c }
    }

    /// The whole non-streaming response.
    fn full(&self) -> String {
        let text = self.pieces.concat();
        let choice = |index| match self.ask.api {
            Api::Chat => wire::FullChoice::Chat {
                index,
                message: wire::Message {
                    role: "assistant",
                    content: &text,
                    refusal: None,
                    annotations: None,
                    audio: None,
                    function_call: None,
                    tool_calls: self
                        .calls
                        .iter()
                        .enumerate()
                        .map(|(i, (name, args))| call_json(i, name, args))
                        .collect(),
                    reasoning_content: None,
                },
                logprobs: None,
                finish_reason: self.finish,
                stop_reason: None,
            },
            Api::Completion => wire::FullChoice::Text {
                index,
                text: &text,
                logprobs: None,
                finish_reason: self.finish,
                stop_reason: None,
                prompt_logprobs: None,
            },
        };
        let full = wire::Full {
            id: &self.id,
            object: self.object(false),
            created: self.created,
            model: &self.model,
            choices: (0..self.ask.n).map(choice).collect(),
            service_tier: None,
            system_fingerprint: None,
            usage: self.usage().into(),
            prompt_logprobs: None,
            kv_transfer_params: None,
        };
        serde_json::to_string(&full).expect("a response serializes")
    }

    /// The SSE body, step by step.
    fn stream_steps(&self, split: bool) -> Vec<Step> {
        let mut steps = Vec::new();
        let choices = 0..self.ask.n;
        if self.ask.api == Api::Chat {
            for c in choices.clone() {
                push_event(&mut steps, &self.chunk(c, true, "", None), split);
            }
        }
        let n = self.pieces.len();
        let finish_on_last = self.finish == "length" && n > 0;
        for i in 0..=n {
            if self.drop_after == Some(i) {
                steps.extend([Step::Flush, Step::Fail]);
                return steps;
            }
            if let Some((after, pause)) = self.pause
                && after == i
            {
                steps.push(Step::Sleep(pause));
            }
            let Some(piece) = self.pieces.get(i) else { break };
            if i > 0 && !self.delay.is_zero() {
                steps.push(Step::Sleep(self.delay));
            }
            let finish = (finish_on_last && i + 1 == n).then_some(self.finish);
            for c in choices.clone() {
                push_event(&mut steps, &self.chunk(c, false, piece, finish), split);
            }
        }
        if self.drop_after.is_some() {
            // Asked to drop after more pieces than there are: drop before the finish chunk.
            steps.extend([Step::Flush, Step::Fail]);
            return steps;
        }
        for (i, (name, args)) in self.calls.iter().enumerate() {
            let mut header = call_json(i, name, "");
            header["index"] = i.into();
            push_event(&mut steps, &self.call_chunk(header), split);
            for piece in pieces(args, &self.chunks) {
                let piece = serde_json::json!({"index": i, "function": {"arguments": piece}});
                push_event(&mut steps, &self.call_chunk(piece), split);
            }
        }
        if !finish_on_last {
            for c in choices {
                push_event(&mut steps, &self.chunk(c, false, "", Some(self.finish)), split);
            }
        }
        if self.ask.include_usage {
            push_event(&mut steps, &self.usage_chunk(), split);
        }
        push_event(&mut steps, "[DONE]", split);
        steps
    }
}
