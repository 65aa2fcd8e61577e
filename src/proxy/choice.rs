//! One choice of one response: the engine plus the client's tool-call policy.
//!
//! Applies `tool_choice: none` (calls dropped, their markup with them),
//! `parallel_tool_calls: false` (only the first call kept), assigns each kept call its
//! client-side index and a unique id, and decides the client's `finish_reason`. With
//! `hold_calls` (the default), a call goes out only once it is complete, header and
//! arguments together: a call the token limit cuts off is never sent, so no client can run
//! half a call, and the stream adds up to the whole answer exactly.

use std::sync::Arc;

use super::plan::{Plan, ToolChoice};
use super::vllm_calls::VllmCalls;
use crate::openai::upstream::{CallDelta, WholeCall};
use crate::openai::{ApiError, ErrorKind, call_id_for};
use crate::toolcall::{Engine, Event, Format, Outcomes, Reasoning, Sink, UpstreamFinish};

/// What the client is sent, in order. Adjacent text pieces are merged by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Out {
    Content(String),
    Reasoning(String),
    CallHeader { index: usize, id: String, name: String },
    CallArgs { index: usize, fragment: String },
}

#[derive(Debug)]
pub(crate) struct ChoiceTranslator {
    engine: Engine,
    policy: Policy,
    /// The calls vLLM's own parser decoded (`tool_format = "vllm"` only).
    vllm: Option<VllmCalls>,
    /// The raw upstream text, kept only when tracing.
    raw: Option<String>,
    finish: Option<&'static str>,
}

#[derive(Debug)]
struct Policy {
    /// The model's tool format: its family may constrain the call ids (Mistral: 9
    /// alphanumerics). For `auto`, the family its markers decided, once they did.
    format: Format,
    max_calls: usize,
    /// A forced named call: other names are never returned.
    named: Option<String>,
    /// Engine call index → client index, for kept calls.
    map: Vec<Option<usize>>,
    kept: usize,
    complete: usize,
    /// Hold each kept call until it is complete.
    hold: bool,
    /// The kept call being held: its header and the arguments so far.
    held: Option<(Out, String)>,
}

/// Turns engine events into [`Out`] items through the policy.
struct Collect<'a> {
    policy: &'a mut Policy,
    out: &'a mut Vec<Out>,
}

impl Sink for Collect<'_> {
    fn event(&mut self, event: Event<'_>) {
        let out = &mut *self.out;
        match event {
            Event::Content(text) => match out.last_mut() {
                Some(Out::Content(prev)) => prev.push_str(text),
                _ => out.push(Out::Content(text.to_owned())),
            },
            Event::Reasoning(text) => match out.last_mut() {
                Some(Out::Reasoning(prev)) => prev.push_str(text),
                _ => out.push(Out::Reasoning(text.to_owned())),
            },
            Event::CallStart { index, name, id } => {
                let p = &mut *self.policy;
                let allowed = p.named.as_deref().is_none_or(|n| n == name);
                let client = (allowed && p.kept < p.max_calls).then(|| {
                    p.kept += 1;
                    p.kept - 1
                });
                if p.map.len() <= index {
                    p.map.resize(index + 1, None);
                }
                p.map[index] = client;
                if let Some(index) = client {
                    // The model's own id where its format has one (Kimi K2), else a fresh one.
                    let id = id.map_or_else(|| call_id_for(p.format), str::to_owned);
                    let header = Out::CallHeader { index, id, name: name.to_owned() };
                    if p.hold {
                        p.held = Some((header, String::new()));
                    } else {
                        out.push(header);
                    }
                }
            }
            Event::CallArgs { index, fragment } => {
                if let Some(Some(client)) = self.policy.map.get(index).copied() {
                    if let Some((_, args)) = &mut self.policy.held {
                        args.push_str(fragment);
                        return;
                    }
                    match out.last_mut() {
                        Some(Out::CallArgs { index: i, fragment: prev }) if *i == client => {
                            prev.push_str(fragment);
                        }
                        _ => out.push(Out::CallArgs { index: client, fragment: fragment.to_owned() }),
                    }
                }
            }
            Event::CallEnd { index } => {
                if let Some(Some(client)) = self.policy.map.get(index).copied() {
                    self.policy.complete += 1;
                    if let Some((header, args)) = self.policy.held.take() {
                        out.push(header);
                        out.push(Out::CallArgs { index: client, fragment: args });
                    }
                }
            }
            // Cut off: a held call is never sent (one streamed as it came has been, and the
            // finish reason `length` is all the client learns).
            Event::CallTruncated { .. } => self.policy.held = None,
        }
    }

    /// `auto` decided the family: its ids from here (Mistral's 9 alphanumerics).
    fn family(&mut self, family: Format) {
        self.policy.format = family;
    }
}

impl ChoiceTranslator {
    pub(crate) fn new(format: Format, reasoning: Reasoning, plan: &Plan, keep_raw: bool) -> Self {
        let tools = if plan.tools.is_empty() { Arc::default() } else { Arc::clone(&plan.tools) };
        Self {
            engine: Engine::new(format, tools, plan.reasoning(reasoning)),
            policy: Policy {
                format,
                max_calls: plan.max_calls(),
                named: match &plan.choice {
                    ToolChoice::Named(name) => Some(name.clone()),
                    _ => None,
                },
                map: Vec::new(),
                kept: 0,
                complete: 0,
                hold: plan.hold_calls,
                held: None,
            },
            vllm: format.upstream_parses().then(VllmCalls::default),
            raw: keep_raw.then(String::new),
            finish: None,
        }
    }

    /// Feeds upstream text; what the client should be sent now is appended to `out`.
    pub(crate) fn feed(&mut self, text: &str, out: &mut Vec<Out>) {
        if let Some(raw) = &mut self.raw {
            raw.push_str(text);
        }
        self.engine.feed(text, &mut Collect { policy: &mut self.policy, out });
    }

    /// Call deltas vLLM's own parser streamed (ignored unless it is the one parsing).
    pub(crate) fn feed_calls(&mut self, deltas: &[CallDelta<'_>], out: &mut Vec<Out>) {
        if let Some(vllm) = &mut self.vllm {
            vllm.feed(deltas, &mut Collect { policy: &mut self.policy, out });
        }
    }

    /// The calls of vLLM's whole answer (ignored unless its parser is the one parsing).
    pub(crate) fn whole_calls(&mut self, calls: &[WholeCall<'_>], out: &mut Vec<Out>) {
        if let Some(vllm) = &mut self.vllm {
            vllm.whole(calls, &mut Collect { policy: &mut self.policy, out });
        }
    }

    /// Ends the choice; returns the client's `finish_reason`.
    pub(crate) fn finish(&mut self, upstream: UpstreamFinish, out: &mut Vec<Out>) -> &'static str {
        self.engine.finish(upstream, &mut Collect { policy: &mut self.policy, out });
        if let Some(vllm) = &mut self.vllm {
            vllm.finish(upstream, &mut Collect { policy: &mut self.policy, out });
        }
        let reason = match upstream {
            UpstreamFinish::Length => "length",
            // A forced named call reports `stop`, as OpenAI does.
            UpstreamFinish::Stop if self.policy.complete > 0 && self.policy.named.is_none() => "tool_calls",
            UpstreamFinish::Stop => "stop",
        };
        self.finish = Some(reason);
        reason
    }

    pub(crate) fn finished(&self) -> Option<&'static str> {
        self.finish
    }

    pub(crate) fn calls(&self) -> usize {
        self.policy.complete
    }

    /// How the engine's would-be calls turned out, before the client's policy: calls that
    /// `tool_choice: none` or `parallel_tool_calls: false` dropped still count.
    pub(crate) fn outcomes(&self) -> Outcomes {
        self.engine.outcomes()
    }

    pub(crate) fn raw(&self) -> Option<&str> {
        self.raw.as_deref()
    }
}

/// vLLM's finish reasons as the engine knows them: only `length` means cut off.
/// vLLM's `finish_reason` for a generation it cut off (shutdown, a restart, an aborted
/// request): the text is incomplete, so the client must not see a normal finish.
pub(crate) const ABORTED: &str = "abort";

/// The error for an aborted generation (streaming: an error event and no `[DONE]`).
pub(crate) fn aborted() -> ApiError {
    ApiError::new(
        ErrorKind::Unavailable,
        "vLLM aborted the generation before it finished (it is shutting down or restarting); retry in a moment",
    )
}

pub(crate) fn upstream_finish(reason: &str) -> UpstreamFinish {
    if reason == "length" { UpstreamFinish::Length } else { UpstreamFinish::Stop }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolcall::Tools;

    /// Kimi K2's own `functions.NAME:IDX` is the client's call id; other formats get fresh ids.
    #[test]
    fn call_ids_come_from_the_model_where_it_writes_them() {
        let tools = serde_json::json!([{"type": "function", "function": {"name": "read_file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}]);
        let plan = Plan {
            model: "m".to_owned(),
            stream: true,
            include_usage: false,
            tools: Arc::new(Tools::from_openai(&tools).expect("valid tools")),
            choice: ToolChoice::Auto,
            parallel: true,
            hold_calls: false,
            thinking: None,
        };
        let ids = |format: Format, text: &str| {
            let mut translator = ChoiceTranslator::new(format, Reasoning::Auto, &plan, false);
            let mut out = Vec::new();
            translator.feed(text, &mut out);
            assert_eq!(translator.finish(UpstreamFinish::Stop, &mut out), "tool_calls");
            out.into_iter()
                .filter_map(|o| match o {
                    Out::CallHeader { id, .. } => Some(id),
                    _ => None,
                })
                .collect::<Vec<String>>()
        };
        let kimi = "<|tool_calls_section_begin|><|tool_call_begin|>functions.read_file:7\
                    <|tool_call_argument_begin|>{\"path\": \"a\"}<|tool_call_end|><|tool_calls_section_end|>";
        assert_eq!(ids(Format::KimiK2, kimi), ["functions.read_file:7"]);
        let deepseek = "<｜tool▁call▁begin｜>read_file<｜tool▁sep｜>{\"path\": \"a\"}<｜tool▁call▁end｜>";
        let fresh = ids(Format::DeepseekV31, deepseek);
        assert!(fresh.len() == 1 && fresh[0].starts_with("call_"), "{fresh:?}");
        // `auto`: ids in the shape of the family its markers decided (Mistral: 9 alphanumerics).
        assert_eq!(ids(Format::Auto, kimi), ["functions.read_file:7"]);
        let mistral = ids(Format::Auto, "Sure.\n[TOOL_CALLS]read_file[ARGS]{\"path\": \"a\"}");
        assert!(
            mistral.len() == 1
                && mistral[0].len() == 9
                && mistral[0].bytes().all(|b| b.is_ascii_alphanumeric()),
            "{mistral:?}"
        );
        let qwen =
            ids(Format::Auto, "<tool_call>\n{\"name\": \"read_file\", \"arguments\": {}}\n</tool_call>");
        assert!(qwen.len() == 1 && qwen[0].starts_with("call_"), "{qwen:?}");
    }
}
