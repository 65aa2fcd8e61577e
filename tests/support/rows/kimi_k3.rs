//! Table rows for `kimi_k3` (Kimi-K3's XTML): the invoke-block machine's rules with XTML's
//! tags, the `response` channel unwrapped into content, `think` as reasoning.

use std::fmt::Write as _;

use podctl::toolcall::Format;
use serde_json::json;

use crate::support::{A, Case, K3};

const ONLY_K3: &[Format] = &[K3];
const ONLY_A: &[Format] = &[A];

/// Calls for [`xtml`]: a name and its `(key, type, value)` arguments.
type XtmlCalls<'a> = &'a [(&'a str, &'a [(&'a str, &'a str, &'a str)])];

/// A tools channel as Kimi-K3 writes it.
pub(crate) fn xtml(calls: XtmlCalls<'_>) -> String {
    let mut s = "<|open|>tools<|sep|>".to_owned();
    for (i, (name, args)) in calls.iter().enumerate() {
        let _ = write!(s, "<|open|>call tool=\"{name}\" index=\"{}\"<|sep|>", i + 1);
        for (key, ty, value) in *args {
            let _ = write!(
                s,
                "<|open|>argument key=\"{key}\" type=\"{ty}\"<|sep|>{value}<|close|>argument<|sep|>"
            );
        }
        s.push_str("<|close|>call<|sep|>");
    }
    s.push_str("<|close|>tools<|sep|>");
    s
}

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let read_a = xtml(&[("read_file", &[("path", "string", "src/a.rs")])]);
    vec![
        Case::new(
            "k3_response_then_call",
            "1: the response channel is content, the tools channel holds the call",
            ONLY_K3,
            format!("<|open|>response<|sep|>Checking.<|close|>response<|sep|>{read_a}"),
        )
        .content("Checking.")
        .call("read_file", json!({"path": "src/a.rs"})),
        Case::new(
            "k3_prompt_opened_response",
            "1: the prompt holds <|open|>response<|sep|>: output starts inside it",
            ONLY_K3,
            format!("Checking.<|close|>response<|sep|>{read_a}<|close|>message<|sep|>"),
        )
        .content("Checking.")
        .call("read_file", json!({"path": "src/a.rs"})),
        Case::new(
            "k3_prompt_opened_think",
            "1: the prompt holds <|open|>think<|sep|>: output starts in reasoning",
            ONLY_K3,
            "plan<|close|>think<|sep|><|open|>response<|sep|>Hi.<|close|>response<|sep|>",
        )
        .prompt_opened()
        .reasoning("plan")
        .content("Hi."),
        Case::new(
            "k3_think_channel_at_start",
            "1: a think channel the model opens is reasoning",
            ONLY_K3,
            format!("<|open|>think<|sep|>I need it.<|close|>think<|sep|>{read_a}"),
        )
        .reasoning("I need it.")
        .call("read_file", json!({"path": "src/a.rs"})),
        Case::new(
            "k3_typed_arguments",
            "4: type=\"string\" raw, other types JSON, then the schema; nothing fits: the text",
            ONLY_K3,
            xtml(&[
                ("geo", &[("zip", "string", "03106"), ("count", "integer", "5"), ("ratio", "number", "many")]),
                ("grep_code", &[("opts", "object", "{\"a\": 1}"), ("raw", "string", "{\"a\": 1}")]),
            ]),
        )
        .call("geo", json!({"zip": "03106", "count": 5, "ratio": "many"}))
        .call("grep_code", json!({"opts": {"a": 1}, "raw": "{\"a\": 1}"})),
        Case::new(
            "k3_parallel_calls_and_zero_args",
            "1/3.8: several calls in one channel, one without arguments",
            ONLY_K3,
            xtml(&[("read_file", &[("path", "string", "a.rs")]), ("list_dir", &[])]),
        )
        .call("read_file", json!({"path": "a.rs"}))
        .call("list_dir", json!({})),
        Case::new(
            "k3_close_marker_in_value_is_data",
            "3.2: an argument closer not followed by structure is data",
            ONLY_K3,
            xtml(&[("write_file", &[("path", "string", "t"), ("content", "string", "x<|close|>argument<|sep|> y")])]),
        )
        .call("write_file", json!({"path": "t", "content": "x<|close|>argument<|sep|> y"})),
        Case::new(
            "k3_truncated_mid_value",
            "6: truncated under length: not executable, prose kept",
            ONLY_K3,
            "Writing.<|close|>response<|sep|><|open|>tools<|sep|><|open|>call tool=\"write_file\" index=\"1\"<|sep|><|open|>argument key=\"content\" type=\"string\"<|sep|>hel",
        )
        .length()
        .content("Writing."),
        Case::new(
            "k3_truncated_in_tag",
            "6: a cut tag is neither a call nor content",
            ONLY_K3,
            "Writing.<|close|>response<|sep|><|open|>tools<|sep|><|open|>call tool=\"write_fi",
        )
        .length()
        .content("Writing."),
        Case::new(
            "k3_missing_closers_stop_complete",
            "3.5: closers missing at the end, values closed: complete",
            ONLY_K3,
            "<|open|>tools<|sep|><|open|>call tool=\"read_file\" index=\"1\"<|sep|><|open|>argument key=\"path\" type=\"string\"<|sep|>a.rs<|close|>argument<|sep|>",
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("a_kimi_k3_decided", "auto: XTML's tools channel decides Kimi-K3", ONLY_A, format!("Text.\n{read_a}"))
            .content("Text.")
            .call("read_file", json!({"path": "src/a.rs"})),
    ]
}
