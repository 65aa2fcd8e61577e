//! Table rows for `glm45` (GLM-4.5/4.6) and `glm47` (GLM-4.7/5.x, the same machine):
//! `<arg_key>`/`<arg_value>` pairs typed by the request's schema like `qwen3_coder`
//! parameters (spec section 1, with rules 2-6).
//!
//! Every `g_` row runs in both formats. GLM-4.7's template opens `<think>` by default, so
//! the rows that start as the answer say so (`PromptClosed`: thinking disabled, which for
//! GLM-4.5 is the same as `Auto`); the `g47_` rows pin what only GLM-4.7 does.

use std::fmt::Write as _;

use podctl::toolcall::{Format, Reasoning};
use serde_json::json;

use crate::support::{Case, G, G47, xml};

const ONLY_G: &[Format] = &[G, G47];
const ONLY_G45: &[Format] = &[G];
const ONLY_G47: &[Format] = &[G47];

/// A GLM-4.5 call as its chat template writes it.
pub(crate) fn glm(name: &str, args: &[(&str, &str)]) -> String {
    let mut s = format!("<tool_call>{name}\n");
    for (key, value) in args {
        let _ = write!(s, "<arg_key>{key}</arg_key>\n<arg_value>{value}</arg_value>\n");
    }
    s.push_str("</tool_call>");
    s
}

pub(crate) fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = both()
        .into_iter()
        .map(|c| if c.reasoning_mode == Reasoning::Auto { c.prompt_closed() } else { c })
        .collect();
    cases.extend(glm47());
    cases
}

/// What only GLM-4.7 does: its template opens reasoning, a call may follow its name at once,
/// and GLM's end-of-turn tokens are never content.
fn glm47() -> Vec<Case> {
    let g_read_a = glm("read_file", &[("path", "a.rs")]);
    vec![
        Case::new("g47_auto_starts_in_reasoning", "1: the template opened <think>", ONLY_G47, format!("I need a.rs.</think>\n{g_read_a}"))
            .reasoning("I need a.rs.")
            .call("read_file", json!({"path": "a.rs"})),
        Case::new("g45_auto_starts_as_answer", "1: GLM-4.5's template opens nothing", ONLY_G45, "plan</think>Answer.")
            .content("plan\n\nAnswer."),
        Case::new("g47_model_repeats_think", "1: a <think> repeated at the start of opened reasoning is dropped", ONLY_G47, "<think>plan</think>Answer.")
            .reasoning("plan")
            .content("Answer."),
        Case::new("g47_call_inside_opened_reasoning", "3.10: a call ends the reasoning the prompt opened", ONLY_G47, format!("plan\n{g_read_a}\n</think>\nDone."))
            .reasoning("plan")
            .content("Done.")
            .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "g47_compact_trimmed_key_and_zero_args",
            "glm47: no newline after the name, keys trimmed, a call without arguments",
            ONLY_G,
            "<tool_call>read_file<arg_key> path </arg_key>\n<arg_value>a.rs</arg_value></tool_call><tool_call>list_dir</tool_call>",
        )
        .prompt_closed()
        .call("read_file", json!({"path": "a.rs"}))
        .call("list_dir", json!({})),
        Case::new("g47_end_of_turn_tokens_dropped", "eot: GLM's end-of-turn tokens are never content", ONLY_G, format!("Done.<|user|>\n{g_read_a}<|observation|>"))
            .prompt_closed()
            .content("Done.")
            .call("read_file", json!({"path": "a.rs"})),
        Case::new("g47_end_of_turn_in_reasoning_dropped", "eot: nor reasoning", ONLY_G47, "plan<|endoftext|>")
            .reasoning("plan"),
        Case::new("g47_end_of_turn_cut_under_length", "6/eot: a cut end-of-turn token never leaks", ONLY_G, "Done.<|obser")
            .prompt_closed()
            .length()
            .content("Done."),
        Case::new(
            "g47_end_of_turn_in_value_is_data",
            "3.2/eot: inside a value the token is data",
            ONLY_G,
            glm("write_file", &[("path", "t.txt"), ("content", "role <|user|> here")]),
        )
        .prompt_closed()
        .call("write_file", json!({"path": "t.txt", "content": "role <|user|> here"})),
    ]
}

/// The rows of both formats.
#[allow(clippy::too_many_lines, reason = "a table")]
fn both() -> Vec<Case> {
    let read_a = xml("read_file", &[("path", "a.rs")]);
    let g_read_a = glm("read_file", &[("path", "a.rs")]);
    let g_read_b = glm("read_file", &[("path", "b.rs")]);
    vec![
        Case::new("g_single_call", "1: GLM call", ONLY_G, glm("read_file", &[("path", "src/main.rs"), ("limit", "30")]))
            .call("read_file", json!({"path": "src/main.rs", "limit": 30})),
        Case::new(
            "g_text_before_between_after",
            "3.9: segments trimmed, joined by a blank line",
            ONLY_G,
            format!("I'll read both files.\n{g_read_a}\nNow the second one:\n\n{g_read_b}\nDone.\n"),
        )
        .content("I'll read both files.\n\nNow the second one:\n\nDone.")
        .call("read_file", json!({"path": "a.rs"}))
        .call("read_file", json!({"path": "b.rs"})),
        Case::new(
            "g_three_calls_in_a_row",
            "1: several calls",
            ONLY_G,
            format!(
                "{g_read_a}\n{}\n{}",
                glm("write_file", &[("path", "out.txt"), ("content", "hi")]),
                glm("run", &[("cmd", "cargo test"), ("timeout", "60")])
            ),
        )
        .call("read_file", json!({"path": "a.rs"}))
        .call("write_file", json!({"path": "out.txt", "content": "hi"}))
        .call("run", json!({"cmd": "cargo test", "timeout": 60.0})),
        Case::new(
            "g_compact_without_newlines",
            "1: GLM-4.6/4.7 write the tags without newlines",
            ONLY_G,
            "<tool_call>read_file<arg_key>path</arg_key><arg_value>a.rs</arg_value><arg_key>limit</arg_key><arg_value>5</arg_value></tool_call><tool_call>list_dir</tool_call>",
        )
        .call("read_file", json!({"path": "a.rs", "limit": 5}))
        .call("list_dir", json!({})),
        Case::new(
            "g_multibyte_around_and_inside",
            "3.9: multi-byte text",
            ONLY_G,
            format!(
                "好的，我来写文件 ✍️\n{}\n完成 ✅",
                glm("write_file", &[("path", "笔记/日本語.md"), ("content", "# 标题 🎉\nnaïve café — ✓ 👍🏽")])
            ),
        )
        .content("好的，我来写文件 ✍️\n\n完成 ✅")
        .call("write_file", json!({"path": "笔记/日本語.md", "content": "# 标题 🎉\nnaïve café — ✓ 👍🏽"})),
        Case::new(
            "g_string_value_verbatim",
            "glm45: values are raw text, newlines and indent kept (the template adds none)",
            ONLY_G,
            glm("write_file", &[("path", "m.rs"), ("content", "\n    fn main() {\n        println!(\"hi\");\n    }\n\n")]),
        )
        .call("write_file", json!({"path": "m.rs", "content": "\n    fn main() {\n        println!(\"hi\");\n    }\n\n"})),
        Case::new("g_empty_string_value", "glm45: an empty value", ONLY_G, glm("read_file", &[("path", "")]))
            .call("read_file", json!({"path": ""})),
        Case::new(
            "g_markup_in_value_is_data",
            "3.2: a </arg_value> not followed by structure, a seen key, think tags and < are data",
            ONLY_G,
            glm(
                "write_file",
                &[
                    ("path", "t.txt"),
                    ("content", "a < b </arg_value> and more\n</arg_value>\n<arg_key>path</arg_key>\n<arg_value>x.rs</arg_value>\n<think>no</think> <div>"),
                ],
            ),
        )
        .call(
            "write_file",
            json!({"path": "t.txt", "content": "a < b </arg_value> and more\n</arg_value>\n<arg_key>path</arg_key>\n<arg_value>x.rs</arg_value>\n<think>no</think> <div>"}),
        ),
        Case::new(
            "g_value_holds_whole_tool_call_example",
            "3.2: a literal <tool_call> in a value makes its closers literal",
            ONLY_G,
            glm(
                "write_file",
                &[("path", "doc.md"), ("content", "Example:\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>\nEnd.")],
            ),
        )
        .call(
            "write_file",
            json!({"path": "doc.md", "content": "Example:\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>\nEnd."}),
        ),
        Case::new(
            "g_recover_missing_value_close_before_key",
            "3.3: a missing </arg_value> before the next declared key",
            ONLY_G,
            "<tool_call>read_file\n<arg_key>limit</arg_key>\n<arg_value>3\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n</tool_call>",
        )
        .call("read_file", json!({"limit": 3, "path": "a.rs"})),
        Case::new(
            "g_recover_missing_value_close_before_call_close",
            "3.3: a missing </arg_value> before </tool_call> at the end",
            ONLY_G,
            "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</tool_call>",
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "g_missing_call_close_stop_complete",
            "3.5: </tool_call> missing at the end, values closed: complete",
            ONLY_G,
            "Reading.\n<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n",
        )
        .content("Reading.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "g_missing_call_close_between_calls",
            "3.5: a missing </tool_call> before the next call",
            ONLY_G,
            format!("<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n{g_read_b}"),
        )
        .call("read_file", json!({"path": "a.rs"}))
        .call("read_file", json!({"path": "b.rs"})),
        Case::new(
            "g_unclosed_value_stop_not_complete",
            "3.5: a value never closed is not a complete call",
            ONLY_G,
            "Reading.\n<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs",
        )
        .content("Reading."),
        Case::new(
            "g_truncated_mid_value",
            "6: truncated under length: not executable, prose kept",
            ONLY_G,
            "Reading.\n<tool_call>write_file\n<arg_key>path</arg_key>\n<arg_value>a.txt</arg_value>\n<arg_key>content</arg_key>\n<arg_value>hello wor",
        )
        .length()
        .content("Reading."),
        Case::new(
            "g_truncated_before_call_close",
            "6: the </tool_call> cut off: not executable, never content",
            ONLY_G,
            "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n</tool_c",
        )
        .length(),
        Case::new(
            "g_truncated_in_header",
            "6: a cut header is neither a call nor content",
            ONLY_G,
            "Reading now.\n<tool_call>read_file\n<arg_key>pa",
        )
        .length()
        .content("Reading now."),
        Case::new(
            "g_complete_then_truncated",
            "6: complete calls kept, length stays length",
            ONLY_G,
            format!("{g_read_a}\n<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>b"),
        )
        .length()
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("g_partial_tool_call_marker", "6: truncated tag never leaks", ONLY_G, "Reading now.\n<tool_ca")
            .length()
            .content("Reading now."),
        Case::new(
            "g_types_from_schema",
            "4: values typed by the schema",
            ONLY_G,
            format!(
                "{}\n{}\n{}",
                glm("geo", &[("zip", "03106"), ("ratio", " 2.50 "), ("count", "30.0")]),
                glm("edit", &[("opts", "{'k': 'v', 'b': True}"), ("flags", "[\"a\", \"b\"]"), ("dry", "True")]),
                glm("run", &[("cmd", "null"), ("timeout", "None")])
            ),
        )
        .call("geo", json!({"zip": "03106", "ratio": 2.5, "count": 30}))
        .call("edit", json!({"opts": {"k": "v", "b": true}, "flags": ["a", "b"], "dry": true}))
        .call("run", json!({"cmd": "null", "timeout": null})),
        Case::new(
            "g_type_not_fitting_kept_raw",
            "4: nothing fits: the raw string",
            ONLY_G,
            glm("geo", &[("count", "many"), ("ratio", "inf")]),
        )
        .call("geo", json!({"count": "many", "ratio": "inf"})),
        Case::new(
            "g_wrapped_undeclared_passes_through",
            "3.7: an undeclared well-formed name is a call, values strings",
            ONLY_G,
            glm("grep_code", &[("pattern", "fn main"), ("max", "10")]),
        )
        .call("grep_code", json!({"pattern": "fn main", "max": "10"})),
        Case::new(
            "g_undeclared_param_kept_as_string",
            "3.8: keys not in the schema are kept, as strings",
            ONLY_G,
            glm("read_file", &[("encoding", "utf-8"), ("path", "a.rs")]),
        )
        .call("read_file", json!({"encoding": "utf-8", "path": "a.rs"})),
        Case::new(
            "g_no_args",
            "3.8: no arguments gives {}",
            ONLY_G,
            "<tool_call>list_dir</tool_call>\n<tool_call>list_dir\n</tool_call>",
        )
        .call("list_dir", json!({}))
        .call("list_dir", json!({})),
        Case::new("g_no_args_missing_close_stop", "3.5: declared name, only </tool_call> missing", ONLY_G, "<tool_call>list_dir\n")
            .call("list_dir", json!({})),
        Case::new("g_undeclared_word_at_end_is_text", "6/9: a bare word after <tool_call> at the end", ONLY_G, "See <tool_call>nope")
            .content_is_input(),
        Case::new(
            "g_think_then_call",
            "1: <think> reasoning, then a call",
            ONLY_G,
            format!("<think>\nI need the file.\n</think>\n\n{g_read_a}"),
        )
        .reasoning("I need the file.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "g_tool_call_inside_think",
            "3.10: <tool_call> ends reasoning, later </think> dropped",
            ONLY_G,
            format!("<think>\nLet me check.\n{g_read_a}\n</think>\nDone."),
        )
        .reasoning("Let me check.")
        .content("Done.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("g_prompt_opened", "1: the prompt opened <think>", ONLY_G, format!("plan\n</think>\n\n{g_read_a}"))
            .prompt_opened()
            .reasoning("plan")
            .call("read_file", json!({"path": "a.rs"})),
        Case::new("g_garbage_after_tool_call_is_text", "3.6: not a call", ONLY_G, "<tool_call>\nhello there\n</tool_call>")
            .content_is_input(),
        Case::new(
            "g_json_inside_is_text",
            "3.6: a JSON body is not a GLM call",
            ONLY_G,
            r#"<tool_call>{"name": "read_file", "arguments": {"path": "a.rs"}}</tool_call>"#,
        )
        .content_is_input(),
        Case::new("g_qwen_xml_is_text", "3.6: Qwen XML is not a GLM call", ONLY_G, read_a.clone()).content_is_input(),
        Case::new(
            "g_name_template_is_text",
            "3.6: a name that is not an identifier",
            ONLY_G,
            "<tool_call>{{ tool.name }}\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n</tool_call>",
        )
        .content_is_input(),
        Case::new(
            "g_key_without_value_is_text",
            "3.6: <arg_key> not followed by <arg_value>",
            ONLY_G,
            "<tool_call>read_file\n<arg_key>path</arg_key>\nsrc/main.rs\n</tool_call>",
        )
        .content_is_input(),
    ]
}
