//! The `Transfer-Encoding: chunked` body decoder: bytes in, in any split; the data of every
//! chunk they complete or continue out, gathered. Pure.
//!
//! vLLM writes one chunk per stream event, so one network read holds many: the data of all
//! of them comes out as one piece, and the client gets one write for what one read brought.

use bytes::{Buf, BytesMut};

/// Longest chunk-size line (size and extensions) or trailer line accepted.
const MAX_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex size; `digits` so far.
    Size {
        size: u64,
        digits: u8,
    },
    /// After the size: extensions, up to the line's end.
    Extension {
        size: u64,
        len: usize,
    },
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// After a chunk's data: its `\r\n`.
    DataEnd {
        cr: bool,
    },
    /// After the last (zero) chunk: trailer lines up to an empty one. `len` of the current.
    Trailer {
        len: usize,
    },
    Done,
}

/// What the body does that HTTP/1.1 does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid chunked body: {0}")]
pub(crate) struct ChunkError(&'static str);

#[derive(Debug)]
pub(crate) struct Chunked {
    state: State,
}

impl Default for Chunked {
    fn default() -> Self {
        Self { state: State::Size { size: 0, digits: 0 } }
    }
}

impl Chunked {
    /// The last chunk and the trailer have come: the body is over.
    pub(crate) fn done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes what `input` holds (consuming it, up to the body's end), appending chunk data
    /// to `out`. Bytes after the body's end stay in `input`.
    pub(crate) fn decode(&mut self, input: &mut BytesMut, out: &mut BytesMut) -> Result<(), ChunkError> {
        // Read where the bytes lie, and consumed from `input` once (on an error too: the
        // stream is over then).
        let mut at = 0;
        let result = self.decode_from(input, &mut at, out);
        input.advance(at);
        result
    }

    fn decode_from(&mut self, input: &[u8], at: &mut usize, out: &mut BytesMut) -> Result<(), ChunkError> {
        while let Some(&byte) = input.get(*at) {
            match self.state {
                State::Data(left) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len() - *at);
                    out.extend_from_slice(&input[*at..*at + n]);
                    *at += n;
                    let left = left - n as u64;
                    self.state = if left == 0 { State::DataEnd { cr: false } } else { State::Data(left) };
                }
                State::Done => return Ok(()),
                // The usual framing where it lies whole: a size line of hex digits and
                // `\r\n`, and the `\r\n` after the data. Anything else goes byte by byte.
                State::Size { digits: 0, .. } if let Some((size, len)) = size_line(&input[*at..]) => {
                    *at += len;
                    self.state = Self::after_size(size);
                }
                State::DataEnd { cr: false } if input[*at..].starts_with(b"\r\n") => {
                    *at += 2;
                    self.state = State::Size { size: 0, digits: 0 };
                }
                _ => {
                    *at += 1;
                    self.state = self.step(byte)?;
                }
            }
        }
        Ok(())
    }

    /// The framing bytes, one at a time (they are a few per chunk).
    fn step(&self, byte: u8) -> Result<State, ChunkError> {
        Ok(match self.state {
            State::Size { size, digits } => match byte {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    if digits >= 15 {
                        return Err(ChunkError("chunk size too large"));
                    }
                    let value = u64::from((byte as char).to_digit(16).unwrap_or(0));
                    State::Size { size: size * 16 + value, digits: digits + 1 }
                }
                _ if digits == 0 => return Err(ChunkError("chunk size missing")),
                b'\n' => Self::after_size(size),
                _ => State::Extension { size, len: 1 },
            },
            State::Extension { size, len } => match byte {
                b'\n' => Self::after_size(size),
                _ if len >= MAX_LINE => return Err(ChunkError("chunk extension too long")),
                _ => State::Extension { size, len: len + 1 },
            },
            State::DataEnd { cr } => match byte {
                b'\r' if !cr => State::DataEnd { cr: true },
                b'\n' => State::Size { size: 0, digits: 0 },
                _ => return Err(ChunkError("chunk data not followed by a line end")),
            },
            State::Trailer { len } => match byte {
                b'\n' if len == 0 => State::Done,
                b'\n' => State::Trailer { len: 0 },
                // A `\r` before the `\n` does not make a line non-empty.
                b'\r' if len == 0 => State::Trailer { len: 0 },
                _ if len >= MAX_LINE => return Err(ChunkError("trailer line too long")),
                _ => State::Trailer { len: len + 1 },
            },
            State::Data(_) | State::Done => unreachable!("handled by decode"),
        })
    }

    fn after_size(size: u64) -> State {
        if size == 0 { State::Trailer { len: 0 } } else { State::Data(size) }
    }
}

/// A whole chunk-size line at the start of `bytes`: up to 15 hex digits and `\r\n`, no
/// extension. The size, and the line's length.
fn size_line(bytes: &[u8]) -> Option<(u64, usize)> {
    let digits = bytes.iter().take(16).take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 15 || bytes.get(digits..digits + 2)? != b"\r\n" {
        return None;
    }
    let size = bytes[..digits]
        .iter()
        .fold(0, |size, &b| size * 16 + u64::from(char::from(b).to_digit(16).unwrap_or(0)));
    Some((size, digits + 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `wire` fed in pieces of `split` bytes; the data, and what followed the body.
    fn decode(wire: &[u8], split: usize) -> Result<(Vec<u8>, bool, Vec<u8>), ChunkError> {
        let mut decoder = Chunked::default();
        let mut out = BytesMut::new();
        let mut input = BytesMut::new();
        for piece in wire.chunks(split) {
            input.extend_from_slice(piece);
            decoder.decode(&mut input, &mut out)?;
        }
        Ok((out.to_vec(), decoder.done(), input.to_vec()))
    }

    #[test]
    fn chunks_in_any_split_give_the_same_data() {
        let wire = b"5\r\nhello\r\n1;name=value\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        for split in 1..wire.len() {
            let (data, done, rest) = decode(wire, split).expect("valid");
            assert_eq!(data, b"hello 0123456789", "split {split}");
            assert!(done);
            assert_eq!(rest, b"NEXT", "split {split}");
        }
    }

    #[test]
    fn bare_line_feeds_are_accepted() {
        let (data, done, _) = decode(b"3\nabc\n0\n\n", 4).expect("valid");
        assert_eq!((data.as_slice(), done), (&b"abc"[..], true));
    }

    #[test]
    fn an_unfinished_body_is_not_done() {
        let (data, done, _) = decode(b"5\r\nhel", 100).expect("valid so far");
        assert_eq!((data.as_slice(), done), (&b"hel"[..], false));
        let (_, done, _) = decode(b"5\r\nhello\r\n0\r\n", 100).expect("valid so far");
        assert!(!done, "the trailer's empty line has not come");
    }

    proptest::proptest! {
        /// Read whole (the framing where it lies) or a byte at a time (the state machine),
        /// any run of framing pieces decodes, or fails, the same.
        #[test]
        fn the_whole_line_reading_is_the_byte_by_byte_one(
            tokens in proptest::collection::vec(
                proptest::sample::select(vec![
                    &b"3\r\n"[..], b"abc", b"\r\n", b"\n", b"\r", b"0\r\n", b"A\r\n", b"0123456789",
                    b"fffffffffffffff\r\n", b"ffffffffffffffff\r\n", b"1;x\r\n", b"3 \r\n", b"g", b"00003\r\n",
                    b"10\r\n", b"0123456789abcdef",
                ]),
                0..12,
            ),
        ) {
            let wire = tokens.concat();
            let whole = decode(&wire, wire.len().max(1));
            let bytewise = decode(&wire, 1);
            proptest::prop_assert_eq!(whole.map_err(|e| e.0), bytewise.map_err(|e| e.0));
        }
    }

    #[test]
    fn malformed_framing_is_an_error() {
        for wire in [&b"\r\n"[..], b"zz\r\n", b"3\r\nabcX", b"fffffffffffffffff\r\n"] {
            assert!(decode(wire, 100).is_err(), "{}", String::from_utf8_lossy(wire));
        }
        let long = [b"1;".as_slice(), &[b'x'; MAX_LINE + 1]].concat();
        assert!(decode(&long, 100).is_err());
    }
}
