//! Table rows for `seed_oss` (Seed-OSS): Qwen3-Coder's XML rules (spec section 3) inside
//! `<seed:tool_call>`, `<seed:think>` reasoning, `<seed:eos>` never content.

use std::fmt::Write as _;

use podctl::toolcall::Format;
use serde_json::json;

use crate::support::{A, Case, S};

const ONLY_S: &[Format] = &[S];
const ONLY_A: &[Format] = &[A];

/// A Seed-OSS call with the values inline, as the model usually writes them.
pub(crate) fn seed(name: &str, params: &[(&str, &str)]) -> String {
    let mut s = format!("<seed:tool_call>\n<function={name}>\n");
    for (key, value) in params {
        let _ = writeln!(s, "<parameter={key}>{value}</parameter>");
    }
    s.push_str("</function>\n</seed:tool_call>");
    s
}

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let read_a = seed("read_file", &[("path", "a.rs")]);
    vec![
        Case::new(
            "s_think_then_call",
            "1: <seed:think> reasoning, then a call",
            ONLY_S,
            format!("<seed:think>I need the file.</seed:think>\n{}", seed("read_file", &[("path", "src/a.rs"), ("limit", "7")])),
        )
        .reasoning("I need the file.")
        .call("read_file", json!({"path": "src/a.rs", "limit": 7})),
        Case::new(
            "s_padded_values",
            "3.1: values padded with newlines lose exactly one each side",
            ONLY_S,
            "<seed:tool_call>\n<function=write_file>\n<parameter=path>\na.rs\n</parameter>\n<parameter=content>\n\n  x\n\n</parameter>\n</function>\n</seed:tool_call>",
        )
        .call("write_file", json!({"path": "a.rs", "content": "\n  x\n"})),
        Case::new(
            "s_text_around_parallel_calls",
            "3.9: text around and between calls kept",
            ONLY_S,
            format!("Reading both.\n{read_a}\nand\n{}\nDone.", seed("run", &[("cmd", "ls"), ("timeout", "5")])),
        )
        .content("Reading both.\n\nand\n\nDone.")
        .call("read_file", json!({"path": "a.rs"}))
        .call("run", json!({"cmd": "ls", "timeout": 5.0})),
        Case::new(
            "s_markup_in_value_is_data",
            "3.2: a </parameter> not followed by structure is data",
            ONLY_S,
            seed("write_file", &[("path", "t.xml"), ("content", "a </parameter> b <seed:tool_call> c")]),
        )
        .call("write_file", json!({"path": "t.xml", "content": "a </parameter> b <seed:tool_call> c"})),
        Case::new(
            "s_types_from_schema",
            "4: values typed by the schema",
            ONLY_S,
            seed("geo", &[("zip", "03106"), ("ratio", "2.50"), ("count", "30.0")]),
        )
        .call("geo", json!({"zip": "03106", "ratio": 2.5, "count": 30})),
        Case::new(
            "s_call_inside_think_ends_it",
            "3.10: a call inside reasoning ends it, a later </seed:think> is dropped",
            ONLY_S,
            format!("<seed:think>Let me check.\n{read_a}\n</seed:think>\nDone."),
        )
        .reasoning("Let me check.")
        .content("Done.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "s_prompt_opened",
            "1: output starting inside <seed:think>",
            ONLY_S,
            format!("plan</seed:think>\n{read_a}"),
        )
        .prompt_opened()
        .reasoning("plan")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("s_end_of_sequence_dropped", "eot: <seed:eos> is never content", ONLY_S, format!("Done.\n{read_a}<seed:eos>"))
            .content("Done.")
            .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "s_truncated_mid_value",
            "6: truncated under length: not executable, prose kept",
            ONLY_S,
            "Writing.\n<seed:tool_call>\n<function=write_file>\n<parameter=path>a.txt</parameter>\n<parameter=content>hello wor",
        )
        .length()
        .content("Writing."),
        Case::new("s_partial_wrapper_under_length", "6: a cut wrapper never leaks", ONLY_S, "Reading.\n<seed:tool_c")
            .length()
            .content("Reading."),
        Case::new("s_zero_args", "3.8: a function without parameters gives {}", ONLY_S, "<seed:tool_call>\n<function=list_dir>\n</function>\n</seed:tool_call>")
            .call("list_dir", json!({})),
        Case::new("a_seed_decided", "auto: Seed's wrapper decides the family", ONLY_A, format!("Text.\n{read_a}"))
            .content("Text.")
            .call("read_file", json!({"path": "a.rs"})),
        Case::new("a_seed_think_decided", "auto: a leading <seed:think> decides the family", ONLY_A, "<seed:think>plan</seed:think>Answer.")
            .reasoning("plan")
            .content("Answer."),
    ]
}
