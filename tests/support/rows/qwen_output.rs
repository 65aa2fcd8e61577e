//! Rows for what surrounds and follows Qwen calls: the content rule (rule 9), reasoning
//! (rule 10), truncation (section 6) and schema typing (section 4).

use serde_json::json;

use crate::support::{Case, HA, ONLY_Q, QA, QHA, QHALMN, hermes, xml};

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let read_a = xml("read_file", &[("path", "a.rs")]);
    let json_read = r#"{"name": "read_file", "arguments": {"path": "a.rs", "limit": 10}}"#;
    vec![
        // ------------------------------------------------------------------ rule 9: content
        Case::new(
            "q_whitespace_only_content_is_null",
            "3.9: null when nothing is left",
            QA,
            format!("\n  \n{read_a}\n\n  "),
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "q_trailing_prose_kept",
            "3.9: never drop trailing prose",
            QA,
            format!("{read_a}\nI will wait for the result."),
        )
        .content("I will wait for the result.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "q_tool_call_with_prose_inside_is_content",
            "text is never lost: <tool_call> without a call",
            QHA,
            "<tool_call>\nI should read the file first.\n</tool_call>",
        )
        .content_is_input(),
        Case::new("q_json_call_is_content", "1: qwen3_coder accepts only XML calls", ONLY_Q, hermes(json_read))
            .content_is_input(),
        // ------------------------------------------------------- rule 10 and reasoning
        Case::new(
            "r_think_then_call",
            "1: <think> reasoning",
            QA,
            format!("<think>\nI need the file.\n</think>\n\n{read_a}"),
        )
        .reasoning("I need the file.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "r_tool_call_inside_think",
            "3.10: <tool_call> ends reasoning, later </think> dropped",
            QA,
            format!("<think>\nLet me check.\n{read_a}\n</think>\nDone."),
        )
        .reasoning("Let me check.")
        .content("Done.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("r_think_then_answer", "1: reasoning", QHA, "<think>\nplan\n</think>\n\nAnswer.")
            .reasoning("plan")
            .content("Answer."),
        Case::new("r_stray_close_dropped", "3.10/decision 2: stray </think> dropped", QHA, "Hello\n</think>\nWorld")
            .content("Hello\n\nWorld"),
        Case::new("r_think_after_text_is_text", "decision 2", QHA, "Answer: <think> is a tag.").content_is_input(),
        Case::new("r_leading_whitespace_then_think", "decision 2", QHA, "  \n<think>x</think>y")
            .reasoning("x")
            .content("y"),
        Case::new("r_two_think_blocks", "decision 2: earlier reasoning", QHA, "<think>a</think>\n<think>b</think>\nc")
            .reasoning("a\n\nb")
            .content("c"),
        Case::new("r_multibyte", "1: reasoning, multi-byte", QHA, "<think>\n考えています 🤔\n</think>\n答え：42")
            .reasoning("考えています 🤔")
            .content("答え：42"),
        Case::new("r_truncated_think", "6 + decision 2", QHA, "<think>\nhmm, the").length().reasoning("hmm, the"),
        Case::new(
            "r_prompt_opened",
            "1: prompt opened <think>",
            QHA,
            "The user wants X.\n</think>\n\nHere is X.",
        )
        .prompt_opened()
        .reasoning("The user wants X.")
        .content("Here is X."),
        Case::new(
            "r_prompt_opened_call_ends_think",
            "3.10 with the prompt's <think>",
            QA,
            format!("Plan: read it.\n{read_a}"),
        )
        .prompt_opened()
        .reasoning("Plan: read it.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("r_prompt_opened_no_close", "decision 2", QHA, "still thinking").prompt_opened().reasoning("still thinking"),
        Case::new(
            "r_auto_mode_lone_close",
            "decision 2: Reasoning::Auto drops the lone </think>",
            QHA,
            "The user wants X.\n</think>\n\nHere is X.",
        )
        .content("The user wants X.\n\nHere is X."),
        // --------------------------------------------------------------- section 6: truncation
        Case::new(
            "t_missing_closers_length_dropped",
            "6: call not finished under length is not returned",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n",
        )
        .length(),
        Case::new(
            "t_truncated_mid_value",
            "6: truncated call dropped, prose kept",
            QA,
            "Writing it now.\n<tool_call>\n<function=write_file>\n<parameter=path>\na.txt\n</parameter>\n<parameter=content>\nhello wor",
        )
        .length()
        .content("Writing it now."),
        Case::new(
            "t_truncated_mid_integer",
            "6: truncated in a typed value",
            QA,
            "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n<parameter=limit>\n12",
        )
        .length(),
        Case::new(
            "t_complete_then_truncated",
            "6: complete calls kept, length stays length",
            QA,
            format!("{read_a}\n<tool_call>\n<function=read_file>\n<parameter=path>\nb"),
        )
        .length()
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("t_complete_call_length", "6: length stays length", QA, read_a.clone())
            .length()
            .call("read_file", json!({"path": "a.rs"})),
        Case::new("t_partial_tool_call_marker", "6: truncated tag never leaks", QHA, "Reading now.\n<tool_ca")
            .length()
            .content("Reading now."),
        Case::new(
            "t_partial_function_marker",
            "6: truncated tag never leaks",
            QA,
            "Reading now.\n<function=read_fi",
        )
        .length()
        .content("Reading now."),
        Case::new(
            "t_partial_function_marker_in_call",
            "6: truncated tag never leaks",
            QA,
            "Reading now.\n<tool_call>\n<function=read_fi",
        )
        .length()
        .content("Reading now."),
        Case::new("t_partial_marker_under_stop_is_text", "text never lost", QHA, "Reading now.\n<tool_ca")
            .content("Reading now.\n<tool_ca"),
        Case::new(
            "t_hermes_truncated",
            "6: truncated hermes block dropped",
            HA,
            "Reading.\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"pa",
        )
        .length()
        .content("Reading."),
        Case::new("empty_output", "9: null content", QHALMN, ""),
        Case::new("empty_output_length", "9: null content", QHALMN, "").length(),
        // ------------------------------------------------------------- section 4: types
        Case::new("ty_integer_from_float", "4: 30.0 is the integer 30", QA, xml("read_file", &[("path", "a"), ("limit", "30.0")]))
            .call("read_file", json!({"path": "a", "limit": 30})),
        Case::new(
            "ty_integer_trimmed",
            "4: trim before typing",
            QA,
            xml("read_file", &[("path", "a"), ("limit", "  42  ")]),
        )
        .call("read_file", json!({"path": "a", "limit": 42})),
        Case::new(
            "ty_integer_not_fitting_kept_raw",
            "4: nothing fits, keep the raw string",
            QA,
            xml("read_file", &[("path", "a"), ("limit", "ten")]),
        )
        .call("read_file", json!({"path": "a", "limit": "ten"})),
        Case::new(
            "ty_string_verbatim",
            "4: a pure string keeps 03106",
            QA,
            xml("geo", &[("zip", "03106"), ("ratio", "0.5"), ("count", "7")]),
        )
        .call("geo", json!({"zip": "03106", "ratio": 0.5, "count": 7})),
        Case::new(
            "ty_string_null_stays_text",
            "4: a pure string keeps null",
            QA,
            xml("write_file", &[("path", "null"), ("content", "42")]),
        )
        .call("write_file", json!({"path": "null", "content": "42"})),
        Case::new(
            "ty_string_json_stays_text",
            "4: a pure string keeps JSON text",
            QA,
            xml("write_file", &[("path", "c.json"), ("content", "{\"a\": 1}")]),
        )
        .call("write_file", json!({"path": "c.json", "content": "{\"a\": 1}"})),
        Case::new("ty_number", "4: number", QA, xml("run", &[("cmd", "sleep 1"), ("timeout", "2.5")]))
            .call("run", json!({"cmd": "sleep 1", "timeout": 2.5})),
        Case::new("ty_number_integer_text", "4: 30 and 30.0 are the same number", QA, xml("run", &[("cmd", "x"), ("timeout", "30")]))
            .call("run", json!({"cmd": "x", "timeout": 30.0})),
        Case::new("ty_number_rejects_inf", "4: reject inf", QA, xml("run", &[("cmd", "x"), ("timeout", "inf")]))
            .call("run", json!({"cmd": "x", "timeout": "inf"})),
        Case::new("ty_number_rejects_nan", "4: reject nan", QA, xml("geo", &[("ratio", "NaN")]))
            .call("geo", json!({"ratio": "NaN"})),
        Case::new("ty_null_text", "4: null allowed", QA, xml("run", &[("cmd", "x"), ("timeout", "null")]))
            .call("run", json!({"cmd": "x", "timeout": null})),
        Case::new("ty_null_python", "4: None is null", QA, xml("run", &[("cmd", "x"), ("timeout", "None")]))
            .call("run", json!({"cmd": "x", "timeout": null})),
        Case::new("ty_bool_capitalised", "4: True", QA, xml("edit", &[("dry", "True")])).call("edit", json!({"dry": true})),
        Case::new("ty_bool_upper_false", "4: FALSE", QA, xml("edit", &[("dry", "FALSE")])).call("edit", json!({"dry": false})),
        Case::new("ty_bool_yes_stays_string", "4: never turn yes into a bool", QA, xml("edit", &[("dry", "yes")]))
            .call("edit", json!({"dry": "yes"})),
        Case::new(
            "ty_object_and_array_json",
            "4: object/array JSON",
            QA,
            xml("edit", &[("opts", "{\"k\": \"v\", \"n\": [1, 2]}"), ("flags", "[\"-a\", \"-b\"]")]),
        )
        .call("edit", json!({"opts": {"k": "v", "n": [1, 2]}, "flags": ["-a", "-b"]})),
        Case::new(
            "ty_object_python_literal",
            "4: Python-literal fallback",
            QA,
            xml("edit", &[("opts", "{'k': 'v', 'n': None, 'b': True}"), ("flags", "['-a']")]),
        )
        .call("edit", json!({"opts": {"k": "v", "n": null, "b": true}, "flags": ["-a"]})),
        Case::new(
            "ty_object_in_json_string",
            "4: a JSON string holding an object is decoded again",
            QA,
            xml("edit", &[("opts", r#""{\"k\": 1}""#)]),
        )
        .call("edit", json!({"opts": {"k": 1}})),
        Case::new(
            "ty_object_unparseable_kept_raw",
            "4: nothing fits, keep the raw string",
            QA,
            xml("edit", &[("opts", "{k: v")]),
        )
        .call("edit", json!({"opts": "{k: v"})),
        Case::new(
            "ty_schema_variants",
            "4: enum, $ref, anyOf, aliases",
            QA,
            xml(
                "config",
                &[("mode", "2"), ("style", "slow"), ("port", "8080"), ("retries", "None"), ("level", "3"), ("tag", "007")],
            ),
        )
        .call("config", json!({"mode": 2, "style": "slow", "port": 8080, "retries": null, "level": 3, "tag": "007"})),
        Case::new(
            "q_end_of_turn_dropped",
            "eot: Qwen's <|im_end|> and <|endoftext|> are never content",
            QA,
            format!("Done.<|im_end|>\n{}<|endoftext|>", xml("read_file", &[("path", "a.rs")])),
        )
        .content("Done.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new("q_end_of_turn_cut_under_length", "6/eot: a cut end-of-turn token never leaks", QHA, "Done.<|im_e")
            .length()
            .content("Done."),
    ]
}
