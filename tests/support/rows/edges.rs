//! Edge rows found along the way (mostly regressions, named after what they pin), and
//! the `auto`/`none` basics.

use podctl::toolcall::FinishReason;
use serde_json::json;

use crate::support::{Case, HA, ONLY_A, ONLY_N, QA, QHA, QHALM, hermes, xml};

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let read_a = xml("read_file", &[("path", "a.rs")]);
    let json_read = r#"{"name": "read_file", "arguments": {"path": "a.rs", "limit": 10}}"#;
    vec![
        // ------------------------------------------------------------------ more edge rows
        Case::new(
            "q_recover_missing_close_before_next_call",
            "3.3 + decision 9: line-start </function> then <tool_call> closes the value",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</function>\n<tool_call>\n<function=read_file>\n<parameter=path>\nb.rs\n</parameter>\n</function>\n</tool_call>",
        )
        .call("read_file", json!({"path": "a.rs"}))
        .call("read_file", json!({"path": "b.rs"})),
        Case::new(
            "q_recover_missing_close_at_end",
            "3.3 + decision 9: line-start </function> then end of output",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</function>",
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "q_param_closed_by_tool_call_close",
            "3.2: </parameter> followed by </tool_call> closes",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</tool_call>\nThen more.",
        )
        .content("Then more.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "q_close_param_mid_value_is_data",
            "3.2: </parameter> followed by text is data",
            QA,
            xml("write_file", &[("path", "p.py"), ("content", "s = 'a</parameter>b'")]),
        )
        .call("write_file", json!({"path": "p.py", "content": "s = 'a</parameter>b'"})),
        Case::new(
            "q_value_holds_two_nested_examples",
            "3.2: literal nesting is counted",
            QA,
            xml(
                "write_file",
                &[
                    ("path", "t.md"),
                    (
                        "content",
                        "<function=outer>\n<function=inner>\n</parameter>\n</function>\n</parameter>\n</function>\nend",
                    ),
                ],
            ),
        )
        .call(
            "write_file",
            json!({"path": "t.md", "content": "<function=outer>\n<function=inner>\n</parameter>\n</function>\n</parameter>\n</function>\nend"}),
        ),
        Case::new(
            "q_undeclared_function_any_unseen_param_opens",
            "decision 8: undeclared wrapped function, unseen identifiers open, seen ones are data",
            QA,
            xml("grep_code", &[("a", "1\n</parameter>\n<parameter=a>\n2"), ("b", "3")]),
        )
        .call("grep_code", json!({"a": "1\n</parameter>\n<parameter=a>\n2", "b": "3"})),
        Case::new(
            "q_empty_string_value",
            "3.1: an empty value is the empty string",
            QA,
            "<tool_call>\n<function=write_file>\n<parameter=path>\nempty.txt\n</parameter>\n<parameter=content>\n</parameter>\n</function>\n</tool_call>",
        )
        .call("write_file", json!({"path": "empty.txt", "content": ""})),
        Case::new(
            "q_partial_function_marker_under_stop_is_text",
            "text never lost",
            QA,
            "Hello <function=read_fi",
        )
        .content_is_input(),
        Case::new(
            "r_partial_think_close_under_stop_is_text",
            "text never lost",
            QHA,
            "<think>\nabc</thi",
        )
        .reasoning("abc</thi"),
        Case::new("r_empty_think", "9: nothing left is null", QHA, "<think>\n\n</think>\n\nHi").content("Hi"),
        Case::new(
            "r_prompt_opened_hermes_call_ends_think",
            "3.10 with the prompt's <think>",
            HA,
            format!("Plan: read it.\n{}", hermes(json_read)),
        )
        .prompt_opened()
        .reasoning("Plan: read it.")
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "h_complete_then_truncated",
            "6: complete call kept, truncated block dropped",
            HA,
            format!("{}\n<tool_call>\n{{\"na", hermes(json_read)),
        )
        .length()
        .call("read_file", json!({"path": "a.rs", "limit": 10})),
        Case::new(
            "h_python_literal_none",
            "5: Python None",
            HA,
            hermes("{'name': 'run', 'arguments': {'cmd': 'ls', 'timeout': None}}"),
        )
        .call("run", json!({"cmd": "ls", "timeout": null})),
        Case::new(
            "h_braces_in_strings",
            "5: JSON-string-aware scan",
            HA,
            hermes(r#"{"name": "write_file", "arguments": {"path": "a}b{", "content": "fn f() { \"}\" }"}}"#),
        )
        .call("write_file", json!({"path": "a}b{", "content": "fn f() { \"}\" }"})),
        Case::new(
            "h_arguments_array_is_content",
            "5: never a call with invented arguments",
            HA,
            hermes(r#"{"name": "read_file", "arguments": ["a.rs"]}"#),
        )
        .content_is_input(),
        Case::new(
            "h_arguments_non_json_string_is_content",
            "5: never a call with invented arguments",
            HA,
            hermes(r#"{"name": "read_file", "arguments": "path=a.rs"}"#),
        )
        .content_is_input(),
        Case::new("ty_number_exponent", "4: number", QA, xml("geo", &[("ratio", "1e-3"), ("count", "-5")]))
            .call("geo", json!({"ratio": 0.001, "count": -5})),
        Case::new("ty_bool_trimmed", "4: trim before typing", QA, xml("edit", &[("dry", "  true \n")]))
            .call("edit", json!({"dry": true})),
        Case::new("ty_bool_one_stays_string", "4: nothing fits, keep raw", QA, xml("edit", &[("dry", "1")]))
            .call("edit", json!({"dry": "1"})),
        Case::new(
            "ty_object_null_not_allowed",
            "4: nothing fits, keep raw",
            QA,
            xml("edit", &[("opts", "null"), ("flags", "None")]),
        )
        .call("edit", json!({"opts": "null", "flags": "None"})),
        Case::new("ty_nullable_integer_value", "4: anyOf integer|null", QA, xml("config", &[("retries", "5")]))
            .call("config", json!({"retries": 5})),
        Case::new(
            "q_wrapped_function_then_prose_is_content",
            "decision 4: no structure after <function=NAME>, not a call",
            QA,
            "<tool_call>\n<function=read_file> would be the right tool here.\n</tool_call>",
        )
        .content_is_input(),
        Case::new(
            "t_bare_partial_param_length",
            "6: truncated bare call dropped, prose kept",
            QA,
            "Text first.\n<function=read_file>\n<parameter=pa",
        )
        .length()
        .content("Text first."),
        Case::new(
            "q_partial_close_tag_under_stop_not_complete",
            "3.5: a parameter not closed at end of output",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>\na\n</param",
        )
        .content_unchecked()
        .finish(FinishReason::Stop),
        Case::new("lt_sign_prose", "2: < that is no marker is text", QHALM, "if a < b && c <d: return x<y")
            .content_is_input(),
        Case::new("lt_sign_prose_length", "2/6: < that is no marker is text", QHALM, "if a < b && c <d: return x<y")
            .length()
            .content_is_input(),
        Case::new("near_marker_words_are_prose", "2: only exact markers count", QHALM, "Use <tool_calls> and <functions> and <thinking> wisely.")
            .content_is_input(),
        Case::new(
            "q_think_close_inside_value_is_data",
            "3.2: markup inside values is data",
            QA,
            xml("write_file", &[("path", "p.md"), ("content", "a </think> b\n</think>\n<think>")]),
        )
        .call("write_file", json!({"path": "p.md", "content": "a </think> b\n</think>\n<think>"})),
        Case::new(
            "q_think_close_inside_value_prompt_opened",
            "3.10 + 3.2: after the call ended reasoning, </think> in a value is data",
            QA,
            format!("Plan.\n{}", xml("write_file", &[("path", "p.md"), ("content", "x\n</think>\ny")])),
        )
        .prompt_opened()
        .reasoning("Plan.")
        .call("write_file", json!({"path": "p.md", "content": "x\n</think>\ny"})),
        Case::new(
            "h_markers_inside_json_string",
            "5: markup inside JSON strings is data",
            HA,
            hermes(r#"{"name": "write_file", "arguments": {"path": "m.md", "content": "<think>a</think> <tool_call> <function=x>"}}"#),
        )
        .call("write_file", json!({"path": "m.md", "content": "<think>a</think> <tool_call> <function=x>"})),
        Case::new(
            "h_blocks_back_to_back",
            "5: several blocks without newlines",
            HA,
            r#"<tool_call>{"name": "read_file", "arguments": {"path": "a"}}</tool_call><tool_call>{"name": "read_file", "arguments": {"path": "b"}}</tool_call>"#,
        )
        .call("read_file", json!({"path": "a"}))
        .call("read_file", json!({"path": "b"})),
        // -------------------------------------------------------------------- auto / none
        Case::new(
            "a_mixed_formats",
            "1: auto decides per call",
            ONLY_A,
            format!("{}\n{}", hermes(json_read), xml("run", &[("cmd", "ls -la")])),
        )
        .call("read_file", json!({"path": "a.rs", "limit": 10}))
        .call("run", json!({"cmd": "ls -la"})),
        Case::new("n_passthrough_xml", "1: none passes text through", ONLY_N, format!("  \n{read_a}\n\n"))
            .content_is_input(),
        Case::new("n_passthrough_hermes", "1: none", ONLY_N, format!("Sure.\n{}", hermes(json_read))).content_is_input(),
        Case::new("n_passthrough_length", "1/6: none keeps length", ONLY_N, "<think>x</think>\n<tool_ca")
            .length()
            .content_is_input(),
        Case::new("n_passthrough_prompt_opened", "1: none ignores reasoning", ONLY_N, "a\n</think>\nb ✅ ")
            .prompt_opened()
            .content_is_input(),
    ]
}
