//! Rows for `qwen3_coder` calls and the rules that decide them (spec section 3, rules 1-8):
//! what a call is, markup inside values, recovery, bare `<function=`, closers, names.

use podctl::toolcall::FinishReason;
use serde_json::json;

use crate::support::{Case, QA, xml};

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let read_a = xml("read_file", &[("path", "a.rs")]);
    let read_b = xml("read_file", &[("path", "b.rs")]);
    vec![
        // ---------------------------------------------------------------- qwen3_coder basics
        Case::new("q_single_call", "3: XML call", QA, xml("read_file", &[("path", "src/main.rs"), ("limit", "30")]))
            .call("read_file", json!({"path": "src/main.rs", "limit": 30})),
        Case::new(
            "q_text_before_between_after",
            "3.9: segments trimmed, joined by a blank line",
            QA,
            format!("I'll read both files.\n{read_a}\nNow the second one:\n\n{read_b}\nDone.\n"),
        )
        .content("I'll read both files.\n\nNow the second one:\n\nDone.")
        .call("read_file", json!({"path": "a.rs"}))
        .call("read_file", json!({"path": "b.rs"})),
        Case::new(
            "q_three_calls_in_a_row",
            "3: several calls",
            QA,
            format!(
                "{read_a}\n{}\n{}",
                xml("write_file", &[("path", "out.txt"), ("content", "hi")]),
                xml("run", &[("cmd", "cargo test"), ("timeout", "60")])
            ),
        )
        .call("read_file", json!({"path": "a.rs"}))
        .call("write_file", json!({"path": "out.txt", "content": "hi"}))
        .call("run", json!({"cmd": "cargo test", "timeout": 60.0})),
        Case::new(
            "q_multibyte_around_and_inside",
            "3.1/3.9: multi-byte text",
            QA,
            format!(
                "好的，我来写文件 ✍️\n{}\n完成 ✅",
                xml("write_file", &[("path", "笔记/日本語.md"), ("content", "# 标题 🎉\nnaïve café — ✓ 👍🏽\n")])
            ),
        )
        .content("好的，我来写文件 ✍️\n\n完成 ✅")
        .call("write_file", json!({"path": "笔记/日本語.md", "content": "# 标题 🎉\nnaïve café — ✓ 👍🏽\n"})),
        Case::new(
            "q_value_keeps_indent",
            "3.1: strip one newline each side, keep leading spaces",
            QA,
            xml("write_file", &[("path", "m.rs"), ("content", "    fn main() {\n        println!(\"hi\");\n    }")]),
        )
        .call("write_file", json!({"path": "m.rs", "content": "    fn main() {\n        println!(\"hi\");\n    }"})),
        Case::new(
            "q_value_keeps_trailing_blank_line",
            "3.1: a file ending with a blank line keeps it",
            QA,
            xml("write_file", &[("path", "a.txt"), ("content", "line one\n\n")]),
        )
        .call("write_file", json!({"path": "a.txt", "content": "line one\n\n"})),
        Case::new(
            "q_value_strips_only_one_leading_newline",
            "3.1: exactly one leading newline stripped",
            QA,
            xml("write_file", &[("path", "a.txt"), ("content", "\nsecond line")]),
        )
        .call("write_file", json!({"path": "a.txt", "content": "\nsecond line"})),
        Case::new(
            "q_value_single_line",
            "3.1: a value without newlines is taken as is",
            QA,
            "<tool_call><function=read_file><parameter=path>src/a.rs</parameter></function></tool_call>",
        )
        .call("read_file", json!({"path": "src/a.rs"})),
        Case::new(
            "q_value_string_whitespace_kept",
            "3.1/4: a string value keeps inner spaces",
            QA,
            xml("write_file", &[("path", "a.txt"), ("content", "  padded  ")]),
        )
        .call("write_file", json!({"path": "a.txt", "content": "  padded  "})),
        // ------------------------------------------------------- rule 2: markup inside values
        Case::new(
            "q_markup_undeclared_param_in_value",
            "3.2: </parameter> + <parameter=foo> (foo not a param) is data",
            QA,
            "<tool_call>\n<function=write_file>\n<parameter=path>\nt.xml\n</parameter>\n<parameter=content>\na</parameter>\n<parameter=foo>\nb\n</parameter>\n</function>\n</tool_call>",
        )
        .call("write_file", json!({"path": "t.xml", "content": "a</parameter>\n<parameter=foo>\nb"})),
        Case::new(
            "q_markup_seen_param_in_value",
            "3.2: <parameter=NAME> for an already seen param is data",
            QA,
            "<tool_call>\n<function=write_file>\n<parameter=path>\nt.md\n</parameter>\n<parameter=content>\nA\n</parameter>\n<parameter=path>\nB\n</parameter>\n</function>\n</tool_call>",
        )
        .call("write_file", json!({"path": "t.md", "content": "A\n</parameter>\n<parameter=path>\nB"})),
        Case::new(
            "q_value_holds_whole_tool_call_example",
            "3.2: literal <tool_call>/<function=> in a value make their closers literal",
            QA,
            xml(
                "write_file",
                &[
                    ("path", "docs/example.md"),
                    (
                        "content",
                        "Example:\n<tool_call>\n<function=read_file>\n<parameter=path>\nx\n</parameter>\n</function>\n</tool_call>\nEnd.",
                    ),
                ],
            ),
        )
        .call(
            "write_file",
            json!({"path": "docs/example.md", "content": "Example:\n<tool_call>\n<function=read_file>\n<parameter=path>\nx\n</parameter>\n</function>\n</tool_call>\nEnd."}),
        ),
        Case::new(
            "q_value_mentions_tool_call_tag",
            "3.2: <tool_call> text inside a value is data",
            QA,
            xml("write_file", &[("path", "README.md"), ("content", "Wrap calls in <tool_call> tags.")]),
        )
        .call("write_file", json!({"path": "README.md", "content": "Wrap calls in <tool_call> tags."})),
        Case::new(
            "q_value_mentions_closing_tags",
            "3.2: </tool_call> and </function> text mid-line in a value is data",
            QA,
            xml("write_file", &[("path", "n.md"), ("content", "Close with </function> then </tool_call> at the end.")]),
        )
        .call("write_file", json!({"path": "n.md", "content": "Close with </function> then </tool_call> at the end."})),
        Case::new(
            "q_param_tag_not_at_line_start_is_data",
            "3.2: <parameter=NAME> opens only at a line start",
            QA,
            "<tool_call>\n<function=write_file>\n<parameter=content>\nx </parameter> <parameter=path> y\n</parameter>\n<parameter=path>\na.txt\n</parameter>\n</function>\n</tool_call>",
        )
        .call("write_file", json!({"content": "x </parameter> <parameter=path> y", "path": "a.txt"})),
        Case::new(
            "q_function_close_line_in_value_is_data",
            "3.2: a line-start </function> followed by more text is data",
            QA,
            xml("write_file", &[("path", "x.txt"), ("content", "a\n</function>\nb")]),
        )
        .call("write_file", json!({"path": "x.txt", "content": "a\n</function>\nb"})),
        // ---------------------------------------------------------------- rule 3: recovery
        Case::new(
            "q_recover_missing_close_before_param",
            "3.3: missing </parameter> before <parameter=KNOWN>",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/lib.rs\n<parameter=limit>\n5\n</parameter>\n</function>\n</tool_call>",
        )
        .call("read_file", json!({"path": "src/lib.rs", "limit": 5})),
        Case::new(
            "q_recover_missing_close_before_function",
            "3.3: missing </parameter> before </function>",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/lib.rs\n</function>\n</tool_call>",
        )
        .call("read_file", json!({"path": "src/lib.rs"})),
        // ------------------------------------------------------------- rule 4: bare <function=
        Case::new(
            "q_bare_function_declared",
            "3.4: bare <function=declared>, orphan </tool_call> swallowed",
            QA,
            "Let me look.\n<function=read_file>\n<parameter=path>\nREADME.md\n</parameter>\n</function>\n</tool_call>\nOK.",
        )
        .content("Let me look.\n\nOK.")
        .call("read_file", json!({"path": "README.md"})),
        Case::new(
            "q_bare_functions_in_a_row",
            "3.4: several bare calls",
            QA,
            "<function=read_file>\n<parameter=path>\na\n</parameter>\n</function>\n<function=read_file>\n<parameter=path>\nb\n</parameter>\n</function>",
        )
        .call("read_file", json!({"path": "a"}))
        .call("read_file", json!({"path": "b"})),
        Case::new(
            "q_bare_function_no_closers",
            "3.4/3.5: bare call, closers missing, all params closed",
            QA,
            "<function=read_file>\n<parameter=path>\nREADME.md\n</parameter>\n",
        )
        .call("read_file", json!({"path": "README.md"})),
        Case::new(
            "q_bare_undeclared_is_prose",
            "3.4: bare block naming an undeclared function is prose",
            QA,
            "Example:\n<function=delete_all>\n<parameter=force>\ntrue\n</parameter>\n</function>",
        )
        .content_is_input(),
        Case::new(
            "q_bare_mid_line_is_prose",
            "3.4: a bare <function=…> inside a sentence is a mention, not a call",
            QA,
            "To read a file, write <function=read_file>\n<parameter=path>\nx\n</parameter>\n</function> on its own.",
        )
        .content_is_input(),
        Case::new(
            "q_bare_mention_at_end_is_prose",
            "3.4/3.5: a mention at the very end of output is not a call with no arguments",
            QA,
            "See <function=read_file>",
        )
        .content_is_input(),
        Case::new(
            "q_bare_indented_line_start",
            "3.4: a bare call on its own (indented) line is a call",
            QA,
            "Reading it.\n  <function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</function>",
        )
        .content("Reading it.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "q_commit_needs_structure",
            "3.4 + decision 4: <function=NAME> followed by prose is not a call",
            QA,
            "Use <function=read_file> to read files.",
        )
        .content_is_input(),
        // ------------------------------------------------------------------ rule 5: closers
        Case::new(
            "q_cut_closer_after_call_never_content",
            "6: a </tool_call> cut off after a finished call never leaks into content",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</function>\n</tool_c",
        )
        .length()
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "q_think_mid_text_is_text",
            "1: <think> after answer text is not reasoning",
            QA,
            "Answer first. <think>not reasoning</think> end",
        )
        .content("Answer first. <think>not reasoning\n\nend"),
        Case::new(
            "q_missing_closers_stop_complete",
            "3.5: </function></tool_call> missing at end, params closed: complete",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n",
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "q_missing_closers_after_function_stop_complete",
            "3.5: only </tool_call> missing",
            QA,
            "Reading.\n<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</function>",
        )
        .content("Reading.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "q_no_params_at_end_stop_complete",
            "3.5/3.8: <function=f> then end of output",
            QA,
            "<tool_call>\n<function=list_dir>\n",
        )
        .call("list_dir", json!({})),
        Case::new(
            "q_unclosed_param_stop_not_complete",
            "3.5: an unclosed parameter at end of output is not a complete call",
            QA,
            "Reading.\n<tool_call>\n<function=read_file>\n<parameter=path>\na.rs",
        )
        .content_unchecked()
        .finish(FinishReason::Stop),
        // --------------------------------------------------------------- rule 6: bad names
        Case::new(
            "q_name_template_is_prose",
            "3.6: non-identifier name",
            QA,
            "<tool_call>\n<function={{ tool.name }}>\n<parameter=path>\na\n</parameter>\n</function>\n</tool_call>",
        )
        .content_is_input(),
        Case::new(
            "q_name_with_space_is_prose",
            "3.6: name with a space",
            QA,
            "<tool_call>\n<function=read file>\n<parameter=path>\na\n</parameter>\n</function>\n</tool_call>",
        )
        .content_is_input(),
        Case::new(
            "q_name_quoted_is_prose",
            "3.6: quoted name",
            QA,
            "<tool_call>\n<function=\"read_file\">\n<parameter=path>\na\n</parameter>\n</function>\n</tool_call>",
        )
        .content_is_input(),
        // ------------------------------------------------------ rule 7/8: undeclared names
        Case::new(
            "q_wrapped_undeclared_passes_through",
            "3.7: wrapped undeclared well-formed name is a call, values strings",
            QA,
            xml("grep_code", &[("pattern", "fn main"), ("max", "10")]),
        )
        .call("grep_code", json!({"pattern": "fn main", "max": "10"})),
        Case::new(
            "q_undeclared_first_param_kept_as_string",
            "3.8: parameters not in the schema are kept as strings",
            QA,
            xml("read_file", &[("depth", "3"), ("path", "a.rs")]),
        )
        .call("read_file", json!({"depth": "3", "path": "a.rs"})),
        Case::new(
            "q_undeclared_param_while_declared_unseen",
            "3.2/3.8: an undeclared <parameter=NAME> on a new line opens while a declared one is unseen (kept as a string)",
            QA,
            xml("read_file", &[("path", "a"), ("depth", "3")]),
        )
        .call("read_file", json!({"path": "a", "depth": "3"})),
        Case::new(
            "q_undeclared_param_between_declared",
            "3.2/3.8: an undeclared parameter between declared ones (vLLM parses it)",
            QA,
            xml("read_file", &[("path", "a.rs"), ("encoding", "utf-8"), ("limit", "5")]),
        )
        .call("read_file", json!({"path": "a.rs", "encoding": "utf-8", "limit": 5})),
        Case::new(
            "q_inline_params",
            "3.2: parameters written inline, no newlines (</parameter><parameter=b>)",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>src/a.rs</parameter><parameter=limit>7</parameter>\n</function>\n</tool_call>",
        )
        .call("read_file", json!({"path": "src/a.rs", "limit": 7})),
        Case::new(
            "q_inline_call_on_one_line",
            "3.2: a whole call on one line",
            QA,
            "<tool_call><function=read_file><parameter=path>src/a.rs</parameter><parameter=limit>7</parameter></function></tool_call>",
        )
        .call("read_file", json!({"path": "src/a.rs", "limit": 7})),
        Case::new(
            "q_inline_markup_in_last_value_is_data",
            "3.2: once every declared parameter was seen, an inline or undeclared tag is data",
            QA,
            "<tool_call>\n<function=write_file>\n<parameter=path>t.xml</parameter><parameter=content>a</parameter><parameter=path>b</parameter>\n<parameter=foo>c</parameter>\n</function>\n</tool_call>",
        )
        .call("write_file", json!({"path": "t.xml", "content": "a</parameter><parameter=path>b</parameter>\n<parameter=foo>c"})),
        Case::new(
            "q_no_params_empty_object",
            "3.8: <function=f> with no parameters gives {}",
            QA,
            "<tool_call>\n<function=list_dir>\n</function>\n</tool_call>",
        )
        .call("list_dir", json!({})),
        Case::new("q_no_params_adjacent", "3.8 + decision 4", QA, "<function=list_dir></function>")
            .call("list_dir", json!({})),
    ]
}
