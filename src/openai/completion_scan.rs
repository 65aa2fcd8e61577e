//! A fast reader for vLLM's whole answer (`chat.completion`), over the scanner that reads
//! its stream events ([`super::chunk_scan`]).
//!
//! serde_json reads a short answer (the 560 bytes of a one-line reply) in some 12,700
//! instructions, most of them in the generic machinery around its two dozen short keys and
//! strings; this reader walks the bytes once. It reads exactly what [`Completion`]'s
//! `Deserialize` reads, as strictly, or gives up (`None`) and leaves the answer to
//! serde_json: on anything it is not sure of (a known key twice, a field of another type
//! than the struct's, which serde_json refuses, `tool_calls` with calls in them, a key with
//! escapes, a number it does not read itself) and on anything that is not valid JSON, which
//! serde_json then refuses with its own message. A `Some` is therefore always what
//! serde_json would have read; the tests hold it to that.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::chunk_scan::{Scan, Str};
use super::upstream::{Completion, CompletionChoice, Message};

/// Reads vLLM's whole answer: the usual ones by the scanner, any other by serde_json (the
/// same reading, and serde_json's error when it cannot be read).
pub fn read_completion(bytes: &[u8]) -> serde_json::Result<Completion<'_>> {
    match crate::utf8::from_utf8(bytes).ok().and_then(completion) {
        Some(answer) => Ok(answer),
        None => serde_json::from_slice(bytes),
    }
}

fn completion(text: &str) -> Option<Completion<'_>> {
    let mut scan = Scan::new(text);
    let empty = Completion { choices: None, created: None, usage: None };
    let answer = scan.strict(empty, |scan, key, seen, answer| match key {
        b"choices" => scan.once(seen, 0, &mut answer.choices, Scan::choices),
        b"created" => scan.once(seen, 1, &mut answer.created, Scan::unsigned),
        b"usage" => scan.once_raw(seen, 2, &mut answer.usage),
        _ => scan.skip(),
    })?;
    scan.at_end().then_some(answer)
}

/// The known keys an object has had: serde_json refuses one twice.
struct Seen(u8);

impl Seen {
    /// Marks key `bit` seen; `None` when it was already.
    fn first(&mut self, bit: u8) -> Option<()> {
        let mask = 1 << bit;
        if self.0 & mask != 0 {
            return None;
        }
        self.0 |= mask;
        Some(())
    }
}

impl<'a> Scan<'a> {
    /// An object read into `value` as a serde derive reads a struct: `field` is handed each
    /// key, the known keys seen so far and `value`, and must read the key's value. Gives up
    /// on any value but an object.
    fn strict<T>(
        &mut self,
        mut value: T,
        mut field: impl FnMut(&mut Self, &'a [u8], &mut Seen, &mut T) -> Option<()>,
    ) -> Option<T> {
        if self.peek()? != b'{' {
            return None;
        }
        let mut seen = Seen(0);
        self.object(|scan, key| field(scan, key, &mut seen, &mut value))?;
        Some(value)
    }

    /// Known key `bit`'s value into `slot`: `null` as `None`, else what `read` reads; gives
    /// up on the key's second time.
    fn once<T>(
        &mut self,
        seen: &mut Seen,
        bit: u8,
        slot: &mut Option<T>,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<()> {
        seen.first(bit)?;
        if self.peek()? == b'n' {
            *slot = None;
            return self.literal(b"null");
        }
        *slot = Some(read(self)?);
        Some(())
    }

    /// Known key `bit`'s value kept raw in `slot` (`null` as `None`).
    fn once_raw(&mut self, seen: &mut Seen, bit: u8, slot: &mut Option<&'a RawValue>) -> Option<()> {
        seen.first(bit)?;
        self.raw(slot)
    }

    /// A string, borrowed unless it has escapes; gives up on any other value.
    fn strict_text(&mut self) -> Option<Cow<'a, str>> {
        if self.peek()? != b'"' {
            return None;
        }
        let Str { start, end, escaped } = self.string()?;
        Some(if escaped {
            Cow::Owned(serde_json::from_str::<String>(&self.text[start..end]).ok()?)
        } else {
            Cow::Borrowed(&self.text[start + 1..end - 1])
        })
    }

    /// A non-negative integer of at most 18 digits; gives up on any other value.
    fn unsigned(&mut self) -> Option<u64> {
        let start = self.at;
        match *self.bytes.get(start)? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits()?,
            _ => return None,
        }
        if self.at - start > 18 || matches!(self.bytes.get(self.at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.text[start..self.at].parse().ok()
    }

    /// `choices`: an array of choice objects.
    fn choices(&mut self) -> Option<Vec<CompletionChoice<'a>>> {
        if self.peek()? != b'[' {
            return None;
        }
        let mut choices = Vec::with_capacity(1);
        self.array(|scan| {
            choices.push(scan.whole_choice()?);
            Some(())
        })?;
        Some(choices)
    }

    fn whole_choice(&mut self) -> Option<CompletionChoice<'a>> {
        let empty = CompletionChoice { index: None, message: None, finish_reason: None, stop_reason: None };
        self.strict(empty, |scan, key, seen, choice| match key {
            b"index" => scan.once(seen, 0, &mut choice.index, Scan::unsigned),
            b"message" => scan.once(seen, 1, &mut choice.message, Scan::whole_message),
            b"finish_reason" => scan.once(seen, 2, &mut choice.finish_reason, Scan::strict_text),
            b"stop_reason" => scan.once_raw(seen, 3, &mut choice.stop_reason),
            _ => scan.skip(),
        })
    }

    /// A choice's `message`. Gives up on `tool_calls` with calls in it.
    fn whole_message(&mut self) -> Option<Message<'a>> {
        let empty = Message { content: None, reasoning_content: None, reasoning: None, tool_calls: None };
        self.strict(empty, |scan, key, seen, message| match key {
            b"content" => scan.once(seen, 0, &mut message.content, Scan::strict_text),
            b"reasoning_content" => scan.once(seen, 1, &mut message.reasoning_content, Scan::strict_text),
            b"reasoning" => scan.once(seen, 2, &mut message.reasoning, Scan::strict_text),
            b"tool_calls" => scan.once(seen, 3, &mut message.tool_calls, Scan::no_calls),
            _ => scan.skip(),
        })
    }

    /// An empty `tool_calls` list; gives up on one with calls in it.
    fn no_calls<T>(&mut self) -> Option<Vec<T>> {
        if self.peek()? != b'[' {
            return None;
        }
        self.array(|_| None).map(|()| Vec::new())
    }
}

#[cfg(test)]
mod tests;
