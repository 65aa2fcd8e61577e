//! A request's top-level members found without reading their values, so that the one value
//! an agent sends unchanged on every request (its `tools`: every schema and description,
//! most of the bytes) is not scanned each time.
//!
//! [`split`] finds where each member's value lies (a structural skip: string ends, bracket
//! depth) and skips a value that begins with a text [`learn`]ed before, which was valid
//! JSON then and, being the same bytes, is now. It validates nothing else: each API then
//! reads every other value with serde_json from its span, and any error there, or anything
//! the skip does not understand, sends the caller back to serde_json over the whole body,
//! so errors read as they always did.
//!
//! Every span a valid JSON body has, `split` finds as serde_json does: a string ends at its
//! first unescaped quote, an array or object where its depth returns to zero, a scalar at
//! the first delimiter. One difference is left: a value read from its own span starts at
//! depth 0, so a value nested 128 deep (serde_json's limit counts the body's own object)
//! reads here where the whole body would not.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

/// The one member whose value is looked up among the known values.
const SKIPPED: &str = "tools";
/// Learned values kept (a few agents' tool lists at once).
const KEPT: usize = 8;
/// Shorter values are read each time: the skip would save nothing.
const MIN_BYTES: usize = 512;

/// Values seen valid, newest first.
static KNOWN: Mutex<Vec<Arc<str>>> = Mutex::new(Vec::new());

/// One top-level member: its key (borrowed unless escaped), its value's text, and whether
/// that value was skipped as known (already valid; read it no further than its use needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member<'a> {
    pub(crate) key: Cow<'a, str>,
    pub(crate) value: &'a str,
    pub(crate) known: bool,
}

/// Keeps the value of `member`, just checked as valid JSON, so that the next
/// body holding it skips it; only a `tools` value long enough to be worth the search.
pub(crate) fn learn(member: &Member<'_>) {
    let value = member.value;
    if member.known || member.key != SKIPPED || value.len() < MIN_BYTES {
        return;
    }
    let mut known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(i) = known.iter().position(|k| **k == *value) {
        let hit = known.remove(i);
        known.insert(0, hit);
        return;
    }
    known.insert(0, Arc::from(value));
    known.truncate(KEPT);
}

/// The length of the known value `tail` starts with.
fn known_prefix(tail: &str) -> Option<usize> {
    let known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    known.iter().find(|k| tail.starts_with(&***k)).map(|k| k.len())
}

/// The members of the JSON object `text`, in order; `None` where the skip is unsure (the
/// body is not an object, or not JSON: serde_json says how).
pub(crate) fn split(text: &str) -> Option<Vec<Member<'_>>> {
    let b = text.as_bytes();
    let mut at = ws(b, 0);
    if b.get(at) != Some(&b'{') {
        return None;
    }
    at = ws(b, at + 1);
    let mut members = Vec::with_capacity(12);
    if b.get(at) == Some(&b'}') {
        return (ws(b, at + 1) == b.len()).then_some(members);
    }
    loop {
        let key_end = string_end(b, at)?;
        let key = key(&text[at..key_end])?;
        at = ws(b, key_end);
        if b.get(at) != Some(&b':') {
            return None;
        }
        at = ws(b, at + 1);
        let skipped = if key == SKIPPED { known_prefix(&text[at..]) } else { None };
        let end = match skipped {
            Some(n) => at + n,
            None => value_end(b, at)?,
        };
        members.push(Member { key, value: &text[at..end], known: skipped.is_some() });
        at = ws(b, end);
        match b.get(at) {
            Some(b',') => at = ws(b, at + 1),
            Some(b'}') => return (ws(b, at + 1) == b.len()).then_some(members),
            _ => return None,
        }
    }
}

/// A key's text: borrowed, or read by serde_json when it has escapes. Control characters
/// are for serde_json to refuse.
fn key(quoted: &str) -> Option<Cow<'_, str>> {
    let inner = &quoted[1..quoted.len() - 1];
    if inner.bytes().any(|c| c < 0x20) {
        return None;
    }
    if inner.contains('\\') {
        return serde_json::from_str::<String>(quoted).ok().map(Cow::Owned);
    }
    Some(Cow::Borrowed(inner))
}

/// Past JSON whitespace from `at`.
fn ws(b: &[u8], mut at: usize) -> usize {
    while matches!(b.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// Past the string that opens at `at` (its closing quote included).
fn string_end(b: &[u8], at: usize) -> Option<usize> {
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[i] == b'"' {
            return Some(i + 1);
        }
        i += 2;
    }
}

/// Past the value that starts at `at`.
fn value_end(b: &[u8], at: usize) -> Option<usize> {
    match *b.get(at)? {
        b'"' => string_end(b, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match *b.get(i)? {
                    b'"' => {
                        i = string_end(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let len = b[at..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(b.len() - at);
            (len > 0).then_some(at + len)
        }
    }
}

#[cfg(test)]
mod tests;
