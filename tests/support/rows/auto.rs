//! Table rows for `auto` telling every family apart by its markers (spec section 1): the
//! first decisive marker of a family hands the rest of the output to that family's
//! machine, with prose and reasoning before it kept and the content rule holding across
//! the switch; once a call was returned, another family's marker is text.

use podctl::toolcall::{FinishReason, Format};
use serde_json::json;

use crate::support::rows::special::{ds_section, ds_v3_call, ds_v31_call, kimi_call, kimi_section};
use crate::support::{A, Case, hermes, llama, mistral, xml};

const ONLY_A: &[Format] = &[A];

/// A GLM-4.5 call with `path` as its one argument.
fn glm_read(path: &str) -> String {
    format!("<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>{path}</arg_value>\n</tool_call>")
}

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let read = r#"{"path": "a.rs", "limit": 10}"#;
    vec![
        // ------------------------------------------------------------- one row per family
        Case::new("a_detects_mistral", "1: auto, [TOOL_CALLS] decides mistral", ONLY_A, mistral("read_file", read))
            .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_detects_mistral_array",
            "1: auto, [TOOL_CALLS] then the pre-v11 array",
            ONLY_A,
            r#"[TOOL_CALLS][{"name": "read_file", "arguments": {"path": "a.rs"}}, {"name": "list_dir", "arguments": {}}]"#,
        )
        .call("read_file", json!({"path": "a.rs"}))
        .call("list_dir", json!({})),
        Case::new(
            "a_detects_mistral_think",
            "1: auto, a leading [THINK] decides mistral",
            ONLY_A,
            format!("[THINK]I need the file.[/THINK]\nReading.\n{}", mistral("read_file", read)),
        )
        .reasoning("I need the file.")
        .content("Reading.")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_detects_llama3_python_tag",
            "1: auto, <|python_tag|> decides llama3_json",
            ONLY_A,
            llama(r#"{"name": "read_file", "parameters": {"path": "a.rs", "limit": 10}}"#),
        )
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_detects_llama3_then_bare_objects",
            "1: auto, once llama3_json is decided its `; ` separated objects are calls",
            ONLY_A,
            llama(r#"{"name": "read_file", "parameters": {"path": "a.rs"}}; {"name": "list_dir", "parameters": {}}"#),
        )
        .call("read_file", json!({"path": "a.rs"}))
        .call("list_dir", json!({})),
        Case::new(
            "a_llama3_bare_json_not_detected",
            "1: auto does not detect llama3's bare JSON (it cannot be told from prose)",
            ONLY_A,
            r#"{"name": "read_file", "parameters": {"path": "a.rs"}}"#,
        )
        .content_is_input(),
        Case::new(
            "a_detects_deepseek_v31",
            "1: auto, DeepSeek's section opener decides deepseek (V3.1 shape)",
            ONLY_A,
            ds_section(&ds_v31_call("read_file", read)),
        )
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_detects_deepseek_v3",
            "1: auto, DeepSeek's section opener decides deepseek (V3 shape)",
            ONLY_A,
            ds_section(&ds_v3_call("read_file", read)),
        )
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_detects_deepseek_misspelled",
            "1: auto, DeepSeek's misspelled markers decide deepseek",
            ONLY_A,
            r#"<｜tool_calls_begin｜><｜tool_call_begin｜>read_file<｜tool_sep｜>{"path": "a.rs"}<｜tool_call_end｜><｜tool_calls_end｜>"#,
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "a_detects_deepseek_call_without_section",
            "1: auto, DeepSeek's call opener alone decides deepseek",
            ONLY_A,
            format!("Reading.\n{}", ds_v31_call("read_file", read)),
        )
        .content("Reading.")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_detects_kimi",
            "1: auto, <|tool_calls_section_begin|> decides kimi_k2",
            ONLY_A,
            kimi_section(&format!("{}{}", kimi_call("read_file", 0, read), kimi_call("list_dir", 1, "{}"))),
        )
        .call("read_file", json!({"path": "a.rs", "limit": 10}))
        .call("list_dir", json!({})),
        Case::new(
            "a_detects_kimi_call_without_section",
            "1: auto, <|tool_call_begin|> alone decides kimi_k2",
            ONLY_A,
            kimi_call("read_file", 0, read),
        )
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_detects_glm45",
            "1: auto, <tool_call>NAME then <arg_key> decides glm45",
            ONLY_A,
            format!("Reading both.\n{}\n{}\nDone.", glm_read("a.rs"), glm_read("b.rs")),
        )
        .content("Reading both.\n\nDone.")
        .call("read_file", json!({"path": "a.rs"}))
        .call("read_file", json!({"path": "b.rs"})),
        Case::new(
            "a_detects_glm45_without_args",
            "1: auto, <tool_call>NAME</tool_call> decides glm45",
            ONLY_A,
            format!("<tool_call>list_dir</tool_call>{}", glm_read("a.rs")),
        )
        .call("list_dir", json!({}))
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "a_detects_glm45_name_at_end",
            "1/3.5: auto, <tool_call>NAME at the end of output is glm45's to decide",
            ONLY_A,
            "<tool_call>list_dir\n",
        )
        .call("list_dir", json!({})),
        Case::new(
            "a_glm45_undeclared_word_at_end_is_text",
            "1/3.9: auto, <tool_call>WORD at the end is text",
            ONLY_A,
            "See <tool_call>nope",
        )
        .content_is_input(),
        Case::new(
            "a_tool_call_prose_keeps_qwen",
            "1/3.9: auto, <tool_call> then prose decides nothing: a Qwen call still follows",
            ONLY_A,
            format!("<tool_call>\nnot yet\n</tool_call>\n{}", xml("read_file", &[("path", "a.rs")])),
        )
        .content("<tool_call>\nnot yet\n</tool_call>")
        .call("read_file", json!({"path": "a.rs"})),
        // ------------------------------------------------- prose and reasoning before it
        Case::new(
            "a_prose_before_marker",
            "2/3.9: auto, prose before the marker kept, segments trimmed and joined",
            ONLY_A,
            format!("  I'll read it, é 🎉  \n\n{}\n  Done.  \n", kimi_section(&kimi_call("read_file", 0, read))),
        )
        .content("I'll read it, é 🎉\n\nDone.")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_reasoning_before_marker",
            "1: auto, <think> reasoning, then another family's call",
            ONLY_A,
            format!("<think>\nI need the file.\n</think>\n\nReading.\n{}", ds_section(&ds_v31_call("read_file", read))),
        )
        .reasoning("I need the file.")
        .content("Reading.")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_marker_inside_reasoning",
            "3.10: auto, another family's call inside <think> ends the reasoning",
            ONLY_A,
            format!("<think>\nI need the file.\n{}", kimi_section(&kimi_call("read_file", 0, read))),
        )
        .reasoning("I need the file.")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_glm45_inside_reasoning",
            "3.10: auto, a GLM-4.5 call inside <think> ends the reasoning",
            ONLY_A,
            format!("<think>\nI need the file.\n{}\nDone.", glm_read("a.rs")),
        )
        .reasoning("I need the file.")
        .content("Done.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "a_prompt_opened_then_marker",
            "1: auto, the prompt opened <think>; another family's call after </think>",
            ONLY_A,
            format!("I need the file.\n</think>\n\n{}", llama(r#"{"name": "read_file", "parameters": {"path": "a.rs"}}"#)),
        )
        .prompt_opened()
        .reasoning("I need the file.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "a_prompt_opened_marker_ends_think",
            "3.10: auto, the prompt opened <think>; another family's call ends it",
            ONLY_A,
            format!("I need the file.\n{}", mistral("read_file", read)),
        )
        .prompt_opened()
        .reasoning("I need the file.")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        // ---------------------------------------------------------- the decision is final
        Case::new(
            "a_second_family_after_call_is_text",
            "1: auto, after a Qwen call another family's marker is text",
            ONLY_A,
            format!("{}\n{}", xml("read_file", &[("path", "a.rs")]), mistral("list_dir", "{}")),
        )
        .content("[TOOL_CALLS]list_dir[ARGS]{}")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "a_second_family_after_hermes_call_is_text",
            "1: auto, after a Hermes call a Kimi section is not a call",
            ONLY_A,
            format!(
                "{}\n{}",
                hermes(r#"{"name": "read_file", "arguments": {"path": "a.rs"}}"#),
                kimi_section(&kimi_call("list_dir", 0, "{}"))
            ),
        )
        .content_unchecked()
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "a_qwen_markup_after_mistral_is_text",
            "1: auto, once mistral is decided Qwen markup is text",
            ONLY_A,
            format!("{}\n{}", mistral("read_file", read), xml("list_dir", &[])),
        )
        .content(&xml("list_dir", &[]))
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_kimi_after_deepseek_is_text",
            "1: auto, once deepseek is decided Kimi's markers are text",
            ONLY_A,
            format!(
                "{}\n{}",
                ds_section(&ds_v31_call("read_file", read)),
                kimi_section(&kimi_call("list_dir", 0, "{}"))
            ),
        )
        .content(&kimi_section(&kimi_call("list_dir", 0, "{}")))
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_marker_inside_qwen_value_is_data",
            "3.2: auto, another family's marker inside a Qwen value is data",
            ONLY_A,
            xml("write_file", &[("path", "m.md"), ("content", "[TOOL_CALLS] <|python_tag|> <|tool_call_begin|>")]),
        )
        .call("write_file", json!({"path": "m.md", "content": "[TOOL_CALLS] <|python_tag|> <|tool_call_begin|>"})),
        Case::new(
            "a_brackets_and_late_think_are_prose",
            "2: auto, [ that is no marker, and [THINK] after the answer began, are text",
            ONLY_A,
            "See [1] and a[i] then [THINK] here <| ok.",
        )
        .content_is_input(),
        // ---------------------------------------------------------------- truncation
        Case::new(
            "a_truncated_under_length",
            "6: auto, a call of the decided family cut off by length is never executable",
            ONLY_A,
            format!("Reading.\n{}", r#"[TOOL_CALLS]read_file[ARGS]{"path": "a."#),
        )
        .length()
        .content("Reading."),
        Case::new(
            "a_glm45_truncated_under_length",
            "6: auto, a GLM-4.5 call cut off by length is never executable",
            ONLY_A,
            "Reading.\n<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.r",
        )
        .length()
        .content("Reading."),
        Case::new(
            "a_complete_then_truncated_length",
            "6: auto, a complete call then one cut off: length, the complete one kept",
            ONLY_A,
            format!(
                "{}{}",
                kimi_call("read_file", 0, read),
                "<|tool_call_begin|>functions.list_dir:1<|tool_call_argument_begin|>{"
            ),
        )
        .length()
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "a_partial_marker_under_length_dropped",
            "6: auto, a cut-off marker never leaks under length",
            ONLY_A,
            "Done. [TOOL_CA",
        )
        .length()
        .content("Done."),
        Case::new(
            "a_partial_marker_under_stop_is_text",
            "2: auto, a cut-off marker at the end of a stop is text",
            ONLY_A,
            "Done. <|python_ta",
        )
        .content_is_input()
        .finish(FinishReason::Stop),
    ]
}
