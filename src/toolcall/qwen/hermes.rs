//! Hermes JSON calls: `<tool_call>{"name": …, "arguments": {…}}</tool_call>` (spec section 5).
//!
//! The block ends at a `</tool_call>` outside any JSON string (so the tag inside a string
//! argument is data). A block is decided whole, at its end: it becomes calls only if it
//! decodes (strictly, else as a Python literal) to call objects; otherwise it stays text,
//! tags included. Never a call with empty or invented arguments.

use memchr::{memchr2, memchr3};
use serde_json::{Map, Value};

use super::{Qwen, State, Step};
use crate::toolcall::coerce::normalise;
use crate::toolcall::event::{Sink, UpstreamFinish};
use crate::toolcall::outcome::bump;
use crate::toolcall::pyliteral;
use crate::toolcall::scan::{self, Match};
use crate::toolcall::tools::Tools;

#[derive(Debug)]
pub(crate) struct Block {
    /// `<tool_call>` and the whitespace after it, for when the block turns out to be text.
    held: String,
    body: String,
    from_think: bool,
    /// Inside a string opened by this quote byte.
    quote: Option<u8>,
    escaped: bool,
}

impl Block {
    pub(crate) fn new(held: String, from_think: bool) -> Self {
        Self { held, body: String::new(), from_think, quote: None, escaped: false }
    }

    /// Scans `rest`; returns how far the body goes (up to a `<` outside strings, which may
    /// end the block). Also used by the special-token formats (`deepseek`, `kimi`).
    pub(crate) fn scan(&mut self, rest: &str) -> usize {
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if self.escaped {
                self.escaped = false;
                i += 1;
                continue;
            }
            if let Some(q) = self.quote {
                match memchr2(q, b'\\', &bytes[i..]) {
                    None => return bytes.len(),
                    Some(j) => {
                        i += j;
                        if bytes[i] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.quote = None;
                        }
                        i += 1;
                    }
                }
            } else {
                match memchr3(b'"', b'\'', b'<', &bytes[i..]) {
                    None => return bytes.len(),
                    Some(j) => {
                        i += j;
                        if bytes[i] == b'<' {
                            return i;
                        }
                        self.quote = Some(bytes[i]);
                        i += 1;
                    }
                }
            }
        }
        bytes.len()
    }
}

impl Qwen {
    pub(super) fn step_json(
        &mut self,
        rest: &str,
        mut block: Box<Block>,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let body = block.scan(rest);
        if body > 0 {
            block.body.push_str(&rest[..body]);
            self.state = State::Json(block);
            return Step::Advance(body);
        }
        match scan::starts(rest, "</tool_call>") {
            Match::Yes => {
                self.settle(&block, true, sink);
                Step::Advance("</tool_call>".len())
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
    fn settle(&mut self, block: &Block, closed: bool, sink: &mut impl Sink) {
        let calls = decode(&block.body, &self.tools);
        self.state = if block.from_think && calls.is_none() { State::Think } else { State::Text };
        if let Some(calls) = calls {
            for Decoded { name, args, lenient } in calls {
                let index = self.commit(&name, block.from_think, sink);
                Self::args(index, &args, sink);
                // The JSON needed a lenient decode, or the block's `</tool_call>` is missing.
                if lenient || !closed {
                    self.repaired();
                }
                self.end(index, true, sink);
            }
        } else {
            bump(&mut self.outcomes.as_text);
            let tag = if closed { "</tool_call>" } else { "" };
            let text = format!("{}{}{tag}", block.held, block.body);
            self.text(&text, block.from_think, sink);
        }
    }

    /// Output ended inside a block: under `length` it is never executable.
    pub(super) fn finish_json(&mut self, block: &Block, stop: bool, sink: &mut impl Sink) {
        if stop {
            self.settle(block, false, sink);
        }
    }
}

/// One call decoded from a block.
pub(crate) struct Decoded {
    pub(crate) name: String,
    /// The arguments as JSON text.
    pub(crate) args: String,
    /// Not strict JSON as written (several values in one block, a Python-style literal,
    /// string arguments that are a Python-style literal): counted as recovered.
    pub(crate) lenient: bool,
}

/// The calls in a block body; `None` if any part of it is not a well-formed call.
fn decode(body: &str, tools: &Tools) -> Option<Vec<Decoded>> {
    let body = body.trim();
    let (values, lenient): (Vec<Value>, bool) = if let Ok(value) = serde_json::from_str::<Value>(body) {
        (vec![value], false)
    } else {
        {
            // Several objects in one block, or a Python-style literal.
            let many: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(body).into_iter().collect();
            match many {
                Ok(values) if !values.is_empty() => (values, true),
                _ => (vec![pyliteral::parse(body)?], true),
            }
        }
    };
    let mut calls = Vec::new();
    for value in values {
        match value {
            Value::Array(items) if !items.is_empty() => {
                for item in items {
                    calls.push(call(item, tools, lenient)?);
                }
            }
            other => calls.push(call(other, tools, lenient)?),
        }
    }
    Some(calls)
}

/// One `{"name": …, "arguments": …}` object as a call, its arguments typed by the schema;
/// `None` if it is not a well-formed call.
pub(crate) fn call(value: Value, tools: &Tools, mut lenient: bool) -> Option<Decoded> {
    let Value::Object(mut object) = value else { return None };
    let Some(Value::String(name)) = object.remove("name") else { return None };
    if !scan::is_name(&name) {
        return None;
    }
    let args = object.remove("arguments").or_else(|| object.remove("parameters")).unwrap_or(Value::Null);
    let mut args = match args {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        Value::String(text) => {
            let decoded = if let Ok(value) = serde_json::from_str::<Value>(&text) {
                value
            } else {
                lenient = true;
                pyliteral::parse(&text)?
            };
            match decoded {
                Value::Object(map) => map,
                _ => return None,
            }
        }
        _ => return None,
    };
    if let Some(tool) = tools.get(&name) {
        for (key, value) in &mut args {
            if let Some(types) = tool.param(key) {
                normalise(value, types);
            }
        }
    }
    Some(Decoded { name, args: Value::Object(args).to_string(), lenient })
}
