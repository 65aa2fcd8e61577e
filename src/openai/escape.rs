//! Writing a string as a JSON string, byte for byte as serde_json writes it (`\"`, `\\`, the
//! short escapes `\b \f \n \r \t`, `\u00xx` for the other control bytes, everything else as
//! it is), without serde's serializer around it: a stream writes one or more per token.

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

/// Appends `text` to `out` as a JSON string, quotes included.
pub fn push_json_string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut plain = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPE[usize::from(byte)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[plain..at]);
        plain = at + 1;
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 15)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
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
