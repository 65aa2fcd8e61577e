//! Table-driven tests of the tool-call engine against `shared/guide/toolcall-spec.md`
//! (sections 2-6) and the design decisions recorded in the table (`tests/support/rows/`).
//!
//! Each row of `support::cases()` is one test below; a row lists the formats it applies to
//! and is checked through `Engine::translate` and through the streaming path (event
//! contract, streamed message == translated message).

mod support;

use std::sync::Arc;

use podctl::toolcall::{Engine, OwnedEvent, Reasoning, UpstreamFinish};
use support::{
    A, ALL_FORMATS, FINISHES, H, K, N, Q, REASONINGS, Tee, cases, check_run, run_chunks, table_inputs, tools,
};

fn check(name: &str) {
    let tools = tools();
    let case = cases().into_iter().find(|c| c.name == name).expect("the case exists");
    let problems = case.check(&tools);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

macro_rules! table {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*
        const NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

table! {
    q_single_call,
    q_text_before_between_after,
    q_three_calls_in_a_row,
    q_multibyte_around_and_inside,
    q_value_keeps_indent,
    q_value_keeps_trailing_blank_line,
    q_value_strips_only_one_leading_newline,
    q_value_single_line,
    q_value_string_whitespace_kept,
    q_markup_undeclared_param_in_value,
    q_markup_seen_param_in_value,
    q_value_holds_whole_tool_call_example,
    q_value_mentions_tool_call_tag,
    q_value_mentions_closing_tags,
    q_param_tag_not_at_line_start_is_data,
    q_function_close_line_in_value_is_data,
    q_recover_missing_close_before_param,
    q_recover_missing_close_before_function,
    q_bare_function_declared,
    q_bare_functions_in_a_row,
    q_bare_function_no_closers,
    q_bare_undeclared_is_prose,
    q_bare_mid_line_is_prose,
    q_bare_mention_at_end_is_prose,
    q_bare_indented_line_start,
    q_commit_needs_structure,
    q_cut_closer_after_call_never_content,
    q_think_mid_text_is_text,
    q_missing_closers_stop_complete,
    q_missing_closers_after_function_stop_complete,
    q_no_params_at_end_stop_complete,
    q_unclosed_param_stop_not_complete,
    q_name_template_is_prose,
    q_name_with_space_is_prose,
    q_name_quoted_is_prose,
    q_wrapped_undeclared_passes_through,
    q_undeclared_first_param_kept_as_string,
    q_undeclared_param_while_declared_unseen,
    q_undeclared_param_between_declared,
    q_inline_params,
    q_inline_call_on_one_line,
    q_inline_markup_in_last_value_is_data,
    q_no_params_empty_object,
    q_no_params_adjacent,
    q_whitespace_only_content_is_null,
    q_trailing_prose_kept,
    q_tool_call_with_prose_inside_is_content,
    q_json_call_is_content,
    r_think_then_call,
    r_tool_call_inside_think,
    r_think_then_answer,
    r_stray_close_dropped,
    r_think_after_text_is_text,
    r_leading_whitespace_then_think,
    r_two_think_blocks,
    r_multibyte,
    r_truncated_think,
    r_prompt_opened,
    r_prompt_opened_call_ends_think,
    r_prompt_opened_no_close,
    r_auto_mode_lone_close,
    t_missing_closers_length_dropped,
    t_truncated_mid_value,
    t_truncated_mid_integer,
    t_complete_then_truncated,
    t_complete_call_length,
    t_partial_tool_call_marker,
    t_partial_function_marker,
    t_partial_function_marker_in_call,
    t_partial_marker_under_stop_is_text,
    t_hermes_truncated,
    empty_output,
    empty_output_length,
    ty_integer_from_float,
    ty_integer_trimmed,
    ty_integer_not_fitting_kept_raw,
    ty_string_verbatim,
    ty_string_null_stays_text,
    ty_string_json_stays_text,
    ty_number,
    ty_number_integer_text,
    ty_number_rejects_inf,
    ty_number_rejects_nan,
    ty_null_text,
    ty_null_python,
    ty_bool_capitalised,
    ty_bool_upper_false,
    ty_bool_yes_stays_string,
    ty_object_and_array_json,
    ty_object_python_literal,
    ty_object_in_json_string,
    ty_object_unparseable_kept_raw,
    ty_schema_variants,
    h_single_call,
    h_rejects_xml,
    h_parameters_alias,
    h_missing_arguments,
    h_arguments_as_string,
    h_key_order_reversed,
    h_python_literal,
    h_unparseable_is_content,
    h_close_tag_in_json_string,
    h_fenced_json_is_content,
    h_quoted_integer,
    h_float_integer,
    h_calls_with_text_multibyte,
    h_think_then_call,
    h_tool_call_inside_think,
    q_recover_missing_close_before_next_call,
    q_recover_missing_close_at_end,
    q_param_closed_by_tool_call_close,
    q_close_param_mid_value_is_data,
    q_value_holds_two_nested_examples,
    q_undeclared_function_any_unseen_param_opens,
    q_empty_string_value,
    q_partial_function_marker_under_stop_is_text,
    r_partial_think_close_under_stop_is_text,
    r_empty_think,
    r_prompt_opened_hermes_call_ends_think,
    h_complete_then_truncated,
    h_python_literal_none,
    h_braces_in_strings,
    h_arguments_array_is_content,
    h_arguments_non_json_string_is_content,
    ty_number_exponent,
    ty_bool_trimmed,
    ty_bool_one_stays_string,
    ty_object_null_not_allowed,
    ty_nullable_integer_value,
    q_wrapped_function_then_prose_is_content,
    t_bare_partial_param_length,
    q_partial_close_tag_under_stop_not_complete,
    lt_sign_prose,
    lt_sign_prose_length,
    near_marker_words_are_prose,
    q_think_close_inside_value_is_data,
    q_think_close_inside_value_prompt_opened,
    h_markers_inside_json_string,
    h_blocks_back_to_back,
    a_mixed_formats,
    n_passthrough_xml,
    n_passthrough_hermes,
    n_passthrough_length,
    n_passthrough_prompt_opened,
    l_single_call,
    l_bare_call,
    l_arguments_key,
    l_several_calls_semicolon,
    l_bare_several_calls,
    l_text_before_after,
    l_text_before_tagged_call,
    l_markup_inside_string,
    l_invalid_json_is_content,
    l_arguments_array_is_content,
    l_unclosed_object_stop_is_content,
    l_truncated_length_dropped,
    l_complete_then_truncated,
    l_partial_tag_length_dropped,
    l_schema_types,
    l_python_literal,
    l_tagged_undeclared_passes_through,
    l_bare_undeclared_is_prose,
    l_bare_json_data_is_prose,
    l_fenced_json_is_content,
    l_mid_line_json_is_content,
    l_tag_then_code_is_content,
    l_braces_and_backticks_prose,
    l_think_then_call,
    l_prompt_opened_tag_ends_think,
    m_single_call,
    m_repeated_marker,
    m_calls_without_repeated_marker,
    m_array_form,
    m_array_arguments_as_string,
    m_text_before_after,
    m_markup_inside_string,
    m_invalid_json_is_content,
    m_array_not_calls_is_content,
    m_unclosed_args_stop_is_content,
    m_name_not_identifier_is_content,
    m_truncated_length_dropped,
    m_complete_then_truncated,
    m_partial_marker_length_dropped,
    m_schema_types,
    m_python_literal,
    m_undeclared_passes_through,
    m_bracket_prose,
    m_think_then_call,
    m_tool_calls_inside_think,
    m_prompt_opened,
    m_prose_after_call_kept,
    m_call_id_form,
    m_name_then_json_without_args_token,
    m_stray_think_close_dropped,
    m_think_after_text_is_text,
    // deepseek_v3, deepseek_v31, kimi_k2 (tests/support/special.rs)
    ds_v3_single_call,
    ds_v31_single_call,
    ds_several_calls_text_around,
    ds_markers_inside_json_string,
    ds_invalid_json_is_text,
    ds_non_object_arguments_are_text,
    ds_name_not_identifier_is_text,
    ds_python_literal_arguments,
    ds_missing_end_markers_at_stop,
    ds_v3_missing_fence_and_end_markers_at_stop,
    ds_cut_call_end_at_stop,
    ds_missing_call_end_before_next_call,
    ds_truncated_under_length,
    ds_complete_then_truncated_length,
    ds_partial_marker_under_length_never_content,
    ds_types_coerced_by_schema,
    ds_unknown_tool_passes_through,
    ds_reasoning_then_call,
    ds_prompt_opened_call_ends_think,
    ds_misspelled_section_markers,
    ds_section_without_call_is_text,
    ds_lt_prose,
    ds_fenced_json_in_prose_is_content,
    k_single_call,
    k_several_calls_text_around,
    k_markers_inside_json_string,
    k_invalid_json_is_text,
    k_missing_end_markers_at_stop,
    k_cut_section_end_after_call_at_stop,
    k_truncated_under_length,
    k_partial_marker_under_length_never_content,
    k_types_coerced_by_schema,
    k_unknown_tool_passes_through,
    k_reasoning_then_call,
    k_singular_section_marker,
    k_deepseek_markers_are_text,
    ds_kimi_markers_are_text,
    // glm45 (tests/support/glm.rs)
    g_single_call,
    g_text_before_between_after,
    g_three_calls_in_a_row,
    g_compact_without_newlines,
    g_multibyte_around_and_inside,
    g_string_value_verbatim,
    g_empty_string_value,
    g_markup_in_value_is_data,
    g_value_holds_whole_tool_call_example,
    g_recover_missing_value_close_before_key,
    g_recover_missing_value_close_before_call_close,
    g_missing_call_close_stop_complete,
    g_missing_call_close_between_calls,
    g_unclosed_value_stop_not_complete,
    g_truncated_mid_value,
    g_truncated_before_call_close,
    g_truncated_in_header,
    g_complete_then_truncated,
    g_partial_tool_call_marker,
    g_types_from_schema,
    g_type_not_fitting_kept_raw,
    g_wrapped_undeclared_passes_through,
    g_undeclared_param_kept_as_string,
    g_no_args,
    g_no_args_missing_close_stop,
    g_undeclared_word_at_end_is_text,
    g_think_then_call,
    g_tool_call_inside_think,
    g_prompt_opened,
    g_garbage_after_tool_call_is_text,
    g_json_inside_is_text,
    g_qwen_xml_is_text,
    g_name_template_is_text,
    g_key_without_value_is_text,
    g47_auto_starts_in_reasoning,
    g45_auto_starts_as_answer,
    g47_model_repeats_think,
    g47_call_inside_opened_reasoning,
    g47_compact_trimmed_key_and_zero_args,
    g47_end_of_turn_tokens_dropped,
    g47_end_of_turn_in_reasoning_dropped,
    g47_end_of_turn_cut_under_length,
    g47_end_of_turn_in_value_is_data,
    g4_single_call,
    g4_text_around_parallel_calls,
    g4_nested_values_typed,
    g4_markup_in_string_is_data,
    g4_turn_end_closes_call,
    g4_parenthesised_call,
    g4_not_the_grammar_is_text,
    g4_name_not_identifier_is_text,
    g4_reasoning_channel,
    g4_call_inside_channel_ends_it,
    g4_prompt_opened,
    g4_end_tokens_dropped,
    g4_missing_closer_stop,
    g4_missing_closer_before_next_call,
    g4_truncated,
    g4_unclosed_string_stop_is_text,
    g4_partial_marker_under_length,
    a_gemma4_decided,
    k3_response_then_call,
    k3_prompt_opened_response,
    k3_prompt_opened_think,
    k3_think_channel_at_start,
    k3_typed_arguments,
    k3_parallel_calls_and_zero_args,
    k3_close_marker_in_value_is_data,
    k3_truncated_mid_value,
    k3_truncated_in_tag,
    k3_missing_closers_stop_complete,
    a_kimi_k3_decided,
    q_end_of_turn_dropped,
    q_end_of_turn_cut_under_length,
    s_think_then_call,
    s_padded_values,
    s_text_around_parallel_calls,
    s_markup_in_value_is_data,
    s_types_from_schema,
    s_call_inside_think_ends_it,
    s_prompt_opened,
    s_end_of_sequence_dropped,
    s_truncated_mid_value,
    s_partial_wrapper_under_length,
    s_zero_args,
    a_seed_decided,
    a_seed_think_decided,
    mm_single_call,
    mm_parallel_calls_text_around,
    mm_name_quotes,
    mm_types_from_schema,
    mm_type_not_fitting_kept_raw,
    mm_markup_in_value_is_data,
    mm_value_newlines_stripped_once,
    mm_truncated_mid_value,
    mm_truncated_in_tag,
    mm_truncated_after_value,
    mm_missing_closers_stop_complete,
    mm_missing_invoke_close_between_calls,
    mm_unclosed_value_stop_not_complete,
    mm_zero_args,
    mm_wrapped_undeclared_passes_through,
    mm_undeclared_param_kept_as_string,
    mm_bare_invoke_declared,
    mm_name_template_is_text,
    mm_empty_wrapper_at_end_is_text,
    mm_orphan_wrapper_end_dropped,
    mm_end_of_turn_dropped,
    mm_brackets_in_prose_kept,
    mm_call_inside_reasoning_ends_it,
    mm_think_repeated,
    mm_prompt_closed_then_think,
    d32_single_call,
    d32_prompt_opened,
    d4_single_call,
    d4_block_inside_reasoning_ends_it,
    d32_parallel_calls,
    d32_string_attribute_for_undeclared,
    d32_markup_in_value_is_data,
    d32_end_of_sentence_dropped,
    d32_truncated_mid_value,
    d4_v32_wrapper_declared_invoke,
    a_minimax_decided,
    mm_undeclared_param_between_declared,
    d_lone_arguments_unwrapped,
    d_lone_input_string_unwrapped,
    d_arguments_beside_another_key_kept,
    d_arguments_not_an_object_kept,
    mm_undeclared_param_after_every_declared_is_data,
    a_dsml_v32_decided,
    a_dsml_v4_decided,
    // auto telling the families apart (tests/support/rows/auto.rs)
    a_detects_mistral,
    a_detects_mistral_array,
    a_detects_mistral_think,
    a_detects_llama3_python_tag,
    a_detects_llama3_then_bare_objects,
    a_llama3_bare_json_not_detected,
    a_detects_deepseek_v31,
    a_detects_deepseek_v3,
    a_detects_deepseek_misspelled,
    a_detects_deepseek_call_without_section,
    a_detects_kimi,
    a_detects_kimi_call_without_section,
    a_detects_glm45,
    a_detects_glm45_without_args,
    a_detects_glm45_name_at_end,
    a_glm45_undeclared_word_at_end_is_text,
    a_tool_call_prose_keeps_qwen,
    a_prose_before_marker,
    a_reasoning_before_marker,
    a_marker_inside_reasoning,
    a_glm45_inside_reasoning,
    a_prompt_opened_then_marker,
    a_prompt_opened_marker_ends_think,
    a_second_family_after_call_is_text,
    a_second_family_after_hermes_call_is_text,
    a_qwen_markup_after_mistral_is_text,
    a_kimi_after_deepseek_is_text,
    a_marker_inside_qwen_value_is_data,
    a_brackets_and_late_think_are_prose,
    a_truncated_under_length,
    a_glm45_truncated_under_length,
    a_complete_then_truncated_length,
    a_partial_marker_under_length_dropped,
    a_partial_marker_under_stop_is_text,
}

#[test]
fn every_case_has_a_test() {
    let mut table: Vec<&str> = cases().iter().map(|c| c.name).collect();
    table.sort_unstable();
    let mut tests = NAMES.to_vec();
    tests.sort_unstable();
    assert_eq!(table, tests);
}

/// Spec 1 / decision 3: `none` passes every input through untouched, whatever the finish.
#[test]
fn none_passes_every_table_input_through() {
    let tools = tools();
    for input in table_inputs() {
        for upstream in FINISHES {
            for reasoning in REASONINGS {
                let msg = Engine::translate(N, Arc::clone(&tools), reasoning, &input, upstream);
                let want = if input.is_empty() { None } else { Some(input.clone()) };
                assert_eq!(msg.content, want, "input {input:?}");
                assert_eq!(msg.reasoning, None, "input {input:?}");
                assert!(msg.tool_calls.is_empty(), "input {input:?}");
                let want_finish = match upstream {
                    UpstreamFinish::Stop => podctl::toolcall::FinishReason::Stop,
                    UpstreamFinish::Length => podctl::toolcall::FinishReason::Length,
                };
                assert_eq!(msg.finish_reason, want_finish, "input {input:?}");
            }
        }
    }
}

/// The event contract holds for every table input in every format, mode and finish, not
/// only for the combinations a row names.
#[test]
fn event_contract_for_every_input_and_format() {
    let tools = tools();
    let mut problems = Vec::new();
    for input in table_inputs() {
        for format in ALL_FORMATS {
            for upstream in FINISHES {
                for reasoning in REASONINGS {
                    let run = run_chunks(format, &tools, reasoning, &[&input], upstream);
                    if let Err(e) = check_run(format, upstream, &run) {
                        problems.push(format!("[{format} {reasoning:?} {upstream:?}] {input:?}: {e}"));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Spec 2: plain prose streams through without waiting for the end of output (with
/// thinking off: a template that opens reasoning makes it reasoning, streamed the same way).
#[test]
fn prose_streams_without_delay() {
    for format in ALL_FORMATS {
        let mut engine = Engine::new(format, tools(), Reasoning::PromptClosed);
        let mut tee = Tee::default();
        engine.feed("Hello, world", &mut tee);
        assert_eq!(
            tee.events,
            vec![OwnedEvent::Content("Hello, world".to_owned())],
            "[{format}] before finish"
        );
        engine.feed(". 你好 🎉", &mut tee);
        let content: String = tee
            .events
            .iter()
            .map(|e| match e {
                OwnedEvent::Content(s) => s.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(content, "Hello, world. 你好 🎉", "[{format}] before finish");
    }
}

/// Decision 7: a Hermes call is decided at `</tool_call>`, so nothing of it is announced
/// before; once the block closes it is a complete call.
#[test]
fn hermes_call_is_decided_at_close() {
    for format in [H, A] {
        let mut engine = Engine::new(format, tools(), Reasoning::Auto);
        let mut tee = Tee::default();
        engine
            .feed("<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.rs\"}}\n", &mut tee);
        assert!(
            !tee.events.iter().any(|e| matches!(e, OwnedEvent::CallStart { .. })),
            "[{format}] call announced before </tool_call>: {:?}",
            tee.events
        );
        engine.feed("</tool_call>", &mut tee);
        let finish = engine.finish(UpstreamFinish::Stop, &mut tee);
        let msg = tee.builder.build(finish);
        assert_eq!(msg.tool_calls.len(), 1, "[{format}] {msg:?}");
        assert_eq!(msg.finish_reason, podctl::toolcall::FinishReason::ToolCalls);
    }
}

/// Spec 6, streaming: a call whose header went out and that the output cut short ends with
/// `CallTruncated` and valid JSON arguments, never `CallEnd`.
#[test]
fn streamed_truncated_call_is_closed_not_ended() {
    let input = "<tool_call>\n<function=write_file>\n<parameter=path>\na.txt\n</parameter>\n<parameter=content>\nhello wor";
    for format in [Q, A] {
        let chunks: Vec<&str> = input.split_inclusive('\n').collect();
        let run = run_chunks(format, &tools(), Reasoning::Auto, &chunks, UpstreamFinish::Length);
        check_run(format, UpstreamFinish::Length, &run).unwrap_or_else(|e| panic!("[{format}] {e}"));
        assert!(
            !run.events.iter().any(|e| matches!(e, OwnedEvent::CallEnd { .. })),
            "[{format}] {:?}",
            run.events
        );
        assert!(run.message.tool_calls.is_empty());
        assert_eq!(run.finish, podctl::toolcall::FinishReason::Length);
        if run.events.iter().any(|e| matches!(e, OwnedEvent::CallStart { .. })) {
            assert!(
                run.events.iter().any(|e| matches!(e, OwnedEvent::CallTruncated { index: 0 })),
                "[{format}] {:?}",
                run.events
            );
        }
    }
}

/// `auto` reports the family its markers decided (call ids follow it), and announces it to
/// the sink before the events that follow from it.
#[test]
fn auto_reports_the_decided_family() {
    use podctl::toolcall::{Event, Format, Sink};
    #[derive(Default)]
    struct Seen {
        family: Option<Format>,
        /// Calls started before the announcement (prose may come first, calls may not).
        calls_before: usize,
    }
    impl Sink for Seen {
        fn event(&mut self, event: Event<'_>) {
            if self.family.is_none() && matches!(event, Event::CallStart { .. }) {
                self.calls_before += 1;
            }
        }
        fn family(&mut self, family: Format) {
            self.family = Some(family);
        }
    }
    let read = r#"{"path": "a.rs"}"#;
    let cases: Vec<(String, Format)> = vec![
        (format!("Sure.\n{}", support::mistral("read_file", read)), Format::Mistral),
        (format!("[THINK]x[/THINK]{}", support::mistral("read_file", read)), Format::Mistral),
        (support::llama(r#"{"name": "read_file", "parameters": {}}"#), Format::Llama3Json),
        (support::special::ds_section(&support::special::ds_v31_call("read_file", read)), Format::DeepseekV3),
        (support::special::kimi_call("read_file", 0, read), Format::KimiK2),
        (
            "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a</arg_value>\n</tool_call>"
                .to_owned(),
            Format::Glm45,
        ),
        ("<tool_call>list_dir".to_owned(), Format::Glm45),
        (support::xml("read_file", &[("path", "a.rs")]), A),
        (
            format!(
                "{}\n{}",
                support::xml("read_file", &[("path", "a.rs")]),
                support::mistral("read_file", read)
            ),
            A,
        ),
        ("Hello [TOOL_CA".to_owned(), A),
    ];
    for (input, want) in cases {
        for chunks in [vec![input.as_str()], input.split_inclusive(['>', ']', '|', '\n']).collect()] {
            let mut engine = Engine::new(A, tools(), Reasoning::Auto);
            let mut seen = Seen::default();
            for chunk in &chunks {
                engine.feed(chunk, &mut seen);
            }
            engine.finish(UpstreamFinish::Stop, &mut seen);
            assert_eq!(engine.family(), want, "{input:?} in {chunks:?}");
            assert_eq!(seen.family, (want != A).then_some(want), "{input:?} in {chunks:?}");
            if want != A {
                assert_eq!(seen.calls_before, 0, "{input:?} in {chunks:?}");
            }
        }
    }
    assert_eq!(Engine::new(support::M, tools(), Reasoning::Auto).family(), support::M);
}

/// Issue 8: Kimi K2's `functions.NAME:IDX` is the call's id, in the events (streaming) and
/// in the message (non-streaming); other formats leave the id to the caller.
#[test]
fn kimi_keeps_the_model_call_id() {
    let input = support::special::kimi_section(&format!(
        "{}{}",
        support::special::kimi_call("read_file", 4, r#"{"path": "a.rs"}"#),
        support::special::kimi_call("run", 5, r#"{"cmd": "ls"}"#)
    ));
    let chunks: Vec<&str> = input.split_inclusive('|').collect();
    let run = run_chunks(K, &tools(), Reasoning::Auto, &chunks, UpstreamFinish::Stop);
    let ids: Vec<Option<&str>> = run
        .events
        .iter()
        .filter_map(|e| match e {
            OwnedEvent::CallStart { id, .. } => Some(id.as_deref()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, vec![Some("functions.read_file:4"), Some("functions.run:5")]);
    let ids: Vec<Option<&str>> = run.message.tool_calls.iter().map(|c| c.id.as_deref()).collect();
    assert_eq!(ids, vec![Some("functions.read_file:4"), Some("functions.run:5")]);
    // A repeated id (the model numbering wrongly) is not passed on: ids stay unique.
    let twice = support::special::kimi_section(&support::special::kimi_call("run", 0, "{}").repeat(2));
    let msg = Engine::translate(K, tools(), Reasoning::Auto, &twice, UpstreamFinish::Stop);
    let ids: Vec<Option<&str>> = msg.tool_calls.iter().map(|c| c.id.as_deref()).collect();
    assert_eq!(ids, vec![Some("functions.run:0"), None]);
    let other = Engine::translate(
        support::D31,
        tools(),
        Reasoning::Auto,
        &support::special::ds_section(&support::special::ds_v31_call("read_file", "{}")),
        UpstreamFinish::Stop,
    );
    assert_eq!(other.tool_calls.len(), 1);
    assert_eq!(other.tool_calls[0].id, None);
}
