//! A small parser for Python literals (`{'k': 'v'}`, `True`, `None`, tuples), the form
//! models fall back to when they "write JSON" in Python style. Used only after strict JSON
//! failed.

use serde_json::{Map, Number, Value};

/// Deeper nesting than this is refused (no stack overflow on hostile input).
const MAX_DEPTH: usize = 128;

/// Parses a whole Python literal into JSON; `None` when it is not one.
pub(crate) fn parse(text: &str) -> Option<Value> {
    let mut p = Parser { s: text.as_bytes(), src: text, i: 0 };
    let value = p.value(0)?;
    p.ws();
    (p.i == p.s.len()).then_some(value)
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.s.get(self.i)? {
            b'{' => self.dict(depth),
            b'[' => self.seq(b']', depth),
            b'(' => self.seq(b')', depth),
            b'\'' | b'"' => self.string().map(Value::String),
            b'r' | b'u' | b'R' | b'U' if matches!(self.s.get(self.i + 1), Some(b'\'' | b'"')) => {
                let raw = matches!(self.s[self.i], b'r' | b'R');
                self.i += 1;
                if raw { self.raw_string() } else { self.string() }.map(Value::String)
            }
            b'-' | b'+' | b'0'..=b'9' | b'.' => self.number(),
            _ => self.word(),
        }
    }

    fn dict(&mut self, depth: usize) -> Option<Value> {
        self.i += 1;
        let mut map = Map::new();
        loop {
            if self.eat(b'}') {
                return Some(Value::Object(map));
            }
            let key = match self.value(depth + 1)? {
                Value::String(s) => s,
                Value::Null => "None".to_owned(),
                other => other.to_string(),
            };
            if !self.eat(b':') {
                return None;
            }
            let value = self.value(depth + 1)?;
            map.insert(key, value);
            if !self.eat(b',') {
                return self.eat(b'}').then_some(Value::Object(map));
            }
        }
    }

    fn seq(&mut self, close: u8, depth: usize) -> Option<Value> {
        self.i += 1;
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(Value::Array(items));
            }
            items.push(self.value(depth + 1)?);
            if !self.eat(b',') {
                return self.eat(close).then_some(Value::Array(items));
            }
        }
    }

    fn quote(&mut self) -> Option<(u8, bool)> {
        let q = *self.s.get(self.i)?;
        let triple = self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..]);
        self.i += if triple { 3 } else { 1 };
        Some((q, triple))
    }

    fn at_close(&self, q: u8, triple: bool) -> bool {
        if triple {
            self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..])
        } else {
            self.s.get(self.i) == Some(&q)
        }
    }

    fn raw_string(&mut self) -> Option<String> {
        let (q, triple) = self.quote()?;
        let start = self.i;
        while !self.at_close(q, triple) {
            if !triple && self.s.get(self.i)? == &b'\n' {
                return None;
            }
            self.i += if self.s.get(self.i)? == &b'\\' { 2 } else { 1 };
        }
        let out = self.src.get(start..self.i)?.to_owned();
        self.i += if triple { 3 } else { 1 };
        Some(out)
    }

    fn string(&mut self) -> Option<String> {
        let (q, triple) = self.quote()?;
        let mut out = String::new();
        let mut start = self.i;
        loop {
            if self.at_close(q, triple) {
                out.push_str(self.src.get(start..self.i)?);
                self.i += if triple { 3 } else { 1 };
                return Some(out);
            }
            match *self.s.get(self.i)? {
                b'\n' if !triple => return None,
                b'\\' => {
                    out.push_str(self.src.get(start..self.i)?);
                    self.i += 1;
                    self.escape(&mut out)?;
                    start = self.i;
                }
                _ => self.i += 1,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Option<()> {
        let c = *self.s.get(self.i)?;
        self.i += 1;
        let simple = match c {
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'0' => '\0',
            b'\\' => '\\',
            b'\'' => '\'',
            b'"' => '"',
            b'\n' => return Some(()),
            b'x' => return self.hex(2, out),
            b'u' => return self.hex(4, out),
            b'U' => return self.hex(8, out),
            _ => {
                // Unknown escapes keep the backslash, as Python does.
                out.push('\\');
                self.i -= 1;
                return Some(());
            }
        };
        out.push(simple);
        Some(())
    }

    fn hex(&mut self, n: usize, out: &mut String) -> Option<()> {
        let digits = self.src.get(self.i..self.i + n)?;
        let code = u32::from_str_radix(digits, 16).ok()?;
        out.push(char::from_u32(code)?);
        self.i += n;
        Some(())
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
        {
            self.i += 1;
        }
        let text: String = self.src.get(start..self.i)?.chars().filter(|&c| c != '_').collect();
        if let Ok(i) = text.parse::<i64>() {
            return Some(Value::Number(i.into()));
        }
        if text.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) {
            return None;
        }
        Number::from_f64(text.parse::<f64>().ok()?).map(Value::Number)
    }

    fn word(&mut self) -> Option<Value> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_alphabetic) {
            self.i += 1;
        }
        match self.src.get(start..self.i)? {
            "True" | "true" => Some(Value::Bool(true)),
            "False" | "false" => Some(Value::Bool(false)),
            "None" | "null" => Some(Value::Null),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_literals() {
        assert_eq!(
            parse("{'a': 'x', \"b\": True, 'c': None, 'd': (1, 2.5), 'e': [False,]}"),
            Some(json!({"a": "x", "b": true, "c": null, "d": [1, 2.5], "e": [false]}))
        );
        assert_eq!(parse("'it\\'s\\n'"), Some(json!("it's\n")));
        assert_eq!(parse("r'C:\\dir'"), Some(json!("C:\\dir")));
        assert_eq!(parse("'''multi\nline'''"), Some(json!("multi\nline")));
        assert_eq!(parse("{1: 'one'}"), Some(json!({"1": "one"})));
        assert_eq!(parse("-3"), Some(json!(-3)));
    }

    #[test]
    fn rejects_non_literals() {
        for bad in ["{'a': }", "{'a' 1}", "[1, 2", "foo", "'open", "{'a': 1} trailing", "float('inf')", "nan"]
        {
            assert_eq!(parse(bad), None, "{bad}");
        }
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        assert_eq!(parse(&deep), None);
    }
}
