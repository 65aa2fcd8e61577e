//! The tool-call engine: a model's raw output text in, OpenAI tool-call events out.
//!
//! vLLM runs without a tool parser; this module alone decides which parts of the text are
//! prose, which are reasoning and which are tool calls (`shared/guide/toolcall-spec.md` is
//! the specification). It is pure and synchronous: no async, no I/O, no clock. The same
//! [`Engine`] serves streaming (fed each upstream delta) and non-streaming (fed the whole
//! text once), so the two modes cannot disagree: any chunking of the input gives the same
//! events, merged, as feeding it whole.
//!
//! Shape of the code:
//! * [`Engine`] holds a small buffer of undecided input (a suffix that could still become a
//!   marker) and a per-format state machine. Input is consumed once; nothing is re-scanned
//!   per delta, so cost is linear in the output length.
//! * `qwen` is the state machine for the Qwen family (`qwen3_coder` XML calls, `hermes`
//!   JSON calls, `auto` choosing per call) including `<think>` reasoning.
//! * `auto` tells every family apart by its markers: the Qwen machine reads the output
//!   until another family's first decisive marker (`[TOOL_CALLS]`/`[THINK]`,
//!   `<|python_tag|>`, DeepSeek's or Kimi K2's call openers, `<tool_call>NAME` followed by
//!   `<arg_key>` or `</tool_call>`), then hands it over to that family's machine. Llama 3's
//!   bare JSON (without `<|python_tag|>`) is not detected: it cannot be told from prose.
//! * `llama3` (`llama3_json`: `<|python_tag|>` and bare `{"name", "parameters"}` objects)
//!   and `mistral` (`[TOOL_CALLS]` JSON arrays or `NAME[ARGS]{json}`, `[THINK]` reasoning)
//!   are one state machine each, with the same guarantees.
//! * `deepseek` is the state machine for special-token formats with JSON arguments
//!   (`deepseek_v3`, `deepseek_v31`; `kimi` gives it Kimi K2's markers).
//! * `glm45` is GLM-4.5/4.6 (`<arg_key>`/`<arg_value>` pairs typed by the schema like
//!   `qwen3_coder`).
//! * `tools` and `schema` turn the request's `tools` into per-parameter allowed types;
//!   `coerce` and `pyliteral` type raw values with them.
//! * `shaper` applies the content rule (trim each segment, join with a blank line) while
//!   streaming, so streamed content equals the final content.
//! * [`MessageBuilder`] folds events into the final assistant message.

mod auto;
mod coerce;
mod deepseek;
mod event;
mod glm45;
mod kimi;
mod llama3;
mod message;
mod mistral;
mod outcome;
mod pyliteral;
mod qwen;
mod scan;
mod schema;
mod shaper;
mod tools;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

pub use event::{Event, FinishReason, OwnedEvent, Sink, UpstreamFinish};
pub use message::{Message, MessageBuilder, ToolCall};
pub use outcome::Outcomes;
pub use schema::Types;
pub use tools::{Tool, Tools, ToolsError};

/// How the model writes tool calls (the profile's and the proxy's `tool_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Qwen3-Coder XML: `<tool_call><function=NAME><parameter=KEY>VALUE</parameter>…`.
    #[default]
    Qwen3Coder,
    /// Hermes JSON: `<tool_call>{"name": …, "arguments": {…}}</tool_call>` (Qwen2.5, Qwen3).
    Hermes,
    /// Any family, told apart by its markers (one proxy can front several models): the
    /// Qwen families are decided per call from what follows `<tool_call>` (`<function=` or
    /// `{`); the first decisive marker of another family (`[TOOL_CALLS]` or a leading
    /// `[THINK]`: Mistral; `<|python_tag|>`: Llama 3; DeepSeek's `<｜tool▁calls▁begin｜>`
    /// or `<｜tool▁call▁begin｜>` and their misspellings: DeepSeek V3/V3.1; Kimi K2's
    /// `<|tool_calls_section_begin|>` or `<|tool_call_begin|>`; `<tool_call>NAME` then
    /// `<arg_key>` or `</tool_call>`: GLM-4.5) hands the rest of the output to that family,
    /// for good, if no call was returned before it. Llama 3's bare JSON without
    /// `<|python_tag|>` is not detected (it cannot be told from JSON in prose).
    /// [`Engine::family`] says what was decided.
    Auto,
    /// No parsing: the text is the content, untouched.
    None,
    /// Llama 3.1/3.2: optional `<|python_tag|>`, then `{"name": …, "parameters": {…}}`,
    /// several objects separated by `; `.
    Llama3Json,
    /// Mistral / Devstral: `[TOOL_CALLS]` then a JSON array of calls (pre-v11 tokenizer) or
    /// `NAME[ARGS]{json}` per call (v11+); `[THINK]…[/THINK]` reasoning. Call ids are 9
    /// alphanumerics (see [`Format::call_id_len`]).
    Mistral,
    /// DeepSeek V3 / R1-0528: `<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME` and fenced JSON.
    DeepseekV3,
    /// DeepSeek V3.1: `<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{json}` (same machine as V3).
    DeepseekV31,
    /// Kimi K2: `<|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>{json}`.
    KimiK2,
    /// GLM-4.5/4.6: `<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value>…</tool_call>`.
    Glm45,
}

impl Format {
    /// Every format's name as written in profiles and on the command line.
    pub const NAMES: &'static [&'static str] = &[
        "qwen3_coder",
        "hermes",
        "auto",
        "llama3_json",
        "mistral",
        "deepseek_v3",
        "deepseek_v31",
        "kimi_k2",
        "glm45",
        "none",
    ];

    /// Every format, in the order of [`Format::NAMES`].
    pub const ALL: &'static [Format] = &[
        Self::Qwen3Coder,
        Self::Hermes,
        Self::Auto,
        Self::Llama3Json,
        Self::Mistral,
        Self::DeepseekV3,
        Self::DeepseekV31,
        Self::KimiK2,
        Self::Glm45,
        Self::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qwen3Coder => "qwen3_coder",
            Self::Hermes => "hermes",
            Self::Auto => "auto",
            Self::None => "none",
            Self::Llama3Json => "llama3_json",
            Self::Mistral => "mistral",
            Self::DeepseekV3 => "deepseek_v3",
            Self::DeepseekV31 => "deepseek_v31",
            Self::KimiK2 => "kimi_k2",
            Self::Glm45 => "glm45",
        }
    }

    /// The length of the random alphanumeric tool-call ids this family's chat template
    /// accepts, when it constrains them: Mistral's templates reject any id that is not
    /// exactly 9 alphanumerics. `None`: OpenAI-style `call_…` ids. For `auto` the
    /// decided family counts: ask [`Engine::family`] (or [`Sink::family`]).
    pub fn call_id_len(self) -> Option<usize> {
        match self {
            Self::Mistral => Some(9),
            Self::Qwen3Coder
            | Self::Hermes
            | Self::Auto
            | Self::Llama3Json
            | Self::DeepseekV3
            | Self::DeepseekV31
            | Self::KimiK2
            | Self::Glm45
            | Self::None => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "qwen3_coder" | "qwen3-coder" | "qwen3_xml" => Ok(Self::Qwen3Coder),
            "hermes" | "qwen2_5" => Ok(Self::Hermes),
            "auto" => Ok(Self::Auto),
            "none" => Ok(Self::None),
            "llama3_json" | "llama3" | "llama" => Ok(Self::Llama3Json),
            "mistral" | "devstral" => Ok(Self::Mistral),
            "deepseek_v3" | "deepseek-v3" | "deepseek_r1" => Ok(Self::DeepseekV3),
            "deepseek_v31" | "deepseek-v31" | "deepseek_v3.1" | "deepseek_v3_1" => Ok(Self::DeepseekV31),
            "kimi_k2" | "kimi-k2" => Ok(Self::KimiK2),
            "glm45" | "glm4_moe" | "glm-4.5" | "glm46" => Ok(Self::Glm45),
            other => {
                Err(format!("unknown tool format `{other}` (expected one of: {})", Self::NAMES.join(", ")))
            }
        }
    }
}

/// Whether the prompt already opened a `<think>` block for the model.
///
/// Thinking-only models (QwQ, Qwen3-*-Thinking-2507) get `<think>` from the chat template,
/// so their output starts inside reasoning and only `</think>` appears. With
/// [`Reasoning::Auto`] reasoning is recognised only when the model itself writes `<think>`
/// at the start; a stray `</think>` is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reasoning {
    #[default]
    Auto,
    /// The output begins inside `<think>`: everything up to `</think>` (or a tool call) is reasoning.
    PromptOpened,
}

/// Turns a model's output, fed in any chunks, into [`Event`]s.
#[derive(Debug)]
pub struct Engine {
    inner: Inner,
    /// The format whose machine reads the output: the configured one, or for
    /// [`Format::Auto`] the family its markers decided (see [`Engine::family`]).
    family: Format,
    /// Undecided input: a suffix that could still become a marker. Bounded by the longest
    /// lookahead the grammar needs (a tag with its name), not by the output length.
    pending: String,
    finished: bool,
}

#[derive(Debug)]
enum Inner {
    Passthrough {
        any: bool,
    },
    Qwen(Box<qwen::Qwen>),
    Llama3(Box<llama3::Llama3>),
    Mistral(Box<mistral::Mistral>),
    /// Special-token markers with JSON arguments (DeepSeek, Kimi K2).
    Special(Box<deepseek::Special>),
    Glm45(Box<glm45::Glm45>),
}

/// Feeds `text` to a state machine through the engine's undecided tail.
macro_rules! feed_machine {
    ($machine:expr, $pending:expr, $text:expr, $sink:expr) => {{
        let (machine, pending, text, sink) = ($machine, $pending, $text, $sink);
        if pending.is_empty() {
            // Fast path: decide straight from the caller's text, copying only the
            // undecided tail.
            let used = machine.run(text, None, sink);
            pending.push_str(&text[used..]);
        } else {
            pending.push_str(text);
            let used = machine.run(pending, None, sink);
            pending.drain(..used);
        }
    }};
}

/// Decides what was still pending and ends a state machine.
macro_rules! finish_machine {
    ($machine:expr, $pending:expr, $upstream:expr, $sink:expr) => {{
        let (machine, upstream, sink) = ($machine, $upstream, $sink);
        let rest = std::mem::take($pending);
        let used = machine.run(&rest, Some(upstream), sink);
        debug_assert_eq!(used, rest.len(), "the final run decides everything");
        machine.finish(upstream, sink)
    }};
}

impl Engine {
    /// An engine for one choice of one response.
    pub fn new(format: Format, tools: Arc<Tools>, reasoning: Reasoning) -> Self {
        let inner = match format {
            Format::None => Inner::Passthrough { any: false },
            Format::Qwen3Coder => Inner::Qwen(Box::new(qwen::Qwen::new(true, false, tools, reasoning))),
            Format::Hermes => Inner::Qwen(Box::new(qwen::Qwen::new(false, true, tools, reasoning))),
            Format::Auto => Inner::Qwen(Box::new(qwen::Qwen::new(true, true, tools, reasoning))),
            Format::Llama3Json => Inner::Llama3(Box::new(llama3::Llama3::new(tools, reasoning))),
            Format::Mistral => Inner::Mistral(Box::new(mistral::Mistral::new(tools, reasoning))),
            Format::DeepseekV3 | Format::DeepseekV31 => {
                Inner::Special(Box::new(deepseek::Special::new(&deepseek::DEEPSEEK, tools, reasoning)))
            }
            Format::KimiK2 => {
                Inner::Special(Box::new(deepseek::Special::new(&kimi::KIMI_K2, tools, reasoning)))
            }
            Format::Glm45 => Inner::Glm45(Box::new(glm45::Glm45::new(tools, reasoning))),
        };
        Self { inner, family: format, pending: String::new(), finished: false }
    }

    /// The format the output is read as: the configured one, except for [`Format::Auto`]
    /// once another family's marker decided it (then that family: `mistral`,
    /// `llama3_json`, `deepseek_v3` for both DeepSeek shapes, `kimi_k2`, `glm45`).
    /// `auto` while undecided or while the Qwen families are read (they are decided per
    /// call). Call ids follow it ([`Format::call_id_len`]); [`Sink::family`] announces a
    /// decision before the events that follow it.
    pub fn family(&self) -> Format {
        self.family
    }

    /// `auto` found another family's marker: that family's machine takes over, continuing
    /// the content and reasoning channels, and is given the input not yet consumed.
    fn hand_over(&mut self, sink: &mut impl Sink) {
        let Inner::Qwen(qwen) = std::mem::replace(&mut self.inner, Inner::Passthrough { any: false }) else {
            unreachable!("only the auto machine hands over");
        };
        let (switch, handover) = qwen.hand_over();
        let mut rest = switch.replay;
        rest.push_str(&self.pending);
        self.pending = rest;
        self.family = switch.family;
        self.inner = match switch.family {
            Format::Llama3Json => Inner::Llama3(Box::new(llama3::Llama3::resume(handover))),
            Format::Mistral => Inner::Mistral(Box::new(mistral::Mistral::resume(handover))),
            Format::KimiK2 => Inner::Special(Box::new(deepseek::Special::resume(&kimi::KIMI_K2, handover))),
            Format::Glm45 => Inner::Glm45(Box::new(glm45::Glm45::resume(handover))),
            Format::DeepseekV3 | Format::DeepseekV31 => {
                Inner::Special(Box::new(deepseek::Special::resume(&deepseek::DEEPSEEK, handover)))
            }
            other => unreachable!("auto hands over to another family, not {other}"),
        };
        sink.family(switch.family);
    }

    /// Feeds the next piece of model output; events decided by it go to `sink` at once.
    pub fn feed(&mut self, text: &str, sink: &mut impl Sink) {
        debug_assert!(!self.finished, "feed after finish");
        match &mut self.inner {
            Inner::Passthrough { any } => {
                if !text.is_empty() {
                    *any = true;
                    sink.event(Event::Content(text));
                }
            }
            Inner::Qwen(q) => {
                feed_machine!(&mut **q, &mut self.pending, text, &mut *sink);
                if q.switching() {
                    self.hand_over(sink);
                    self.feed("", sink);
                }
            }
            Inner::Llama3(m) => feed_machine!(m, &mut self.pending, text, sink),
            Inner::Mistral(m) => feed_machine!(m, &mut self.pending, text, sink),
            Inner::Special(m) => feed_machine!(m, &mut self.pending, text, sink),
            Inner::Glm45(m) => feed_machine!(m, &mut self.pending, text, sink),
        }
    }

    /// Ends the output: decides what was still pending and returns the client's finish reason.
    pub fn finish(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) -> FinishReason {
        self.finished = true;
        match &mut self.inner {
            Inner::Passthrough { .. } => FinishReason::decide(upstream, 0),
            Inner::Qwen(q) => {
                let rest = std::mem::take(&mut self.pending);
                let used = q.run(&rest, Some(upstream), sink);
                q.switch_at_end();
                if q.switching() {
                    rest[used..].clone_into(&mut self.pending);
                    self.hand_over(sink);
                    return self.finish(upstream, sink);
                }
                debug_assert_eq!(used, rest.len(), "the final run decides everything");
                q.finish(upstream, sink)
            }
            Inner::Llama3(m) => finish_machine!(m, &mut self.pending, upstream, sink),
            Inner::Mistral(m) => finish_machine!(m, &mut self.pending, upstream, sink),
            Inner::Special(m) => finish_machine!(m, &mut self.pending, upstream, sink),
            Inner::Glm45(m) => finish_machine!(m, &mut self.pending, upstream, sink),
        }
    }

    /// How the would-be calls seen so far turned out (complete after [`Engine::finish`]).
    pub fn outcomes(&self) -> Outcomes {
        match &self.inner {
            Inner::Passthrough { .. } => Outcomes::default(),
            Inner::Qwen(q) => q.outcomes(),
            Inner::Llama3(m) => m.outcomes(),
            Inner::Mistral(m) => m.outcomes(),
            Inner::Special(m) => m.outcomes(),
            Inner::Glm45(m) => m.outcomes(),
        }
    }

    /// Translates a whole output at once (the non-streaming path).
    pub fn translate(
        format: Format,
        tools: Arc<Tools>,
        reasoning: Reasoning,
        text: &str,
        upstream: UpstreamFinish,
    ) -> Message {
        let mut engine = Self::new(format, tools, reasoning);
        let mut builder = MessageBuilder::default();
        engine.feed(text, &mut builder);
        let reason = engine.finish(upstream, &mut builder);
        builder.build(reason)
    }
}

/// A history call's `arguments` text as a valid JSON-object string (spec section 8): a
/// JSON object is re-serialised; a Python-style literal or a JSON string holding an object
/// is decoded; anything else becomes a small object recording the problem, so the model
/// sees that its earlier call was malformed instead of the conversation failing.
pub fn repair_arguments(text: &str) -> String {
    // No arguments, written as nothing or `null`.
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return "{}".to_owned();
    }
    let mut value = String::new();
    coerce::coerce_into(text, Types::OBJECT, &mut value);
    if let Ok(object @ serde_json::Value::Object(_)) = serde_json::from_str::<serde_json::Value>(&value) {
        object.to_string()
    } else {
        let original: String = text.chars().take(1000).collect();
        serde_json::json!({"invalid_arguments": original}).to_string()
    }
}
