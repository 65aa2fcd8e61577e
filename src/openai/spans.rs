//! JSON values checked and split by the scanner that reads vLLM's stream events instead of
//! serde_json, for the request path: a chat request's `messages` (most of its bytes, every
//! message passed on as the client wrote it) and its other top-level values, which the proxy
//! only needs to know are valid before it copies them upstream.
//!
//! Both check what serde_json checks when it reads a value as a `RawValue` (strings without
//! control characters, escapes JSON has, numbers by JSON's grammar, brackets that match) or
//! answer `None` when the scanner is not sure (a number it does not read itself, nesting past
//! its limit): the caller then asks serde_json, which decides and words the error.

use super::chunk_scan::Scan;

/// The texts of the elements of the array `text` is, each without the whitespace around it
/// (as a `RawValue` of it reads); `None` when `text` is not an array, not valid, or not sure.
pub fn array_elements(text: &str) -> Option<Vec<&str>> {
    let mut scan = Scan::new(text);
    if scan.peek()? != b'[' {
        return None;
    }
    let mut elements = Vec::with_capacity(8);
    scan.array(|scan| {
        scan.peek()?;
        let start = scan.at;
        scan.skip()?;
        elements.push(&text[start..scan.at]);
        Some(())
    })?;
    scan.at_end().then_some(elements)
}

/// `Some(())` when `text` is one valid JSON value; `None` when it is not, or when the scanner
/// cannot say.
pub fn valid(text: &str) -> Option<()> {
    let mut scan = Scan::new(text);
    scan.skip()?;
    scan.at_end().then_some(())
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;

    use super::*;
    use crate::openai::chunk_scan::variants;

    /// The fast answer, when there is one, is serde_json's.
    fn agrees(text: &str) -> bool {
        let elements = array_elements(text);
        let by_serde = serde_json::from_str::<Vec<&RawValue>>(text).ok();
        let elements_agree = match (&elements, &by_serde) {
            (None, _) => true,
            (Some(fast), Some(slow)) => fast.iter().copied().eq(slow.iter().map(|r| r.get())),
            (Some(_), None) => false,
        };
        let valid_agrees = valid(text).is_none() || serde_json::from_str::<&RawValue>(text).is_ok();
        elements_agree && valid_agrees
    }

    const MESSAGES: &str = r#" [ {"role":"system","content":"You are a coding agent.\n\n## Rules\n- Use \"tools\" \\ paths like C:\\work\n- é \u00e9 \ud83d\ude00 \/ \b\f\r\t"},
        {"role":"user","content":[{"type":"text","text":"fix it"},{"type":"image_url","image_url":{"url":"data:,"}}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"src/main.rs\"}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"fn main() {}"} , 1, -0.5, true, false, null, "text", [], {} ] "#;

    #[test]
    fn a_conversation_splits_as_serde_json_reads_it() {
        let elements = array_elements(MESSAGES).expect("read fast");
        assert_eq!(elements.len(), 12);
        assert!(elements[0].starts_with(r#"{"role":"system""#) && elements[0].ends_with("\\t\"}"));
        assert_eq!(elements[3], r#"{"role":"tool","tool_call_id":"call_1","content":"fn main() {}"}"#);
        assert!(agrees(MESSAGES));
        assert_eq!(valid(MESSAGES), Some(()));
        // serde_json skips a lone surrogate as it skips any `\u` with four hex digits.
        assert!(serde_json::from_str::<&RawValue>(r#""\ud800""#).is_ok());
        for scalar in
            [r#""\ud800""#, "\"qwen\"", " true ", "4096", "-0.25", "null", "{\"include_usage\":true}"]
        {
            assert_eq!(valid(scalar), Some(()), "{scalar}");
        }
    }

    #[test]
    fn what_is_not_an_array_or_not_json_gets_no_fast_answer() {
        for text in [
            "{}",
            "\"[]\"",
            "",
            "[",
            "[1,]",
            "[1 2]",
            "[\"\\x\"]",
            "[\"\\u12\"]",
            "[\"a\tb\"]",
            "[01]",
            "[] []",
        ] {
            assert!(array_elements(text).is_none(), "{text}");
        }
        for text in ["", "[", "{\"a\"}", "\"\\q\"", "1e5", "tru", "1 2"] {
            assert!(valid(text).is_none(), "{text}");
        }
    }

    #[test]
    fn every_cut_and_every_changed_byte_agrees_with_serde_json() {
        for variant in variants(MESSAGES) {
            assert!(agrees(&variant), "{variant}");
        }
    }
}
