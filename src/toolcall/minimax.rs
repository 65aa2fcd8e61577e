//! MiniMax-M2 / M2.1 / M2.5 / M2.7 tool calls (`minimax_m2`):
//! `<minimax:tool_call>\n<invoke name="NAME">\n<parameter name="KEY">VALUE</parameter>\n</invoke>\n…</minimax:tool_call>`.
//!
//! The machine is the invoke-block one (`invoke.rs`, shared with DeepSeek's DSML); this file
//! holds MiniMax's tags, from vLLM's `minimax_m2_tool_parser.py` (`<invoke name=` with the
//! name in double quotes, single quotes or none). The chat template ends the prompt with
//! `]~b]ai\n<think>\n`, so the output starts inside reasoning. `[e~[` ends each message in
//! the template (the tokenizer's end-of-sequence token): never content.

use super::invoke::{Dialect, TagSyntax};

pub(crate) const MINIMAX_M2: Dialect = Dialect {
    section_open: "<minimax:tool_call>",
    section_close: "</minimax:tool_call>",
    invoke: TagSyntax { prefix: "<invoke", end: ">", name: "name", string: None },
    invoke_close: "</invoke>",
    param: TagSyntax { prefix: "<parameter", end: ">", name: "name", string: None },
    param_close: "</parameter>",
    think: "<think>",
    think_close: "</think>",
    end_of_turn: &["[e~[", "<|end_of_text|>"],
    unwrap_lone: false,
};
