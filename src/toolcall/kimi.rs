//! Kimi K2 tool calls (`kimi_k2`):
//! `<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>{…}<|tool_call_end|>…<|tool_calls_section_end|>`.
//!
//! The machine is the special-token one (`special.rs`, shared with DeepSeek: markers around JSON
//! arguments, the same guarantees); this file holds Kimi's markers and call header. The
//! model's `functions.NAME:IDX` is kept as the OpenAI tool call id (the Kimi chat template
//! renders history calls by that id, so the model sees its own ids again); an id repeated
//! within one response is not passed on, so ids stay unique. The singular
//! `<|tool_call_section_begin|>` some Kimi outputs use is accepted too.

use super::scan;
use super::special::{Dialect, Header};

pub(crate) const KIMI_K2: Dialect = Dialect {
    section_begin: &["<|tool_calls_section_begin|>", "<|tool_call_section_begin|>"],
    section_end: &["<|tool_calls_section_end|>", "<|tool_call_section_end|>"],
    call_begin: &["<|tool_call_begin|>"],
    call_end: &["<|tool_call_end|>"],
    header,
};

const ARGUMENT_BEGIN: &str = "<|tool_call_argument_begin|>";

/// `functions.NAME:IDX<|tool_call_argument_begin|>{…}`. The id is kept only in that exact
/// shape; a header without the index (`NAME`, `functions.NAME`) still names the call, and
/// the proxy makes an id for it.
fn header(body: &str) -> Option<Header<'_>> {
    let (head, args) = body.split_once(ARGUMENT_BEGIN)?;
    let head = head.trim();
    let (name, id) = match head.rsplit_once(':') {
        Some((name, idx)) if !idx.is_empty() && idx.bytes().all(|b| b.is_ascii_digit()) => (name, true),
        _ => (head, false),
    };
    let name = name.strip_prefix("functions.").unwrap_or(name);
    let id = (id && scan::is_name(name)).then_some(head);
    Some(Header { name, id, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_kimi_headers() {
        assert_eq!(
            header("functions.read_file:0<|tool_call_argument_begin|>{}"),
            Some(Header { name: "read_file", id: Some("functions.read_file:0"), args: "{}" })
        );
        assert_eq!(
            header(" functions.mcp.search:12 <|tool_call_argument_begin|> {}"),
            Some(Header { name: "mcp.search", id: Some("functions.mcp.search:12"), args: " {}" })
        );
        assert_eq!(
            header("read_file<|tool_call_argument_begin|>{}"),
            Some(Header { name: "read_file", id: None, args: "{}" })
        );
        assert_eq!(header("functions.read_file:0 {}"), None);
    }
}
