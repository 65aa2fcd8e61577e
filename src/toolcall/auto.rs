//! The `auto` format: telling the families apart by their markers.
//!
//! Until a family is decided, the output goes to the Qwen machine in its `auto` mode (it
//! streams prose and `<think>` reasoning, and decides per call between Qwen3-Coder XML
//! and Hermes JSON). While it is in prose or reasoning and has returned no call, it also
//! stops at the first decisive marker of another family ([`marker`]; after `<tool_call>`,
//! a name instead of `<function=` or `{` means GLM-4.5) and hands over: the engine builds
//! that family's machine from a [`Handover`] (the content and reasoning channels, so the
//! content rule holds across the switch, whether it was inside reasoning, the outcomes so
//! far) and feeds it the rest of the output, the marker first. The decision is final: a
//! later marker of yet another family, or any marker once a call was returned, is text
//! for the machine in charge.
//!
//! Llama 3's bare JSON objects (without `<|python_tag|>`) are not a decisive marker: they
//! cannot be told apart from JSON in an answer.

use std::sync::Arc;

use super::deepseek::DEEPSEEK;
use super::kimi::KIMI_K2;
use super::outcome::Outcomes;
use super::scan::{self, Match};
use super::shaper::Shaper;
use super::tools::Tools;
use super::{Format, Reasoning};

/// What a machine taking over from the undecided `auto` machine starts from.
#[derive(Debug)]
pub(crate) struct Handover {
    pub(crate) tools: Arc<Tools>,
    pub(crate) content: Shaper,
    pub(crate) reasoning: Shaper,
    /// The output is inside reasoning at the marker.
    pub(crate) think: bool,
    /// Only whitespace since the last newline of the content.
    pub(crate) line_start: bool,
    pub(crate) outcomes: Outcomes,
}

impl Handover {
    /// Where the machine taking over starts: inside reasoning or not.
    pub(crate) fn reasoning_mode(&self) -> Reasoning {
        if self.think { Reasoning::PromptOpened } else { Reasoning::Auto }
    }
}

/// The family a decisive marker names, and the text to read again from there (the marker
/// itself stays in the input, except a `<tool_call>` already consumed for GLM-4.5).
#[derive(Debug)]
pub(crate) struct Switch {
    pub(crate) family: Format,
    pub(crate) replay: String,
    /// The marker came inside reasoning.
    pub(crate) think: bool,
}

/// Whether `rest` (starting with `<` or `[`) begins with another family's decisive marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    Yes(Format),
    /// A proper prefix of one: hold it until more input decides.
    Partial,
    No,
}

const PYTHON_TAG: &[&str] = &["<|python_tag|>"];
const MISTRAL: &[&str] = &["[TOOL_CALLS]"];
const MISTRAL_THINK: &[&str] = &["[THINK]"];

/// Another family's decisive marker at the front of `rest`. `think_opens`: reasoning could
/// still begin here (nothing answered yet), so Mistral's `[THINK]` decides too.
pub(crate) fn marker(rest: &str, think_opens: bool) -> Found {
    let lists: [(Format, &[&str]); 7] = [
        (Format::Llama3Json, PYTHON_TAG),
        (Format::KimiK2, KIMI_K2.section_begin),
        (Format::KimiK2, KIMI_K2.call_begin),
        (Format::DeepseekV3, DEEPSEEK.section_begin),
        (Format::DeepseekV3, DEEPSEEK.call_begin),
        (Format::Mistral, MISTRAL),
        (Format::Mistral, if think_opens { MISTRAL_THINK } else { &[] }),
    ];
    let mut partial = false;
    for (family, list) in lists {
        for m in list {
            match scan::starts(rest, m) {
                Match::Yes => return Found::Yes(family),
                Match::Partial => partial = true,
                Match::No => {}
            }
        }
    }
    if partial { Found::Partial } else { Found::No }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_markers() {
        assert_eq!(marker("[TOOL_CALLS]x", false), Found::Yes(Format::Mistral));
        assert_eq!(marker("[THINK]", true), Found::Yes(Format::Mistral));
        assert_eq!(marker("[THINK]", false), Found::No);
        assert_eq!(marker("[TOOL", false), Found::Partial);
        assert_eq!(marker("<|python_tag|>{", false), Found::Yes(Format::Llama3Json));
        assert_eq!(marker("<|tool_call_begin|>", false), Found::Yes(Format::KimiK2));
        assert_eq!(marker("<|tool_calls_section_begin|>", false), Found::Yes(Format::KimiK2));
        assert_eq!(marker("<|tool_call", false), Found::Partial);
        assert_eq!(marker("<｜tool▁calls▁begin｜>", false), Found::Yes(Format::DeepseekV3));
        assert_eq!(marker("<｜tool_calls_begin｜>", false), Found::Yes(Format::DeepseekV3));
        assert_eq!(marker("<｜tool▁call▁begin｜>", false), Found::Yes(Format::DeepseekV3));
        assert_eq!(marker("<｜tool", false), Found::Partial);
        assert_eq!(marker("<tool_call>", false), Found::No);
        assert_eq!(marker("[x]", false), Found::No);
        assert_eq!(marker("<| b", false), Found::No);
    }
}
