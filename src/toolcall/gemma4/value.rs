//! Gemma 4's call text, `call:NAME{key:<|"|>text<|"|>,n:42,obj:{a:<|"|>x<|"|>},arr:[…]}`,
//! read into the name and a JSON arguments object.
//!
//! From vLLM's `gemma4_utils.py` / `gemma4_tool_parser.py` (ported from Transformers'
//! `utils_gemma4`): keys are bare, strings are delimited by the `<|"|>` token (raw text, no
//! escapes), numbers, booleans, objects and arrays are written bare; `call:NAME(…)` is
//! accepted too. vLLM turns the delimiters into `"` and tries JSON, then falls back to
//! regexes that keep whatever `key:value` pairs they find; podctl reads the grammar
//! exactly instead, so a value holding `"` or `,` stays whole, and text that is not the
//! grammar is not a call (never a call with guessed arguments).

use serde_json::{Map, Value};

/// Gemma 4's string delimiter token.
pub(crate) const QUOTE: &str = "<|\"|>";

/// Deepest nesting read; deeper is not a call (bounds the recursion on adversarial input).
const MAX_DEPTH: usize = 64;

/// `call:NAME{…}` (or `(…)`) as the name and its arguments; `None` if it is not that.
pub(crate) fn parse_call(body: &str) -> Option<(&str, Value)> {
    let body = body.trim().strip_prefix("call:")?;
    let open = body.find(['{', '('])?;
    let name = body[..open].trim();
    let close = if body.as_bytes()[open] == b'{' { b'}' } else { b')' };
    let mut reader = Reader { s: body, at: open + 1 };
    let args = reader.object(close, 0)?;
    reader.ws();
    (reader.at == body.len()).then_some((name, args))
}

struct Reader<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.at..]
    }

    fn ws(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.rest().as_bytes().first() == Some(&b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// The members up to `close` (the opener already read).
    fn object(&mut self, close: u8, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut map = Map::new();
        loop {
            self.ws();
            if self.eat(close) {
                return Some(Value::Object(map));
            }
            let key = self.key()?;
            self.ws();
            if !self.eat(b':') {
                return None;
            }
            self.ws();
            let value = self.value(depth)?;
            map.insert(key, value);
            self.ws();
            if !self.eat(b',') {
                self.ws();
                return self.eat(close).then_some(Value::Object(map));
            }
        }
    }

    fn key(&mut self) -> Option<String> {
        if let Some(Value::String(s)) = self.quoted() {
            return Some(s);
        }
        let rest = self.rest();
        let end = rest.find([':', ',', '{', '}', '[', ']', '(', ')', '<', '"'])?;
        let key = rest[..end].trim();
        if key.is_empty() {
            return None;
        }
        self.at += end;
        Some(key.to_owned())
    }

    /// A `<|"|>`-delimited or JSON-quoted string at the front.
    fn quoted(&mut self) -> Option<Value> {
        let rest = self.rest();
        if let Some(after) = rest.strip_prefix(QUOTE) {
            let end = after.find(QUOTE)?;
            let text = after[..end].to_owned();
            self.at += QUOTE.len() + end + QUOTE.len();
            return Some(Value::String(text));
        }
        if rest.starts_with('"') {
            let bytes = rest.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => {
                        let value = serde_json::from_str::<Value>(&rest[..=i]).ok()?;
                        self.at += i + 1;
                        return Some(value);
                    }
                    _ => i += 1,
                }
            }
        }
        None
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if let Some(value) = self.quoted() {
            return Some(value);
        }
        if self.eat(b'{') {
            return self.object(b'}', depth + 1);
        }
        if self.eat(b'[') {
            return self.array(depth + 1);
        }
        // A bare scalar: a number, `true`, `false`, `null`, else the word as text.
        let rest = self.rest();
        let end = rest.find([',', '}', ']', ')']).unwrap_or(rest.len());
        let word = rest[..end].trim();
        if word.is_empty() || word.contains('<') {
            return None;
        }
        self.at += end;
        Some(serde_json::from_str::<Value>(word).unwrap_or_else(|_| Value::String(word.to_owned())))
    }

    fn array(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut items = Vec::new();
        loop {
            self.ws();
            if self.eat(b']') {
                return Some(Value::Array(items));
            }
            items.push(self.value(depth)?);
            self.ws();
            if !self.eat(b',') {
                self.ws();
                return self.eat(b']').then_some(Value::Array(items));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_gemma_calls() {
        let q = |s: &str| s.replace('\'', QUOTE);
        assert_eq!(
            parse_call(&q("call:f{key:'a, \"b\" }',n:42,flag:true,obj:{a:'x'},arr:['a',1],none:null}")),
            Some((
                "f",
                json!({"key": "a, \"b\" }", "n": 42, "flag": true, "obj": {"a": "x"}, "arr": ["a", 1], "none": null})
            ))
        );
        assert_eq!(parse_call("call:list_dir{}"), Some(("list_dir", json!({}))));
        assert_eq!(parse_call("call:f(path:\"a.rs\", n: 3)"), Some(("f", json!({"path": "a.rs", "n": 3}))));
        assert_eq!(parse_call("call:f{mode:fast}"), Some(("f", json!({"mode": "fast"}))));
        assert_eq!(parse_call("call:f{a:1} trailing"), None);
        assert_eq!(parse_call("call:f{a:"), None);
        assert_eq!(parse_call("f{a:1}"), None);
        let deep = format!("call:f{{a:{}}}", "[".repeat(100));
        assert_eq!(parse_call(&deep), None);
    }
}
