//! Shared helpers for the tool-call engine's integration tests: the declared tools, a sink
//! that keeps both the raw events and the final message, the event-stream invariants, and
//! the table of cases (spec `shared/guide/toolcall-spec.md`, sections 2-6).
//!
//! Both test binaries include this module; each uses only part of it.
#![allow(dead_code, reason = "each test binary uses a different part of the shared helpers")]

pub(crate) mod auto;
pub(crate) mod glm;
pub(crate) mod special;

use std::fmt::Write as _;
use std::sync::Arc;

use podctl::toolcall::{
    Engine, Event, FinishReason, Format, Message, MessageBuilder, OwnedEvent, Reasoning, Sink, Tools,
    UpstreamFinish,
};
use serde_json::{Value, json};

pub(crate) const Q: Format = Format::Qwen3Coder;
pub(crate) const H: Format = Format::Hermes;
pub(crate) const A: Format = Format::Auto;
pub(crate) const N: Format = Format::None;
pub(crate) const L: Format = Format::Llama3Json;
pub(crate) const M: Format = Format::Mistral;
pub(crate) const D3: Format = Format::DeepseekV3;
pub(crate) const D31: Format = Format::DeepseekV31;
pub(crate) const K: Format = Format::KimiK2;
pub(crate) const G: Format = Format::Glm45;

pub(crate) const ALL_FORMATS: [Format; 10] = [Q, H, A, L, M, N, D3, D31, K, G];
pub(crate) const FINISHES: [UpstreamFinish; 2] = [UpstreamFinish::Stop, UpstreamFinish::Length];
pub(crate) const REASONINGS: [Reasoning; 2] = [Reasoning::Auto, Reasoning::PromptOpened];

/// The tools every case declares: realistic coding-agent schemas.
pub(crate) fn tools() -> Arc<Tools> {
    let tools = json!([
        {"type": "function", "function": {"name": "read_file", "description": "Read a file",
            "parameters": {"type": "object", "properties": {
                "path": {"type": "string"},
                "limit": {"type": "integer"}},
            "required": ["path"]}}},
        {"type": "function", "function": {"name": "write_file",
            "parameters": {"type": "object", "properties": {
                "path": {"type": "string"},
                "content": {"type": "string"}},
            "required": ["path", "content"]}}},
        {"type": "function", "function": {"name": "run",
            "parameters": {"type": "object", "properties": {
                "cmd": {"type": "string"},
                "timeout": {"type": ["number", "null"]}},
            "required": ["cmd"]}}},
        {"type": "function", "function": {"name": "edit",
            "parameters": {"type": "object", "properties": {
                "opts": {"type": "object"},
                "flags": {"type": "array", "items": {"type": "string"}},
                "dry": {"type": "boolean"}}}}},
        {"type": "function", "function": {"name": "geo",
            "parameters": {"type": "object", "properties": {
                "zip": {"type": "string"},
                "ratio": {"type": "number"},
                "count": {"type": "integer"}}}}},
        {"type": "function", "function": {"name": "config",
            "parameters": {"type": "object",
                "$defs": {"Port": {"type": "integer", "minimum": 1}},
                "properties": {
                    "mode": {"enum": [1, 2, 3]},
                    "style": {"enum": ["fast", "slow"]},
                    "port": {"$ref": "#/$defs/Port"},
                    "retries": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    "level": {"type": "int"},
                    "tag": {"type": "str"}}}}},
        {"type": "function", "function": {"name": "list_dir",
            "parameters": {"type": "object", "properties": {}}}}
    ]);
    Arc::new(Tools::from_openai(&tools).expect("the test tools are valid"))
}

/// Keeps the merged events and the message they add up to.
#[derive(Debug, Default)]
pub(crate) struct Tee {
    pub(crate) events: Vec<OwnedEvent>,
    pub(crate) builder: MessageBuilder,
}

impl Sink for Tee {
    fn event(&mut self, event: Event<'_>) {
        self.events.event(event);
        self.builder.event(event);
    }
}

/// What one run of the engine produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    /// Merged events with empty text pieces removed (an empty delta carries nothing).
    pub(crate) events: Vec<OwnedEvent>,
    pub(crate) message: Message,
    pub(crate) finish: FinishReason,
}

/// Feeds `chunks` in order to a fresh engine and finishes it.
pub(crate) fn run_chunks(
    format: Format,
    tools: &Arc<Tools>,
    reasoning: Reasoning,
    chunks: &[&str],
    upstream: UpstreamFinish,
) -> Run {
    let mut engine = Engine::new(format, Arc::clone(tools), reasoning);
    let mut tee = Tee::default();
    for chunk in chunks {
        engine.feed(chunk, &mut tee);
    }
    let finish = engine.finish(upstream, &mut tee);
    Run { events: normalize(tee.events), message: tee.builder.build(finish), finish }
}

/// Drops empty text/argument pieces and merges what then becomes adjacent.
pub(crate) fn normalize(events: Vec<OwnedEvent>) -> Vec<OwnedEvent> {
    let mut out: Vec<OwnedEvent> = Vec::with_capacity(events.len());
    for event in events {
        match event {
            OwnedEvent::Content(s) | OwnedEvent::Reasoning(s) | OwnedEvent::CallArgs { fragment: s, .. }
                if s.is_empty() => {}
            OwnedEvent::Content(s) => match out.last_mut() {
                Some(OwnedEvent::Content(prev)) => prev.push_str(&s),
                _ => out.push(OwnedEvent::Content(s)),
            },
            OwnedEvent::Reasoning(s) => match out.last_mut() {
                Some(OwnedEvent::Reasoning(prev)) => prev.push_str(&s),
                _ => out.push(OwnedEvent::Reasoning(s)),
            },
            OwnedEvent::CallArgs { index, fragment } => match out.last_mut() {
                Some(OwnedEvent::CallArgs { index: i, fragment: prev }) if *i == index => {
                    prev.push_str(&fragment);
                }
                _ => out.push(OwnedEvent::CallArgs { index, fragment }),
            },
            other => out.push(other),
        }
    }
    out
}

/// Checks the event-stream contract of one finished run; returns a description of the
/// first violation.
///
/// * calls are numbered 0, 1, 2… in order; each is `CallStart`, `CallArgs`*, then exactly
///   one `CallEnd` or `CallTruncated`, and nothing else happens while a call is open;
/// * every call's concatenated arguments parse as a JSON object;
/// * the finish reason is `tool_calls` iff a call ended complete and upstream said `stop`,
///   `length` iff upstream said `length` (spec section 6);
/// * the message's content/reasoning are the concatenated `Content`/`Reasoning` events,
///   and its tool calls are exactly the calls that got `CallEnd`;
/// * outside `none`, content and reasoning are already trimmed (spec rule 9).
pub(crate) fn check_run(format: Format, upstream: UpstreamFinish, run: &Run) -> Result<(), String> {
    let mut open: Option<(usize, String, String)> = None;
    let mut next = 0usize;
    let mut complete: Vec<(String, String)> = Vec::new();
    let mut content = String::new();
    let mut reasoning = String::new();
    for (at, event) in run.events.iter().enumerate() {
        match (event, &mut open) {
            (OwnedEvent::Content(s), None) => content.push_str(s),
            (OwnedEvent::Reasoning(s), None) => reasoning.push_str(s),
            (OwnedEvent::CallStart { index, name, .. }, None) => {
                if *index != next {
                    return Err(format!("event {at}: CallStart index {index}, expected {next}"));
                }
                next += 1;
                open = Some((*index, name.clone(), String::new()));
            }
            (OwnedEvent::CallArgs { index, fragment }, Some((i, _, args))) if index == i => {
                args.push_str(fragment);
            }
            (OwnedEvent::CallEnd { index } | OwnedEvent::CallTruncated { index }, Some((i, name, args)))
                if index == i =>
            {
                match serde_json::from_str::<Value>(args) {
                    Ok(Value::Object(_)) => {}
                    _ => {
                        return Err(format!(
                            "call {i} ({name}): arguments are not one JSON object: {args:?}"
                        ));
                    }
                }
                if matches!(event, OwnedEvent::CallEnd { .. }) {
                    complete.push((name.clone(), args.clone()));
                }
                open = None;
            }
            (event, open) => {
                return Err(format!(
                    "event {at}: {event:?} out of order (open call: {:?})",
                    open.as_ref().map(|o| o.0)
                ));
            }
        }
    }
    if let Some((i, name, _)) = open {
        return Err(format!("call {i} ({name}) never got CallEnd/CallTruncated"));
    }
    let expected_finish = FinishReason::decide(upstream, complete.len());
    if run.finish != expected_finish {
        return Err(format!(
            "finish {:?} but {} complete call(s) under {upstream:?}",
            run.finish,
            complete.len()
        ));
    }
    let non_empty = |s: String| if s.is_empty() { None } else { Some(s) };
    if run.message.content != non_empty(content.clone())
        || run.message.reasoning != non_empty(reasoning.clone())
    {
        return Err("message text differs from the concatenated events".to_owned());
    }
    let calls: Vec<(String, String)> =
        run.message.tool_calls.iter().map(|c| (c.name.clone(), c.arguments.clone())).collect();
    if calls != complete {
        return Err(format!("message tool_calls {calls:?} are not the CallEnd calls {complete:?}"));
    }
    if format != Format::None {
        if content.trim() != content {
            return Err(format!("content is not trimmed: {content:?}"));
        }
        if reasoning.trim() != reasoning {
            return Err(format!("reasoning is not trimmed: {reasoning:?}"));
        }
    }
    Ok(())
}

/// JSON equality for arguments: object key order is free; an expected integer needs an
/// integer, an expected float accepts any number of the same value (`30` == `30.0`).
pub(crate) fn json_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            if e.is_i64() || e.is_u64() {
                (a.is_i64() || a.is_u64()) && e == a
            } else {
                e.as_f64() == a.as_f64()
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len() && e.iter().all(|(k, v)| a.get(k).is_some_and(|w| json_matches(v, w)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(v, w)| json_matches(v, w))
        }
        _ => expected == actual,
    }
}

/// The expected `content`.
#[derive(Debug, Clone)]
pub(crate) enum Text {
    /// `None`.
    Null,
    /// Exactly this text.
    Is(String),
    /// Exactly the input (pass-through).
    Input,
    /// Not checked (the spec leaves it open).
    Any,
}

/// One row of the table: an input, the formats it applies to, and the message it must give.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) name: &'static str,
    /// The spec rule the row pins down.
    pub(crate) rule: &'static str,
    pub(crate) formats: &'static [Format],
    pub(crate) reasoning_mode: Reasoning,
    pub(crate) upstream: UpstreamFinish,
    pub(crate) input: String,
    pub(crate) content: Text,
    pub(crate) reasoning: Option<String>,
    pub(crate) calls: Vec<(&'static str, Value)>,
    /// `None`: derived from the rule (tool_calls iff a call and `stop`).
    pub(crate) finish: Option<FinishReason>,
}

impl Case {
    pub(crate) fn new(
        name: &'static str,
        rule: &'static str,
        formats: &'static [Format],
        input: impl Into<String>,
    ) -> Self {
        Self {
            name,
            rule,
            formats,
            reasoning_mode: Reasoning::Auto,
            upstream: UpstreamFinish::Stop,
            input: input.into(),
            content: Text::Null,
            reasoning: None,
            calls: Vec::new(),
            finish: None,
        }
    }
    #[must_use]
    pub(crate) fn content(mut self, text: &str) -> Self {
        self.content = Text::Is(text.to_owned());
        self
    }
    #[must_use]
    pub(crate) fn content_is_input(mut self) -> Self {
        self.content = Text::Input;
        self
    }
    #[must_use]
    pub(crate) fn content_unchecked(mut self) -> Self {
        self.content = Text::Any;
        self
    }
    #[must_use]
    pub(crate) fn reasoning(mut self, text: &str) -> Self {
        self.reasoning = Some(text.to_owned());
        self
    }
    #[must_use]
    pub(crate) fn prompt_opened(mut self) -> Self {
        self.reasoning_mode = Reasoning::PromptOpened;
        self
    }
    #[must_use]
    pub(crate) fn length(mut self) -> Self {
        self.upstream = UpstreamFinish::Length;
        self
    }
    #[must_use]
    pub(crate) fn call(mut self, name: &'static str, args: Value) -> Self {
        self.calls.push((name, args));
        self
    }
    #[must_use]
    pub(crate) fn finish(mut self, finish: FinishReason) -> Self {
        self.finish = Some(finish);
        self
    }

    fn expected_finish(&self) -> FinishReason {
        self.finish.unwrap_or_else(|| FinishReason::decide(self.upstream, self.calls.len()))
    }

    /// Runs the case for each of its formats; returns every mismatch found.
    pub(crate) fn check(&self, tools: &Arc<Tools>) -> Vec<String> {
        let mut problems = Vec::new();
        for &format in self.formats {
            let msg =
                Engine::translate(format, Arc::clone(tools), self.reasoning_mode, &self.input, self.upstream);
            let run = run_chunks(format, tools, self.reasoning_mode, &[&self.input], self.upstream);
            let mut report = String::new();
            if let Err(e) = check_run(format, self.upstream, &run) {
                let _ = writeln!(report, "  event contract: {e}");
            }
            if run.message != msg {
                let _ = writeln!(report, "  streamed message differs from translate(): {:?}", run.message);
            }
            let want_content = match &self.content {
                Text::Null => Some(None),
                Text::Is(s) => Some(Some(s.clone())),
                Text::Input => Some(if self.input.is_empty() { None } else { Some(self.input.clone()) }),
                Text::Any => None,
            };
            if let Some(want) = want_content
                && msg.content != want
            {
                let _ =
                    writeln!(report, "  content: expected {want:?}\n           actual   {:?}", msg.content);
            }
            if msg.reasoning != self.reasoning {
                let _ = writeln!(
                    report,
                    "  reasoning: expected {:?}\n             actual   {:?}",
                    self.reasoning, msg.reasoning
                );
            }
            let want_finish = self.expected_finish();
            if msg.finish_reason != want_finish {
                let _ = writeln!(
                    report,
                    "  finish_reason: expected {want_finish:?}, actual {:?}",
                    msg.finish_reason
                );
            }
            let actual_calls: Vec<(String, Result<Value, String>)> = msg
                .tool_calls
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        serde_json::from_str::<Value>(&c.arguments).map_err(|_| c.arguments.clone()),
                    )
                })
                .collect();
            let calls_ok = actual_calls.len() == self.calls.len()
                && actual_calls.iter().zip(&self.calls).all(|((name, args), (want_name, want_args))| {
                    name == want_name
                        && args.as_ref().is_ok_and(|a| a.is_object() && json_matches(want_args, a))
                });
            if !calls_ok {
                let want: Vec<String> = self.calls.iter().map(|(n, a)| format!("{n} {a}")).collect();
                let got: Vec<String> =
                    msg.tool_calls.iter().map(|c| format!("{} {}", c.name, c.arguments)).collect();
                let _ = writeln!(report, "  tool_calls: expected {want:?}\n              actual   {got:?}");
            }
            if !report.is_empty() {
                problems.push(format!(
                    "[{format}] case `{}` ({}), input {:?}, upstream {:?}:\n{report}",
                    self.name, self.rule, self.input, self.upstream
                ));
            }
        }
        problems
    }
}

/// A canonical Qwen3-Coder call: each value gets the one leading and trailing newline that
/// rule 1 strips again.
pub(crate) fn xml(name: &str, params: &[(&str, &str)]) -> String {
    let mut s = format!("<tool_call>\n<function={name}>\n");
    for (key, value) in params {
        let _ = write!(s, "<parameter={key}>\n{value}\n</parameter>\n");
    }
    s.push_str("</function>\n</tool_call>");
    s
}

/// A Hermes call block around `json`.
pub(crate) fn hermes(json: &str) -> String {
    format!("<tool_call>\n{json}\n</tool_call>")
}

/// A Llama 3 call: `<|python_tag|>` and the JSON object.
pub(crate) fn llama(json: &str) -> String {
    format!("<|python_tag|>{json}")
}

/// A Mistral v11+ call: `[TOOL_CALLS]NAME[ARGS]{json}`.
pub(crate) fn mistral(name: &str, args: &str) -> String {
    format!("[TOOL_CALLS]{name}[ARGS]{args}")
}

const QA: &[Format] = &[Q, A];
const QHALM: &[Format] = &[Q, H, A, L, M];
const QHALMN: &[Format] = &[Q, H, A, L, M, N];
const ONLY_L: &[Format] = &[L];
const ONLY_M: &[Format] = &[M];
const HA: &[Format] = &[H, A];
const QHA: &[Format] = &[Q, H, A];
const QHAN: &[Format] = &[Q, H, A, N];
const ONLY_Q: &[Format] = &[Q];
const ONLY_H: &[Format] = &[H];
const ONLY_A: &[Format] = &[A];
const ONLY_N: &[Format] = &[N];

/// The table. Names are unique identifiers; `toolcall_table.rs` has one test per name.
#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let read_a = xml("read_file", &[("path", "a.rs")]);
    let read_b = xml("read_file", &[("path", "b.rs")]);
    let json_read = r#"{"name": "read_file", "arguments": {"path": "a.rs", "limit": 10}}"#;
    let mut cases = vec![
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
            "q_undeclared_param_after_declared_is_data",
            "3.2: <parameter=NAME> of a declared function opens only for its parameters",
            QA,
            xml("read_file", &[("path", "a"), ("depth", "3")]),
        )
        .call("read_file", json!({"path": "a\n</parameter>\n<parameter=depth>\n3"})),
        Case::new(
            "q_no_params_empty_object",
            "3.8: <function=f> with no parameters gives {}",
            QA,
            "<tool_call>\n<function=list_dir>\n</function>\n</tool_call>",
        )
        .call("list_dir", json!({})),
        Case::new("q_no_params_adjacent", "3.8 + decision 4", QA, "<function=list_dir></function>")
            .call("list_dir", json!({})),
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
        // ----------------------------------------------------------------------- mistral
        Case::new(
            "m_single_call",
            "1: mistral v11 NAME[ARGS]{json}",
            ONLY_M,
            mistral("read_file", r#"{"path": "src/main.rs", "limit": 30}"#),
        )
        .call("read_file", json!({"path": "src/main.rs", "limit": 30})),
        Case::new(
            "m_repeated_marker",
            "1: [TOOL_CALLS] before each call",
            ONLY_M,
            format!("{}{}", mistral("read_file", r#"{"path": "a"}"#), mistral("run", r#"{"cmd": "ls"}"#)),
        )
        .call("read_file", json!({"path": "a"}))
        .call("run", json!({"cmd": "ls"})),
        Case::new(
            "m_calls_without_repeated_marker",
            "1: NAME[ARGS] after a call needs no marker",
            ONLY_M,
            "[TOOL_CALLS]read_file[ARGS]{\"path\": \"a\"} list_dir[ARGS]{}",
        )
        .call("read_file", json!({"path": "a"}))
        .call("list_dir", json!({})),
        Case::new(
            "m_call_id_form",
            "1: NAME[CALL_ID]ID[ARGS]{json} (the model's id is not kept)",
            ONLY_M,
            "[TOOL_CALLS]read_file[CALL_ID]a1B2c3D4e[ARGS]{\"path\": \"a\"}",
        )
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_name_then_json_without_args_token",
            "1: NAME{json} right after [TOOL_CALLS]",
            ONLY_M,
            "[TOOL_CALLS]read_file{\"path\": \"a\"}",
        )
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_array_form",
            "1: pre-v11 JSON array",
            ONLY_M,
            r#"[TOOL_CALLS] [{"name": "read_file", "arguments": {"path": "a.rs"}}, {"name": "run", "arguments": {"cmd": "ls"}}]"#,
        )
        .call("read_file", json!({"path": "a.rs"}))
        .call("run", json!({"cmd": "ls"})),
        Case::new(
            "m_array_arguments_as_string",
            "5: arguments as a string holding an object",
            ONLY_M,
            r#"[TOOL_CALLS][{"name": "read_file", "arguments": "{\"path\": \"a\", \"limit\": 5}"}]"#,
        )
        .call("read_file", json!({"path": "a", "limit": 5})),
        Case::new(
            "m_text_before_after",
            "3.9: text around calls kept, trimmed, joined",
            ONLY_M,
            format!("I'll read it.\n{}\nDone. 完成 ✅\n", mistral("read_file", r#"{"path": "a"}"#)),
        )
        .content("I'll read it.\n\nDone. 完成 ✅")
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_markup_inside_string",
            "2: markers and brackets inside JSON strings are data",
            ONLY_M,
            mistral("write_file", r#"{"path": "x.md", "content": "[TOOL_CALLS]x[ARGS]{\"a\": 1}] } [/THINK] [THINK] '"}"#),
        )
        .call("write_file", json!({"path": "x.md", "content": "[TOOL_CALLS]x[ARGS]{\"a\": 1}] } [/THINK] [THINK] '"})),
        Case::new(
            "m_invalid_json_is_content",
            "5: unparseable arguments stay content",
            ONLY_M,
            mistral("read_file", r#"{"path": }"#),
        )
        .content_is_input(),
        Case::new(
            "m_array_not_calls_is_content",
            "5: never a call with invented arguments",
            ONLY_M,
            r#"[TOOL_CALLS][{"name": "read_file", "arguments": ["a.rs"]}]"#,
        )
        .content_is_input(),
        Case::new(
            "m_unclosed_args_stop_is_content",
            "5: JSON never closed is not JSON",
            ONLY_M,
            mistral("read_file", r#"{"path": "a""#),
        )
        .content_is_input(),
        Case::new(
            "m_name_not_identifier_is_content",
            "3.6: a name that is not an identifier is not a call",
            ONLY_M,
            "[TOOL_CALLS]read file[ARGS]{}",
        )
        .content_is_input(),
        Case::new(
            "m_truncated_length_dropped",
            "6: a call cut off by length is never executable; prose kept",
            ONLY_M,
            format!("Reading.\n{}", mistral("read_file", r#"{"path": "a"#)),
        )
        .length()
        .content("Reading."),
        Case::new(
            "m_complete_then_truncated",
            "6: complete call kept, the cut one dropped, finish length",
            ONLY_M,
            format!("{}[TOOL_CALLS]read_fi", mistral("read_file", r#"{"path": "a"}"#)),
        )
        .length()
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_partial_marker_length_dropped",
            "6: a cut-off marker never leaks",
            ONLY_M,
            "Checking.\n[TOOL_CA",
        )
        .length()
        .content("Checking."),
        Case::new(
            "m_schema_types",
            "4/5: arguments typed by the schema",
            ONLY_M,
            format!(
                "{}{}",
                mistral("read_file", r#"{"path": "a", "limit": "10"}"#),
                mistral("geo", r#"{"count": 30.0, "ratio": "0.5", "zip": "03106"}"#)
            ),
        )
        .call("read_file", json!({"path": "a", "limit": 10}))
        .call("geo", json!({"count": 30, "ratio": 0.5, "zip": "03106"})),
        Case::new(
            "m_python_literal",
            "5: Python-style literal arguments",
            ONLY_M,
            mistral("run", "{'cmd': 'ls', 'timeout': None}"),
        )
        .call("run", json!({"cmd": "ls", "timeout": null})),
        Case::new(
            "m_undeclared_passes_through",
            "3.7: a marked call to an undeclared tool passes through",
            ONLY_M,
            mistral("search_web", r#"{"q": "rust"}"#),
        )
        .call("search_web", json!({"q": "rust"})),
        Case::new(
            "m_bracket_prose",
            "2: brackets that are no marker are text",
            ONLY_M,
            "Use a[0] and [x] or [TOOL_CALL] and [ARGS] and [/THINKING] here [",
        )
        .content_is_input(),
        Case::new(
            "m_think_then_call",
            "1: [THINK] reasoning",
            ONLY_M,
            format!("[THINK]\nI need the file.\n[/THINK]\n\n{}", mistral("read_file", r#"{"path": "a"}"#)),
        )
        .reasoning("I need the file.")
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_tool_calls_inside_think",
            "3.10: [TOOL_CALLS] inside reasoning ends it",
            ONLY_M,
            format!("[THINK]Plan: read it.{}", mistral("read_file", r#"{"path": "a"}"#)),
        )
        .reasoning("Plan: read it.")
        .call("read_file", json!({"path": "a"})),
        Case::new(
            "m_prompt_opened",
            "1: the prompt opened [THINK]",
            ONLY_M,
            "Plan.[/THINK]Answer.",
        )
        .prompt_opened()
        .reasoning("Plan.")
        .content("Answer."),
        Case::new("m_stray_think_close_dropped", "decision 2: stray [/THINK] dropped", ONLY_M, "Hello\n[/THINK]\nWorld")
            .content("Hello\n\nWorld"),
        Case::new("m_think_after_text_is_text", "decision 2", ONLY_M, "Answer: [THINK] is a token.").content_is_input(),
        Case::new(
            "m_prose_after_call_kept",
            "3.9: prose after a call is content",
            ONLY_M,
            format!("{} Done here.", mistral("read_file", r#"{"path": "a"}"#)),
        )
        .content("Done here.")
        .call("read_file", json!({"path": "a"})),
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
    ];
    cases.extend(special::cases());
    cases.extend(glm::cases());
    cases.extend(auto::cases());
    cases
}

/// Every distinct input of the table (for the chunking properties).
pub(crate) fn table_inputs() -> Vec<String> {
    let mut inputs: Vec<String> = cases().into_iter().map(|c| c.input).collect();
    inputs.sort();
    inputs.dedup();
    inputs
}
