//! How the engine's would-be calls turned out, counted for metrics.
//!
//! The counts are a pure function of the output text (like the events), so they do not
//! depend on how the input was chunked.

/// How the engine's would-be calls turned out (for metrics).
///
/// * `calls`: complete calls (one per [`Event::CallEnd`](super::Event::CallEnd)).
/// * `truncated`: calls cut off inside (one per
///   [`Event::CallTruncated`](super::Event::CallTruncated)).
/// * `recovered`: complete calls (a subset of `calls`) accepted although the markup was
///   imperfect: a missing `</parameter>`, `</function>` or `</tool_call>`, a bare
///   `<function=NAME>` without `<tool_call>`, a Hermes block that is not strict JSON.
/// * `as_text`: would-be calls given up and returned as text: a `<tool_call>` or a
///   line-start `<function=NAME>` not followed by a call, a Hermes block that does not
///   decode to calls, a line-start `<function=NAME>` naming an undeclared tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub calls: u32,
    pub truncated: u32,
    pub recovered: u32,
    pub as_text: u32,
}

impl Outcomes {
    /// Adds `other`'s counts (e.g. the choices of one response), saturating.
    pub fn add(&mut self, other: Outcomes) {
        self.calls = self.calls.saturating_add(other.calls);
        self.truncated = self.truncated.saturating_add(other.truncated);
        self.recovered = self.recovered.saturating_add(other.recovered);
        self.as_text = self.as_text.saturating_add(other.as_text);
    }
}

/// Increments a counter without overflow panics on absurd inputs.
pub(crate) fn bump(counter: &mut u32) {
    *counter = counter.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::Outcomes;
    use crate::toolcall::{Engine, Format, OwnedEvent, Reasoning, Tools, UpstreamFinish};

    const Q: Format = Format::Qwen3Coder;
    const H: Format = Format::Hermes;
    const A: Format = Format::Auto;
    const L: Format = Format::Llama3Json;
    const M: Format = Format::Mistral;
    const G: Format = Format::Glm45;
    const STOP: UpstreamFinish = UpstreamFinish::Stop;
    const LENGTH: UpstreamFinish = UpstreamFinish::Length;

    fn tools() -> Arc<Tools> {
        let tools = json!([
            {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object",
                "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}}}}},
            {"type": "function", "function": {"name": "list_dir", "parameters": {"type": "object", "properties": {}}}}
        ]);
        Arc::new(Tools::from_openai(&tools).expect("valid tools"))
    }

    fn o(calls: u32, truncated: u32, recovered: u32, as_text: u32) -> Outcomes {
        Outcomes { calls, truncated, recovered, as_text }
    }

    const READ: &str =
        "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</function>\n</tool_call>";
    const GLM_READ: &str =
        "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n</tool_call>";
    const READ_JSON: &str =
        "<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.rs\"}}\n</tool_call>";

    /// (name, formats, input, upstream finish, expected outcomes).
    fn cases() -> Vec<(&'static str, &'static [Format], String, UpstreamFinish, Outcomes)> {
        vec![
            ("xml_clean", &[Q, A], format!("Reading.\n{READ}\nDone."), STOP, o(1, 0, 0, 0)),
            ("xml_clean_under_length", &[Q, A], READ.to_owned(), LENGTH, o(1, 0, 0, 0)),
            ("hermes_clean", &[H, A], READ_JSON.to_owned(), STOP, o(1, 0, 0, 0)),
            ("xml_two_calls", &[Q, A], format!("{READ}\n{READ}"), STOP, o(2, 0, 0, 0)),
            ("hermes_two_blocks", &[H, A], format!("{READ_JSON}\n{READ_JSON}"), STOP, o(2, 0, 0, 0)),
            ("mixed_two_calls", &[A], format!("{READ_JSON}\n{READ}"), STOP, o(2, 0, 0, 0)),
            (
                "xml_no_params",
                &[Q, A],
                "<tool_call>\n<function=list_dir>\n</function>\n</tool_call>".to_owned(),
                STOP,
                o(1, 0, 0, 0),
            ),
            (
                // Markup inside a value is data (rule 2): no attempt, nothing given up.
                "xml_markup_in_value",
                &[Q, A],
                "<tool_call>\n<function=read_file>\n<parameter=path>\n<tool_call>\n<function=x>\n</function>\n</tool_call>\n</parameter>\n</function>\n</tool_call>".to_owned(),
                STOP,
                o(1, 0, 0, 0),
            ),
            ("prose_mention_mid_line", &[Q, A], "Use <function=read_file> to read, <function=nope> fails.".to_owned(), STOP, o(0, 0, 0, 0)),
            // Recovered: the closers are missing at the end of output (rule 5).
            (
                "xml_missing_function_and_tool_call_closers",
                &[Q, A],
                "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "xml_missing_tool_call_closer",
                &[Q, A],
                "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</function>\n".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "xml_missing_tool_call_closer_cut_partial",
                &[Q, A],
                "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</function>\n</tool_".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "xml_no_params_missing_closers",
                &[Q, A],
                "<tool_call>\n<function=list_dir>\n".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "xml_missing_function_closer_before_tool_call_closer",
                &[Q, A],
                "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</tool_call>".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "xml_missing_parameter_closer_before_next_param",
                &[Q, A],
                "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n<parameter=limit>\n3\n</parameter>\n</function>\n</tool_call>".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "xml_missing_parameter_closer_before_function_closer",
                &[Q, A],
                "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</function>\n</tool_call>".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "xml_missing_tool_call_closer_between_calls",
                &[Q, A],
                format!("<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</function>\n{READ}"),
                STOP,
                o(2, 0, 1, 0),
            ),
            (
                "xml_bare_declared_function",
                &[Q, A],
                "<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</function>\n</tool_call>".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "hermes_python_literal",
                &[H, A],
                "<tool_call>\n{'name': 'read_file', 'arguments': {'path': 'a.rs'}}\n</tool_call>".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "hermes_two_objects_in_one_block",
                &[H, A],
                "<tool_call>\n{\"name\": \"read_file\"}\n{\"name\": \"list_dir\"}\n</tool_call>".to_owned(),
                STOP,
                o(2, 0, 2, 0),
            ),
            (
                "hermes_missing_closer_at_stop",
                &[H, A],
                "<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.rs\"}}\n".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            // Truncated: `length` inside a committed call.
            (
                "xml_cut_in_value",
                &[Q, A],
                "<tool_call>\n<function=read_file>\n<parameter=path>\na.r".to_owned(),
                LENGTH,
                o(0, 1, 0, 0),
            ),
            (
                "xml_cut_after_parameter_closer",
                &[Q, A],
                "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n".to_owned(),
                LENGTH,
                o(0, 1, 0, 0),
            ),
            (
                // Under `stop` too: an unclosed parameter is never complete.
                "xml_unclosed_parameter_at_stop",
                &[Q, A],
                "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs".to_owned(),
                STOP,
                o(0, 1, 0, 0),
            ),
            ("xml_complete_then_cut", &[Q, A], format!("{READ}\n<tool_call>\n<function=read_file>\n<parameter=path>\nb"), LENGTH, o(1, 1, 0, 0)),
            // Cut before the call was one (a header only): no call, nothing returned as text.
            ("xml_cut_in_header", &[Q, A], "<tool_call>\n<function=read_file>\n".to_owned(), LENGTH, o(0, 0, 0, 0)),
            ("hermes_cut_in_block", &[H, A], "<tool_call>\n{\"name\": \"read_fi".to_owned(), LENGTH, o(0, 0, 0, 0)),
            // As text: would-be calls given up.
            // `<tool_call>` is a marker anywhere, so even a mention in prose is an attempt.
            ("tool_call_mentioned_in_prose", &[Q, H, A], "Calls go in <tool_call> tags.".to_owned(), STOP, o(0, 0, 0, 1)),
            ("tool_call_then_garbage", &[Q, H, A], "<tool_call>\nhello there\n</tool_call>".to_owned(), STOP, o(0, 0, 0, 1)),
            ("tool_call_at_end", &[Q, H, A], "Let me check.\n<tool_call>\n".to_owned(), STOP, o(0, 0, 0, 1)),
            (
                "function_then_garbage",
                &[Q, A],
                "<tool_call>\n<function=read_file>\nplease read it\n</function>".to_owned(),
                STOP,
                o(0, 0, 0, 1),
            ),
            (
                "bare_function_then_garbage",
                &[Q, A],
                "<function=read_file> is the tool I need".to_owned(),
                STOP,
                o(0, 0, 0, 1),
            ),
            (
                "bare_undeclared_function",
                &[Q, A],
                "<function=nope>\n<parameter=x>\n1\n</parameter>\n</function>".to_owned(),
                STOP,
                o(0, 0, 0, 1),
            ),
            ("hermes_invalid_json", &[H, A], "<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": }\n</tool_call>".to_owned(), STOP, o(0, 0, 0, 1)),
            ("hermes_not_a_call", &[H, A], "<tool_call>\n{\"tool\": \"read_file\"}\n</tool_call>".to_owned(), STOP, o(0, 0, 0, 1)),
            ("hermes_block_to_xml_only_parser", &[Q], READ_JSON.to_owned(), STOP, o(0, 0, 0, 1)),
            ("xml_block_to_hermes_only_parser", &[H], READ.to_owned(), STOP, o(0, 0, 0, 1)),
            // llama3_json: decided at the object's closing brace, like a Hermes block.
            ("llama_tagged_clean", &[L], r#"<|python_tag|>{"name": "read_file", "parameters": {"path": "a"}}; {"name": "list_dir", "parameters": {}}"#.to_owned(), STOP, o(2, 0, 0, 0)),
            ("llama_bare_clean", &[L], "Reading.\n{\"name\": \"read_file\", \"parameters\": {\"path\": \"a\"}}".to_owned(), STOP, o(1, 0, 0, 0)),
            ("llama_python_literal", &[L], "<|python_tag|>{'name': 'read_file', 'parameters': {'path': 'a'}}".to_owned(), STOP, o(1, 0, 1, 0)),
            ("llama_invalid_json", &[L], r#"<|python_tag|>{"name": "read_file", "parameters": {"path": }}"#.to_owned(), STOP, o(0, 0, 0, 1)),
            ("llama_bare_undeclared", &[L], r#"{"name": "nope", "parameters": {}}"#.to_owned(), STOP, o(0, 0, 0, 1)),
            ("llama_tag_then_code", &[L], "<|python_tag|>print(1)".to_owned(), STOP, o(0, 0, 0, 1)),
            ("llama_unclosed_at_stop", &[L], r#"<|python_tag|>{"name": "read_file""#.to_owned(), STOP, o(0, 0, 0, 1)),
            ("llama_cut_in_object", &[L], r#"<|python_tag|>{"name": "read_fi"#.to_owned(), LENGTH, o(0, 0, 0, 0)),
            ("llama_json_mid_line_not_counted", &[L], r#"Use {"name": "nope", "parameters": {}} here."#.to_owned(), STOP, o(0, 0, 0, 0)),
            // mistral: both forms, decided at the closing bracket.
            ("mistral_clean", &[M], r#"[TOOL_CALLS]read_file[ARGS]{"path": "a"}[TOOL_CALLS]list_dir[ARGS]{}"#.to_owned(), STOP, o(2, 0, 0, 0)),
            ("mistral_array", &[M], r#"[TOOL_CALLS][{"name": "read_file", "arguments": {"path": "a"}}, {"name": "list_dir", "arguments": {}}]"#.to_owned(), STOP, o(2, 0, 0, 0)),
            ("mistral_python_literal", &[M], "[TOOL_CALLS]read_file[ARGS]{'path': 'a'}".to_owned(), STOP, o(1, 0, 1, 0)),
            ("mistral_invalid_json", &[M], r#"[TOOL_CALLS]read_file[ARGS]{"path": }"#.to_owned(), STOP, o(0, 0, 0, 1)),
            ("mistral_marker_then_prose", &[M], "[TOOL_CALLS] sorry, no.".to_owned(), STOP, o(0, 0, 0, 1)),
            ("mistral_unclosed_at_stop", &[M], r#"[TOOL_CALLS]read_file[ARGS]{"path": "a""#.to_owned(), STOP, o(0, 0, 0, 1)),
            ("mistral_cut_in_args", &[M], r#"[TOOL_CALLS]read_file[ARGS]{"path": "a"#.to_owned(), LENGTH, o(0, 0, 0, 0)),
            ("mistral_complete_then_cut", &[M], r#"[TOOL_CALLS]read_file[ARGS]{"path": "a"}[TOOL_CALLS]read_fi"#.to_owned(), LENGTH, o(1, 0, 0, 0)),
            (
                "given_up_then_call",
                &[Q, A],
                format!("<tool_call>\nnot yet\n</tool_call>\n{READ}"),
                STOP,
                o(1, 0, 0, 1),
            ),
            // glm45: `<arg_key>`/`<arg_value>` pairs, decided structurally.

            ("glm_clean", &[G], format!("Reading.\n{GLM_READ}\nDone."), STOP, o(1, 0, 0, 0)),
            ("glm_clean_under_length", &[G], GLM_READ.to_owned(), LENGTH, o(1, 0, 0, 0)),
            ("glm_two", &[G], format!("{GLM_READ}\n{GLM_READ}"), STOP, o(2, 0, 0, 0)),
            ("glm_no_args", &[G], "<tool_call>list_dir</tool_call>".to_owned(), STOP, o(1, 0, 0, 0)),
            ("glm_no_args_unclosed", &[G], "<tool_call>list_dir\n".to_owned(), STOP, o(1, 0, 1, 0)),
            (
                "glm_missing_call_closer",
                &[G],
                "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "glm_missing_value_closer_before_key",
                &[G],
                "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs\n<arg_key>limit</arg_key>\n<arg_value>3</arg_value>\n</tool_call>".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "glm_missing_value_closer_before_call_closer",
                &[G],
                "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</tool_call>".to_owned(),
                STOP,
                o(1, 0, 1, 0),
            ),
            (
                "glm_missing_call_closer_between_calls",
                &[G],
                format!("<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n{GLM_READ}"),
                STOP,
                o(2, 0, 1, 0),
            ),
            ("glm_cut_in_value", &[G], "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.r".to_owned(), LENGTH, o(0, 1, 0, 0)),
            (
                "glm_cut_before_call_closer",
                &[G],
                "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>a.rs</arg_value>\n</tool_c".to_owned(),
                LENGTH,
                o(0, 1, 0, 0),
            ),
            ("glm_cut_in_header", &[G], "<tool_call>read_file\n<arg_key>pa".to_owned(), LENGTH, o(0, 0, 0, 0)),
            ("glm_garbage", &[G], "<tool_call>\nhello there\n</tool_call>".to_owned(), STOP, o(0, 0, 0, 1)),
            ("glm_json_inside", &[G], "<tool_call>{\"name\": \"read_file\"}</tool_call>".to_owned(), STOP, o(0, 0, 0, 1)),
            ("glm_at_end", &[G], "Let me check.\n<tool_call>\n".to_owned(), STOP, o(0, 0, 0, 1)),
            ("glm_undeclared_word_at_end", &[G], "See <tool_call>nope".to_owned(), STOP, o(0, 0, 0, 1)),
        ]
    }

    fn run(format: Format, chunks: &[&str], upstream: UpstreamFinish) -> (Outcomes, Vec<OwnedEvent>) {
        let mut engine = Engine::new(format, tools(), Reasoning::Auto);
        let mut events: Vec<OwnedEvent> = Vec::new();
        for chunk in chunks {
            engine.feed(chunk, &mut events);
        }
        engine.finish(upstream, &mut events);
        (engine.outcomes(), events)
    }

    fn chars(input: &str) -> Vec<&str> {
        input.char_indices().map(|(i, c)| &input[i..i + c.len_utf8()]).collect()
    }

    #[test]
    fn outcomes_table() {
        let mut problems = Vec::new();
        for (name, formats, input, upstream, want) in cases() {
            for &format in formats {
                let (whole, events) = run(format, &[&input], upstream);
                if whole != want {
                    problems.push(format!(
                        "{name} [{format}]: expected {want:?}, got {whole:?}\n  events: {events:?}"
                    ));
                }
                let ends = events.iter().filter(|e| matches!(e, OwnedEvent::CallEnd { .. })).count();
                let cuts = events.iter().filter(|e| matches!(e, OwnedEvent::CallTruncated { .. })).count();
                if (whole.calls as usize, whole.truncated as usize) != (ends, cuts) {
                    problems.push(format!(
                        "{name} [{format}]: {whole:?} but {ends} CallEnd, {cuts} CallTruncated"
                    ));
                }
                let (by_char, by_char_events) = run(format, &chars(&input), upstream);
                if by_char != whole || by_char_events.len() != events.len() {
                    problems
                        .push(format!("{name} [{format}]: 1-char chunks give {by_char:?}, whole {whole:?}"));
                }
            }
        }
        assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    }

    #[test]
    fn none_format_counts_nothing() {
        let (outcomes, _) = run(Format::None, &[READ], STOP);
        assert_eq!(outcomes, Outcomes::default());
    }

    #[test]
    fn add_sums_and_saturates() {
        let mut total = o(1, 2, 3, 4);
        total.add(o(10, 20, 30, 40));
        assert_eq!(total, o(11, 22, 33, 44));
        total.add(o(u32::MAX, 0, 0, 0));
        assert_eq!(total.calls, u32::MAX);
    }
}
