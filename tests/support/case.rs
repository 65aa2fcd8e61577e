//! One row of the table and how it is checked: through `Engine::translate` and through the
//! streaming path, in every format it lists.

use std::fmt::Write as _;
use std::sync::Arc;

use podctl::toolcall::{Engine, FinishReason, Format, Reasoning, Tools, UpstreamFinish};
use serde_json::Value;

use super::harness::{check_run, json_matches, run_chunks};

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
    /// The prompt did not open reasoning (thinking disabled): for a template that opens it
    /// by default, the output starts as the answer.
    #[must_use]
    pub(crate) fn prompt_closed(mut self) -> Self {
        self.reasoning_mode = Reasoning::PromptClosed;
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
