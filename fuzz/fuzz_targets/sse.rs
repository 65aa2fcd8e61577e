//! Fuzzes the upstream SSE decoder: arbitrary bytes in arbitrary chunkings, under the
//! proxy's limit and under a tiny one (so the too-large path is reached).
//!
//! Checks: no panic; the chunked run gives the same events and the same outcome (error or
//! not) as feeding whole; memory stays bounded (what the decoder holds after a successful
//! feed is at most two limits: one line and one event).
#![no_main]

use libfuzzer_sys::fuzz_target;
use podctl::proxy::fuzzing::SseDecoder;

/// Events, and whether the stream failed, feeding `pieces` until the first error.
fn run(limit: usize, pieces: &[&[u8]]) -> (Vec<String>, bool) {
    let mut decoder = SseDecoder::with_limit(limit);
    let mut events = Vec::new();
    for piece in pieces {
        if decoder.feed(piece, &mut events).is_err() {
            return (events, true);
        }
        assert!(decoder.buffered() <= 2 * limit, "{} bytes held, limit {limit}", decoder.buffered());
    }
    (events, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, bytes)) = data.split_first() else { return };
    let limit = if control & 0x80 == 0 { SseDecoder::MAX_EVENT } else { 1 + usize::from(control & 0x3f) };
    // Chunk sizes from a tiny LCG seeded by the control byte: 1..=16 bytes, cutting lines,
    // `\r\n` pairs and UTF-8 characters anywhere.
    let mut state = u32::from(control) | 1;
    let mut pieces = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (1 + (state >> 16) as usize % 16).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        pieces.push(piece);
        rest = tail;
    }
    let whole = run(limit, &[bytes]);
    let chunked = run(limit, &pieces);
    assert_eq!(whole, chunked, "chunking changed the result");
    let single: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(whole, run(limit, &single), "byte-at-a-time changed the result");
});
