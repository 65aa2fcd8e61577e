//! The stream events of one answer, read knowing the last one: vLLM writes hundreds of
//! events that differ only in one string, the token's text (`{"id":…,"model":…,"choices":
//! [{"index":0,"delta":{"content":"…"},"logprobs":null,"finish_reason":null}]}`).
//!
//! [`ChunkReader`] keeps the bytes of the last event it read by scanning around its one
//! text (a `Template`); an event with the same bytes before and after a string in that
//! place reads as that event with this string for its text, which costs two byte
//! comparisons and the string's own scan instead of the whole event's. Why that reading is
//! the scan's: the scanner reads left to right and what it does after a string depends on
//! where the string ends, not on what is in it, so the same bytes around another valid
//! string scan to the same fields with the other text. A string that the scanner would give
//! up on (a control byte, a bad escape) misses the template and goes to the full reading.

use std::borrow::Cow;
use std::ops::Range;

use super::chunk_scan::{Field, Hole, Scan, scan_chunk};
use super::loose::{Count, List, Text};
use super::upstream::{Chunk, ChunkChoice, Delta};

/// Reads one stream's events ([`read_chunk`](super::read_chunk)'s reading), the repeated ones by the bytes
/// around the text of the last one.
#[derive(Debug, Default)]
pub struct ChunkReader {
    template: Option<Template>,
}

/// One stream event as [`ChunkReader`] reads it.
#[derive(Debug)]
pub enum Event<'a> {
    /// One choice's text, the rest as the template's event.
    Text(TextEvent<'a>),
    /// Any other event, read whole.
    Chunk(Chunk<'a>),
}

/// An event that is one choice's text and nothing else that a translation reads: no
/// finish, no usage, no calls, not an error.
#[derive(Debug)]
pub struct TextEvent<'a> {
    text: Text<'a>,
    object: Text<'a>,
    shape: Shape,
    code: Count,
    field: Field,
}

impl ChunkReader {
    /// Reads one stream event, as [`read_chunk`](super::read_chunk) does (see [`Event::into_chunk`]).
    pub fn read<'a>(&mut self, payload: &'a str) -> serde_json::Result<Event<'a>> {
        if let Some(text) = self.template.as_ref().and_then(|template| template.fill(payload)) {
            return Ok(Event::Text(text));
        }
        match scan_chunk(payload) {
            Some((chunk, hole)) => {
                if let Some(hole) = hole {
                    Template::learn(&mut self.template, payload, &chunk, hole);
                }
                Ok(Event::Chunk(chunk))
            }
            // The scanner gave up: serde_json reads it (or says why it cannot).
            None => serde_json::from_str(payload).map(Event::Chunk),
        }
    }
}

impl<'a> Event<'a> {
    /// The event as [`read_chunk`](super::read_chunk) reads it.
    pub fn into_chunk(self) -> Chunk<'a> {
        match self {
            Event::Chunk(chunk) => chunk,
            Event::Text(text) => text.into_chunk(),
        }
    }
}

impl<'a> TextEvent<'a> {
    /// The choice the text is for (as [`ChunkChoice::index`]).
    pub fn index(&self) -> usize {
        self.shape.index.0.and_then(|i| usize::try_from(i).ok()).unwrap_or(0)
    }

    /// The answer's text, when the event's text is that.
    pub fn content(&self) -> &str {
        match self.field {
            Field::Content => self.text.as_str().unwrap_or(""),
            Field::ReasoningContent | Field::Reasoning => "",
        }
    }

    /// The reasoning, when the event's text is that (as [`Delta::reasoning`]).
    pub fn reasoning(&self) -> &str {
        match self.field {
            Field::Content => "",
            Field::ReasoningContent | Field::Reasoning => self.text.as_str().unwrap_or(""),
        }
    }

    /// The event as [`read_chunk`](super::read_chunk) reads it.
    pub fn into_chunk(self) -> Chunk<'a> {
        let mut delta = Delta::default();
        if self.shape.reasoning_content_null {
            delta.reasoning_content = Some(Text(None));
        }
        if self.shape.no_calls {
            delta.tool_calls = List(Some(Vec::new()));
        }
        match self.field {
            Field::Content => delta.content = self.text,
            Field::ReasoningContent => delta.reasoning_content = Some(self.text),
            Field::Reasoning => delta.reasoning = self.text,
        }
        let choice = ChunkChoice { index: self.shape.index, delta, ..ChunkChoice::default() };
        Chunk {
            object: self.object,
            code: self.code,
            error: None,
            usage: None,
            choices: List(Some(vec![choice])),
        }
    }
}

/// An event with one choice whose delta's one text was a plain string, kept as the bytes
/// around that string and what the rest of the event read as.
#[derive(Debug, Default)]
struct Template {
    /// The event up to the string's opening quote.
    before: Vec<u8>,
    /// The event from after the string's closing quote.
    after: Vec<u8>,
    /// Where `object`'s string is in `before`, when it is one.
    object: Option<Range<usize>>,
    code: Count,
    /// Which text the string is.
    field: Field,
    shape: Shape,
}

impl Template {
    /// `chunk` (read from `payload`, whose last delta text was at `hole`) as a template, in
    /// `slot` (its buffers reused); the slot is left as it was when the event is not one
    /// a template can stand for.
    fn learn(slot: &mut Option<Self>, payload: &str, chunk: &Chunk<'_>, hole: Hole) {
        let Some((object, shape)) = Shape::of(payload, chunk, hole) else { return };
        let template = slot.get_or_insert_with(Self::default);
        let bytes = payload.as_bytes();
        template.before.clear();
        template.before.extend_from_slice(&bytes[..hole.start]);
        template.after.clear();
        template.after.extend_from_slice(&bytes[hole.end..]);
        template.object = object;
        template.code = chunk.code;
        template.field = hole.field;
        template.shape = shape;
    }

    /// `payload` read as this template's event with its string, when it has the same bytes
    /// around a string in the same place.
    fn fill<'a>(&self, payload: &'a str) -> Option<TextEvent<'a>> {
        let bytes = payload.as_bytes();
        if !bytes.starts_with(&self.before) || bytes.get(self.before.len()) != Some(&b'"') {
            return None;
        }
        let mut scan = Scan::new(payload);
        scan.at = self.before.len();
        let text = scan.text_value()?;
        if bytes[scan.at..] != self.after[..] {
            return None;
        }
        Some(TextEvent {
            text,
            object: Text(self.object.clone().map(|at| Cow::Borrowed(&payload[at]))),
            shape: self.shape,
            code: self.code,
            field: self.field,
        })
    }
}

/// What a template keeps of its event's choice beyond its bytes.
#[derive(Debug, Default, Clone, Copy)]
struct Shape {
    index: Count,
    /// `reasoning_content: null` was there (it reads as present), the string being another.
    reasoning_content_null: bool,
    /// `tool_calls: []` was there.
    no_calls: bool,
}

impl Shape {
    /// The event's shape, when it is one choice's plain text (the string at `hole`, borrowed
    /// from `payload`) and nothing else the reading keeps varies: no usage, no finish, no
    /// other text, no calls, not an error, `object` a plain string before the text or none
    /// (where it is, with the shape).
    fn of(payload: &str, chunk: &Chunk<'_>, hole: Hole) -> Option<(Option<Range<usize>>, Self)> {
        // Where a borrowed text is in `payload`, and its length.
        let borrowed_at = |text: &Text<'_>| match &text.0 {
            Some(Cow::Borrowed(s)) => Some((s.as_ptr().addr() - payload.as_ptr().addr(), s.len())),
            _ => None,
        };
        if chunk.is_error() || chunk.usage.is_some() {
            return None;
        }
        let object = if chunk.object.0.is_some() {
            let (start, len) = borrowed_at(&chunk.object)?;
            if start + len >= hole.start {
                return None;
            }
            Some(start..start + len)
        } else {
            None
        };
        let [choice] = chunk.choices.0.as_deref()? else { return None };
        if choice.finish_reason.0.is_some() || choice.stop_reason.0.is_some() {
            return None;
        }
        let delta = &choice.delta;
        let (text, others_none) = match hole.field {
            Field::Content => (
                &delta.content,
                delta.reasoning.0.is_none() && delta.reasoning_content.as_ref().is_none_or(|t| t.0.is_none()),
            ),
            Field::ReasoningContent => {
                (delta.reasoning_content.as_ref()?, delta.content.0.is_none() && delta.reasoning.0.is_none())
            }
            Field::Reasoning => (
                &delta.reasoning,
                delta.content.0.is_none() && delta.reasoning_content.as_ref().is_none_or(|t| t.0.is_none()),
            ),
        };
        // The text is the string at the hole itself, not one read before it.
        let at = borrowed_at(text)?;
        if !others_none || at != (hole.start + 1, hole.end - hole.start - 2) {
            return None;
        }
        let no_calls = match &delta.tool_calls.0 {
            None => false,
            Some(calls) if calls.is_empty() => true,
            Some(_) => return None,
        };
        let shape = Self {
            index: choice.index,
            reasoning_content_null: hole.field != Field::ReasoningContent
                && delta.reasoning_content.is_some(),
            no_calls,
        };
        Some((object, shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::chunk_scan::variants;
    use crate::openai::read_chunk;

    /// A stream's events as vLLM writes them (role first, then the tokens, then the finish).
    const STREAM: &[&str] = &[
        r#"{"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1733160000,"model":"qwen3-coder","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"prompt_token_ids":null}"#,
        r#"{"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1733160000,"model":"qwen3-coder","choices":[{"index":0,"delta":{"content":"fn"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1733160000,"model":"qwen3-coder","choices":[{"index":0,"delta":{"content":" main"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1733160000,"model":"qwen3-coder","choices":[{"index":0,"delta":{"content":"() {\n\t\"\u00e9\""},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1733160000,"model":"qwen3-coder","choices":[{"index":0,"delta":{"content":"}"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1733160000,"model":"qwen3-coder","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null}]}"#,
        r#"{"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1733160000,"model":"qwen3-coder","choices":[],"usage":{"prompt_tokens":3012,"total_tokens":3520,"completion_tokens":508}}"#,
    ];

    /// Other events a template may be learnt from: each text field, `null`s beside it, an
    /// `object` after the text, the text's key twice, two `choices`.
    const SHAPES: &[&str] = &[
        r#"{"object":"chat.completion.chunk","choices":[{"index":2,"delta":{"reasoning_content":"think"},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"reasoning":"newer","content":null,"reasoning_content":null,"tool_calls":[]}}],"code":7}"#,
        r#"{"choices":[{"delta":{"content":"a"}}],"object":"late"}"#,
        r#"{"choices":[{"delta":{"content":"a","content":"b"}}]}"#,
        r#"{"choices":[{"delta":{"content":"a"}}],"choices":[{"delta":{"content":"b"}}]}"#,
        r#"{"choices":[{"delta":{"content":"a"},"delta":{}}]}"#,
        r#"{"choices":[{"delta":{"content":"a","content":null}}]}"#,
        r#"{"choices":[{"delta":{"reasoning":"a","reasoning_content":"b"}}]}"#,
        r#" { "choices" : [ { "delta" : { "content" : "a" } } ] } "#,
    ];

    fn reading(chunk: serde_json::Result<Chunk<'_>>) -> String {
        chunk.map_or_else(|_| "error".to_owned(), |chunk| format!("{chunk:?}"))
    }

    fn read(reader: &mut ChunkReader, payload: &str) -> String {
        reading(reader.read(payload).map(Event::into_chunk))
    }

    /// After `learnt`, `payload` reads as it reads alone.
    fn agrees_after(learnt: &str, payload: &str) -> bool {
        let mut reader = ChunkReader::default();
        let _ = reader.read(learnt);
        read(&mut reader, payload) == reading(read_chunk(payload))
    }

    #[test]
    fn a_streams_tokens_are_read_by_the_template_of_the_one_before() {
        let mut reader = ChunkReader::default();
        let mut filled = 0;
        for payload in STREAM {
            if reader.template.as_ref().is_some_and(|t| t.fill(payload).is_some()) {
                filled += 1;
            }
            assert_eq!(read(&mut reader, payload), reading(read_chunk(payload)), "{payload}");
        }
        // The role event and the first token each scan (their bytes differ around the
        // text); the next three tokens fill the token's template; the finish and usage scan.
        assert_eq!(filled, 3);
        let mut reader = ChunkReader::default();
        let _ = reader.read(STREAM[1]);
        let escaped = reader.template.as_ref().and_then(|t| t.fill(STREAM[3])).expect("filled");
        assert_eq!((escaped.index(), escaped.content(), escaped.reasoning()), (0, "() {\n\t\"é\"", ""));
        let mut reader = ChunkReader::default();
        let _ = reader.read(SHAPES[0]);
        let thought = reader.template.as_ref().and_then(|t| t.fill(SHAPES[0])).expect("filled");
        assert_eq!((thought.index(), thought.content(), thought.reasoning()), (2, "", "think"));
    }

    #[test]
    fn what_cannot_vary_is_not_learnt() {
        for payload in [
            STREAM[5],
            STREAM[6],
            r#"{"choices":[{"delta":{"content":"a"}},{"delta":{}}]}"#,
            r#"{"choices":[{"delta":{"content":"a\n"}}]}"#,
            r#"{"choices":[{"delta":{"content":"a"}}],"usage":{"n":1}}"#,
            r#"{"choices":[{"delta":{"content":"a","reasoning":"b"}}]}"#,
            r#"{"object":"chat.\u0063hunk","choices":[{"delta":{"content":"a"}}]}"#,
            r#"{"choices":[{"delta":{"content":"a"},"delta":{}}]}"#,
            r#"{"choices":[{"delta":{"content":"a","content":null}}]}"#,
            r#"{"object":"error","choices":[{"delta":{"content":"a"}}]}"#,
        ] {
            let mut reader = ChunkReader::default();
            let _ = reader.read(payload);
            assert!(reader.template.is_none(), "learnt: {payload}");
        }
    }

    #[test]
    fn every_cut_and_changed_byte_after_a_template_reads_as_alone() {
        let learnt = [&STREAM[1..5], SHAPES].concat();
        for from in &learnt {
            for payload in variants(from).iter().map(String::as_str).chain(STREAM.iter().copied()) {
                assert!(agrees_after(from, payload), "after {from}: {payload}");
            }
        }
    }

    #[test]
    fn another_string_in_the_texts_place_reads_as_alone() {
        let texts =
            ["", "x", "a longer token than eight bytes", r"\u00e9\n\\", r"\x", "tab\there", "\"", r#"\"};"#];
        for from in [&STREAM[1..5], SHAPES].concat() {
            let Some((_, Some(hole))) = scan_chunk(from) else { continue };
            for text in texts {
                let payload = format!("{}\"{text}\"{}", &from[..hole.start], &from[hole.end..]);
                assert!(agrees_after(from, &payload), "after {from}: {payload}");
            }
        }
    }
}
