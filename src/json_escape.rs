//! Writing a string as a JSON string, byte for byte as serde_json writes it (`\"`, `\\`, the
//! short escapes `\b \f \n \r \t`, `\u00xx` for the other control bytes, everything else as
//! it is), without serde's serializer around it: a stream writes one or more per token, and
//! the tool-call parsers write the arguments they build with it. A leaf: it uses nothing of
//! the crate, so both `openai` and `toolcall` can.

/// What each byte becomes: 0 for itself, else the letter after the backslash (`u` for
/// `\u00xx`).
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// `\u0000` … `\u001f`: the control bytes without a short escape.
static CONTROL: [&str; 32] = [
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007", "\\u0008",
    "\\u0009", "\\u000a", "\\u000b", "\\u000c", "\\u000d", "\\u000e", "\\u000f", "\\u0010", "\\u0011",
    "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019", "\\u001a",
    "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
];

/// Where escaped text goes: bytes on their way to a socket, or a `String` (the tool-call
/// parsers' arguments).
pub trait JsonOut {
    fn put(&mut self, text: &str);
    /// Appends one ASCII byte (a quote).
    fn put_ascii(&mut self, byte: u8);
    /// Room for at least `more` bytes.
    fn room(&mut self, more: usize);
}

impl JsonOut for Vec<u8> {
    fn put(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }
    fn put_ascii(&mut self, byte: u8) {
        self.push(byte);
    }
    fn room(&mut self, more: usize) {
        self.reserve(more);
    }
}

impl JsonOut for String {
    fn put(&mut self, text: &str) {
        self.push_str(text);
    }
    fn put_ascii(&mut self, byte: u8) {
        debug_assert!(byte.is_ascii());
        self.push(char::from(byte));
    }
    fn room(&mut self, more: usize) {
        self.reserve(more);
    }
}

/// Appends `text` to `out` escaped for the inside of a JSON string (no quotes).
pub fn push_json_escaped<O: JsonOut + ?Sized>(out: &mut O, text: &str) {
    out.room(text.len());
    escape_into(out, text);
}

/// [`push_json_escaped`] with the room already made.
fn escape_into<O: JsonOut + ?Sized>(out: &mut O, text: &str) {
    let bytes = text.as_bytes();
    let mut plain = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPE[usize::from(byte)];
        if escape == 0 {
            continue;
        }
        // Every escaped byte is ASCII: `at` is a character boundary.
        out.put(&text[plain..at]);
        plain = at + 1;
        out.put(match escape {
            b'u' => CONTROL[usize::from(byte)],
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'b' => "\\b",
            b't' => "\\t",
            b'n' => "\\n",
            b'f' => "\\f",
            _ => "\\r",
        });
    }
    out.put(&text[plain..]);
}

/// Appends `text` to `out` as a JSON string, quotes included.
pub fn push_json_string<O: JsonOut + ?Sized>(out: &mut O, text: &str) {
    out.room(text.len() + 2);
    out.put_ascii(b'"');
    escape_into(out, text);
    out.put_ascii(b'"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn written(text: &str) -> String {
        let mut out = Vec::new();
        push_json_string(&mut out, text);
        String::from_utf8(out).expect("UTF-8 in, UTF-8 out")
    }

    #[test]
    fn every_escape_is_serde_jsons() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        for text in ["", "word", "a \"b\" \\ c\n\t\r\u{8}\u{c}\u{1}\u{1f}\u{7f}", "é😀\u{2028}", &every_ascii]
        {
            assert_eq!(written(text), serde_json::to_string(text).expect("a string"), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn any_text_is_written_as_serde_json_writes_it(text in any::<String>()) {
            prop_assert_eq!(written(&text), serde_json::to_string(&text).expect("a string"));
        }
    }
}
