//! How the `auto` format tells the families apart: by their decisive markers.
//!
//! Until a family is decided, the output goes to the Qwen machine in its `auto` mode (it
//! streams prose and `<think>` reasoning, and decides per call between Qwen3-Coder XML
//! and Hermes JSON). While it is in prose or reasoning and has returned no call, it also
//! stops at the first decisive marker of another family ([`marker`], over the table of
//! markers the engine gives it; after `<tool_call>`, a name instead of `<function=` or `{`
//! means GLM-4.5) and hands over: the engine builds that family's machine from a
//! [`Handover`](super::machine::Handover) (the content and reasoning channels, so the
//! content rule holds across the switch, whether it was inside reasoning, the outcomes so
//! far) and feeds it the rest of the output, the marker first. The decision is final: a
//! later marker of yet another family, or any marker once a call was returned, is text
//! for the machine in charge.
//!
//! Llama 3's bare JSON objects (without `<|python_tag|>`) are not a decisive marker: they
//! cannot be told apart from JSON in an answer.

use super::format::Format;
use super::scan::{self, Match};

/// Markers that decide a family when `auto` meets them in prose or reasoning.
#[derive(Debug)]
pub(crate) struct Decisive {
    pub(crate) family: Format,
    pub(crate) markers: &'static [&'static str],
    /// Decisive only where reasoning could still begin (nothing answered yet): a marker
    /// that opens the family's reasoning block, such as Mistral's `[THINK]`.
    pub(crate) opening: bool,
}

/// Whether `rest` (starting with `<` or `[`) begins with another family's decisive marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    Yes(Format),
    /// A proper prefix of one: hold it until more input decides.
    Partial,
    No,
}

/// Another family's decisive marker at the front of `rest`, from `table` in its order.
/// `think_opens`: reasoning could still begin here, so the `opening` markers decide too.
pub(crate) fn marker(table: &[Decisive], rest: &str, think_opens: bool) -> Found {
    let mut partial = false;
    for entry in table {
        if entry.opening && !think_opens {
            continue;
        }
        for m in entry.markers {
            match scan::starts(rest, m) {
                Match::Yes => return Found::Yes(entry.family),
                Match::Partial => partial = true,
                Match::No => {}
            }
        }
    }
    if partial { Found::Partial } else { Found::No }
}
