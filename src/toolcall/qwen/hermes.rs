//! Hermes JSON calls: `<tool_call>{"name": …, "arguments": {…}}</tool_call>` (spec section 5).
//!
//! The block ends at a `</tool_call>` outside any JSON string (so the tag inside a string
//! argument is data). A block is decided whole, at its end: it becomes calls only if it
//! decodes (strictly, else as a Python literal) to call objects; otherwise it stays text,
//! tags included. Never a call with empty or invented arguments.

use serde_json::Value;

use super::{Qwen, State};
use crate::toolcall::core::Attempt;
use crate::toolcall::event::Sink;
use crate::toolcall::json::{Decoded, StringScan, decode_call};
use crate::toolcall::machine::{Eof, Step};
use crate::toolcall::pyliteral;
use crate::toolcall::scan::{self, Match};
use crate::toolcall::tools::Tools;

#[derive(Debug)]
pub(super) struct Block {
    /// `<tool_call>` and the whitespace after it, for when the block turns out to be text.
    attempt: Attempt,
    body: String,
    scan: StringScan,
}

impl Block {
    pub(super) fn new(attempt: Attempt) -> Self {
        Self { attempt, body: String::new(), scan: StringScan::default() }
    }
}

impl Qwen {
    pub(super) fn step_json(
        &mut self,
        rest: &str,
        mut block: Box<Block>,
        eof: Eof,
        sink: &mut impl Sink,
    ) -> Step {
        let body = block.scan.scan(rest);
        if body > 0 {
            block.body.push_str(&rest[..body]);
            self.state = State::Json(block);
            return Step::Advance(body);
        }
        match scan::starts(rest, self.tags.close) {
            Match::Yes => {
                self.settle_block(&block, true, sink);
                Step::Advance(self.tags.close.len())
            }
            Match::Partial if eof.is_none() => {
                self.state = State::Json(block);
                Step::NeedMore
            }
            Match::Partial | Match::No => {
                block.body.push('<');
                self.state = State::Json(block);
                Step::Advance(1)
            }
        }
    }

    /// Settles a block: calls if it decodes, else its text goes back to the channel it
    /// came from. `closed` says whether its `</tool_call>` was seen; output that ended
    /// inside a block under `stop` means the model dropped that closer.
    fn settle_block(&mut self, block: &Block, closed: bool, sink: &mut impl Sink) {
        let calls = decode(&block.body, &self.core.tools);
        let from_think = block.attempt.from_think;
        self.state = if from_think && calls.is_none() { State::Think } else { State::Text };
        if let Some(calls) = calls {
            for Decoded { name, args, lenient } in calls {
                // The JSON needed a lenient decode, or the block's `</tool_call>` is missing.
                self.core.whole_call(&name, None, &args, from_think, lenient || !closed, sink);
            }
        } else {
            let tag = if closed { self.tags.close } else { "" };
            let text = format!("{}{}{tag}", block.attempt.held, block.body);
            self.core.give_up(&text, from_think, sink);
        }
    }

    /// Output ended inside a block: under `length` it is never executable.
    pub(super) fn finish_json(&mut self, block: &Block, stop: bool, sink: &mut impl Sink) {
        if stop {
            self.settle_block(block, false, sink);
        }
    }
}

/// The calls in a block body; `None` if any part of it is not a well-formed call.
fn decode(body: &str, tools: &Tools) -> Option<Vec<Decoded>> {
    let body = body.trim();
    let (values, lenient): (Vec<Value>, bool) = if let Ok(value) = serde_json::from_str::<Value>(body) {
        (vec![value], false)
    } else {
        // Several objects in one block, or a Python-style literal.
        let many: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(body).into_iter().collect();
        match many {
            Ok(values) if !values.is_empty() => (values, true),
            _ => (vec![pyliteral::parse(body)?], true),
        }
    };
    let mut calls = Vec::new();
    for value in values {
        match value {
            Value::Array(items) if !items.is_empty() => {
                for item in items {
                    calls.push(decode_call(item, tools, lenient)?);
                }
            }
            other => calls.push(decode_call(other, tools, lenient)?),
        }
    }
    Some(calls)
}
