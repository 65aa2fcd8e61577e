//! Types a raw parameter value by its schema (spec section 4), never failing: when no
//! allowed type fits, the raw text is kept as a string so the client's own validation can
//! name the problem.

use serde_json::Value;

use super::pyliteral;
use super::scan::json_string;
use super::schema::Types;

/// Appends the JSON text of `raw` typed as `types` to `out`.
pub(crate) fn coerce_into(raw: &str, types: Types, out: &mut String) {
    if types.is_pure_string() {
        crate::json_escape::push_json_string(out, raw);
        return;
    }
    let text = raw.trim();
    if types.contains(Types::NULL) && (text == "null" || text == "None") {
        out.push_str("null");
    } else if let Some(int) = types.contains(Types::INTEGER).then(|| integer(text)).flatten() {
        out.push_str(&int);
    } else if let Some(num) = types.contains(Types::NUMBER).then(|| number(text)).flatten() {
        out.push_str(&num);
    } else if let Some(b) = types.contains(Types::BOOLEAN).then(|| boolean(text)).flatten() {
        out.push_str(if b { "true" } else { "false" });
    } else if let Some(value) = container(text, types) {
        out.push_str(&value.to_string());
    } else {
        // `string` allowed, or nothing fits: the value as written.
        crate::json_escape::push_json_string(out, raw);
    }
}

/// Brings an already-decoded JSON value (Hermes arguments) in line with its schema: a
/// string where the schema wants something else (`"10"` for an integer) is typed like raw
/// text, and an integral float (`30.0`) becomes an integer where only integers are allowed.
pub(crate) fn normalise(value: &mut Value, types: Types) {
    if types.is_empty() {
        return;
    }
    let retyped = match &*value {
        Value::String(text) if !types.contains(Types::STRING) => {
            let mut json = String::new();
            coerce_into(text, types, &mut json);
            serde_json::from_str(&json).ok()
        }
        Value::Number(n)
            if n.is_f64() && types.contains(Types::INTEGER) && !types.contains(Types::NUMBER) =>
        {
            integer(&n.to_string()).and_then(|int| serde_json::from_str(&int).ok())
        }
        _ => None,
    };
    if let Some(retyped) = retyped {
        *value = retyped;
    }
}

/// `42`, `-7`, `+3`, `007`; also `30.0` or `3e2` when the number is integral.
fn integer(text: &str) -> Option<String> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'-' => ("-", &text[1..]),
        b'+' => ("", &text[1..]),
        _ => ("", text),
    };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let trimmed = digits.trim_start_matches('0');
        return Some(if trimmed.is_empty() { "0".to_owned() } else { format!("{sign}{trimmed}") });
    }
    let value = float(text)?;
    // Integral and exactly representable: 2^53.
    #[allow(clippy::cast_possible_truncation)]
    (value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0).then(|| format!("{}", value as i64))
}

/// A finite number; JSON number text is kept as written (no precision lost).
fn number(text: &str) -> Option<String> {
    if is_json_number(text) {
        return Some(text.to_owned());
    }
    let value = float(text)?;
    serde_json::Number::from_f64(value).map(|n| n.to_string())
}

fn float(text: &str) -> Option<f64> {
    // Rust accepts `inf`, `NaN`, `infinity`: none of them is a JSON number.
    if text.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn boolean(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// JSON, then a Python literal, then JSON text inside a JSON string: whichever gives an
/// object or array the schema allows.
fn container(text: &str, types: Types) -> Option<Value> {
    if !(types.contains(Types::OBJECT) || types.contains(Types::ARRAY)) {
        return None;
    }
    let fits = |v: &Value| {
        (v.is_object() && types.contains(Types::OBJECT)) || (v.is_array() && types.contains(Types::ARRAY))
    };
    let first = serde_json::from_str::<Value>(text).ok().or_else(|| pyliteral::parse(text));
    match first {
        Some(v) if fits(&v) => Some(v),
        Some(Value::String(inner)) => {
            let inner = inner.trim();
            serde_json::from_str::<Value>(inner).ok().or_else(|| pyliteral::parse(inner)).filter(fits)
        }
        _ => None,
    }
}

/// Strict JSON number grammar: `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`.
fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Used by the XML path for names: `"key": ` with the key escaped.
pub(crate) fn key_prefix(first: bool, key: &str) -> String {
    format!("{}{}: ", if first { "{" } else { ", " }, json_string(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(raw: &str, types: Types) -> String {
        let mut out = String::new();
        coerce_into(raw, types, &mut out);
        out
    }

    #[test]
    fn strings_stay_verbatim() {
        for raw in ["null", "42", "03106", "{\"a\": 1}", " padded \n"] {
            assert_eq!(typed(raw, Types::STRING), json_string(raw));
            assert_eq!(typed(raw, Types::NONE), json_string(raw));
        }
    }

    #[test]
    fn scalars() {
        let int_null = Types::INTEGER.union(Types::NULL);
        assert_eq!(typed(" 42\n", Types::INTEGER), "42");
        assert_eq!(typed("30.0", Types::INTEGER), "30");
        assert_eq!(typed("007", Types::INTEGER), "7");
        assert_eq!(typed("-0", Types::INTEGER), "0");
        assert_eq!(typed("1.5", Types::INTEGER), "\"1.5\"");
        assert_eq!(typed("None", int_null), "null");
        assert_eq!(typed("null", int_null), "null");
        assert_eq!(typed("30", Types::NUMBER), "30");
        assert_eq!(typed("2.50", Types::NUMBER), "2.50");
        assert_eq!(typed(".5", Types::NUMBER), "0.5");
        assert_eq!(typed("inf", Types::NUMBER), "\"inf\"");
        assert_eq!(typed("NaN", Types::NUMBER), "\"NaN\"");
        assert_eq!(typed("True", Types::BOOLEAN), "true");
        assert_eq!(typed("FALSE", Types::BOOLEAN), "false");
        assert_eq!(typed("yes", Types::BOOLEAN), "\"yes\"");
        assert_eq!(typed("42", Types::INTEGER.union(Types::STRING)), "42");
        assert_eq!(typed("abc", Types::INTEGER.union(Types::STRING)), "\"abc\"");
    }

    #[test]
    fn containers() {
        assert_eq!(typed("{\"k\": [1, 2]}", Types::OBJECT), "{\"k\":[1,2]}");
        assert_eq!(
            typed("{'k': 'v', 'b': True, 'n': None}", Types::OBJECT),
            "{\"k\":\"v\",\"b\":true,\"n\":null}"
        );
        assert_eq!(typed("\"{\\\"a\\\": 1}\"", Types::OBJECT), "{\"a\":1}");
        assert_eq!(typed("[1, 'two']", Types::ARRAY), "[1,\"two\"]");
        assert_eq!(typed("[1]", Types::OBJECT), "\"[1]\"");
        assert_eq!(typed("not json", Types::OBJECT), "\"not json\"");
    }

    #[test]
    fn normalises_decoded_values() {
        let mut v = serde_json::json!("10");
        normalise(&mut v, Types::INTEGER);
        assert_eq!(v, serde_json::json!(10));
        let mut v = serde_json::json!(30.0);
        normalise(&mut v, Types::INTEGER);
        assert_eq!(v, serde_json::json!(30));
        let mut v = serde_json::json!(30.5);
        normalise(&mut v, Types::INTEGER);
        assert_eq!(v, serde_json::json!(30.5));
        let mut v = serde_json::json!("10");
        normalise(&mut v, Types::INTEGER.union(Types::STRING));
        assert_eq!(v, serde_json::json!("10"));
        let mut v = serde_json::json!(2.0);
        normalise(&mut v, Types::NUMBER);
        assert_eq!(v, serde_json::json!(2.0));
    }

    #[test]
    fn json_number_grammar() {
        for ok in ["0", "-0", "12", "1.5", "1e5", "-2.5E-3"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in ["", "-", "01", "1.", ".5", "+1", "1e", "0x10"] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
