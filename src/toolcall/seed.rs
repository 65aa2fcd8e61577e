//! Seed-OSS tool calls (`seed_oss`): Qwen3-Coder's XML inside ByteDance Seed's own tags,
//! `<seed:think>…</seed:think>` then
//! `<seed:tool_call>\n<function=NAME>\n<parameter=K>V</parameter>\n</function>\n</seed:tool_call>`.
//!
//! From vLLM's `seed_oss_tool_parser.py` ("adapted from the qwen3coder xml parser": the same
//! `<function=`/`<parameter=` grammar, one leading and one trailing newline stripped from a
//! value) and the Seed-OSS chat template (`<seed:bos>…<seed:eos>` around each message; the
//! model opens `<seed:think>` itself). The machine is the Qwen one (`qwen/`), given these
//! tags, so every Qwen3-Coder rule holds; `<seed:eos>` is never content.

use super::qwen::Tags;

pub(crate) const SEED_OSS: Tags = Tags {
    open: "<seed:tool_call>",
    close: "</seed:tool_call>",
    think: "<seed:think>",
    think_close: "</seed:think>",
    end_of_turn: &["<seed:eos>"],
};
