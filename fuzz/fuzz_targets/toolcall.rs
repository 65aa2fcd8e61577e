//! Fuzzes the tool-call engine: arbitrary text in arbitrary chunks, every format,
//! both finish reasons, both reasoning modes.
//!
//! Checks: no panic; every call's arguments are exactly one JSON object; events follow
//! the per-call order; and the chunked run gives the same events as feeding whole.
#![no_main]

use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use podctl::toolcall::{Engine, Format, OwnedEvent, Reasoning, Tools, UpstreamFinish};

static TOOLS: LazyLock<Arc<Tools>> = LazyLock::new(|| {
    let tools = serde_json::json!([
        {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object",
            "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}}}}},
        {"type": "function", "function": {"name": "write_file", "parameters": {"type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "edit", "parameters": {"type": "object",
            "properties": {"opts": {"type": "object"}, "flags": {"type": ["array", "null"]},
                "dry": {"type": "boolean"}, "ratio": {"type": "number"}}}}}
    ]);
    Arc::new(Tools::from_openai(&tools).expect("valid tools"))
});

/// Every format the engine knows.
static FORMATS: LazyLock<Vec<Format>> =
    LazyLock::new(|| Format::NAMES.iter().map(|name| name.parse().expect("a known format")).collect());

fn run(format: Format, reasoning: Reasoning, upstream: UpstreamFinish, pieces: &[&str]) -> Vec<OwnedEvent> {
    let mut engine = Engine::new(format, Arc::clone(&TOOLS), reasoning);
    let mut events: Vec<OwnedEvent> = Vec::new();
    for piece in pieces {
        engine.feed(piece, &mut events);
    }
    engine.finish(upstream, &mut events);
    // Empty pieces carry nothing: drop them so chunkings compare equal.
    let mut merged: Vec<OwnedEvent> = Vec::new();
    for event in events {
        match event {
            OwnedEvent::Content(s) | OwnedEvent::Reasoning(s) | OwnedEvent::CallArgs { fragment: s, .. }
                if s.is_empty() => {}
            other => merged.push(other),
        }
    }
    let mut out: Vec<OwnedEvent> = Vec::new();
    for event in merged {
        match (out.last_mut(), event) {
            (Some(OwnedEvent::Content(a)), OwnedEvent::Content(b))
            | (Some(OwnedEvent::Reasoning(a)), OwnedEvent::Reasoning(b)) => a.push_str(&b),
            (Some(OwnedEvent::CallArgs { index: i, fragment: a }), OwnedEvent::CallArgs { index, fragment: b })
                if *i == index =>
            {
                a.push_str(&b);
            }
            (_, event) => out.push(event),
        }
    }
    out
}

fn check_calls(events: &[OwnedEvent]) {
    let mut open: Option<(usize, String)> = None;
    let mut next = 0;
    for event in events {
        match event {
            OwnedEvent::CallStart { index, .. } => {
                assert!(open.is_none(), "a call started inside another");
                assert_eq!(*index, next, "call indexes are dense");
                open = Some((*index, String::new()));
                next += 1;
            }
            OwnedEvent::CallArgs { index, fragment } => {
                let (i, args) = open.as_mut().expect("arguments outside a call");
                assert_eq!(i, index);
                args.push_str(fragment);
            }
            OwnedEvent::CallEnd { index } | OwnedEvent::CallTruncated { index } => {
                let (i, args) = open.take().expect("end outside a call");
                assert_eq!(i, *index);
                let value: serde_json::Value = serde_json::from_str(&args)
                    .unwrap_or_else(|e| panic!("call {i} arguments are not JSON ({e}): {args}"));
                assert!(value.is_object(), "call {i} arguments are not an object: {args}");
            }
            OwnedEvent::Content(_) | OwnedEvent::Reasoning(_) => {
                assert!(open.is_none(), "text inside a call");
            }
        }
    }
    assert!(open.is_none(), "a call was never ended");
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else { return };
    let Some((&seed, rest)) = rest.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    // Bits 0-1 and 4-7 pick the format; bit 2 the finish, bit 3 the reasoning mode.
    let format = FORMATS[(usize::from(control & 3) | usize::from(control >> 4) << 2) % FORMATS.len()];
    let upstream = if control & 4 == 0 { UpstreamFinish::Stop } else { UpstreamFinish::Length };
    let reasoning = if control & 8 == 0 { Reasoning::Auto } else { Reasoning::PromptOpened };

    // Chunk sizes from a tiny LCG seeded by the input: 1..=8 characters.
    let mut state = u32::from(seed) | 1;
    let mut pieces = Vec::new();
    let mut rest = text.as_ref();
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = 1 + (state >> 16) as usize % 8;
        let end = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }

    let whole = run(format, reasoning, upstream, &[text.as_ref()]);
    check_calls(&whole);
    let chunked = run(format, reasoning, upstream, &pieces);
    assert_eq!(whole, chunked, "chunking changed the result");
});
