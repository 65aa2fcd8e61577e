//! Marker matching over a suffix of the input that may end mid-marker.
//!
//! Every matcher answers `Partial` when the text seen so far is a proper prefix of what it
//! looks for: the caller then holds that suffix back until more input decides it.

/// Longest tool or parameter name accepted; longer is not an identifier (and keeps the
/// lookahead, so the held-back suffix, bounded).
pub(crate) const MAX_NAME: usize = 128;

/// Most whitespace held back while deciding whether a tag is structural. Past it the tag
/// is taken as text, which keeps memory bounded on adversarial input.
pub(crate) const MAX_HELD: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    Yes,
    Partial,
    No,
}

/// Does `rest` start with `lit`, or could it once more input arrives?
#[inline]
pub(crate) fn starts(rest: &str, lit: &str) -> Match {
    if rest.len() >= lit.len() {
        if rest.as_bytes().starts_with(lit.as_bytes()) { Match::Yes } else { Match::No }
    } else if lit.as_bytes().starts_with(rest.as_bytes()) {
        Match::Partial
    } else {
        Match::No
    }
}

/// Which of several markers the input starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchAny<'m> {
    Yes(&'m str),
    /// None yet, but one still could once more input arrives.
    Partial,
    No,
}

/// Does `rest` start with one of `markers` (a whole one wins over another's prefix)?
/// Always inlined: the markers are constants at every call, so each comparison compiles to
/// a few instructions instead of a call to `memcmp` (the engine runs this at every `<`).
#[allow(
    clippy::inline_always,
    reason = "the markers are constants at every call: inlined, each comparison is a few instructions instead of a memcmp call"
)]
#[inline(always)]
pub(crate) fn starts_any<'m>(rest: &str, markers: &[&'m str]) -> MatchAny<'m> {
    let mut partial = false;
    for &marker in markers {
        match starts(rest, marker) {
            Match::Yes => return MatchAny::Yes(marker),
            Match::Partial => partial = true,
            Match::No => {}
        }
    }
    if partial { MatchAny::Partial } else { MatchAny::No }
}

/// A `<prefix NAME>` tag such as `<function=read_file>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag<'a> {
    /// The whole tag is present; `len` is its length in bytes.
    Complete {
        name: &'a str,
        len: usize,
    },
    Partial,
    /// Not this tag, or a name that is not an identifier.
    No,
}

/// Characters of a tool or parameter name. OpenAI allows `[a-zA-Z0-9_-]`; dots are common
/// in MCP-style names. Anything else (spaces, quotes, braces, `<`) makes the tag prose.
pub(crate) fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

pub(crate) fn is_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME && name.bytes().all(is_name_byte)
}

pub(crate) fn named_tag<'a>(rest: &'a str, prefix: &str) -> Tag<'a> {
    match starts(rest, prefix) {
        Match::No => return Tag::No,
        Match::Partial => return Tag::Partial,
        Match::Yes => {}
    }
    let after = &rest.as_bytes()[prefix.len()..];
    for (i, &b) in after.iter().enumerate() {
        if b == b'>' {
            return if i == 0 {
                Tag::No
            } else {
                Tag::Complete { name: &rest[prefix.len()..prefix.len() + i], len: prefix.len() + i + 1 }
            };
        }
        if !is_name_byte(b) || i >= MAX_NAME {
            return Tag::No;
        }
    }
    Tag::Partial
}

/// Length of the run of ASCII whitespace that starts `rest`.
pub(crate) fn leading_ws(rest: &str) -> usize {
    rest.bytes().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count()
}

/// What the whitespace at the front of the input did to markup held while a decision is
/// pending ([`hold_ws`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// No whitespace here: what follows decides.
    None,
    /// This many bytes of whitespace were added to the held markup.
    Took(usize),
    /// The held markup grew past [`MAX_HELD`]: it is to be taken as text.
    Over,
}

/// Adds the whitespace at the front of `rest` to `held`, the markup of something not yet
/// decided (whitespace between tags decides nothing, but must not be held without bound).
pub(crate) fn hold_ws(held: &mut String, rest: &str) -> Held {
    let ws = leading_ws(rest);
    if ws == 0 {
        return Held::None;
    }
    held.push_str(&rest[..ws]);
    if held.len() > MAX_HELD { Held::Over } else { Held::Took(ws) }
}

/// `s` as a JSON string literal, quotes included.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::new();
    crate::json_escape::push_json_string(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_reports_partial_only_for_proper_prefixes() {
        assert_eq!(starts("<tool_call>x", "<tool_call>"), Match::Yes);
        assert_eq!(starts("<tool_c", "<tool_call>"), Match::Partial);
        assert_eq!(starts("<tool_x", "<tool_call>"), Match::No);
        assert_eq!(starts("", "<a>"), Match::Partial);
    }

    #[test]
    fn starts_any_prefers_a_whole_marker() {
        // `<tool_ca` could still become the first, but is the second already.
        assert_eq!(starts_any("<tool_ca", &["<tool_call>", "<tool"]), MatchAny::Yes("<tool"));
        assert_eq!(starts_any("</thi", &["<tool_call>", "</think>"]), MatchAny::Partial);
        assert_eq!(starts_any("<b>", &["<tool_call>", "</think>"]), MatchAny::No);
    }

    #[test]
    fn named_tags() {
        assert_eq!(
            named_tag("<function=read_file>\n", "<function="),
            Tag::Complete { name: "read_file", len: 20 }
        );
        assert_eq!(named_tag("<function=read_fi", "<function="), Tag::Partial);
        assert_eq!(named_tag("<function={{ tool.name }}>", "<function="), Tag::No);
        assert_eq!(named_tag("<function=>", "<function="), Tag::No);
        assert_eq!(named_tag("<func", "<function="), Tag::Partial);
        let long = format!("<function={}", "a".repeat(MAX_NAME + 1));
        assert_eq!(named_tag(&long, "<function="), Tag::No);
    }

    #[test]
    fn escapes_json() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
        let text = "x\"\\\n\t\u{7}😀";
        assert_eq!(serde_json::from_str::<String>(&json_string(text)).ok().as_deref(), Some(text));
    }
}
