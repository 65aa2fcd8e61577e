//! DeepSeek tool calls (`deepseek_v3`: V3, R1-0528; `deepseek_v31`: V3.1): calls written
//! between special-token markers with JSON arguments, read by the special-token machine
//! (`special.rs`, shared with Kimi K2); this file holds DeepSeek's markers and call header.
//!
//! * V3 / R1-0528: `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{…}\n```<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>`
//! * V3.1: `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{…}<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>`
//!
//! One machine reads both shapes in both formats (a V3.1 model answering in the V3 shape,
//! or the reverse, still gives its call); the two format names exist for profiles.
//! The misspellings DeepSeek models (the R1 distills especially) are known to write for the
//! markers are accepted: `<｜tool_calls_begin｜>`, `<｜tool calls begin｜>`,
//! `<｜tool\_calls\_begin｜>`, `<｜tool▁calls｜>`, and ASCII `_` or spaces in place of `▁`
//! in the other markers.

use super::scan;
use super::special::{Dialect, Header};

/// DeepSeek V3, R1-0528 and V3.1.
pub(crate) const DEEPSEEK: Dialect = Dialect {
    section_begin: &[
        "<｜tool▁calls▁begin｜>",
        "<｜tool_calls_begin｜>",
        "<｜tool calls begin｜>",
        "<｜tool\\_calls\\_begin｜>",
        "<｜tool▁calls｜>",
    ],
    section_end: &["<｜tool▁calls▁end｜>", "<｜tool_calls_end｜>", "<｜tool calls end｜>"],
    call_begin: &["<｜tool▁call▁begin｜>", "<｜tool_call_begin｜>", "<｜tool call begin｜>"],
    call_end: &["<｜tool▁call▁end｜>", "<｜tool_call_end｜>", "<｜tool call end｜>"],
    header: deepseek_header,
};

const DEEPSEEK_SEP: &[&str] = &["<｜tool▁sep｜>", "<｜tool_sep｜>", "<｜tool sep｜>"];

/// `function<｜tool▁sep｜>NAME\n```json\n{…}\n```` (V3) or `NAME<｜tool▁sep｜>{…}` (V3.1).
fn deepseek_header(body: &str) -> Option<Header<'_>> {
    let (at, sep) = DEEPSEEK_SEP.iter().filter_map(|sep| body.find(sep).map(|at| (at, sep.len()))).min()?;
    let (left, right) = (body[..at].trim(), &body[at + sep..]);
    if left == "function" {
        // V3: the name follows the separator, up to the line end (or the fence, the JSON).
        let right = right.trim_start_matches([' ', '\t']);
        let end = right.find(['\n', '`', '{']).unwrap_or(right.len());
        let name = right[..end].trim();
        if scan::is_name(name) {
            return Some(Header { name, id: None, args: &right[end..] });
        }
    }
    Some(Header { name: left, id: None, args: right })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_both_deepseek_shapes() {
        let v3 = deepseek_header("function<｜tool▁sep｜>read_file\n```json\n{\"a\": 1}\n```");
        assert_eq!(v3, Some(Header { name: "read_file", id: None, args: "\n```json\n{\"a\": 1}\n```" }));
        let v31 = deepseek_header("read_file<｜tool▁sep｜>{\"a\": 1}");
        assert_eq!(v31, Some(Header { name: "read_file", id: None, args: "{\"a\": 1}" }));
        // A V3.1 tool that happens to be called `function`.
        let named = deepseek_header("function<｜tool▁sep｜>{}");
        assert_eq!(named, Some(Header { name: "function", id: None, args: "{}" }));
        assert_eq!(deepseek_header("read_file {}"), None);
    }
}
