//! Table rows for the invoke-block formats: `minimax_m2` (MiniMax-M2.x) and DeepSeek's DSML
//! (`deepseek_v32`, `deepseek_v4`), one machine with three dialects (spec sections 1-6 as
//! they apply to `<invoke name=…>`/`<parameter name=…>` markup).
//!
//! MiniMax-M2's template always opens `<think>` and DeepSeek-V4's does unless thinking is
//! off, so their rows under `Auto` start in reasoning; `PromptClosed` rows are thinking off.

use std::fmt::Write as _;

use podctl::toolcall::Format;
use serde_json::json;

use crate::support::{A, Case, D4, D32, MM};

const ONLY_MM: &[Format] = &[MM];
const ONLY_D32: &[Format] = &[D32];
const ONLY_D4: &[Format] = &[D4];
const DSML: &[Format] = &[D32, D4];
const ALL: &[Format] = &[MM, D32, D4];
const ONLY_A: &[Format] = &[A];

/// Calls for [`dsml`]: a name and its `(key, is_string, value)` parameters.
type DsmlCalls<'a> = &'a [(&'a str, &'a [(&'a str, bool, &'a str)])];

/// A MiniMax-M2 wrapper around invokes as its template writes them.
pub(crate) fn mm(invokes: &[(&str, &[(&str, &str)])]) -> String {
    let mut s = "<minimax:tool_call>\n".to_owned();
    for (name, args) in invokes {
        let _ = writeln!(s, "<invoke name=\"{name}\">");
        for (key, value) in *args {
            let _ = writeln!(s, "<parameter name=\"{key}\">{value}</parameter>");
        }
        s.push_str("</invoke>\n");
    }
    s.push_str("</minimax:tool_call>");
    s
}

/// DeepSeek's DSML: `wrapper` is `function_calls` (V3.2) or `tool_calls` (V4); each
/// parameter says whether it is a string.
pub(crate) fn dsml(wrapper: &str, invokes: DsmlCalls<'_>) -> String {
    let mut s = format!("<｜DSML｜{wrapper}>\n");
    for (name, args) in invokes {
        let _ = writeln!(s, "<｜DSML｜invoke name=\"{name}\">");
        for (key, string, value) in *args {
            let _ = writeln!(
                s,
                "<｜DSML｜parameter name=\"{key}\" string=\"{string}\">{value}</｜DSML｜parameter>"
            );
        }
        s.push_str("</｜DSML｜invoke>\n");
    }
    let _ = write!(s, "</｜DSML｜{wrapper}>");
    s
}

/// The same calls in either DSML wrapper, for the rows both dialects share.
fn both(invokes: DsmlCalls<'_>) -> (String, String) {
    (dsml("function_calls", invokes), dsml("tool_calls", invokes))
}

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let read_a = mm(&[("read_file", &[("path", "a.rs")])]);
    let (d32_geo, d4_geo) = both(&[("geo", &[("zip", true, "03106"), ("count", false, "5")])]);
    vec![
        Case::new(
            "mm_single_call",
            "1: MiniMax call after the reasoning its template opened",
            ONLY_MM,
            format!("I should read it.\n</think>\n\n{}", mm(&[("read_file", &[("path", "src/a.rs"), ("limit", "30")])])),
        )
        .reasoning("I should read it.")
        .call("read_file", json!({"path": "src/a.rs", "limit": 30})),
        Case::new(
            "mm_parallel_calls_text_around",
            "1/3.9: several invokes in one wrapper, text around kept",
            ONLY_MM,
            format!(
                "Reading both.\n{}\nDone.",
                mm(&[("read_file", &[("path", "a.rs")]), ("run", &[("cmd", "cargo test"), ("timeout", "60")])])
            ),
        )
        .prompt_closed()
        .content("Reading both.\n\nDone.")
        .call("read_file", json!({"path": "a.rs"}))
        .call("run", json!({"cmd": "cargo test", "timeout": 60.0})),
        Case::new(
            "mm_name_quotes",
            "minimax_m2: names in single quotes or none (vLLM's parser accepts both)",
            ONLY_MM,
            "<minimax:tool_call><invoke name='read_file'><parameter name=path>a.rs</parameter></invoke><invoke name=list_dir></invoke></minimax:tool_call>",
        )
        .prompt_closed()
        .call("read_file", json!({"path": "a.rs"}))
        .call("list_dir", json!({})),
        Case::new(
            "mm_types_from_schema",
            "4: values typed by the schema",
            ONLY_MM,
            mm(&[
                ("geo", &[("zip", "03106"), ("ratio", " 2.50 "), ("count", "30.0")]),
                ("edit", &[("opts", "{'k': 'v'}"), ("flags", "[\"a\"]"), ("dry", "True")]),
                ("run", &[("cmd", "null"), ("timeout", "None")]),
            ]),
        )
        .prompt_closed()
        .call("geo", json!({"zip": "03106", "ratio": 2.5, "count": 30}))
        .call("edit", json!({"opts": {"k": "v"}, "flags": ["a"], "dry": true}))
        .call("run", json!({"cmd": "null", "timeout": null})),
        Case::new(
            "mm_type_not_fitting_kept_raw",
            "4: nothing fits: the raw string",
            ONLY_MM,
            mm(&[("geo", &[("count", "many")])]),
        )
        .prompt_closed()
        .call("geo", json!({"count": "many"})),
        Case::new(
            "mm_markup_in_value_is_data",
            "3.2: a </parameter> not followed by structure, a seen key and the wrapper are data",
            ONLY_MM,
            mm(&[(
                "write_file",
                &[
                    ("path", "t.xml"),
                    ("content", "a </parameter> b\n</parameter>\n<parameter name=\"path\">x</parameter>\n<minimax:tool_call><invoke name=\"z\"> <div>"),
                ],
            )]),
        )
        .prompt_closed()
        .call(
            "write_file",
            json!({"path": "t.xml", "content": "a </parameter> b\n</parameter>\n<parameter name=\"path\">x</parameter>\n<minimax:tool_call><invoke name=\"z\"> <div>"}),
        ),
        Case::new(
            "mm_value_newlines_stripped_once",
            "3.1: one leading and one trailing newline stripped, indentation kept",
            ONLY_MM,
            mm(&[("write_file", &[("path", "m.rs"), ("content", "\n\n    fn main() {}\n\n")])]),
        )
        .prompt_closed()
        .call("write_file", json!({"path": "m.rs", "content": "\n    fn main() {}\n"})),
        Case::new(
            "mm_truncated_mid_value",
            "6: truncated under length: not executable, prose kept",
            ONLY_MM,
            "Writing.\n<minimax:tool_call>\n<invoke name=\"write_file\">\n<parameter name=\"path\">a.txt</parameter>\n<parameter name=\"content\">hello wor",
        )
        .prompt_closed()
        .length()
        .content("Writing."),
        Case::new(
            "mm_truncated_in_tag",
            "6: a cut tag is neither a call nor content",
            ONLY_MM,
            "Reading.\n<minimax:tool_call>\n<invoke name=\"read_fi",
        )
        .prompt_closed()
        .length()
        .content("Reading."),
        Case::new(
            "mm_truncated_after_value",
            "6: every value closed but </invoke> cut off under length: not executable",
            ONLY_MM,
            "<minimax:tool_call>\n<invoke name=\"read_file\">\n<parameter name=\"path\">a.rs</parameter>\n</inv",
        )
        .prompt_closed()
        .length(),
        Case::new(
            "mm_missing_closers_stop_complete",
            "3.5: </invoke> and the wrapper end missing at the end, values closed: complete",
            ONLY_MM,
            "Reading.\n<minimax:tool_call>\n<invoke name=\"read_file\">\n<parameter name=\"path\">a.rs</parameter>\n",
        )
        .prompt_closed()
        .content("Reading.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "mm_missing_invoke_close_between_calls",
            "3.5: a missing </invoke> before the next invoke",
            ONLY_MM,
            "<minimax:tool_call>\n<invoke name=\"read_file\">\n<parameter name=\"path\">a.rs</parameter>\n<invoke name=\"read_file\">\n<parameter name=\"path\">b.rs</parameter>\n</invoke>\n</minimax:tool_call>",
        )
        .prompt_closed()
        .call("read_file", json!({"path": "a.rs"}))
        .call("read_file", json!({"path": "b.rs"})),
        Case::new(
            "mm_unclosed_value_stop_not_complete",
            "3.5: a value never closed is not a complete call",
            ONLY_MM,
            "Reading.\n<minimax:tool_call>\n<invoke name=\"read_file\">\n<parameter name=\"path\">a.rs",
        )
        .prompt_closed()
        .content("Reading."),
        Case::new(
            "mm_zero_args",
            "3.8: an invoke without parameters gives {}",
            ONLY_MM,
            "<minimax:tool_call>\n<invoke name=\"list_dir\">\n</invoke>\n</minimax:tool_call>",
        )
        .prompt_closed()
        .call("list_dir", json!({})),
        Case::new(
            "mm_wrapped_undeclared_passes_through",
            "3.7: an undeclared well-formed name is a call, values strings",
            ONLY_MM,
            mm(&[("grep_code", &[("pattern", "fn main"), ("max", "10")])]),
        )
        .prompt_closed()
        .call("grep_code", json!({"pattern": "fn main", "max": "10"})),
        Case::new(
            "mm_undeclared_param_kept_as_string",
            "3.8: keys not in the schema are kept, as strings",
            ONLY_MM,
            mm(&[("read_file", &[("encoding", "utf-8"), ("path", "a.rs")])]),
        )
        .prompt_closed()
        .call("read_file", json!({"encoding": "utf-8", "path": "a.rs"})),
        Case::new(
            "mm_undeclared_param_between_declared",
            "3.2/3.8: an undeclared parameter between declared ones opens on a new line (vLLM parses it)",
            ONLY_MM,
            mm(&[("read_file", &[("path", "a.rs"), ("encoding", "utf-8"), ("limit", "5")])]),
        )
        .prompt_closed()
        .call("read_file", json!({"path": "a.rs", "encoding": "utf-8", "limit": 5})),
        Case::new(
            "mm_undeclared_param_after_every_declared_is_data",
            "3.2: once every declared key was seen, an undeclared parameter tag is data of the last value",
            ONLY_MM,
            "<minimax:tool_call>\n<invoke name=\"write_file\">\n<parameter name=\"path\">a.xml</parameter>\n<parameter name=\"content\"><a>\n</parameter>\n<parameter name=\"b\">x</parameter>\n</invoke>\n</minimax:tool_call>",
        )
        .prompt_closed()
        .call("write_file", json!({"path": "a.xml", "content": "<a>\n</parameter>\n<parameter name=\"b\">x"})),
        Case::new(
            "mm_bare_invoke_declared",
            "3.4: an invoke without the wrapper is a call only for a declared tool",
            ONLY_MM,
            "Sure.\n<invoke name=\"read_file\">\n<parameter name=\"path\">a.rs</parameter>\n</invoke>\n<invoke name=\"nope\">\n</invoke>",
        )
        .prompt_closed()
        .content("Sure.\n\n<invoke name=\"nope\">\n</invoke>")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "mm_name_template_is_text",
            "3.6: a name that is not an identifier",
            ONLY_MM,
            "<minimax:tool_call>\n<invoke name=\"{{ tool.name }}\">\n</invoke>\n</minimax:tool_call>",
        )
        .prompt_closed()
        .content_unchecked(),
        Case::new("mm_empty_wrapper_at_end_is_text", "3.6/9: a wrapper with no call is text", ONLY_MM, "See <minimax:tool_call>")
            .prompt_closed()
            .content_is_input(),
        Case::new("mm_orphan_wrapper_end_dropped", "minimax_m2: an orphan wrapper end is markup", ONLY_MM, "Done.</minimax:tool_call>")
            .prompt_closed()
            .content("Done."),
        Case::new("mm_end_of_turn_dropped", "eot: `[e~[` is never content", ONLY_MM, format!("Done.\n{read_a}[e~[\n"))
            .prompt_closed()
            .content("Done.")
            .call("read_file", json!({"path": "a.rs"})),
        Case::new("mm_brackets_in_prose_kept", "eot: other brackets are prose", ONLY_MM, "a[0] = [e~x [e")
            .prompt_closed()
            .content_is_input(),
        Case::new(
            "mm_call_inside_reasoning_ends_it",
            "3.10: a wrapper inside reasoning ends it, a later </think> is dropped",
            ONLY_MM,
            format!("Let me check.\n{read_a}\n</think>\nDone."),
        )
        .reasoning("Let me check.")
        .content("Done.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("mm_think_repeated", "1: a <think> repeated at the start of opened reasoning", ONLY_MM, "<think>\nplan\n</think>\nAnswer.")
            .reasoning("plan")
            .content("Answer."),
        Case::new(
            "mm_prompt_closed_then_think",
            "1: thinking off: <think> at the start still opens reasoning",
            ALL,
            "<think>plan</think>Answer.",
        )
        .prompt_closed()
        .reasoning("plan")
        .content("Answer."),
        Case::new(
            "d32_single_call",
            "1: DSML call, string=\"true\" raw, string=\"false\" JSON",
            ONLY_D32,
            format!("Some text.\n\n{d32_geo}"),
        )
        .content("Some text.")
        .call("geo", json!({"zip": "03106", "count": 5})),
        Case::new(
            "d_lone_arguments_unwrapped",
            "deepseek_v32/v4: a lone `arguments` parameter holding the object is the arguments (vLLM unwraps it)",
            ONLY_D32,
            dsml("function_calls", &[("read_file", &[("arguments", false, r#"{"path": "a.rs", "limit": 5}"#)])]),
        )
        .prompt_closed()
        .call("read_file", json!({"path": "a.rs", "limit": 5})),
        Case::new(
            "d_lone_input_string_unwrapped",
            "deepseek_v32/v4: a lone `input` written as a string that holds the object is unwrapped too",
            ONLY_D4,
            dsml("tool_calls", &[("read_file", &[("input", true, r#"{"path": "a.rs"}"#)])]),
        )
        .prompt_closed()
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "d_arguments_beside_another_key_kept",
            "deepseek_v32/v4: `arguments` with another parameter is an ordinary (undeclared) value",
            ONLY_D32,
            dsml("function_calls", &[("read_file", &[("arguments", false, r#"{"x": 1}"#), ("path", true, "a.rs")])]),
        )
        .prompt_closed()
        .call("read_file", json!({"arguments": {"x": 1}, "path": "a.rs"})),
        Case::new(
            "d_arguments_not_an_object_kept",
            "deepseek_v32/v4: a lone `arguments` that is not an object stays a value",
            ONLY_D32,
            dsml("function_calls", &[("read_file", &[("arguments", true, "just text")])]),
        )
        .prompt_closed()
        .call("read_file", json!({"arguments": "just text"})),
        Case::new(
            "d32_prompt_opened",
            "1: thinking on: the prompt ends with <think>",
            ONLY_D32,
            format!("I need the weather.</think>\n\n{d32_geo}"),
        )
        .prompt_opened()
        .reasoning("I need the weather.")
        .call("geo", json!({"zip": "03106", "count": 5})),
        Case::new("d4_single_call", "1: V4 opens reasoning by default", ONLY_D4, format!("I need the weather.</think>\n\n{d4_geo}"))
            .reasoning("I need the weather.")
            .call("geo", json!({"zip": "03106", "count": 5})),
        Case::new(
            "d4_block_inside_reasoning_ends_it",
            "3.10: a tool block inside reasoning ends it",
            ONLY_D4,
            format!("Plan.\n{d4_geo}\n</think>\nDone."),
        )
        .reasoning("Plan.")
        .content("Done.")
        .call("geo", json!({"zip": "03106", "count": 5})),
        Case::new(
            "d32_parallel_calls",
            "1: several invokes in one block",
            ONLY_D32,
            dsml("function_calls", &[("read_file", &[("path", true, "a.rs")]), ("run", &[("cmd", true, "ls"), ("timeout", false, "null")])]),
        )
        .call("read_file", json!({"path": "a.rs"}))
        .call("run", json!({"cmd": "ls", "timeout": null})),
        Case::new(
            "d32_string_attribute_for_undeclared",
            "4: undeclared parameters: string=\"false\" is JSON where it parses, string=\"true\" stays text",
            ONLY_D32,
            dsml(
                "function_calls",
                &[("grep_code", &[("opts", false, "{\"a\": 1}"), ("raw", true, "{\"a\": 1}"), ("word", false, "hello"), ("n", false, "7")])],
            ),
        )
        .call("grep_code", json!({"opts": {"a": 1}, "raw": "{\"a\": 1}", "word": "hello", "n": 7})),
        Case::new(
            "d32_markup_in_value_is_data",
            "3.2: DSML closers inside a value are data unless structure follows",
            ONLY_D32,
            "<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"write_file\">\n<｜DSML｜parameter name=\"path\" string=\"true\">a</｜DSML｜parameter>\n<｜DSML｜parameter name=\"content\" string=\"true\">x</｜DSML｜parameter> y</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜function_calls>",
        )
        .prompt_closed()
        .call("write_file", json!({"path": "a", "content": "x</｜DSML｜parameter> y"})),
        Case::new(
            "d32_end_of_sentence_dropped",
            "eot: <｜end▁of▁sentence｜> is never content",
            DSML,
            "Done.<｜end▁of▁sentence｜>",
        )
        .prompt_closed()
        .content("Done."),
        Case::new(
            "d32_truncated_mid_value",
            "6: truncated under length: not executable, prose kept",
            ONLY_D32,
            "Checking.\n<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"geo\">\n<｜DSML｜parameter name=\"zip\" string=\"true\">031",
        )
        .length()
        .content("Checking."),
        Case::new(
            "d4_v32_wrapper_declared_invoke",
            "3.4: V4 reading V3.2's wrapper: the wrapper is text, a declared invoke inside is still a call",
            ONLY_D4,
            d32_geo.clone(),
        )
        .prompt_closed()
        .content_unchecked()
        .call("geo", json!({"zip": "03106", "count": 5})),
        Case::new(
            "a_minimax_decided",
            "auto: MiniMax's wrapper decides the family",
            ONLY_A,
            format!("Let me check.\n{read_a}"),
        )
        .content("Let me check.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("a_dsml_v32_decided", "auto: DSML function_calls decides DeepSeek-V3.2", ONLY_A, format!("Text.\n{d32_geo}"))
            .content("Text.")
            .call("geo", json!({"zip": "03106", "count": 5})),
        Case::new("a_dsml_v4_decided", "auto: DSML tool_calls decides DeepSeek-V4", ONLY_A, format!("Text.\n{d4_geo}"))
            .content("Text.")
            .call("geo", json!({"zip": "03106", "count": 5})),
    ]
}
