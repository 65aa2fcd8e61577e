//! Kimi-K3 tool calls (`kimi_k3`), written in XTML (`<|open|>`, `<|close|>`, `<|sep|>` are
//! special tokens):
//! `<|open|>tools<|sep|><|open|>call tool="NAME" index="1"<|sep|><|open|>argument key="K" type="string"<|sep|>V<|close|>argument<|sep|>…<|close|>call<|sep|><|close|>tools<|sep|>`.
//!
//! The machine is the invoke-block one (`invoke/`, shared with MiniMax-M2 and DSML); this
//! file holds XTML's tags, from vLLM's `kimi_k3_tool_parser.py`: `type="string"` values are
//! raw text, any other type is JSON (falling back to the text), and the `index` attribute is
//! the model's own count (podctl makes the call ids). The reply sits in a `response` channel
//! (`<|open|>response<|sep|>…<|close|>response<|sep|>`) whose opener the prompt often holds
//! already, so the channel markers are dropped and what they wrap is content; reasoning is
//! the `think` channel, which the prompt may have opened (`Reasoning::PromptOpened`).
//! `<|close|>message<|sep|>` ends the turn: never content.
//!
//! Not copied from vLLM: its regexes also accept spaces inside a marker
//! (`<|open|> tools <|sep|>`) for detokenizers that space special tokens; the proxy asks
//! vLLM not to (`spaces_between_special_tokens: false`), so such text stays text here.

use super::invoke::{Dialect, TagSyntax};

pub(crate) const KIMI_K3: Dialect = Dialect {
    section_open: "<|open|>tools<|sep|>",
    section_close: "<|close|>tools<|sep|>",
    invoke: TagSyntax { prefix: "<|open|>call", end: "<|sep|>", name: "tool", string: None },
    invoke_close: "<|close|>call<|sep|>",
    param: TagSyntax {
        prefix: "<|open|>argument",
        end: "<|sep|>",
        name: "key",
        string: Some(("type", "string")),
    },
    param_close: "<|close|>argument<|sep|>",
    think: "<|open|>think<|sep|>",
    think_close: "<|close|>think<|sep|>",
    end_of_turn: &["<|open|>response<|sep|>", "<|close|>response<|sep|>", "<|close|>message<|sep|>"],
    unwrap_lone: false,
};
