//! Folds engine events into the final assistant message (the non-streaming answer, and
//! what `podctl translate` prints).

use super::event::{Event, FinishReason, Sink};

/// One executable tool call of the final message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub name: String,
    /// The id the model gave the call (Kimi K2), if any; otherwise the caller makes one.
    pub id: Option<String>,
    /// The arguments as a JSON object in text form, as OpenAI sends them.
    pub arguments: String,
}

/// The assistant message the engine's events add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `None` when no text is left once calls and reasoning are taken out.
    pub content: Option<String>,
    pub reasoning: Option<String>,
    /// Complete calls only; truncated calls are never returned for execution.
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: FinishReason,
}

/// A [`Sink`] that keeps everything needed for the final [`Message`].
#[derive(Debug, Default)]
pub struct MessageBuilder {
    content: String,
    reasoning: String,
    calls: Vec<(ToolCall, CallState)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    Open,
    Complete,
    Truncated,
}

impl Sink for MessageBuilder {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Content(s) => self.content.push_str(s),
            Event::Reasoning(s) => self.reasoning.push_str(s),
            Event::CallStart { index, name, id } => {
                debug_assert_eq!(index, self.calls.len(), "call indexes are dense and in order");
                let call =
                    ToolCall { name: name.to_owned(), id: id.map(str::to_owned), arguments: String::new() };
                self.calls.push((call, CallState::Open));
            }
            Event::CallArgs { index, fragment } => {
                if let Some((call, _)) = self.calls.get_mut(index) {
                    call.arguments.push_str(fragment);
                }
            }
            Event::CallEnd { index } => self.set(index, CallState::Complete),
            Event::CallTruncated { index } => self.set(index, CallState::Truncated),
        }
    }
}

impl MessageBuilder {
    fn set(&mut self, index: usize, state: CallState) {
        if let Some((_, s)) = self.calls.get_mut(index) {
            *s = state;
        }
    }

    /// The message, given the finish reason the engine decided.
    pub fn build(self, finish_reason: FinishReason) -> Message {
        let non_empty = |s: String| if s.is_empty() { None } else { Some(s) };
        Message {
            content: non_empty(self.content),
            reasoning: non_empty(self.reasoning),
            tool_calls: self
                .calls
                .into_iter()
                .filter(|(_, state)| *state == CallState::Complete)
                .map(|(call, _)| call)
                .collect(),
            finish_reason,
        }
    }
}
