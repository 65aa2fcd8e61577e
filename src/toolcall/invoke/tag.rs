//! The opening tags of the invoke-block formats, read with their attributes:
//! `<invoke name="NAME">` (MiniMax), `<｜DSML｜parameter name="K" string="false">` (DSML),
//! `<|open|>argument key="K" type="integer"<|sep|>` (Kimi-K3's XTML).
//!
//! A dialect names the tag's prefix, what ends it (`>` or XTML's `<|sep|>`), the attribute
//! that holds the name, and the attribute that says whether the value is a raw string.

use super::super::scan::{self, MAX_NAME, Match};

/// Longest tag accepted (name and attributes); longer is text, which bounds the lookahead.
const MAX_TAG: usize = MAX_NAME + 64;

/// How one kind of opening tag is written.
#[derive(Debug)]
pub(crate) struct TagSyntax {
    /// Up to the attributes: `<invoke`, `<|open|>call`.
    pub(crate) prefix: &'static str,
    /// What ends the tag: `>` or `<|sep|>`.
    pub(crate) end: &'static str,
    /// The attribute holding the name: `name`, `tool`, `key`.
    pub(crate) name: &'static str,
    /// The attribute saying whether the value is raw text, and its value when it is
    /// (DSML `string="true"`, XTML `type="string"`); any other value marks JSON.
    pub(crate) string: Option<(&'static str, &'static str)>,
}

/// A tag with attributes at the front of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opened<'a> {
    Complete {
        name: &'a str,
        /// The markup says the value is JSON, not raw text.
        json: bool,
        len: usize,
    },
    Partial,
    No,
}

impl TagSyntax {
    /// This tag at the front of `rest`.
    pub(crate) fn open<'a>(&self, rest: &'a str) -> Opened<'a> {
        match scan::starts(rest, self.prefix) {
            Match::No => return Opened::No,
            Match::Partial => return Opened::Partial,
            Match::Yes => {}
        }
        let after = &rest.as_bytes()[self.prefix.len()..];
        let Some(at) = after.iter().take(MAX_TAG).position(|&b| matches!(b, b'>' | b'<' | b'\n')) else {
            return if after.len() >= MAX_TAG { Opened::No } else { Opened::Partial };
        };
        let end_len = if self.end == ">" {
            if after[at] != b'>' {
                return Opened::No;
            }
            1
        } else {
            match scan::starts(&rest[self.prefix.len() + at..], self.end) {
                Match::Yes => self.end.len(),
                Match::Partial => return Opened::Partial,
                Match::No => return Opened::No,
            }
        };
        match self.attributes(&rest[self.prefix.len()..self.prefix.len() + at]) {
            Some((name, json)) => Opened::Complete { name, json, len: self.prefix.len() + at + end_len },
            None => Opened::No,
        }
    }

    /// The name (an identifier) and whether the value is JSON, from ` name="x" string="true"`.
    /// Attribute values are quoted (`"` or `'`) or bare; an escaped `&quot;`/`&amp;` (XTML
    /// escapes them) cannot occur in an identifier, so names never need unescaping.
    fn attributes<'a>(&self, inner: &'a str) -> Option<(&'a str, bool)> {
        if !inner.starts_with([' ', '\t']) {
            return None;
        }
        let mut rest = inner.trim_start();
        let (mut name, mut json) = (None, false);
        while !rest.is_empty() {
            let (key, after) = rest.split_once('=')?;
            let after = after.trim_start();
            let (value, tail) = match after.as_bytes().first() {
                Some(&quote @ (b'"' | b'\'')) => {
                    let close = after[1..].find(char::from(quote))?;
                    (&after[1..=close], &after[close + 2..])
                }
                _ => after.split_at(after.find([' ', '\t']).unwrap_or(after.len())),
            };
            let key = key.trim();
            if key == self.name {
                name = Some(value.trim());
            } else if let Some((attr, raw)) = self.string
                && key == attr
            {
                json = value.trim() != raw;
            }
            rest = tail.trim_start();
        }
        name.filter(|n| scan::is_name(n)).map(|n| (n, json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVOKE: TagSyntax = TagSyntax { prefix: "<invoke", end: ">", name: "name", string: None };
    const DSML: TagSyntax =
        TagSyntax { prefix: "<p", end: ">", name: "name", string: Some(("string", "true")) };
    const XTML: TagSyntax = TagSyntax {
        prefix: "<|open|>argument",
        end: "<|sep|>",
        name: "key",
        string: Some(("type", "string")),
    };

    #[test]
    fn reads_tag_attributes() {
        let tag = |s| INVOKE.open(s);
        assert_eq!(
            tag("<invoke name=\"read_file\">x"),
            Opened::Complete { name: "read_file", json: false, len: 25 }
        );
        assert_eq!(tag("<invoke name='a'>"), Opened::Complete { name: "a", json: false, len: 17 });
        assert_eq!(tag("<invoke name=a>"), Opened::Complete { name: "a", json: false, len: 15 });
        assert_eq!(tag("<invoke name=\"a b\">"), Opened::No);
        assert_eq!(tag("<invoke name=\"{{ x }}\">"), Opened::No);
        assert_eq!(tag("<invoker>"), Opened::No);
        assert_eq!(tag("<invoke name=\"read"), Opened::Partial);
        assert_eq!(tag("<inv"), Opened::Partial);
        assert_eq!(tag("<invoke name=\"a\"\n>"), Opened::No);
        let long = format!("<invoke name=\"{}", "a".repeat(MAX_TAG));
        assert_eq!(tag(&long), Opened::No);
    }

    #[test]
    fn reads_the_string_attribute() {
        assert_eq!(
            DSML.open("<p name=\"days\" string=\"false\">5"),
            Opened::Complete { name: "days", json: true, len: 30 }
        );
        assert_eq!(
            DSML.open("<p name=\"days\" string=\"true\">5"),
            Opened::Complete { name: "days", json: false, len: 29 }
        );
        assert_eq!(DSML.open("<p name=\"days\">5"), Opened::Complete { name: "days", json: false, len: 15 });
    }

    #[test]
    fn reads_xtml_tags_ended_by_sep() {
        let s = "<|open|>argument key=\"n\" type=\"integer\"<|sep|>5";
        assert_eq!(XTML.open(s), Opened::Complete { name: "n", json: true, len: s.len() - 1 });
        let s = "<|open|>argument key=\"path\" type=\"string\"<|sep|>";
        assert_eq!(XTML.open(s), Opened::Complete { name: "path", json: false, len: s.len() });
        assert_eq!(XTML.open("<|open|>argument key=\"n\"<|se"), Opened::Partial);
        assert_eq!(XTML.open("<|open|>argument key=\"n\"<|x|>"), Opened::No);
        assert_eq!(XTML.open("<|open|>argument key=\"n\">"), Opened::No);
    }
}
