//! DeepSeek-V3.2 and DeepSeek-V4 tool calls (`deepseek_v32`, `deepseek_v4`), written in
//! DSML (`｜` is U+FF5C):
//! `<｜DSML｜function_calls>` (V4: `<｜DSML｜tool_calls>`) around
//! `<｜DSML｜invoke name="NAME">` blocks of
//! `<｜DSML｜parameter name="KEY" string="true|false">VALUE</｜DSML｜parameter>`.
//!
//! The machine is the invoke-block one (`invoke.rs`, shared with MiniMax-M2); this file
//! holds the two dialects, from vLLM's `deepseekv32_tool_parser.py` and
//! `deepseekv4_tool_parser.py` (V4 keeps V3.2's grammar and changes only the wrapper).
//! `string="false"` marks a JSON value. As vLLM's parsers do, a call whose only parameter
//! is `arguments` or `input` holding a JSON object (a model that wrapped the arguments) has
//! that object as its arguments, when the tool's schema declares no such key. The prompt ends with `<think>` when thinking is on
//! (V3.2: only when the request asks; V4: unless `reasoning_effort` is `none`), and
//! `<｜end▁of▁sentence｜>` is the end-of-sequence token, never content.

use super::invoke::{Dialect, TagSyntax};

const END_OF_TURN: &[&str] = &["<｜end▁of▁sentence｜>"];

pub(crate) const DEEPSEEK_V32: Dialect = Dialect {
    section_open: "<｜DSML｜function_calls>",
    section_close: "</｜DSML｜function_calls>",
    invoke: TagSyntax { prefix: "<｜DSML｜invoke", end: ">", name: "name", string: None },
    invoke_close: "</｜DSML｜invoke>",
    param: TagSyntax {
        prefix: "<｜DSML｜parameter",
        end: ">",
        name: "name",
        string: Some(("string", "true")),
    },
    param_close: "</｜DSML｜parameter>",
    think: "<think>",
    think_close: "</think>",
    end_of_turn: END_OF_TURN,
    unwrap_lone: true,
};

pub(crate) const DEEPSEEK_V4: Dialect =
    Dialect {
        section_open: "<｜DSML｜tool_calls>", section_close: "</｜DSML｜tool_calls>", ..DEEPSEEK_V32
    };
