//! Rows for `hermes` JSON blocks (spec section 5).

use serde_json::json;

use crate::support::{Case, HA, ONLY_H, QHA, hermes, xml};

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let json_read = r#"{"name": "read_file", "arguments": {"path": "a.rs", "limit": 10}}"#;
    vec![
        // ----------------------------------------------------------------- section 5: hermes
        Case::new("h_single_call", "5: hermes call", HA, hermes(json_read)).call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "h_rejects_xml",
            "1: hermes accepts only JSON calls",
            ONLY_H,
            xml("read_file", &[("path", "src/main.rs"), ("limit", "30")]),
        )
        .content_is_input(),
        Case::new(
            "h_parameters_alias",
            "5: parameters in place of arguments",
            HA,
            hermes(r#"{"name": "read_file", "parameters": {"path": "a.rs"}}"#),
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("h_missing_arguments", "5: missing arguments means {}", HA, hermes(r#"{"name": "list_dir"}"#))
            .call("list_dir", json!({})),
        Case::new(
            "h_arguments_as_string",
            "5: arguments as a JSON string",
            HA,
            hermes(r#"{"name": "read_file", "arguments": "{\"path\": \"a.rs\", \"limit\": 3}"}"#),
        )
        .call("read_file", json!({"path": "a.rs", "limit": 3})),
        Case::new(
            "h_key_order_reversed",
            "5: arguments before name",
            HA,
            hermes(r#"{"arguments": {"path": "a.rs"}, "name": "read_file"}"#),
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "h_python_literal",
            "5: Python-literal fallback",
            HA,
            hermes("{'name': 'edit', 'arguments': {'opts': {'k': 'v'}, 'flags': ['-a'], 'dry': True}}"),
        )
        .call("edit", json!({"opts": {"k": "v"}, "flags": ["-a"], "dry": true})),
        Case::new(
            "h_unparseable_is_content",
            "5: unparseable block stays content",
            HA,
            "Trying:\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": }\n</tool_call>",
        )
        .content_is_input(),
        Case::new(
            "h_close_tag_in_json_string",
            "5: </tool_call> inside a JSON string is data",
            HA,
            hermes(r#"{"name": "write_file", "arguments": {"path": "t.md", "content": "end with </tool_call> then\nmore"}}"#),
        )
        .call("write_file", json!({"path": "t.md", "content": "end with </tool_call> then\nmore"})),
        Case::new(
            "h_fenced_json_is_content",
            "5: a JSON example without <tool_call> is content",
            QHA,
            "Call it like:\n```json\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\"}}\n```",
        )
        .content_is_input(),
        Case::new(
            "h_quoted_integer",
            "5: \"10\" becomes 10 for an integer field",
            HA,
            hermes(r#"{"name": "read_file", "arguments": {"path": "a.rs", "limit": "10"}}"#),
        )
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "h_float_integer",
            "4/5: 30.0 for an integer field is 30",
            HA,
            hermes(r#"{"name": "read_file", "arguments": {"path": "a.rs", "limit": 30.0}}"#),
        )
        .call("read_file", json!({"path": "a.rs", "limit": 30})),
        Case::new(
            "h_calls_with_text_multibyte",
            "5 + 3.9: text around calls",
            HA,
            format!(
                "先读两个文件。\n{}\n{}\n然后再说 👍",
                hermes(r#"{"name": "read_file", "arguments": {"path": "ü/日本.txt"}}"#),
                hermes(r#"{"name": "write_file", "arguments": {"path": "b", "content": "🎌 x\n"}}"#)
            ),
        )
        .content("先读两个文件。\n\n然后再说 👍")
        .call("read_file", json!({"path": "ü/日本.txt"}))
        .call("write_file", json!({"path": "b", "content": "🎌 x\n"})),
        Case::new(
            "h_think_then_call",
            "1 + 5",
            HA,
            format!("<think>\nneed it\n</think>\n\n{}", hermes(json_read)),
        )
        .reasoning("need it")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "h_tool_call_inside_think",
            "3.10: <tool_call> ends reasoning",
            HA,
            format!("<think>\nneed it\n{}\n</think>", hermes(json_read)),
        )
        .reasoning("need it")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
    ]
}
