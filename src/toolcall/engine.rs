//! The [`Engine`]: one choice's model output in, events out. It holds the undecided tail of
//! the input and the format's machine, builds the machine for each [`Format`], and carries
//! out `auto`'s hand-over to the family its markers decided. Every format-specific choice
//! the engine makes (which machine, which markers `auto` watches for) is in this file's
//! two tables: [`machine_for`] and [`DECISIVE`].

use std::sync::Arc;

use super::deepseek::DEEPSEEK;
use super::detect::Decisive;
use super::dsml::{DEEPSEEK_V4, DEEPSEEK_V32};
use super::event::{FinishReason, Sink, UpstreamFinish};
use super::format::{Format, Reasoning};
use super::gemma4::Gemma4;
use super::glm45::Glm45;
use super::invoke::Invoke;
use super::kimi::KIMI_K2;
use super::kimi_k3::KIMI_K3;
use super::llama3::{self, Llama3};
use super::machine::{Machine, Start};
use super::message::{Message, MessageBuilder};
use super::minimax::MINIMAX_M2;
use super::mistral::{self, Mistral};
use super::outcome::Outcomes;
use super::passthrough::Passthrough;
use super::qwen::Qwen;
use super::seed::SEED_OSS;
use super::special::Special;
use super::tools::Tools;

/// The decisive markers `auto` watches for in prose and reasoning, in the order they are
/// tried (the Qwen families are decided per call by what follows `<tool_call>`, GLM-4.5 by a
/// name there: see `qwen`).
const DECISIVE: &[Decisive] = &[
    Decisive { family: Format::Llama3Json, markers: &[llama3::PYTHON_TAG], opening: false },
    Decisive { family: Format::KimiK2, markers: KIMI_K2.section_begin, opening: false },
    Decisive { family: Format::KimiK2, markers: KIMI_K2.call_begin, opening: false },
    Decisive { family: Format::DeepseekV3, markers: DEEPSEEK.section_begin, opening: false },
    Decisive { family: Format::DeepseekV3, markers: DEEPSEEK.call_begin, opening: false },
    Decisive { family: Format::MinimaxM2, markers: &[MINIMAX_M2.section_open], opening: false },
    Decisive { family: Format::DeepseekV32, markers: &[DEEPSEEK_V32.section_open], opening: false },
    Decisive { family: Format::DeepseekV4, markers: &[DEEPSEEK_V4.section_open], opening: false },
    Decisive { family: Format::KimiK3, markers: &[KIMI_K3.section_open], opening: false },
    Decisive { family: Format::Gemma4, markers: &["<|tool_call>"], opening: false },
    Decisive { family: Format::Gemma4, markers: &["<|channel>"], opening: true },
    Decisive { family: Format::SeedOss, markers: &[SEED_OSS.open], opening: false },
    Decisive { family: Format::SeedOss, markers: &[SEED_OSS.think], opening: true },
    Decisive { family: Format::Mistral, markers: &[mistral::TOOL_CALLS], opening: false },
    Decisive { family: Format::Mistral, markers: &[mistral::THINK], opening: true },
];

/// Turns a model's output, fed in any chunks, into [`Event`](super::Event)s.
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

/// The machine of each format (statically dispatched: the per-event path stays inlined).
#[derive(Debug)]
enum Inner {
    Passthrough(Box<Passthrough>),
    Qwen(Box<Qwen>),
    Llama3(Box<Llama3>),
    Mistral(Box<Mistral>),
    /// Special-token markers with JSON arguments (DeepSeek, Kimi K2).
    Special(Box<Special>),
    Glm45(Box<Glm45>),
    /// `<invoke name=…>` blocks (MiniMax-M2, DeepSeek DSML).
    Invoke(Box<Invoke>),
    Gemma4(Box<Gemma4>),
}

/// Runs `$body` with `$m` bound to the machine, whichever it is.
macro_rules! with_machine {
    ($inner:expr, $m:ident => $body:expr) => {
        match $inner {
            Inner::Passthrough($m) => $body,
            Inner::Qwen($m) => $body,
            Inner::Llama3($m) => $body,
            Inner::Mistral($m) => $body,
            Inner::Special($m) => $body,
            Inner::Glm45($m) => $body,
            Inner::Invoke($m) => $body,
            Inner::Gemma4($m) => $body,
        }
    };
}

/// The machine that reads `format` from `start`: the start of the output, or where `auto`
/// decided the family.
fn machine_for(format: Format, start: Start) -> Inner {
    match format {
        Format::None | Format::Vllm => Inner::Passthrough(Box::new(Passthrough::new(start))),
        Format::Qwen3Coder => Inner::Qwen(Box::new(Qwen::new(true, false, None, start))),
        Format::Hermes => Inner::Qwen(Box::new(Qwen::new(false, true, None, start))),
        Format::Auto => Inner::Qwen(Box::new(Qwen::new(true, true, Some(DECISIVE), start))),
        Format::Llama3Json => Inner::Llama3(Box::new(Llama3::new(start))),
        Format::Mistral => Inner::Mistral(Box::new(Mistral::new(start))),
        Format::DeepseekV3 | Format::DeepseekV31 => Inner::Special(Box::new(Special::new(&DEEPSEEK, start))),
        Format::KimiK2 => Inner::Special(Box::new(Special::new(&KIMI_K2, start))),
        Format::Glm45 | Format::Glm47 => Inner::Glm45(Box::new(Glm45::new(start))),
        Format::MinimaxM2 => Inner::Invoke(Box::new(Invoke::new(&MINIMAX_M2, start))),
        Format::DeepseekV32 => Inner::Invoke(Box::new(Invoke::new(&DEEPSEEK_V32, start))),
        Format::DeepseekV4 => Inner::Invoke(Box::new(Invoke::new(&DEEPSEEK_V4, start))),
        Format::Gemma4 => Inner::Gemma4(Box::new(Gemma4::new(start))),
        Format::KimiK3 => Inner::Invoke(Box::new(Invoke::new(&KIMI_K3, start))),
        Format::SeedOss => Inner::Qwen(Box::new(Qwen::with_tags(&SEED_OSS, true, false, None, start))),
    }
}

/// Feeds `text` to a machine through the engine's undecided tail.
fn feed_through(machine: &mut impl Machine, pending: &mut String, text: &str, sink: &mut impl Sink) {
    if pending.is_empty() {
        // Fast path: decide straight from the caller's text, copying only the undecided tail.
        let used = machine.run(text, None, sink);
        pending.push_str(&text[used..]);
    } else {
        pending.push_str(text);
        let used = machine.run(pending, None, sink);
        pending.drain(..used);
    }
}

impl Engine {
    /// An engine for one choice of one response.
    pub fn new(format: Format, tools: Arc<Tools>, reasoning: Reasoning) -> Self {
        let inner = machine_for(format, Start::fresh(tools, format, reasoning));
        Self { inner, family: format, pending: String::new(), finished: false }
    }

    /// The format the output is read as: the configured one, except for [`Format::Auto`]
    /// once another family's marker decided it (then that family: `mistral`,
    /// `llama3_json`, `deepseek_v3` for both DeepSeek V3 shapes, `kimi_k2`, `glm45`,
    /// `minimax_m2`, `deepseek_v32`, `deepseek_v4`, `kimi_k3`, `seed_oss`, `gemma4`).
    /// `auto` while undecided or while the Qwen families are read (they are decided per
    /// call). Call ids follow it ([`Format::call_id_len`]); [`Sink::family`] announces a
    /// decision before the events that follow it.
    pub fn family(&self) -> Format {
        self.family
    }

    /// `auto` found another family's marker: that family's machine takes over, continuing
    /// the content and reasoning channels, and is given the input not yet consumed.
    fn hand_over(&mut self, sink: &mut impl Sink) {
        let placeholder = Start::fresh(Arc::new(Tools::none()), Format::None, Reasoning::Auto);
        let placeholder = Inner::Passthrough(Box::new(Passthrough::new(placeholder)));
        let Inner::Qwen(qwen) = std::mem::replace(&mut self.inner, placeholder) else {
            unreachable!("only the auto machine hands over");
        };
        let (switch, start) = qwen.hand_over();
        debug_assert!(
            !matches!(switch.family, Format::Auto | Format::Qwen3Coder | Format::Hermes | Format::None),
            "auto hands over to another family"
        );
        let mut rest = switch.replay;
        rest.push_str(&self.pending);
        self.pending = rest;
        self.family = switch.family;
        self.inner = machine_for(switch.family, start);
        sink.family(switch.family);
    }

    /// Feeds the next piece of model output; events decided by it go to `sink` at once.
    pub fn feed(&mut self, text: &str, sink: &mut impl Sink) {
        debug_assert!(!self.finished, "feed after finish");
        let pending = &mut self.pending;
        let switching = with_machine!(&mut self.inner, m => {
            feed_through(&mut **m, pending, text, sink);
            m.switching()
        });
        if switching {
            self.hand_over(sink);
            self.feed("", sink);
        }
    }

    /// Ends the output: decides what was still pending and returns the client's finish reason.
    pub fn finish(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) -> FinishReason {
        self.finished = true;
        let rest = std::mem::take(&mut self.pending);
        let (used, switching) = with_machine!(&mut self.inner, m => {
            let used = m.run(&rest, Some(upstream), sink);
            m.at_end();
            (used, m.switching())
        });
        if switching {
            rest[used..].clone_into(&mut self.pending);
            self.hand_over(sink);
            return self.finish(upstream, sink);
        }
        debug_assert_eq!(used, rest.len(), "the final run decides everything");
        with_machine!(&mut self.inner, m => m.finish(upstream, sink))
    }

    /// How the would-be calls seen so far turned out (complete after [`Engine::finish`]).
    pub fn outcomes(&self) -> Outcomes {
        with_machine!(&self.inner, m => m.outcomes())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolcall::detect::{Found, marker};

    #[test]
    fn auto_finds_every_familys_decisive_marker() {
        let find = |rest: &str, think_opens: bool| marker(DECISIVE, rest, think_opens);
        assert_eq!(find("[TOOL_CALLS]x", false), Found::Yes(Format::Mistral));
        assert_eq!(find("[THINK]", true), Found::Yes(Format::Mistral));
        assert_eq!(find("[THINK]", false), Found::No);
        assert_eq!(find("[TOOL", false), Found::Partial);
        assert_eq!(find("<|python_tag|>{", false), Found::Yes(Format::Llama3Json));
        assert_eq!(find("<|tool_call_begin|>", false), Found::Yes(Format::KimiK2));
        assert_eq!(find("<|tool_calls_section_begin|>", false), Found::Yes(Format::KimiK2));
        assert_eq!(find("<|tool_call", false), Found::Partial);
        assert_eq!(find("<｜tool▁calls▁begin｜>", false), Found::Yes(Format::DeepseekV3));
        assert_eq!(find("<｜tool_calls_begin｜>", false), Found::Yes(Format::DeepseekV3));
        assert_eq!(find("<｜tool▁call▁begin｜>", false), Found::Yes(Format::DeepseekV3));
        assert_eq!(find("<｜tool", false), Found::Partial);
        assert_eq!(find("<minimax:tool_call>", false), Found::Yes(Format::MinimaxM2));
        assert_eq!(find("<｜DSML｜function_calls>", false), Found::Yes(Format::DeepseekV32));
        assert_eq!(find("<｜DSML｜tool_calls>", false), Found::Yes(Format::DeepseekV4));
        assert_eq!(find("<｜DSML｜", false), Found::Partial);
        assert_eq!(find("<seed:tool_call>", false), Found::Yes(Format::SeedOss));
        assert_eq!(find("<seed:think>", true), Found::Yes(Format::SeedOss));
        assert_eq!(find("<seed:think>", false), Found::No);
        assert_eq!(find("<|open|>tools<|sep|>", false), Found::Yes(Format::KimiK3));
        assert_eq!(find("<|open|>", false), Found::Partial);
        assert_eq!(find("<|tool_call>call:f{}", false), Found::Yes(Format::Gemma4));
        assert_eq!(find("<|channel>thought", true), Found::Yes(Format::Gemma4));
        assert_eq!(find("<|channel>", false), Found::No);
        assert_eq!(find("<tool_call>", false), Found::No);
        assert_eq!(find("[x]", false), Found::No);
        assert_eq!(find("<| b", false), Found::No);
    }
}
