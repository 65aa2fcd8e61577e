//! Rows for `mistral`: `[TOOL_CALLS]` arrays and `NAME[ARGS]{json}`, `[THINK]` reasoning.

use serde_json::json;

use crate::support::{Case, ONLY_M, mistral};

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    vec![
        // ----------------------------------------------------------------------- mistral
        Case::new(
            "m_single_call",
            "1: mistral v11 NAME[ARGS]{json}",
            ONLY_M,
            mistral("read_file", r#"{"path": "src/main.rs", "limit": 30}"#),
        )
        .call("read_file", json!({"path": "src/main.rs", "limit": 30})),
        Case::new(
            "m_repeated_marker",
            "1: [TOOL_CALLS] before each call",
            ONLY_M,
            format!("{}{}", mistral("read_file", r#"{"path": "a"}"#), mistral("run", r#"{"cmd": "ls"}"#)),
        )
        .call("read_file", json!({"path": "a"}))
        .call("run", json!({"cmd": "ls"})),
        Case::new(
            "m_calls_without_repeated_marker",
            "1: NAME[ARGS] after a call needs no marker",
            ONLY_M,
            "[TOOL_CALLS]read_file[ARGS]{\"path\": \"a\"} list_dir[ARGS]{}",
        )
        .call("read_file", json!({"path": "a"}))
        .call("list_dir", json!({})),
        Case::new(
            "m_call_id_form",
            "1: NAME[CALL_ID]ID[ARGS]{json} (the model's id is not kept)",
            ONLY_M,
            "[TOOL_CALLS]read_file[CALL_ID]a1B2c3D4e[ARGS]{\"path\": \"a\"}",
        )
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_name_then_json_without_args_token",
            "1: NAME{json} right after [TOOL_CALLS]",
            ONLY_M,
            "[TOOL_CALLS]read_file{\"path\": \"a\"}",
        )
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_array_form",
            "1: pre-v11 JSON array",
            ONLY_M,
            r#"[TOOL_CALLS] [{"name": "read_file", "arguments": {"path": "a.rs"}}, {"name": "run", "arguments": {"cmd": "ls"}}]"#,
        )
        .call("read_file", json!({"path": "a.rs"}))
        .call("run", json!({"cmd": "ls"})),
        Case::new(
            "m_array_arguments_as_string",
            "5: arguments as a string holding an object",
            ONLY_M,
            r#"[TOOL_CALLS][{"name": "read_file", "arguments": "{\"path\": \"a\", \"limit\": 5}"}]"#,
        )
        .call("read_file", json!({"path": "a", "limit": 5})),
        Case::new(
            "m_text_before_after",
            "3.9: text around calls kept, trimmed, joined",
            ONLY_M,
            format!("I'll read it.\n{}\nDone. 完成 ✅\n", mistral("read_file", r#"{"path": "a"}"#)),
        )
        .content("I'll read it.\n\nDone. 完成 ✅")
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_markup_inside_string",
            "2: markers and brackets inside JSON strings are data",
            ONLY_M,
            mistral("write_file", r#"{"path": "x.md", "content": "[TOOL_CALLS]x[ARGS]{\"a\": 1}] } [/THINK] [THINK] '"}"#),
        )
        .call("write_file", json!({"path": "x.md", "content": "[TOOL_CALLS]x[ARGS]{\"a\": 1}] } [/THINK] [THINK] '"})),
        Case::new(
            "m_invalid_json_is_content",
            "5: unparseable arguments stay content",
            ONLY_M,
            mistral("read_file", r#"{"path": }"#),
        )
        .content_is_input(),
        Case::new(
            "m_array_not_calls_is_content",
            "5: never a call with invented arguments",
            ONLY_M,
            r#"[TOOL_CALLS][{"name": "read_file", "arguments": ["a.rs"]}]"#,
        )
        .content_is_input(),
        Case::new(
            "m_unclosed_args_stop_is_content",
            "5: JSON never closed is not JSON",
            ONLY_M,
            mistral("read_file", r#"{"path": "a""#),
        )
        .content_is_input(),
        Case::new(
            "m_name_not_identifier_is_content",
            "3.6: a name that is not an identifier is not a call",
            ONLY_M,
            "[TOOL_CALLS]read file[ARGS]{}",
        )
        .content_is_input(),
        Case::new(
            "m_truncated_length_dropped",
            "6: a call cut off by length is never executable; prose kept",
            ONLY_M,
            format!("Reading.\n{}", mistral("read_file", r#"{"path": "a"#)),
        )
        .length()
        .content("Reading."),
        Case::new(
            "m_complete_then_truncated",
            "6: complete call kept, the cut one dropped, finish length",
            ONLY_M,
            format!("{}[TOOL_CALLS]read_fi", mistral("read_file", r#"{"path": "a"}"#)),
        )
        .length()
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_partial_marker_length_dropped",
            "6: a cut-off marker never leaks",
            ONLY_M,
            "Checking.\n[TOOL_CA",
        )
        .length()
        .content("Checking."),
        Case::new(
            "m_schema_types",
            "4/5: arguments typed by the schema",
            ONLY_M,
            format!(
                "{}{}",
                mistral("read_file", r#"{"path": "a", "limit": "10"}"#),
                mistral("geo", r#"{"count": 30.0, "ratio": "0.5", "zip": "03106"}"#)
            ),
        )
        .call("read_file", json!({"path": "a", "limit": 10}))
        .call("geo", json!({"count": 30, "ratio": 0.5, "zip": "03106"})),
        Case::new(
            "m_python_literal",
            "5: Python-style literal arguments",
            ONLY_M,
            mistral("run", "{'cmd': 'ls', 'timeout': None}"),
        )
        .call("run", json!({"cmd": "ls", "timeout": null})),
        Case::new(
            "m_undeclared_passes_through",
            "3.7: a marked call to an undeclared tool passes through",
            ONLY_M,
            mistral("search_web", r#"{"q": "rust"}"#),
        )
        .call("search_web", json!({"q": "rust"})),
        Case::new(
            "m_bracket_prose",
            "2: brackets that are no marker are text",
            ONLY_M,
            "Use a[0] and [x] or [TOOL_CALL] and [ARGS] and [/THINKING] here [",
        )
        .content_is_input(),
        Case::new(
            "m_think_then_call",
            "1: [THINK] reasoning",
            ONLY_M,
            format!("[THINK]\nI need the file.\n[/THINK]\n\n{}", mistral("read_file", r#"{"path": "a"}"#)),
        )
        .reasoning("I need the file.")
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_tool_calls_inside_think",
            "3.10: [TOOL_CALLS] inside reasoning ends it",
            ONLY_M,
            format!("[THINK]Plan: read it.{}", mistral("read_file", r#"{"path": "a"}"#)),
        )
        .reasoning("Plan: read it.")
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_prompt_opened",
            "1: the prompt opened [THINK]",
            ONLY_M,
            "Plan.[/THINK]Answer.",
        )
        .prompt_opened()
        .reasoning("Plan.")
        .content("Answer."),
        Case::new("m_stray_think_close_dropped", "decision 2: stray [/THINK] dropped", ONLY_M, "Hello\n[/THINK]\nWorld")
            .content("Hello\n\nWorld"),
        Case::new("m_think_after_text_is_text", "decision 2", ONLY_M, "Answer: [THINK] is a token.").content_is_input(),
        Case::new(
            "m_prose_after_call_kept",
            "3.9: prose after a call is content",
            ONLY_M,
            format!("{} Done here.", mistral("read_file", r#"{"path": "a"}"#)),
        )
        .content("Done here.")
        .call("read_file", json!({"path": "a"})),
    ]
}
