//! Splits a child's output into lines the way a terminal shows it: `\n` ends a line, `\r`
//! (tqdm redrawing a progress bar) replaces it. Every segment is reported so progress can
//! follow the bar, but only lines a terminal would keep are marked for the log file.

/// One piece of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    /// Ended by `\n` (kept in the log); `false` for a `\r` redraw.
    pub committed: bool,
}

/// Incremental splitter; bytes may arrive cut anywhere, even inside a UTF-8 character.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
    /// A `\r` was seen: the next byte decides between CRLF and a redraw.
    after_cr: bool,
}

/// Longest line kept whole; a longer run without a newline is cut.
const MAX_LINE: usize = 64 * 1024;

impl LineSplitter {
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Segment>) {
        for &b in bytes {
            if self.after_cr && b != b'\n' {
                self.after_cr = false;
                if !self.pending.is_empty() {
                    out.push(self.take(false));
                }
            }
            match b {
                b'\n' => {
                    self.after_cr = false;
                    out.push(self.take(true));
                }
                b'\r' => self.after_cr = true,
                _ => {
                    self.pending.push(b);
                    if self.pending.len() >= MAX_LINE {
                        out.push(self.take(true));
                    }
                }
            }
        }
    }

    /// The unterminated rest at end of stream.
    pub fn finish(&mut self) -> Option<Segment> {
        self.after_cr = false;
        (!self.pending.is_empty()).then(|| self.take(true))
    }

    fn take(&mut self, committed: bool) -> Segment {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        Segment { text, committed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<(String, bool)> {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        out.extend(s.finish());
        out.into_iter().map(|x| (x.text, x.committed)).collect()
    }

    #[test]
    fn newlines_and_redraws() {
        let got = split(&[b"INFO a\nLoading: 25%|", b"\rLoading: 50%\r", b"Loading: 100%\nlast"]);
        assert_eq!(
            got,
            [
                ("INFO a".into(), true),
                ("Loading: 25%|".into(), false),
                ("Loading: 50%".into(), false),
                ("Loading: 100%".into(), true),
                ("last".into(), true)
            ]
        );
    }

    #[test]
    fn crlf_and_utf8_cut_between_chunks() {
        let got = split(&[b"caf\xc3", b"\xa9\r\n"]);
        assert_eq!(got, [("café".into(), true)]);
        assert_eq!(
            split(&[b"a\r", b"\r\nb\r"]),
            [("a".into(), false), (String::new(), true), ("b".into(), true)]
        );
    }
}
