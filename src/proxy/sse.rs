//! Server-sent events: the incremental decoder for upstream streams (bytes in, in any split:
//! a network read may end mid-line or mid-character; `data` payloads out), and the encoding
//! of the client's events.
//!
//! Follows the SSE framing: lines end in `\n`, `\r\n` or `\r`; `data:` lines of one event
//! are joined with `\n`; a blank line ends the event; comments (`:`) and other fields
//! (`event:`, `id:`, `retry:`) are ignored. Memory is bounded by the longest event.

/// Events longer than this are an upstream fault, not a reason to grow without bound.
pub(crate) const MAX_EVENT: usize = 64 << 20;

#[derive(Debug)]
pub(crate) struct SseDecoder {
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// `data` of the current event (its buffer kept from event to event).
    data: String,
    /// A `data:` line of the current event came (`data` may be empty).
    has_data: bool,
    /// The previous byte was `\r`: a following `\n` belongs to the same line end.
    after_cr: bool,
    /// The longest line or event accepted ([`MAX_EVENT`]; smaller in tests and fuzzing).
    max_event: usize,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::with_limit(MAX_EVENT)
    }
}

/// What the stream did that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SseError {
    #[error("upstream sent an event that is not UTF-8")]
    NotUtf8,
    #[error("upstream sent an event larger than {0} bytes")]
    TooLarge(usize),
}

impl SseDecoder {
    /// A decoder that refuses lines and events longer than `max_event` bytes.
    pub(crate) fn with_limit(max_event: usize) -> Self {
        Self { line: Vec::new(), data: String::new(), has_data: false, after_cr: false, max_event }
    }

    /// Bytes held for the unfinished line and event.
    pub(crate) fn buffered(&self) -> usize {
        self.line.len() + self.data.len()
    }

    /// Decodes `bytes`, pushing each completed event's data to `out`.
    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut impl Events) -> Result<(), SseError> {
        let mut rest = bytes;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        }
        // Line ends are found with memchr rather than byte by byte: a read holds whole events
        // far more often than not, and their lines are decoded where they lie.
        while let Some(i) = memchr::memchr2(b'\n', b'\r', rest) {
            let cr = rest[i] == b'\r';
            self.end_line(&rest[..i], out)?;
            rest = &rest[i + 1..];
            if cr {
                match rest.strip_prefix(b"\n") {
                    Some(after) => rest = after,
                    // The `\n` of a `\r\n` may come with the next read.
                    None => self.after_cr = rest.is_empty(),
                }
            }
        }
        self.line.extend_from_slice(rest);
        if self.line.len() > self.max_event {
            return Err(SseError::TooLarge(self.max_event));
        }
        Ok(())
    }

    /// Ends the line whose last bytes are `tail` (after any held from earlier reads).
    fn end_line(&mut self, tail: &[u8], out: &mut impl Events) -> Result<(), SseError> {
        if self.line.is_empty() {
            return self.line_done(tail, out);
        }
        let mut line = std::mem::take(&mut self.line);
        line.extend_from_slice(tail);
        let result = self.line_done(&line, out);
        line.clear();
        self.line = line;
        result
    }

    fn line_done(&mut self, line: &[u8], out: &mut impl Events) -> Result<(), SseError> {
        // Checked on ended lines too, not only on the unfinished one a read stops in: the
        // same stream fails the same way however the network happened to split it.
        if line.len() > self.max_event {
            return Err(SseError::TooLarge(self.max_event));
        }
        if line.is_empty() {
            if std::mem::take(&mut self.has_data) {
                out.event(&self.data);
                self.data.clear();
            }
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(0) => return Ok(()), // comment
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        if field == b"data" {
            let value = crate::utf8::from_utf8(value).map_err(|_| SseError::NotUtf8)?;
            if std::mem::replace(&mut self.has_data, true) {
                self.data.push('\n');
            }
            self.data.push_str(value);
            if self.data.len() > self.max_event {
                return Err(SseError::TooLarge(self.max_event));
            }
        }
        Ok(())
    }
}

/// Where a decoder's events go.
pub(crate) trait Events {
    /// One completed event's data.
    fn event(&mut self, data: &str);
}

impl Events for Vec<String> {
    fn event(&mut self, data: &str) {
        self.push(data.to_owned());
    }
}

/// Decoded events waiting for their turn, in one buffer kept for the whole stream: a stream
/// decodes hundreds of events, and a `String` each was an allocation each.
#[derive(Debug, Default)]
pub(crate) struct Payloads {
    /// The events' data, one after another.
    text: String,
    /// Where each event ends in `text`.
    ends: Vec<usize>,
    /// How many have been taken.
    taken: usize,
}

impl Payloads {
    /// Every event has been taken.
    pub(crate) fn is_empty(&self) -> bool {
        self.taken == self.ends.len()
    }

    /// The next event not yet taken.
    pub(crate) fn peek(&self) -> Option<&str> {
        let end = *self.ends.get(self.taken)?;
        let start = self.taken.checked_sub(1).map_or(0, |before| self.ends[before]);
        Some(&self.text[start..end])
    }

    /// Takes the next event (the buffer is emptied, for reuse, once all are taken).
    pub(crate) fn take(&mut self) {
        self.taken = (self.taken + 1).min(self.ends.len());
        if self.is_empty() {
            self.text.clear();
            self.ends.clear();
            self.taken = 0;
        }
    }
}

impl Events for Payloads {
    fn event(&mut self, data: &str) {
        self.text.push_str(data);
        self.ends.push(self.text.len());
    }
}

/// Appends one `data:` event.
pub(crate) fn push_event(out: &mut Vec<u8>, payload: &str) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(payload.as_bytes());
    out.extend_from_slice(b"\n\n");
}

/// Appends one `data:` event whose payload `write` appends, straight into `out`. On an
/// error (serialising failed; the wire types never do) `out` is left as it was.
pub(crate) fn push_event_with<E>(
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let start = out.len();
    out.extend_from_slice(b"data: ");
    if let Err(e) = write(out) {
        out.truncate(start);
        return Err(e);
    }
    out.extend_from_slice(b"\n\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in(pieces: &[&[u8]]) -> Vec<String> {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        for piece in pieces {
            decoder.feed(piece, &mut out).expect("valid stream");
        }
        out
    }

    #[test]
    fn events_in_any_split() {
        let stream = "data: {\"a\":1}\n\n: keep-alive\n\nevent: x\ndata: two\ndata: lines\n\ndata:[DONE]\n\n"
            .as_bytes();
        let want = vec!["{\"a\":1}".to_owned(), "two\nlines".to_owned(), "[DONE]".to_owned()];
        assert_eq!(decode_in(&[stream]), want);
        for split in 0..stream.len() {
            assert_eq!(decode_in(&[&stream[..split], &stream[split..]]), want, "split at {split}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(decode_in(&bytes), want);
    }

    #[test]
    fn crlf_and_cr_line_ends_and_split_characters() {
        assert_eq!(decode_in(&[b"data: x\r\n\r\ndata: y\r\rdata: z\n\n"]), ["x", "y", "z"]);
        assert_eq!(decode_in(&[b"data: x\r", b"\n", b"\r\n"]), ["x"]);
        let e = "data: é😀\n\n".as_bytes();
        assert_eq!(decode_in(&[&e[..7], &e[7..]]), ["é😀"]);
    }

    #[test]
    fn payloads_are_taken_in_order_and_the_buffer_reused() {
        let mut payloads = Payloads::default();
        assert!(payloads.is_empty());
        assert_eq!(payloads.peek(), None);
        let mut decoder = SseDecoder::default();
        decoder.feed(b"data: one\n\ndata: \n\ndata: th", &mut payloads).expect("valid");
        assert_eq!(payloads.peek(), Some("one"));
        payloads.take();
        assert_eq!(payloads.peek(), Some(""));
        decoder.feed(b"ree\n\n", &mut payloads).expect("valid");
        payloads.take();
        assert_eq!(payloads.peek(), Some("three"));
        payloads.take();
        assert!(payloads.is_empty() && payloads.text.is_empty() && payloads.ends.is_empty());
        payloads.take();
        decoder.feed(b"data: four\n\n", &mut payloads).expect("valid");
        assert_eq!(payloads.peek(), Some("four"));
    }

    #[test]
    fn partial_and_invalid() {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        decoder.feed(b"data: {\"a\"", &mut out).expect("ok");
        assert!(out.is_empty());
        assert_eq!(SseDecoder::default().feed(b"data: \xff\n", &mut out), Err(SseError::NotUtf8));
    }

    /// A line over the limit fails whether it arrives whole or in pieces (it used to pass
    /// when one read held all of it).
    #[test]
    fn long_lines_fail_in_any_split() {
        let stream = b"data: ok\n\n: a comment longer than the limit\ndata: x\n\n";
        let mut whole = Vec::new();
        assert_eq!(SseDecoder::with_limit(16).feed(stream, &mut whole), Err(SseError::TooLarge(16)));
        assert_eq!(whole, ["ok"]);
        for size in 1..stream.len() {
            let mut decoder = SseDecoder::with_limit(16);
            let mut out = Vec::new();
            let result = stream.chunks(size).try_for_each(|piece| decoder.feed(piece, &mut out));
            assert_eq!(
                (result, out.as_slice()),
                (Err(SseError::TooLarge(16)), &["ok".to_owned()][..]),
                "{size}"
            );
        }
    }

    /// The decoder as it was before it searched with memchr, byte by byte: the new one must
    /// decode every stream, and fail on it, the same way.
    struct Reference {
        line: Vec<u8>,
        data: Option<String>,
        after_cr: bool,
        max_event: usize,
    }

    impl Reference {
        fn feed(&mut self, bytes: &[u8], out: &mut Vec<String>) -> Result<(), SseError> {
            let mut start = 0;
            for (i, &b) in bytes.iter().enumerate() {
                match b {
                    b'\n' if self.after_cr => {
                        self.after_cr = false;
                        start = i + 1;
                    }
                    b'\n' | b'\r' => {
                        self.line.extend_from_slice(&bytes[start..i]);
                        self.after_cr = b == b'\r';
                        start = i + 1;
                        self.end_line(out)?;
                    }
                    _ => self.after_cr = false,
                }
            }
            self.line.extend_from_slice(&bytes[start..]);
            if self.line.len() > self.max_event {
                return Err(SseError::TooLarge(self.max_event));
            }
            Ok(())
        }

        fn end_line(&mut self, out: &mut Vec<String>) -> Result<(), SseError> {
            let line = std::mem::take(&mut self.line);
            // Checked on ended lines too, not only on the unfinished one a read stops in: the
            // same stream fails the same way however the network happened to split it.
            if line.len() > self.max_event {
                return Err(SseError::TooLarge(self.max_event));
            }
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    out.push(data);
                }
                return Ok(());
            }
            let (field, value) = match line.iter().position(|&b| b == b':') {
                Some(0) => return Ok(()), // comment
                Some(i) => {
                    let value = &line[i + 1..];
                    (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
                }
                None => (&line[..], &[][..]),
            };
            if field == b"data" {
                let value = std::str::from_utf8(value).map_err(|_| SseError::NotUtf8)?;
                match &mut self.data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                        if data.len() > self.max_event {
                            return Err(SseError::TooLarge(self.max_event));
                        }
                    }
                    None => self.data = Some(value.to_owned()),
                }
            }
            Ok(())
        }
    }

    fn decode_all(pieces: &[&[u8]], max_event: usize) -> (Vec<String>, Result<(), SseError>, usize) {
        let mut decoder = SseDecoder::with_limit(max_event);
        let mut out = Vec::new();
        let result = pieces.iter().try_for_each(|p| decoder.feed(p, &mut out));
        let buffered = if result.is_ok() { decoder.buffered() } else { 0 };
        (out, result, buffered)
    }

    fn reference_all(pieces: &[&[u8]], max_event: usize) -> (Vec<String>, Result<(), SseError>, usize) {
        let mut decoder = Reference { line: Vec::new(), data: None, after_cr: false, max_event };
        let mut out = Vec::new();
        let result = pieces.iter().try_for_each(|p| decoder.feed(p, &mut out));
        let buffered = if result.is_ok() {
            decoder.line.len() + decoder.data.as_ref().map_or(0, String::len)
        } else {
            0
        };
        (out, result, buffered)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn decodes_as_the_byte_by_byte_decoder_did(
            tokens in proptest::collection::vec(
                proptest::sample::select(vec![
                    &b"data: "[..], b"data:", b"x", b"yz", b"\r", b"\n", b"\r\n", b": c", b"\xc3\xa9", b"\xff",
                    b"event: e",
                ]),
                0..40,
            ),
            cuts in proptest::collection::vec(0usize..200, 0..8),
            max_event in proptest::sample::select(vec![8usize, 64, MAX_EVENT]),
        ) {
            let stream = tokens.concat();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.sort_unstable();
            let mut pieces: Vec<&[u8]> = Vec::new();
            let mut at = 0;
            for cut in cuts.into_iter().chain([stream.len()]) {
                pieces.push(&stream[at..cut]);
                at = cut;
            }
            proptest::prop_assert_eq!(decode_all(&pieces, max_event), reference_all(&pieces, max_event));
        }
    }
}
