//! Table rows for the special-token formats: `deepseek_v3`, `deepseek_v31` (one machine,
//! both call shapes) and `kimi_k2` (spec section 1, with the rules of sections 2-6 that
//! apply to JSON arguments).

use podctl::toolcall::{FinishReason, Format};
use serde_json::json;

use crate::support::{Case, D3, D31, K};

const D: &[Format] = &[D3, D31];
const ONLY_K: &[Format] = &[K];

/// A DeepSeek V3 / R1 call (the JSON in a fence), without the section markers.
pub(crate) fn ds_v3_call(name: &str, json: &str) -> String {
    format!("<｜tool▁call▁begin｜>function<｜tool▁sep｜>{name}\n```json\n{json}\n```<｜tool▁call▁end｜>")
}

/// A DeepSeek V3.1 call, without the section markers.
pub(crate) fn ds_v31_call(name: &str, json: &str) -> String {
    format!("<｜tool▁call▁begin｜>{name}<｜tool▁sep｜>{json}<｜tool▁call▁end｜>")
}

/// A DeepSeek section around `calls`.
pub(crate) fn ds_section(calls: &str) -> String {
    format!("<｜tool▁calls▁begin｜>{calls}<｜tool▁calls▁end｜>")
}

/// A Kimi K2 call, without the section markers.
pub(crate) fn kimi_call(name: &str, idx: usize, json: &str) -> String {
    format!("<|tool_call_begin|>functions.{name}:{idx}<|tool_call_argument_begin|>{json}<|tool_call_end|>")
}

/// A Kimi K2 section around `calls`.
pub(crate) fn kimi_section(calls: &str) -> String {
    format!("<|tool_calls_section_begin|>{calls}<|tool_calls_section_end|>")
}

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let read = r#"{"path": "a.rs", "limit": 10}"#;
    vec![
        // ------------------------------------------------------------------ DeepSeek
        Case::new("ds_v3_single_call", "1: DeepSeek V3 call", D, ds_section(&ds_v3_call("read_file", read)))
            .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new("ds_v31_single_call", "1: DeepSeek V3.1 call", D, ds_section(&ds_v31_call("read_file", read)))
            .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "ds_several_calls_text_around",
            "3.9: text before and after kept, calls in order",
            D,
            format!(
                "I'll read both.\n\n{}\nDone.\n",
                ds_section(&format!(
                    "{}\n{}",
                    ds_v3_call("read_file", r#"{"path": "a.rs"}"#),
                    ds_v31_call("run", r#"{"cmd": "cargo test"}"#)
                ))
            ),
        )
        .content("I'll read both.\n\nDone.")
        .call("read_file", json!({"path": "a.rs"}))
        .call("run", json!({"cmd": "cargo test"})),
        Case::new(
            "ds_markers_inside_json_string",
            "5: markup inside JSON strings is data",
            D,
            ds_section(&ds_v31_call(
                "write_file",
                r#"{"path": "t.md", "content": "<｜tool▁call▁end｜><｜tool▁calls▁end｜> <think></think> <｜tool▁call▁begin｜>"}"#,
            )),
        )
        .call(
            "write_file",
            json!({"path": "t.md", "content": "<｜tool▁call▁end｜><｜tool▁calls▁end｜> <think></think> <｜tool▁call▁begin｜>"}),
        ),
        Case::new(
            "ds_invalid_json_is_text",
            "5: never a call with invalid arguments",
            D,
            r#"Try: <｜tool▁call▁begin｜>read_file<｜tool▁sep｜>{"path": }<｜tool▁call▁end｜>"#,
        )
        .content_is_input(),
        Case::new(
            "ds_non_object_arguments_are_text",
            "5: never a call with invented arguments",
            D,
            r#"<｜tool▁call▁begin｜>read_file<｜tool▁sep｜>["a.rs"]<｜tool▁call▁end｜>"#,
        )
        .content_is_input(),
        Case::new(
            "ds_name_not_identifier_is_text",
            "3.6: a name that is not an identifier is not a call",
            D,
            "<｜tool▁call▁begin｜>{{ tool.name }}<｜tool▁sep｜>{}<｜tool▁call▁end｜>",
        )
        .content_is_input(),
        Case::new(
            "ds_python_literal_arguments",
            "5: lenient Python-literal fallback",
            D,
            ds_section(&ds_v31_call("run", "{'cmd': 'ls', 'timeout': None}")),
        )
        .call("run", json!({"cmd": "ls", "timeout": null})),
        Case::new(
            "ds_missing_end_markers_at_stop",
            "3.5: closers missing at the end of output",
            D,
            format!("<｜tool▁calls▁begin｜>{}", r#"<｜tool▁call▁begin｜>read_file<｜tool▁sep｜>{"path": "a.rs"}"#),
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "ds_v3_missing_fence_and_end_markers_at_stop",
            "3.5: closers missing at the end of output",
            D,
            "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>read_file\n```json\n{\"path\": \"a.rs\"}\n",
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "ds_cut_call_end_at_stop",
            "3.5: a closer cut off at the end of output never leaks",
            D,
            r#"<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>read_file<｜tool▁sep｜>{"path": "a.rs"}<｜tool▁call▁e"#,
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "ds_missing_call_end_before_next_call",
            "3.3: a missing closer recovered by the next call",
            D,
            format!(
                "<｜tool▁calls▁begin｜>{}{}<｜tool▁calls▁end｜>",
                r#"<｜tool▁call▁begin｜>read_file<｜tool▁sep｜>{"path": "a"}"#,
                ds_v31_call("read_file", r#"{"path": "b"}"#)
            ),
        )
        .call("read_file", json!({"path": "a"}))
        .call("read_file", json!({"path": "b"})),
        Case::new(
            "ds_truncated_under_length",
            "6: a call cut off under length is not executable, prose kept",
            D,
            "Reading.\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>read_file<｜tool▁sep｜>{\"path\": \"a",
        )
        .length()
        .content("Reading."),
        Case::new(
            "ds_complete_then_truncated_length",
            "6: complete call kept, truncated one dropped",
            D,
            format!(
                "<｜tool▁calls▁begin｜>{}\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>read_file\n```json\n{{\"path\": \"b",
                ds_v3_call("read_file", r#"{"path": "a"}"#)
            ),
        )
        .length()
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "ds_partial_marker_under_length_never_content",
            "6: a truncated tag never leaks into content",
            D,
            "Reading.\n<｜tool▁ca",
        )
        .length()
        .content("Reading."),
        Case::new(
            "ds_types_coerced_by_schema",
            "4: arguments typed by the request's schema",
            D,
            ds_section(&ds_v3_call("geo", r#"{"zip": "03106", "ratio": "1.5", "count": "7"}"#)),
        )
        .call("geo", json!({"zip": "03106", "ratio": 1.5, "count": 7})),
        Case::new(
            "ds_unknown_tool_passes_through",
            "3.7: an undeclared well-formed name is a call",
            D,
            ds_section(&ds_v31_call("grep_code", r#"{"pattern": "fn main", "n": 3}"#)),
        )
        .call("grep_code", json!({"pattern": "fn main", "n": 3})),
        Case::new(
            "ds_reasoning_then_call",
            "1: <think> is reasoning (R1, V3.1 thinking)",
            D,
            format!("<think>\nThe file is a.rs.\n</think>\n\nReading it.{}", ds_section(&ds_v31_call("read_file", read))),
        )
        .reasoning("The file is a.rs.")
        .content("Reading it.")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "ds_prompt_opened_call_ends_think",
            "3.10 with the prompt's <think>",
            D,
            format!("Plan: read it.\n{}", ds_section(&ds_v3_call("read_file", read))),
        )
        .prompt_opened()
        .reasoning("Plan: read it.")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "ds_misspelled_section_markers",
            "1: the marker misspellings DeepSeek models write",
            D,
            [
                r#"<｜tool_calls_begin｜><｜tool_call_begin｜>read_file<｜tool_sep｜>{"path": "1"}<｜tool_call_end｜><｜tool_calls_end｜>"#,
                r#"<｜tool calls begin｜><｜tool call begin｜>read_file<｜tool sep｜>{"path": "2"}<｜tool call end｜><｜tool calls end｜>"#,
                &format!("<｜tool\\_calls\\_begin｜>{}<｜tool▁calls▁end｜>", ds_v31_call("read_file", r#"{"path": "3"}"#)),
                &format!("<｜tool▁calls｜>{}<｜tool▁calls▁end｜>", ds_v3_call("read_file", r#"{"path": "4"}"#)),
            ]
            .join("\n"),
        )
        .call("read_file", json!({"path": "1"}))
        .call("read_file", json!({"path": "2"}))
        .call("read_file", json!({"path": "3"}))
        .call("read_file", json!({"path": "4"})),
        Case::new(
            "ds_section_without_call_is_text",
            "text never lost",
            D,
            "<｜tool▁calls▁begin｜> is the marker DeepSeek opens calls with.",
        )
        .content_is_input(),
        Case::new("ds_lt_prose", "2: a < that is no marker is text", D, "if a < b <｜ c: return <｜x｜>")
            .content_is_input(),
        Case::new(
            "ds_fenced_json_in_prose_is_content",
            "5: a JSON example outside call markers is content",
            D,
            "Call it like this:\n```json\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.rs\"}}\n```",
        )
        .content_is_input(),
        // ------------------------------------------------------------------ Kimi K2
        Case::new("k_single_call", "1: Kimi K2 call", ONLY_K, kimi_section(&kimi_call("read_file", 0, read)))
            .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "k_several_calls_text_around",
            "3.9: text before and after kept, calls in order",
            ONLY_K,
            format!(
                "Let me check.\n{}\nThen I'll fix it.",
                kimi_section(&format!(
                    "{}\n{}",
                    kimi_call("read_file", 0, r#"{"path": "a.rs"}"#),
                    kimi_call("run", 1, r#"{"cmd": "ls"}"#)
                ))
            ),
        )
        .content("Let me check.\n\nThen I'll fix it.")
        .call("read_file", json!({"path": "a.rs"}))
        .call("run", json!({"cmd": "ls"})),
        Case::new(
            "k_markers_inside_json_string",
            "5: markup inside JSON strings is data",
            ONLY_K,
            kimi_section(&kimi_call(
                "write_file",
                0,
                r#"{"path": "k.md", "content": "<|tool_call_end|><|tool_calls_section_end|> <|tool_call_begin|>"}"#,
            )),
        )
        .call("write_file", json!({"path": "k.md", "content": "<|tool_call_end|><|tool_calls_section_end|> <|tool_call_begin|>"})),
        Case::new(
            "k_invalid_json_is_text",
            "5: never a call with invalid arguments",
            ONLY_K,
            r#"<|tool_call_begin|>functions.read_file:0<|tool_call_argument_begin|>{"path": "a.rs"<|tool_call_end|>"#,
        )
        .content_is_input(),
        Case::new(
            "k_missing_end_markers_at_stop",
            "3.5: closers missing at the end of output",
            ONLY_K,
            r#"<|tool_calls_section_begin|><|tool_call_begin|>functions.read_file:0<|tool_call_argument_begin|>{"path": "a.rs"}"#,
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "k_cut_section_end_after_call_at_stop",
            "3.5: a closer cut off at the end of output never leaks",
            ONLY_K,
            format!("Checking.<|tool_calls_section_begin|>{}<|tool_calls_sec", kimi_call("read_file", 0, read)),
        )
        .content("Checking.")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "k_truncated_under_length",
            "6: a call cut off under length is not executable, prose kept",
            ONLY_K,
            r#"Checking.<|tool_calls_section_begin|><|tool_call_begin|>functions.read_file:0<|tool_call_argument_begin|>{"path": "a"#,
        )
        .length()
        .content("Checking."),
        Case::new(
            "k_partial_marker_under_length_never_content",
            "6: a truncated tag never leaks into content",
            ONLY_K,
            "Checking.<|tool_calls_sec",
        )
        .length()
        .content("Checking."),
        Case::new(
            "k_types_coerced_by_schema",
            "4: arguments typed by the request's schema",
            ONLY_K,
            kimi_section(&kimi_call("config", 0, r#"{"mode": "2", "port": "8080", "retries": "null"}"#)),
        )
        .call("config", json!({"mode": 2, "port": 8080, "retries": null})),
        Case::new(
            "k_unknown_tool_passes_through",
            "3.7: an undeclared well-formed name is a call",
            ONLY_K,
            kimi_section(&kimi_call("web_search", 3, r#"{"q": "rust"}"#)),
        )
        .call("web_search", json!({"q": "rust"})),
        Case::new(
            "k_reasoning_then_call",
            "1: <think> is reasoning (Kimi K2 Thinking)",
            ONLY_K,
            format!("<think>Look first.</think>\n{}", kimi_section(&kimi_call("list_dir", 0, "{}"))),
        )
        .reasoning("Look first.")
        .call("list_dir", json!({})),
        Case::new(
            "k_singular_section_marker",
            "1: the marker misspelling Kimi writes",
            ONLY_K,
            format!("<|tool_call_section_begin|>{}<|tool_call_section_end|>", kimi_call("read_file", 0, read)),
        )
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "k_deepseek_markers_are_text",
            "1: each format reads only its own markers",
            ONLY_K,
            ds_section(&ds_v31_call("read_file", read)),
        )
        .content_is_input(),
        Case::new(
            "ds_kimi_markers_are_text",
            "1: each format reads only its own markers",
            D,
            kimi_section(&kimi_call("read_file", 0, read)),
        )
        .content_is_input()
        .finish(FinishReason::Stop),
    ]
}
