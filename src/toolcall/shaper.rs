//! Spec rule 9 applied while streaming: every text segment (between calls and reasoning
//! blocks) is trimmed, and segments are joined with one blank line.
//!
//! Leading whitespace of a segment is dropped as it arrives; trailing whitespace is held
//! until non-whitespace follows (then released) or the segment ends (then dropped). So the
//! streamed text equals the final text exactly, and only whitespace is ever delayed.

use super::event::{Event, Sink};

#[derive(Debug, Default)]
pub(crate) struct Shaper {
    reasoning: bool,
    held_ws: String,
    in_segment: bool,
    emitted: bool,
}

impl Shaper {
    pub(crate) fn new(reasoning: bool) -> Self {
        Self { reasoning, ..Self::default() }
    }

    /// Whether any non-whitespace text went out.
    pub(crate) fn emitted(&self) -> bool {
        self.emitted
    }

    pub(crate) fn push(&mut self, text: &str, sink: &mut impl Sink) {
        // Fast path for the common delta: mid-segment, nothing held, ends in a non-space.
        if self.in_segment
            && self.held_ws.is_empty()
            && text.as_bytes().last().is_some_and(|&b| b.is_ascii() && !is_ascii_space(b))
        {
            self.out(text, sink);
            return;
        }
        let text = if self.in_segment { text } else { text.trim_start() };
        if text.is_empty() {
            return;
        }
        let body = text.trim_end().len();
        if body == 0 {
            self.held_ws.push_str(text);
            return;
        }
        if !self.in_segment {
            self.in_segment = true;
            if self.emitted {
                self.out("\n\n", sink);
            }
        } else if !self.held_ws.is_empty() {
            let held = std::mem::take(&mut self.held_ws);
            self.out(&held, sink);
            self.held_ws = held;
            self.held_ws.clear();
        }
        self.out(&text[..body], sink);
        self.emitted = true;
        self.held_ws.push_str(&text[body..]);
    }

    /// The current segment ends (a call or reasoning block interrupts the text).
    pub(crate) fn boundary(&mut self) {
        self.held_ws.clear();
        self.in_segment = false;
    }

    fn out(&self, text: &str, sink: &mut impl Sink) {
        sink.event(if self.reasoning { Event::Reasoning(text) } else { Event::Content(text) });
    }
}

/// ASCII characters `char::is_whitespace` accepts (vertical tab and form feed included).
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolcall::OwnedEvent;

    fn shape(pieces: &[&[&str]]) -> String {
        let mut shaper = Shaper::new(false);
        let mut events: Vec<OwnedEvent> = Vec::new();
        for segment in pieces {
            for piece in *segment {
                shaper.push(piece, &mut events);
            }
            shaper.boundary();
        }
        events
            .into_iter()
            .map(|e| match e {
                OwnedEvent::Content(s) => s,
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn trims_segments_and_joins_with_blank_line() {
        assert_eq!(shape(&[&["  hello ", " world  \n"], &["\n", "  "], &["\nbye\n"]]), "hello  world\n\nbye");
        assert_eq!(shape(&[&[" ", "\n"]]), "");
        assert_eq!(shape(&[&["a", " ", "\t", "b"]]), "a \tb");
    }
}
