//! The text handling both readers of vLLM's log need (`logline` for phases and numbers,
//! `failure` for causes): colour codes removed, and the numbers vLLM prints (`438,272`,
//! `1,234.5`, `-9`) found after their label and parsed. Pure; a line without colour codes
//! is not copied. A leaf: it uses neither reader.

use std::borrow::Cow;

/// The line without ANSI escape sequences (`ESC [ … letter`); borrowed when it has none.
pub(super) fn strip_ansi(line: &str) -> Cow<'_, str> {
    if memchr::memchr(0x1b, line.as_bytes()).is_none() {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        // CSI: ESC [ parameters… final byte in @..~; any other escape: drop ESC and one char.
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    Cow::Owned(out)
}

/// The number (digits, `.`, `,`, a leading `-`) that follows `needle`, spaces skipped; a
/// trailing `.` or `,` (end of a sentence) is not part of it.
pub(super) fn number_after<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
    let rest = text[text.find(needle)? + needle.len()..].trim_start();
    let end = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || c == ',' || (c == '-' && i == 0)))
        .map_or(rest.len(), |(i, _)| i);
    let number = rest[..end].trim_end_matches(['.', ',']);
    (!number.is_empty() && number != "-").then_some(number)
}

/// `438,272` → 438272.
pub(super) fn parse_u64(number: &str) -> Option<u64> {
    number.replace(',', "").parse().ok()
}

/// `1,234.5` → 1234.5.
pub(super) fn parse_f64(number: &str) -> Option<f64> {
    number.replace(',', "").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_after_stops_at_the_end_of_a_sentence() {
        assert_eq!(number_after("length is 65536.", "length is"), Some("65536"));
        assert_eq!(number_after("code: -9)", "code:"), Some("-9"));
        assert_eq!(number_after("x: 1,234.5 GiB", "x:"), Some("1,234.5"));
        assert_eq!(number_after("x: none", "x:"), None);
        assert_eq!(parse_u64("438,272"), Some(438_272));
    }

    #[test]
    fn colour_codes_are_removed_and_plain_lines_borrowed() {
        assert_eq!(strip_ansi("\x1b[32mINFO\x1b[0m ready"), "INFO ready");
        assert!(matches!(strip_ansi("plain"), Cow::Borrowed("plain")));
        assert_eq!(parse_f64("1,234.5"), Some(1234.5));
        assert_eq!(parse_f64("-"), None);
    }
}
