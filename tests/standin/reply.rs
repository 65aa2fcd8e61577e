//! What the stand-in's "model" does for one `/v1/chat/completions` or `/v1/completions`
//! request: a [`Reply`], queued with `StandIn::push_reply` or taken from
//! `Config::default_reply`.

use std::time::Duration;

/// Prompt tokens reported by the convenience constructors.
pub(crate) const DEFAULT_PROMPT_TOKENS: u64 = 10;

/// One scripted model answer (see the module docs of `standin` for the wire shapes).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// The model "writes" `text`. Streaming: split into pieces of the given char counts
    /// (`vec![3, 5, 1]` cycles 3, 5, 1, 3, …; use it to cut tags mid-way), one SSE event per
    /// piece, with `delay` before every piece but the first. Not streaming: the whole text
    /// after the summed delays.
    Text { text: String, chunks: Vec<usize>, finish: &'static str, delay: Duration, prompt_tokens: u64 },
    /// vLLM's error body with this status, as a plain JSON response (even for `stream: true`).
    Error { status: u16, message: String },
    /// Stream `text` for `after_chunks` content pieces, then close the connection abruptly
    /// (no finish chunk, no `[DONE]`, no chunked-encoding terminator). Not streaming: half of
    /// the JSON body, then the same abrupt close.
    DropMidStream { text: String, chunks: Vec<usize>, after_chunks: usize },
    /// Send nothing, headers included, for `first_byte`; then behave like `then`.
    Stall { first_byte: Duration, then: Box<Reply> },
    /// Stream `after_chunks` content pieces of `text`, go silent for `pause`, then finish
    /// normally. Not streaming: the whole answer after `pause`.
    StallMidStream { text: String, chunks: Vec<usize>, after_chunks: usize, pause: Duration },
    /// What vLLM with a tool parser answers: `content` (in pieces of `chunks` chars), then
    /// each `(name, arguments JSON)` call as `tool_calls`; `finish` as for `Text` (`stop`
    /// becomes `tool_calls` when there are calls). Only with `Config::tool_parser`.
    Parsed { content: String, calls: Vec<(String, String)>, chunks: Vec<usize>, finish: &'static str },
    /// HTTP 200 with a body that is not JSON. Streaming: the role chunk, then the line
    /// `data: <html>…` (not JSON), then `data: [DONE]`.
    Garbage,
}

impl Reply {
    /// `text` in 4-char pieces, `finish_reason: "stop"`, no delay.
    pub(crate) fn text(text: impl Into<String>) -> Self {
        Self::chunked(text, vec![4])
    }

    /// `text` in pieces of these char counts (cycled), `finish_reason: "stop"`, no delay.
    pub(crate) fn chunked(text: impl Into<String>, chunks: Vec<usize>) -> Self {
        Self::Text {
            text: text.into(),
            chunks,
            finish: "stop",
            delay: Duration::ZERO,
            prompt_tokens: DEFAULT_PROMPT_TOKENS,
        }
    }

    /// vLLM's parser found these calls after `content`.
    pub(crate) fn parsed(content: impl Into<String>, calls: &[(&str, &str)]) -> Self {
        Self::Parsed {
            content: content.into(),
            calls: calls.iter().map(|(n, a)| ((*n).to_owned(), (*a).to_owned())).collect(),
            chunks: vec![4],
            finish: "stop",
        }
    }

    /// A vLLM error with this status.
    pub(crate) fn error(status: u16, message: impl Into<String>) -> Self {
        Self::Error { status, message: message.into() }
    }

    /// vLLM's 400 for a prompt that does not fit (the wording clients look for).
    pub(crate) fn context_length_error() -> Self {
        Self::error(
            400,
            "This model's maximum context length is 32768 tokens. However, you requested 40000 \
             tokens (39000 in the messages, 1000 in the completion). Please reduce the length of \
             the messages or completion.",
        )
    }

    /// Stream `after_chunks` pieces of `text` (4-char pieces), then drop the connection.
    pub(crate) fn drop_mid_stream(text: impl Into<String>, after_chunks: usize) -> Self {
        Self::DropMidStream { text: text.into(), chunks: vec![4], after_chunks }
    }

    /// Say nothing for `first_byte`, then answer `then`.
    pub(crate) fn stall(first_byte: Duration, then: Reply) -> Self {
        Self::Stall { first_byte, then: Box::new(then) }
    }

    /// Stream `after_chunks` pieces of `text` (4-char pieces), pause, then finish.
    pub(crate) fn stall_mid_stream(text: impl Into<String>, after_chunks: usize, pause: Duration) -> Self {
        Self::StallMidStream { text: text.into(), chunks: vec![4], after_chunks, pause }
    }

    /// The same reply with vLLM's `finish_reason: "abort"` (a generation cut off by a
    /// shutdown or an aborted request).
    pub(crate) fn aborted(self) -> Self {
        self.map_text(|finish, _, _| *finish = "abort")
    }

    /// The same reply with `finish_reason: "length"` (on `Text`, also inside a `Stall`).
    #[must_use]
    pub(crate) fn length(self) -> Self {
        self.map_text(|finish, _, _| *finish = "length")
    }

    /// The same reply with `delay` between streamed pieces (on `Text`, also inside a `Stall`).
    #[must_use]
    pub(crate) fn delay(self, delay: Duration) -> Self {
        self.map_text(|_, d, _| *d = delay)
    }

    /// The same reply reporting this many prompt tokens (on `Text`, also inside a `Stall`).
    #[must_use]
    pub(crate) fn prompt_tokens(self, n: u64) -> Self {
        self.map_text(|_, _, p| *p = n)
    }

    fn map_text(self, f: impl FnOnce(&mut &'static str, &mut Duration, &mut u64)) -> Self {
        match self {
            Self::Text { text, chunks, mut finish, mut delay, mut prompt_tokens } => {
                f(&mut finish, &mut delay, &mut prompt_tokens);
                Self::Text { text, chunks, finish, delay, prompt_tokens }
            }
            Self::Stall { first_byte, then } => Self::Stall { first_byte, then: Box::new(then.map_text(f)) },
            Self::Parsed { content, calls, chunks, mut finish } => {
                let (mut delay, mut tokens) = (Duration::ZERO, 0);
                f(&mut finish, &mut delay, &mut tokens);
                Self::Parsed { content, calls, chunks, finish }
            }
            other => other,
        }
    }
}

/// Cut `text` into pieces of `sizes` chars, cycling through `sizes` (zeros are skipped; no
/// usable size means one piece). Cuts fall between chars, never inside one.
pub(crate) fn pieces(text: &str, sizes: &[usize]) -> Vec<String> {
    let sizes: Vec<usize> = sizes.iter().copied().filter(|&n| n > 0).collect();
    if sizes.is_empty() {
        return if text.is_empty() { Vec::new() } else { vec![text.to_owned()] };
    }
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    for &size in sizes.iter().cycle() {
        if chars.peek().is_none() {
            break;
        }
        out.push(chars.by_ref().take(size).collect());
    }
    out
}
