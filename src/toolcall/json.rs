//! JSON calls, for the formats that write a call's arguments (or the whole call) as JSON:
//! finding where the JSON ends without parsing it ([`StringScan`], [`Brackets`]: markers and
//! brackets inside strings are data), and decoding it once whole ([`decode_value`],
//! [`decode_call`], [`decode_args`]): strict JSON, else a Python-style literal (counted as
//! lenient), arguments typed by the request's schema. Never a call with invalid arguments.

use memchr::{memchr2, memchr3};
use serde_json::{Map, Value};

use super::coerce::normalise;
use super::core::Core;
use super::event::Sink;
use super::pyliteral;
use super::scan;
use super::tools::Tools;

/// Where strings (in either quote: Python-style literals use `'`) begin and end, escapes
/// included, across chunk boundaries.
#[derive(Debug, Default)]
struct Quotes {
    /// Inside a string opened by this quote byte.
    quote: Option<u8>,
    escaped: bool,
}

/// What [`Quotes::step`] found at a position.
enum Strings {
    /// Not inside a string: the byte there is the caller's to read.
    Outside,
    /// Inside one: its text up to here was skipped, the scan goes on from this index.
    Skipped(usize),
    /// The input ended inside the string.
    Ended,
}

impl Quotes {
    /// One step at `bytes[i]` (`i` in range): past an escape, or past the string's text up
    /// to its closing quote or next backslash, or nothing when outside strings. Inlined into
    /// the scanners' loops, which run for every byte of a JSON call.
    #[allow(
        clippy::inline_always,
        reason = "the scanners run it for every string of a JSON call; as a call it measured 3% more instructions (callgrind)"
    )]
    #[inline(always)]
    fn step(&mut self, bytes: &[u8], i: usize) -> Strings {
        if self.escaped {
            self.escaped = false;
            return Strings::Skipped(i + 1);
        }
        let Some(q) = self.quote else { return Strings::Outside };
        let Some(j) = memchr2(q, b'\\', &bytes[i..]) else { return Strings::Ended };
        let at = i + j;
        if bytes[at] == b'\\' {
            self.escaped = true;
        } else {
            self.quote = None;
        }
        Strings::Skipped(at + 1)
    }
}

/// Scans JSON (or a Python-style literal) for the next `<` outside strings, where a closing
/// marker may begin.
#[derive(Debug, Default)]
pub(crate) struct StringScan {
    quotes: Quotes,
}

impl StringScan {
    /// Scans `rest`; returns how far the JSON goes (up to a `<` outside strings, which may
    /// end it).
    pub(crate) fn scan(&mut self, rest: &str) -> usize {
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match self.quotes.step(bytes, i) {
                Strings::Skipped(next) => i = next,
                Strings::Ended => return bytes.len(),
                Strings::Outside => match memchr3(b'"', b'\'', b'<', &bytes[i..]) {
                    None => return bytes.len(),
                    Some(j) => {
                        i += j;
                        if bytes[i] == b'<' {
                            return i;
                        }
                        self.quotes.quote = Some(bytes[i]);
                        i += 1;
                    }
                },
            }
        }
        bytes.len()
    }
}

/// A JSON-string-aware bracket counter: finds where the object or array that starts the
/// scanned text ends.
#[derive(Debug, Default)]
pub(crate) struct Brackets {
    depth: u32,
    quotes: Quotes,
}

impl Brackets {
    /// Scans `rest`; returns the length up to and including the bracket that closes the
    /// outermost one, or `None` when `rest` ends first.
    pub(crate) fn scan(&mut self, rest: &str) -> Option<usize> {
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match self.quotes.step(bytes, i) {
                Strings::Skipped(next) => {
                    i = next;
                    continue;
                }
                Strings::Ended => return None,
                Strings::Outside => {}
            }
            match bytes[i] {
                b'"' | b'\'' => self.quotes.quote = Some(bytes[i]),
                b'{' | b'[' => self.depth = self.depth.saturating_add(1),
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        None
    }
}

/// A JSON value held whole until its closing bracket (formats without a closing marker),
/// with the markup before it, for when it turns out to be text.
#[derive(Debug)]
pub(crate) struct JsonBlock {
    pub(crate) held: String,
    pub(crate) body: String,
    pub(crate) from_think: bool,
    scan: Brackets,
}

impl JsonBlock {
    pub(crate) fn new(held: String, from_think: bool) -> Self {
        Self { held, body: String::new(), from_think, scan: Brackets::default() }
    }

    /// Takes the block's text from the front of `rest`: how many bytes, and whether the
    /// block is whole with them.
    pub(crate) fn take(&mut self, rest: &str) -> (usize, bool) {
        if let Some(end) = self.scan.scan(rest) {
            self.body.push_str(&rest[..end]);
            (end, true)
        } else {
            self.body.push_str(rest);
            (rest.len(), false)
        }
    }

    /// Not a call after all: the markup and the JSON go back to the channel they came from.
    pub(crate) fn give_up(&self, core: &mut Core, sink: &mut impl Sink) {
        core.give_up(&self.held, self.from_think, sink);
        core.text(&self.body, self.from_think, sink);
    }
}

/// One call decoded from JSON.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) name: String,
    /// The arguments as JSON object text.
    pub(crate) args: String,
    /// Not strict JSON as written (a Python-style literal, arguments as a string holding
    /// one, several values in one block): counted as recovered.
    pub(crate) lenient: bool,
}

/// Strict JSON, else a Python-style literal (`lenient`).
pub(crate) fn decode_value(text: &str) -> Option<(Value, bool)> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => Some((value, false)),
        Err(_) => pyliteral::parse(text.trim()).map(|value| (value, true)),
    }
}

/// `{"name": …, "arguments"|"parameters": …}` as a call (spec section 5's rules); `None`
/// if it is not a well-formed call.
pub(crate) fn decode_call(value: Value, tools: &Tools, lenient: bool) -> Option<Decoded> {
    let Value::Object(mut object) = value else { return None };
    let Some(Value::String(name)) = object.remove("name") else { return None };
    let args = object.remove("arguments").or_else(|| object.remove("parameters")).unwrap_or(Value::Null);
    decode_args(name, args, tools, lenient)
}

/// A call's arguments value as a schema-typed JSON object; `None` if it is not an object
/// (or a string holding one, or nothing) or the name is not an identifier.
pub(crate) fn decode_args(name: String, args: Value, tools: &Tools, mut lenient: bool) -> Option<Decoded> {
    if !scan::is_name(&name) {
        return None;
    }
    let mut args: Map<String, Value> = match args {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        Value::String(text) => {
            let (decoded, lax) = decode_value(&text)?;
            lenient |= lax;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_scan_stops_at_a_lt_outside_strings() {
        let mut scan = StringScan::default();
        assert_eq!(scan.scan(r#"{"a": "<x>", 'b': '\'<'} <end"#), 25);
        let mut split = StringScan::default();
        // A string left open at a chunk's end stays open in the next one.
        assert_eq!(split.scan(r#"{"a": "x\"#), 9);
        assert_eq!(split.scan(r#""<" }<"#), 5);
    }

    #[test]
    fn brackets_find_the_end_of_the_outermost_value() {
        let mut scan = Brackets::default();
        assert_eq!(scan.scan(r#"{"a": ["}", {"b": ']'}]} tail"#), Some(24));
        let mut split = Brackets::default();
        assert_eq!(split.scan(r#"[{"x": 1}"#), None);
        assert_eq!(split.scan("] more"), Some(1));
    }

    #[test]
    fn decodes_calls_strictly_or_leniently() {
        let tools = Tools::none();
        let strict = decode_call(serde_json::json!({"name": "f", "arguments": {"a": 1}}), &tools, false);
        let strict = strict.expect("a call");
        assert_eq!((strict.name.as_str(), strict.args.as_str(), strict.lenient), ("f", r#"{"a":1}"#, false));
        let python = decode_args("f".to_owned(), Value::String("{'a': True}".to_owned()), &tools, false);
        let python = python.expect("a call");
        assert_eq!((python.args.as_str(), python.lenient), (r#"{"a":true}"#, true));
        assert!(decode_args("not a name".to_owned(), Value::Null, &tools, false).is_none());
        assert!(decode_args("f".to_owned(), serde_json::json!([1]), &tools, false).is_none());
    }
}
