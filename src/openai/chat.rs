//! The client's chat completion answer as the proxy writes it: each streamed
//! `chat.completion.chunk` ([`ChunkWriter`]) and the whole `chat.completion` ([`Completion`]),
//! with the tool calls both carry ([`ToolCall`]). Borrowed views, serialised straight into
//! the response bytes, with the fields in the order clients have always been sent them.

use serde::Serialize;
use serde_json::value::RawValue;

use super::push_json_string;

/// What every chunk of one streamed answer shares.
#[derive(Debug, Clone, Copy)]
pub struct ChunkHead<'a> {
    /// The answer's id (`chatcmpl-…`).
    pub id: &'a str,
    /// When the answer began (Unix seconds).
    pub created: u64,
    /// The model name the client asked for.
    pub model: &'a str,
}

/// The fields every chunk of an answer starts with.
#[derive(Serialize)]
struct Head<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
}

/// Writes the streamed `chat.completion.chunk`s of one answer: one choice's delta each, or
/// (`choices: []`) the usage. The fields all of them share are serialised once, with the
/// first chunk, and copied into every one after it: a stream writes hundreds of chunks that
/// differ only in their choices.
#[derive(Debug, Default)]
pub struct ChunkWriter {
    /// `{"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":`
    prefix: Vec<u8>,
    /// A text chunk's bytes before its text, and the choice index they were for.
    content: Option<(usize, Vec<u8>)>,
}

impl ChunkWriter {
    /// Appends the chunk of `head` carrying `choices` (one, or none with the usage) to `out`.
    pub fn write(
        &mut self,
        head: ChunkHead<'_>,
        choices: &[ChunkChoice<'_>],
        usage: Option<&RawValue>,
        out: &mut Vec<u8>,
    ) -> Result<(), serde_json::Error> {
        out.extend_from_slice(self.prefix(head)?);
        out.push(b'[');
        for (n, choice) in choices.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            choice.write(out)?;
        }
        out.push(b']');
        if let Some(usage) = usage {
            out.extend_from_slice(b",\"usage\":");
            out.extend_from_slice(usage.get().as_bytes());
        }
        out.push(b'}');
        Ok(())
    }
}

impl ChunkWriter {
    /// The fields every chunk starts with, serialised with the first.
    fn prefix(&mut self, head: ChunkHead<'_>) -> Result<&[u8], serde_json::Error> {
        if self.prefix.is_empty() {
            let head = Head {
                id: head.id,
                object: "chat.completion.chunk",
                created: head.created,
                model: head.model,
            };
            serde_json::to_writer(&mut self.prefix, &head)?;
            // Reopen the object for the fields that follow.
            self.prefix.pop();
            self.prefix.extend_from_slice(b",\"choices\":");
        }
        Ok(&self.prefix)
    }

    /// Appends the chunk of `head` carrying `text` for choice `index`, as [`Self::write`]
    /// writes it: the token's chunk, written hundreds of times an answer, as the bytes
    /// before the text (kept for the last index), the text, and the bytes after it.
    pub fn write_content(
        &mut self,
        head: ChunkHead<'_>,
        index: usize,
        text: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), serde_json::Error> {
        if self.content.as_ref().is_none_or(|(at, _)| *at != index) {
            let mut before = self.prefix(head)?.to_vec();
            before.extend_from_slice(b"[{\"index\":");
            before.extend_from_slice(itoa::Buffer::new().format(index).as_bytes());
            before.extend_from_slice(b",\"delta\":{\"content\":");
            self.content = Some((index, before));
        }
        let Some((_, before)) = &self.content else { return Ok(()) };
        out.extend_from_slice(before);
        push_json_string(out, text);
        out.extend_from_slice(b"},\"logprobs\":null,\"finish_reason\":null}]}");
        Ok(())
    }
}

/// A choice's part of a chunk.
#[derive(Debug, Serialize)]
pub struct ChunkChoice<'a> {
    index: usize,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'a str>,
}

impl<'a> ChunkChoice<'a> {
    /// `delta` for choice `index`, with the choice's `finish_reason` on its last chunk.
    pub fn new(index: usize, delta: Delta<'a>, finish_reason: Option<&'a str>) -> Self {
        Self { index, delta, logprobs: None, finish_reason }
    }

    /// Appends the choice as its `Serialize` writes it, byte for byte, by hand: a stream
    /// writes one per token, and serde's serializer cost more than the rest of the chunk.
    fn write(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        out.extend_from_slice(b"{\"index\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.index).as_bytes());
        out.extend_from_slice(b",\"delta\":");
        self.delta.write(out)?;
        out.extend_from_slice(b",\"logprobs\":null,\"finish_reason\":");
        match self.finish_reason {
            Some(reason) => push_json_string(out, reason),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        Ok(())
    }
}

/// What one chunk adds to a choice. The fields not set are left out: `{}` on the finish
/// chunk.
#[derive(Debug, Default, Serialize)]
pub struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    /// The same text as `reasoning_content`, under the name newer clients read.
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tool_calls: &'a [ToolCall<'a>],
}

impl<'a> Delta<'a> {
    /// Appends the delta as its `Serialize` writes it (see [`ChunkChoice::write`]).
    fn write(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        // Each key as it is written, quotes and colon included.
        let texts = [
            (&b"\"role\":"[..], self.role),
            (b"\"content\":", self.content),
            (b"\"reasoning_content\":", self.reasoning_content),
            (b"\"reasoning\":", self.reasoning),
        ];
        let mut open = b'{';
        for (key, text) in texts {
            let Some(text) = text else { continue };
            out.push(std::mem::replace(&mut open, b','));
            out.extend_from_slice(key);
            push_json_string(out, text);
        }
        if !self.tool_calls.is_empty() {
            out.push(std::mem::replace(&mut open, b','));
            out.extend_from_slice(b"\"tool_calls\":");
            serde_json::to_writer(&mut *out, self.tool_calls)?;
        }
        if open == b'{' {
            out.push(b'{');
        }
        out.push(b'}');
        Ok(())
    }

    /// The first delta of a choice: the assistant role and empty content.
    pub fn role() -> Self {
        Self { role: Some("assistant"), content: Some(""), ..Self::default() }
    }

    /// Answer text.
    pub fn content(text: &'a str) -> Self {
        Self { content: Some(text), ..Self::default() }
    }

    /// Reasoning text, under both names clients read it by.
    pub fn reasoning(text: &'a str) -> Self {
        Self { reasoning_content: Some(text), reasoning: Some(text), ..Self::default() }
    }

    /// A tool call's header or more of its arguments.
    pub fn tool_calls(calls: &'a [ToolCall<'a>]) -> Self {
        Self { tool_calls: calls, ..Self::default() }
    }
}

/// A tool call: whole in a [`Message`]; streamed as a header (index, id, name) and then
/// argument fragments (index only).
#[derive(Debug, Serialize)]
pub struct ToolCall<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionCall<'a>,
}

#[derive(Debug, Serialize)]
struct FunctionCall<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

impl<'a> ToolCall<'a> {
    /// A whole call, as a non-streaming message holds it.
    pub fn whole(id: &'a str, name: &'a str, arguments: &'a str) -> Self {
        Self {
            index: None,
            id: Some(id),
            kind: Some("function"),
            function: FunctionCall { name: Some(name), arguments },
        }
    }

    /// The first chunk of streamed call `index`: its id and name, no arguments yet.
    pub fn header(index: usize, id: &'a str, name: &'a str) -> Self {
        Self { index: Some(index), ..Self::whole(id, name, "") }
    }

    /// More of streamed call `index`'s arguments.
    pub fn arguments(index: usize, fragment: &'a str) -> Self {
        Self {
            index: Some(index),
            id: None,
            kind: None,
            function: FunctionCall { name: None, arguments: fragment },
        }
    }
}

/// The whole `chat.completion`.
#[derive(Debug, Serialize)]
pub struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: Vec<CompletionChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<&'a RawValue>,
}

impl<'a> Completion<'a> {
    /// The answer `id` for the client's `model`, with the upstream's `usage` as it came.
    pub fn new(
        id: &'a str,
        created: u64,
        model: &'a str,
        choices: Vec<CompletionChoice<'a>>,
        usage: Option<&'a RawValue>,
    ) -> Self {
        Self { id, object: "chat.completion", created, model, choices, usage }
    }
}

/// One choice of the whole answer.
#[derive(Debug, Serialize)]
pub struct CompletionChoice<'a> {
    index: u64,
    message: Message<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

impl<'a> CompletionChoice<'a> {
    /// Choice `index`: its message and the client's `finish_reason`.
    pub fn new(index: u64, message: Message<'a>, finish_reason: &'static str) -> Self {
        Self { index, message, logprobs: None, finish_reason }
    }
}

/// The assistant message of one choice: `content` is `null` when there is none; reasoning
/// and tool calls are left out when there are none.
#[derive(Debug, Serialize)]
pub struct Message<'a> {
    role: &'static str,
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    /// The same text as `reasoning_content`, under the name newer clients read.
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall<'a>>,
}

impl<'a> Message<'a> {
    /// The assistant's message: its text, its reasoning (under both names), its calls.
    pub fn new(content: Option<&'a str>, reasoning: Option<&'a str>, tool_calls: Vec<ToolCall<'a>>) -> Self {
        Self { role: "assistant", content, reasoning_content: reasoning, reasoning, tool_calls }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// The typed chunks are byte for byte what the stream built with `json!` trees before
    /// (in insertion order), escapes included.
    #[test]
    fn chunks_are_written_as_the_json_trees_were() {
        let head = ChunkHead { id: "chatcmpl-\"q\"", created: 7, model: "mödel\n" };
        let tree = |delta: Value, finish: Option<&str>| {
            json!({"id": head.id, "object": "chat.completion.chunk", "created": 7, "model": head.model,
                "choices": [{"index": 2, "delta": delta, "logprobs": null, "finish_reason": finish}]})
            .to_string()
        };
        let write = |choices: &[ChunkChoice<'_>], usage: Option<&RawValue>| {
            let mut out = Vec::new();
            ChunkWriter::default().write(head, choices, usage, &mut out).expect("serialises");
            String::from_utf8(out).expect("UTF-8")
        };
        let typed =
            |delta: Delta<'_>, finish: Option<&str>| write(&[ChunkChoice::new(2, delta, finish)], None);
        let text = "a \"b\"\n\u{1f600}";
        let header = [ToolCall::header(1, "call_x", "read_file")];
        let args = [ToolCall::arguments(1, "{\"path\": \"a\"}")];
        let cases = [
            (typed(Delta::role(), None), tree(json!({"role": "assistant", "content": ""}), None)),
            (typed(Delta::content(text), None), tree(json!({"content": text}), None)),
            (
                typed(Delta::reasoning(text), None),
                tree(json!({"reasoning_content": text, "reasoning": text}), None),
            ),
            (
                typed(Delta::tool_calls(&header), None),
                tree(
                    json!({"tool_calls": [{"index": 1, "id": "call_x", "type": "function",
                        "function": {"name": "read_file", "arguments": ""}}]}),
                    None,
                ),
            ),
            (
                typed(Delta::tool_calls(&args), None),
                tree(
                    json!({"tool_calls": [{"index": 1, "function": {"arguments": "{\"path\": \"a\"}"}}]}),
                    None,
                ),
            ),
            (typed(Delta::default(), Some("tool_calls")), tree(json!({}), Some("tool_calls"))),
        ];
        for (typed, tree) in cases {
            assert_eq!(typed, tree);
        }
        let usage: Box<RawValue> =
            serde_json::from_str(r#"{"prompt_tokens":10,"total_tokens":18,"completion_tokens":8}"#)
                .expect("raw");
        let usage_tree = json!({"id": head.id, "object": "chat.completion.chunk", "created": 7, "model": head.model,
            "choices": [], "usage": {"prompt_tokens": 10, "total_tokens": 18, "completion_tokens": 8}});
        assert_eq!(write(&[], Some(&usage)), usage_tree.to_string());
        // The shared fields are written once and reused, byte for byte.
        let mut writer = ChunkWriter::default();
        let mut out = Vec::new();
        for text in ["one", "two"] {
            writer
                .write(head, &[ChunkChoice::new(2, Delta::content(text), None)], None, &mut out)
                .expect("serialises");
            out.push(b'\n');
        }
        let want =
            format!("{}\n{}\n", tree(json!({"content": "one"}), None), tree(json!({"content": "two"}), None));
        assert_eq!(String::from_utf8(out).expect("UTF-8"), want);
    }

    proptest! {
        /// A text chunk written by [`ChunkWriter::write_content`] is [`ChunkWriter::write`]'s,
        /// byte for byte, whatever the text and however the index changes between chunks.
        #[test]
        fn a_text_chunk_is_written_as_any_chunk(
            chunks in prop::collection::vec((0usize..3, any::<String>()), 1..6),
        ) {
            let head = ChunkHead { id: "chatcmpl-\"q\"", created: 7, model: "mödel\n" };
            let (mut fast, mut any) = (ChunkWriter::default(), ChunkWriter::default());
            for (index, text) in &chunks {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                fast.write_content(head, *index, text, &mut a).expect("writes");
                any.write(head, &[ChunkChoice::new(*index, Delta::content(text), None)], None, &mut b)
                    .expect("writes");
                prop_assert_eq!(a, b);
            }
        }

        /// The hand-written choice is its `Serialize`, byte for byte, whatever it holds.
        #[test]
        fn a_choice_is_written_as_serde_writes_it(
            index in 0usize..100_000,
            texts in prop::array::uniform4(prop::option::of(any::<String>())),
            finish in prop::option::of(any::<String>()),
            calls in 0usize..3,
        ) {
            let [role, content, reasoning_content, reasoning] = texts;
            let header = [ToolCall::header(1, "call_x", "read_file"), ToolCall::arguments(1, "{")];
            let delta = Delta {
                role: role.map(|_| "assistant"),
                content: content.as_deref(),
                reasoning_content: reasoning_content.as_deref(),
                reasoning: reasoning.as_deref(),
                tool_calls: &header[..calls],
            };
            let choice = ChunkChoice::new(index, delta, finish.as_deref());
            let mut out = Vec::new();
            choice.write(&mut out).expect("writes");
            prop_assert_eq!(String::from_utf8(out).expect("UTF-8"), serde_json::to_string(&choice).expect("serialises"));
        }
    }

    #[test]
    fn a_whole_answer_keeps_its_shape() {
        let calls = vec![ToolCall::whole("call_1", "run", "{}")];
        let choices = vec![
            CompletionChoice::new(0, Message::new(None, Some("plan"), calls), "tool_calls"),
            CompletionChoice::new(1, Message::new(Some("hi"), None, Vec::new()), "stop"),
        ];
        let answer = Completion::new("chatcmpl-1", 3, "m", choices, None);
        let want = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 3, "model": "m", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": null, "reasoning_content": "plan", "reasoning": "plan",
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "run", "arguments": "{}"}}]},
             "logprobs": null, "finish_reason": "tool_calls"},
            {"index": 1, "message": {"role": "assistant", "content": "hi"}, "logprobs": null, "finish_reason": "stop"}]});
        assert_eq!(serde_json::to_string(&answer).expect("serialises"), want.to_string());
    }
}
