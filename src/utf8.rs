//! The UTF-8 check of a request body or a stream event: simdutf8's, several times std's
//! speed on the kilobytes of a request and the hundreds of bytes of a token's event, with
//! std's error (where the bad bytes are) when the bytes are not UTF-8. A leaf.

/// `bytes` as a `str`, or std's error for them.
pub fn from_utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_std_reads() {
        let long = "é😀 word ".repeat(40);
        let mut cut = long.as_bytes().to_vec();
        cut.truncate(cut.len() - 3);
        let samples: [&[u8]; 6] = [b"", b"plain", long.as_bytes(), &cut, b"a\xffb", b"\xed\xa0\x80"];
        for bytes in samples {
            assert_eq!(from_utf8(bytes), std::str::from_utf8(bytes), "{bytes:?}");
        }
    }
}
