//! Rows for `llama3_json`: `<|python_tag|>` and bare JSON objects.

use serde_json::json;

use crate::support::{Case, ONLY_L, llama};

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    vec![
        // ------------------------------------------------------------------- llama3_json
        Case::new(
            "l_single_call",
            "1: llama3_json call after <|python_tag|>",
            ONLY_L,
            llama(r#"{"name": "read_file", "parameters": {"path": "src/main.rs", "limit": 30}}"#),
        )
        .call("read_file", json!({"path": "src/main.rs", "limit": 30})),
        Case::new(
            "l_bare_call",
            "1: the tag is optional",
            ONLY_L,
            r#"{"name": "read_file", "parameters": {"path": "a.rs"}}"#,
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "l_arguments_key",
            "1/5: `arguments` accepted for `parameters`, key order free",
            ONLY_L,
            r#"{"arguments": {"path": "a.rs"}, "name": "read_file"}"#,
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "l_several_calls_semicolon",
            "1: several objects separated by `; `",
            ONLY_L,
            llama(r#"{"name": "read_file", "parameters": {"path": "a"}}; {"name": "run", "parameters": {"cmd": "ls"}}"#),
        )
        .call("read_file", json!({"path": "a"}))
        .call("run", json!({"cmd": "ls"})),
        Case::new(
            "l_bare_several_calls",
            "1: several bare objects, `; ` or newline separated",
            ONLY_L,
            "{\"name\": \"read_file\", \"parameters\": {\"path\": \"a\"}}; {\"name\": \"read_file\", \"parameters\": {\"path\": \"b\"}}\n{\"name\": \"list_dir\", \"parameters\": {}}",
        )
        .call("read_file", json!({"path": "a"}))
        .call("read_file", json!({"path": "b"}))
        .call("list_dir", json!({})),
        Case::new(
            "l_text_before_after",
            "3.9: text around calls kept, trimmed, joined",
            ONLY_L,
            "I'll read it.\n{\"name\": \"read_file\", \"parameters\": {\"path\": \"a\"}}\nDone. 完成 ✅\n",
        )
        .content("I'll read it.\n\nDone. 完成 ✅")
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "l_text_before_tagged_call",
            "3.9: text before a tagged call stays content",
            ONLY_L,
            format!("Let me check. {}", llama(r#"{"name": "list_dir", "parameters": {}}"#)),
        )
        .content("Let me check.")
        .call("list_dir", json!({})),
        Case::new(
            "l_markup_inside_string",
            "2: markers, braces and separators inside JSON strings are data",
            ONLY_L,
            llama(r#"{"name": "write_file", "parameters": {"path": "x.md", "content": "<|python_tag|>{\"name\": \"x\"}; } ] { ' </think> ```"}}"#),
        )
        .call("write_file", json!({"path": "x.md", "content": "<|python_tag|>{\"name\": \"x\"}; } ] { ' </think> ```"})),
        Case::new(
            "l_invalid_json_is_content",
            "5: unparseable JSON stays content",
            ONLY_L,
            llama(r#"{"name": "read_file", "parameters": {"path": }}"#),
        )
        .content_is_input(),
        Case::new(
            "l_arguments_array_is_content",
            "5: never a call with invented arguments",
            ONLY_L,
            llama(r#"{"name": "read_file", "parameters": ["a.rs"]}"#),
        )
        .content_is_input(),
        Case::new(
            "l_unclosed_object_stop_is_content",
            "5: an object never closed is not JSON",
            ONLY_L,
            llama(r#"{"name": "read_file", "parameters": {"path": "a"}"#),
        )
        .content_is_input(),
        Case::new(
            "l_truncated_length_dropped",
            "6: a call cut off by length is never executable; prose kept",
            ONLY_L,
            format!("Reading.\n{}", llama(r#"{"name": "read_file", "parameters": {"path": "a"#)),
        )
        .length()
        .content("Reading."),
        Case::new(
            "l_complete_then_truncated",
            "6: complete call kept, the cut one dropped, finish length",
            ONLY_L,
            llama(r#"{"name": "read_file", "parameters": {"path": "a"}}; {"name": "rea"#),
        )
        .length()
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "l_partial_tag_length_dropped",
            "6: a cut-off marker never leaks",
            ONLY_L,
            "Let me check.\n<|python_ta",
        )
        .length()
        .content("Let me check."),
        Case::new(
            "l_schema_types",
            "4/5: arguments typed by the schema",
            ONLY_L,
            llama(r#"{"name": "read_file", "parameters": {"path": "a", "limit": "10"}}; {"name": "edit", "parameters": {"dry": "True", "opts": "{\"a\": 1}"}}"#),
        )
        .call("read_file", json!({"path": "a", "limit": 10}))
        .call("edit", json!({"dry": true, "opts": {"a": 1}})),
        Case::new(
            "l_python_literal",
            "5: Python-style literal after the tag",
            ONLY_L,
            llama("{'name': 'run', 'parameters': {'cmd': 'ls', 'timeout': None}}"),
        )
        .call("run", json!({"cmd": "ls", "timeout": null})),
        Case::new(
            "l_tagged_undeclared_passes_through",
            "3.7: a tagged call to an undeclared tool passes through",
            ONLY_L,
            llama(r#"{"name": "search_web", "parameters": {"q": "rust"}}"#),
        )
        .call("search_web", json!({"q": "rust"})),
        Case::new(
            "l_bare_undeclared_is_prose",
            "3.4: an untagged object naming an undeclared tool is prose",
            ONLY_L,
            r#"{"name": "search_web", "parameters": {"q": "rust"}}"#,
        )
        .content_is_input(),
        Case::new(
            "l_bare_json_data_is_prose",
            "5: JSON that is not a call object is content",
            ONLY_L,
            "Here is the record:\n{\"name\": \"Alice\", \"age\": 3}\n{\"name\": \"read_file\", \"parameters\": {}, \"id\": 1}",
        )
        .content_is_input(),
        Case::new(
            "l_fenced_json_is_content",
            "5: a JSON example in a fenced block is content",
            ONLY_L,
            "Call it like:\n```json\n{\"name\": \"read_file\", \"parameters\": {\"path\": \"a\"}}\n```",
        )
        .content_is_input(),
        Case::new(
            "l_mid_line_json_is_content",
            "3.4: an untagged object counts only at a line start",
            ONLY_L,
            "Use {\"name\": \"read_file\", \"parameters\": {\"path\": \"a\"}} to read.",
        )
        .content_is_input(),
        Case::new(
            "l_tag_then_code_is_content",
            "2: <|python_tag|> not followed by JSON is text",
            ONLY_L,
            "<|python_tag|>print(1 + 1)",
        )
        .content_is_input(),
        Case::new(
            "l_braces_and_backticks_prose",
            "2: braces and backticks that are no call are text",
            ONLY_L,
            "fn f() {\n{ x }\n}\n`a` ``b`` {\n{\"na\": 1}",
        )
        .content_is_input(),
        Case::new(
            "l_think_then_call",
            "1: <think> reasoning",
            ONLY_L,
            "<think>\nI need the file.\n</think>\n{\"name\": \"read_file\", \"parameters\": {\"path\": \"a\"}}",
        )
        .reasoning("I need the file.")
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "l_prompt_opened_tag_ends_think",
            "3.10: a tagged call inside reasoning ends it",
            ONLY_L,
            format!("Plan: read it.\n{}", llama(r#"{"name": "read_file", "parameters": {"path": "a"}}"#)),
        )
        .prompt_opened()
        .reasoning("Plan: read it.")
        .call("read_file", json!({"path": "a"})),
    ]
}
