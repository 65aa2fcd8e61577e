//! A fast reader for the stream events vLLM writes for every token: a `chat.completion.chunk`
//! whose choices carry text, reasoning or a finish, and the last one's `usage`.
//!
//! serde_json reads such an event (about 190 bytes) in some 4,800 instructions, most of them
//! in the generic machinery around short strings; this reader walks the bytes once and reads
//! the same event in a fraction of that. It reads exactly what [`Chunk`]'s `Deserialize`
//! reads, with the same leniency, or gives up (`None`) and leaves the event to serde_json:
//! on anything it is not sure of (an `error` key, `tool_calls` with calls in them, a key with
//! escapes, a negative or fractional index, nesting past [`MAX_DEPTH`]) and on anything that
//! is not valid JSON, which serde_json then refuses with its own message. A `Some` is
//! therefore always what serde_json would have read; the tests hold it to that.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::loose::{Count, List, Text};
use super::upstream::{Chunk, ChunkChoice, Delta};

/// Deeper than this, the reader gives up (serde_json's own limit is 128).
const MAX_DEPTH: u32 = 64;

/// Reads one stream event: vLLM's usual events by this module's scanner, any other by
/// serde_json (the same reading, and serde_json's error when it is not JSON).
pub fn read_chunk(payload: &str) -> serde_json::Result<Chunk<'_>> {
    match chunk(payload) {
        Some(chunk) => Ok(chunk),
        None => serde_json::from_str(payload),
    }
}

/// Reads `payload` as [`Chunk`]'s `Deserialize` would, or `None` when it cannot say.
fn chunk(payload: &str) -> Option<Chunk<'_>> {
    scan_chunk(payload).map(|(chunk, _)| chunk)
}

/// [`chunk`], and where the scan last read a string for one of a delta's texts.
pub(super) fn scan_chunk(payload: &str) -> Option<(Chunk<'_>, Option<Hole>)> {
    let mut scan = Scan::new(payload);
    let mut chunk = Chunk::default();
    if scan.peek()? != b'{' {
        return None;
    }
    scan.object(|scan, key| {
        match key {
            b"object" => chunk.object = scan.text_value()?,
            b"code" => chunk.code = scan.count()?,
            b"usage" => scan.raw(&mut chunk.usage)?,
            b"choices" => chunk.choices = scan.list(Scan::choice)?,
            b"error" => return None,
            _ => scan.skip()?,
        }
        Some(())
    })?;
    let hole = scan.hole;
    scan.at_end().then_some((chunk, hole))
}

/// Whether every escape in a string's text (between its quotes) is one JSON has, checked
/// as serde_json checks a string it skips: `\u` needs four hex digits, whatever they encode.
fn escapes_valid(text: &[u8]) -> bool {
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'\\', &text[at..]) {
        let escape = at + found + 1;
        match text.get(escape) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => at = escape + 1,
            Some(b'u')
                if text
                    .get(escape + 1..escape + 5)
                    .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) =>
            {
                at = escape + 5;
            }
            _ => return false,
        }
    }
    true
}

/// Marks (high bit) the bytes of `word` that may end a plain run in a string: `"`, `\\`, or a
/// control byte. The lowest mark is always such a byte; above it there may be false marks,
/// never a missed one.
fn special(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |limit: u8, w: u64| w.wrapping_sub(ONES * u64::from(limit)) & !w & HIGH;
    let zero = |w: u64| below(1, w);
    zero(word ^ (ONES * u64::from(b'"'))) | zero(word ^ (ONES * u64::from(b'\\'))) | below(0x20, word)
}

/// Where a string stands in the JSON: its text is `bytes[start + 1..end - 1]` when it has no
/// escapes; else serde_json unescapes `text[start..end]`, quotes included.
pub(super) struct Str {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) escaped: bool,
}

/// One of a delta's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Field {
    #[default]
    Content,
    ReasoningContent,
    Reasoning,
}

/// Where a string value of one of a delta's texts stands: `start..end`, quotes included.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hole {
    pub(super) field: Field,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) struct Scan<'a> {
    pub(super) text: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) at: usize,
    depth: u32,
    /// The last string read for one of a delta's texts.
    hole: Option<Hole>,
}

impl<'a> Scan<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self { text, bytes: text.as_bytes(), at: 0, depth: 0, hole: None }
    }

    /// Nothing but whitespace is left.
    pub(super) fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.at == self.bytes.len()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, left unread.
    #[inline]
    pub(super) fn peek(&mut self) -> Option<u8> {
        match *self.bytes.get(self.at)? {
            b' ' | b'\n' | b'\t' | b'\r' => {
                self.skip_ws();
                self.bytes.get(self.at).copied()
            }
            byte => Some(byte),
        }
    }

    /// Reads an object, handing each key (with the reader at its value) to `field`, which
    /// must read the value.
    pub(super) fn object(&mut self, mut field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.nest()?;
        if self.peek()? == b'}' {
            self.close();
            return Some(());
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            if key.escaped {
                return None;
            }
            let key = &self.bytes[key.start + 1..key.end - 1];
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            field(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.close();
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Reads an array, `element` reading each element.
    pub(super) fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.nest()?;
        if self.peek()? == b']' {
            self.close();
            return Some(());
        }
        loop {
            element(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.close();
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Steps past the `{` or `[` at the reader, one level deeper.
    fn nest(&mut self) -> Option<()> {
        self.depth += 1;
        self.at += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Steps past the `}` or `]` at the reader, one level up.
    fn close(&mut self) {
        self.at += 1;
        self.depth -= 1;
    }

    /// Reads the string whose opening quote is at the reader.
    #[inline]
    pub(super) fn string(&mut self) -> Option<Str> {
        let start = self.at;
        let mut at = start + 1;
        let mut escaped = false;
        loop {
            at = self.plain_run(at)?;
            if self.bytes[at] == b'"' {
                break;
            }
            escaped = true;
            at += 2;
        }
        self.at = at + 1;
        Some(Str { start, end: self.at, escaped })
    }

    /// Where the next `"` or `\\` is, from `at` on; `None` when a control byte comes first
    /// (JSON has none in a string) or neither comes.
    #[inline]
    fn plain_run(&self, mut at: usize) -> Option<usize> {
        // A key or a token's text: eight bytes at a time, no call.
        for _ in 0..2 {
            let Some(word) = self.bytes.get(at..at + 8) else { break };
            match special(u64::from_le_bytes(word.try_into().ok()?)) {
                0 => at += 8,
                found => {
                    at += found.trailing_zeros() as usize / 8;
                    return matches!(self.bytes[at], b'"' | b'\\').then_some(at);
                }
            }
        }
        // A longer text: memchr finds its end, and the run before it is checked for control
        // bytes by its lowest byte (a minimum the compiler vectorises).
        let rest = self.bytes.get(at..)?;
        let found = memchr::memchr2(b'"', b'\\', rest)?;
        let lowest = rest[..found].iter().copied().min().unwrap_or(b' ');
        (lowest >= 0x20).then_some(at + found)
    }

    /// Skips one value of any kind, checking that it is JSON.
    pub(super) fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => match self.string()? {
                Str { escaped: false, .. } => Some(()),
                Str { start, end, .. } => escapes_valid(&self.bytes[start + 1..end - 1]).then_some(()),
            },
            b'{' => self.object(|scan, _| scan.skip()),
            b'[' => self.array(Scan::skip),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    pub(super) fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// Skips a number, held to JSON's grammar (no leading zeros, digits after `.`). Gives up
    /// on an exponent and on more than 18 digits before the point: serde_json refuses a
    /// number too large for an `f64`.
    fn number(&mut self) -> Option<()> {
        if self.bytes[self.at] == b'-' {
            self.at += 1;
        }
        let start = self.at;
        match *self.bytes.get(self.at)? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits()?,
            _ => return None,
        }
        if self.at - start > 18 {
            return None;
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            self.digits()?;
        }
        match self.bytes.get(self.at) {
            Some(b'e' | b'E') => None,
            _ => Some(()),
        }
    }

    /// One or more digits.
    pub(super) fn digits(&mut self) -> Option<()> {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.bytes.get(self.at) {
            self.at += 1;
        }
        (self.at > start).then_some(())
    }

    /// A string value as [`Text`]: any other value reads as none.
    pub(super) fn text_value(&mut self) -> Option<Text<'a>> {
        if self.peek()? != b'"' {
            self.skip()?;
            return Some(Text(None));
        }
        let Str { start, end, escaped } = self.string()?;
        Some(Text(Some(if escaped {
            Cow::Owned(serde_json::from_str::<String>(&self.text[start..end]).ok()?)
        } else {
            Cow::Borrowed(&self.text[start + 1..end - 1])
        })))
    }

    /// A non-negative integer as [`Count`]; gives up on a negative, fractional or long one.
    fn count(&mut self) -> Option<Count> {
        match self.peek()? {
            b'0'..=b'9' => {}
            b'-' => return None,
            _ => {
                self.skip()?;
                return Some(Count(None));
            }
        }
        let start = self.at;
        if self.bytes[start] == b'0' {
            self.at += 1;
        } else {
            self.digits()?;
        }
        if self.at - start > 18 || matches!(self.bytes.get(self.at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.text[start..self.at].parse().ok().map(|n| Count(Some(n)))
    }

    /// A value kept in `slot` as its raw JSON, none when it is `null`.
    pub(super) fn raw(&mut self, slot: &mut Option<&'a RawValue>) -> Option<()> {
        self.skip_ws();
        let start = self.at;
        self.skip()?;
        let raw = &self.text[start..self.at];
        *slot = if raw == "null" { None } else { Some(serde_json::from_str::<&RawValue>(raw).ok()?) };
        Some(())
    }

    /// An array as [`List`], `element` reading each element; any other value reads as none.
    fn list<T>(&mut self, mut element: impl FnMut(&mut Self) -> Option<T>) -> Option<List<T>> {
        if self.peek()? != b'[' {
            self.skip()?;
            return Some(List(None));
        }
        let mut items = Vec::with_capacity(1);
        self.array(|scan| {
            items.push(element(scan)?);
            Some(())
        })?;
        Some(List(Some(items)))
    }

    /// An object read into `T` by `field`, which must read each key's value; any value but an
    /// object reads as `T::default()`.
    fn lenient<T: Default>(
        &mut self,
        mut field: impl FnMut(&mut Self, &'a [u8], &mut T) -> Option<()>,
    ) -> Option<T> {
        let mut value = T::default();
        if self.peek()? != b'{' {
            self.skip()?;
            return Some(value);
        }
        self.object(|scan, key| field(scan, key, &mut value))?;
        Some(value)
    }

    /// One element of `choices`.
    fn choice(&mut self) -> Option<ChunkChoice<'a>> {
        self.lenient(|scan, key, choice: &mut ChunkChoice<'a>| {
            match key {
                b"index" => choice.index = scan.count()?,
                b"delta" => choice.delta = scan.delta()?,
                b"finish_reason" => choice.finish_reason = scan.text_value()?,
                b"stop_reason" => choice.stop_reason = scan.text_value()?,
                _ => scan.skip()?,
            }
            Some(())
        })
    }

    /// One of a delta's texts, its place kept when it is a string.
    fn delta_text(&mut self, field: Field) -> Option<Text<'a>> {
        self.skip_ws();
        let start = self.at;
        let text = self.text_value()?;
        if text.0.is_some() {
            self.hole = Some(Hole { field, start, end: self.at });
        }
        Some(text)
    }

    /// A choice's `delta`. Gives up on `tool_calls` with calls in it.
    fn delta(&mut self) -> Option<Delta<'a>> {
        self.lenient(|scan, key, delta: &mut Delta<'a>| {
            match key {
                b"content" => delta.content = scan.delta_text(Field::Content)?,
                b"reasoning_content" => {
                    delta.reasoning_content = Some(scan.delta_text(Field::ReasoningContent)?);
                }
                b"reasoning" => delta.reasoning = scan.delta_text(Field::Reasoning)?,
                b"tool_calls" => delta.tool_calls = scan.list(|_| None)?,
                _ => scan.skip()?,
            }
            Some(())
        })
    }
}

/// Every cut of `text` (at a character boundary) and every change of one of its ASCII bytes
/// to a byte that matters to JSON: what the readers' agreement tests try.
#[cfg(test)]
pub(super) fn variants(text: &str) -> Vec<String> {
    const REPLACEMENTS: &[u8] = b"\"\\{}[],:0-.eEnul \x01a";
    let cuts = (0..text.len()).filter(|&at| text.is_char_boundary(at)).map(|cut| text[..cut].to_owned());
    let bytes = text.as_bytes();
    let changes = (0..bytes.len()).filter(|&at| bytes[at].is_ascii()).flat_map(|at| {
        REPLACEMENTS.iter().map(move |&with| {
            let mut changed = bytes.to_vec();
            changed[at] = with;
            String::from_utf8(changed).expect("ASCII for ASCII")
        })
    });
    cuts.chain(changes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast reading, when there is one, is serde_json's (which must then read the event).
    fn agrees(payload: &str) -> bool {
        let Some(fast) = chunk(payload) else { return true };
        match serde_json::from_str::<Chunk<'_>>(payload) {
            Ok(slow) => format!("{fast:?}") == format!("{slow:?}"),
            Err(_) => false,
        }
    }

    /// Events as vLLM writes them, and the same with whitespace everywhere JSON allows it.
    const VLLM: &[&str] = &[
        r#"{"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1733160000,"model":"qwen3-coder","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"prompt_token_ids":null}"#,
        r#"{"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1733160000,"model":"qwen3-coder","choices":[{"index":0,"delta":{"content":"word"},"logprobs":null,"finish_reason":null,"token_ids":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"fn main() {\n\t\"x\" \u00e9\ud83d\ude00 \\\n}"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"reasoning_content":"think"},"finish_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"reasoning":"newer","content":null}}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":1,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop","stop_reason":"</end>"}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"","tool_calls":[]},"finish_reason":"length","stop_reason":151645}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3012,"total_tokens":3520,"completion_tokens":508,"prompt_tokens_details":null}}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"x"},"logprobs":{"content":[{"token":"x","logprob":-0.25,"bytes":[120],"top_logprobs":[]}]}}],"usage":null}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"x"},"logprobs":"skipped \" \\ \/ \b \f \n \r \t \u00e9 \ud800 \uDFFF","x":["\u0000\u001F"]}]}"#,
        " {\n  \"object\" : \"chat.completion.chunk\" ,\r\n\t\"choices\" : [ { \"index\" : 0 , \"delta\" : { \"content\" : \"a\" } } ] , \"x\" : [ ] , \"y\" : { } , \"n\" : [ -1.5 , 0 , 0.02 , 123456789012345678 , true , false ] } \n",
    ];

    #[test]
    fn vllm_events_are_read_fast_and_as_serde_json_reads_them() {
        for payload in VLLM {
            assert!(chunk(payload).is_some(), "not read fast: {payload}");
            assert!(agrees(payload), "{payload}");
        }
        let first = chunk(VLLM[1]).expect("read");
        let choices = first.choices.0.as_deref().expect("choices");
        assert_eq!(choices[0].delta.content.as_str(), Some("word"));
        let escaped = chunk(VLLM[2]).expect("read");
        let text = escaped.choices.0.as_deref().expect("choices")[0].delta.content.as_str();
        assert_eq!(text, Some("fn main() {\n\t\"x\" é😀 \\\n}"));
        let usage = chunk(VLLM[8]).expect("read").usage.expect("usage");
        assert!(usage.get().starts_with(r#"{"prompt_tokens":3012"#));
    }

    #[test]
    fn what_it_is_not_sure_of_is_left_to_serde_json() {
        for payload in [
            r#"{"object":"error","message":"boom","code":500,"error":null}"#,
            r#"{"error":{"message":"bad","code":400}}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}}]}"#,
            r#"{"cho\u0069ces":[]}"#,
            r#"{"choices":[{"index":-1}]}"#,
            r#"{"choices":[{"index":1.0}]}"#,
            r#"{"choices":[{"index":12345678901234567890}]}"#,
            "[1,2]",
            r#""text""#,
            r#"{"choices":[]} trailing"#,
            r#"{"choices":[],}"#,
            r#"{"choices":[1,]}"#,
            r#"{"a":01}"#,
            r#"{"a":1e5}"#,
            r#"{"a":1234567890123456789}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":"tab	inside"}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":nul}"#,
            "",
            &format!(r#"{{"a":{}{}}}"#, "[".repeat(70), "]".repeat(70)),
        ] {
            assert!(chunk(payload).is_none(), "read fast: {payload}");
        }
    }

    #[test]
    fn every_cut_and_every_changed_byte_reads_as_serde_json_reads_it() {
        for payload in VLLM {
            for variant in variants(payload) {
                assert!(agrees(&variant), "{variant}");
            }
        }
    }
}
