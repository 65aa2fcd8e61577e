use serde_json::value::RawValue;

use super::*;
use crate::openai::chunk_scan::variants;

/// The fast reading, when there is one, is serde_json's (which must then read the answer).
fn agrees(text: &str) -> bool {
    let Some(fast) = completion(text) else { return true };
    match serde_json::from_str::<Completion<'_>>(text) {
        Ok(slow) => format!("{fast:?}") == format!("{slow:?}"),
        Err(_) => false,
    }
}

/// Whole answers as vLLM writes them (without a tool parser, with its reasoning parser,
/// stopped by a stop string or token), and one with whitespace everywhere JSON allows it.
const VLLM: &[&str] = &[
    r#"{"id":"chatcmpl-bbd27cfe6e5316fce89932e2ca3216b2","object":"chat.completion","created":1796306960,"model":"Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?","refusal":null,"annotations":null,"audio":null,"function_call":null,"tool_calls":[],"reasoning_content":null},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"service_tier":null,"system_fingerprint":null,"usage":{"prompt_tokens":10,"total_tokens":18,"completion_tokens":8,"prompt_tokens_details":null},"prompt_logprobs":null,"kv_transfer_params":null}"#,
    r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"<tool_call>\n<function=write_file>\n<parameter=content>\nfn main() {\n\t\"x\" \u00e9\ud83d\ude00 \\\n}\n</parameter>\n</function>\n</tool_call>","reasoning":"think first"},"finish_reason":"stop","stop_reason":151645}],"usage":null}"#,
    r#"{"choices":[{"index":1,"message":{"content":null,"reasoning_content":"only thought"},"finish_reason":"length"},{"index":0,"message":null,"finish_reason":null,"stop_reason":"</end>"}],"created":null}"#,
    r#"{"choices":null}"#,
    r#"{"object":"chat.completion","choices":[],"usage":{"prompt_tokens":3012,"total_tokens":3520,"completion_tokens":508},"n":[-1.5,0,0.02,123456789012345678,true,false,{"a":[{}]}]}"#,
    " {\n  \"created\" : 7 ,\r\n\t\"choices\" : [ { \"index\" : 0 , \"message\" : { \"content\" : \"a\" , \"tool_calls\" : [ ] } , \"stop_reason\" : null } ] , \"x\" : [ ] , \"y\" : { } } \n",
];

#[test]
fn vllm_answers_are_read_fast_and_as_serde_json_reads_them() {
    for text in VLLM {
        assert!(completion(text).is_some(), "not read fast: {text}");
        assert!(agrees(text), "{text}");
    }
    let first = completion(VLLM[0]).expect("read");
    let choice = &first.choices.as_deref().expect("choices")[0];
    let message = choice.message.as_ref().expect("message");
    assert_eq!(message.content.as_deref(), Some("Hello! How can I help you today?"));
    assert!(matches!(message.content, Some(Cow::Borrowed(_))), "plain text is borrowed");
    assert_eq!(message.tool_calls.as_deref().map(<[_]>::len), Some(0));
    assert_eq!((first.created, choice.finish_reason.as_deref()), (Some(1_796_306_960), Some("stop")));
    assert!(first.usage.expect("usage").get().starts_with(r#"{"prompt_tokens":10"#));
    let escaped = completion(VLLM[1]).expect("read");
    let message = escaped.choices.as_deref().expect("choices")[0].message.as_ref().expect("message");
    assert!(message.content.as_deref().expect("text").contains("fn main() {\n\t\"x\" é😀 \\\n}"));
    assert_eq!(message.reasoning(), Some("think first"));
    assert_eq!(
        escaped.choices.as_deref().expect("choices")[0].stop_reason.map(RawValue::get),
        Some("151645")
    );
}

#[test]
fn what_it_is_not_sure_of_is_left_to_serde_json() {
    for text in [
        // serde_json refuses these (a duplicate field, another type): it says why.
        r#"{"choices":[],"choices":[]}"#,
        r#"{"created":1,"created":2}"#,
        r#"{"usage":null,"usage":{}}"#,
        r#"{"choices":[{"index":0,"index":1}]}"#,
        r#"{"choices":[{"message":{"content":"a","content":"b"}}]}"#,
        r#"{"created":-1}"#,
        r#"{"created":1.5}"#,
        r#"{"created":"1"}"#,
        r#"{"choices":{}}"#,
        r#"{"choices":[1]}"#,
        r#"{"choices":[{"message":"text"}]}"#,
        r#"{"choices":[{"finish_reason":1}]}"#,
        r#"{"choices":[{"message":{"content":["a"]}}]}"#,
        // serde_json reads these: left to it all the same.
        r#"{"choices":[{"message":{"tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]}}]}"#,
        r#"{"created":12345678901234567890}"#,
        r#"{"cho\u0069ces":[]}"#,
        "[[],1,null]",
        // Not JSON.
        r#"{"choices":[]} trailing"#,
        r#"{"choices":[],}"#,
        r#"{"a":01}"#,
        r#"{"a":"tab	inside"}"#,
        "",
    ] {
        assert!(completion(text).is_none(), "read fast: {text}");
    }
}

#[test]
fn an_answer_that_is_not_utf8_is_refused_as_serde_json_refuses_it() {
    let bytes = b"{\"choices\":[{\"message\":{\"content\":\"\xff\"}}]}";
    let error = read_completion(bytes).expect_err("not UTF-8");
    let slow = serde_json::from_slice::<Completion<'_>>(bytes).expect_err("not UTF-8");
    assert_eq!(error.to_string(), slow.to_string());
}

#[test]
fn every_cut_and_every_changed_byte_reads_as_serde_json_reads_it() {
    for text in VLLM {
        for variant in variants(text) {
            assert!(agrees(&variant), "{variant}");
        }
    }
}
