//! The client's `tools` and `tool_choice`: the tools parsed once per distinct list (the
//! cache), the named tool found in them.

use std::sync::Arc;

use serde_json::Value;

use crate::openai::ApiError;
use crate::proxy::memo::Memo;
use crate::proxy::plan::ToolChoice;
use crate::toolcall::Tools;

/// Parsed tools by the raw text of the request's `tools`: clients send the same tools on
/// every request, so each distinct set is read once ([`Memo`]).
#[derive(Debug, Default)]
pub(crate) struct ToolsCache(Memo<Tools>);

/// The `tools` list, parsed and checked.
fn parse_tools(raw: &str) -> Result<Tools, ApiError> {
    let value: Value = serde_json::from_str(raw)
        .map_err(|e| ApiError::bad_field(format!("invalid `tools`: {e}"), "tools"))?;
    Tools::from_openai(&value).map_err(|e| ApiError::bad_field(format!("invalid `tools`: {e}"), "tools"))
}

impl ToolsCache {
    /// The tools of the raw `tools` text, parsed on first sight.
    pub(super) fn get(&self, raw: &str) -> Result<Arc<Tools>, ApiError> {
        self.0.get(raw, parse_tools)
    }
}

/// A tool's function name.
pub(super) fn tool_name(tool: &Value) -> Option<&str> {
    tool.get("function").unwrap_or(tool).get("name").and_then(Value::as_str)
}

/// The client's `tool_choice`.
pub(super) fn parse_choice(value: Option<&Value>) -> Result<ToolChoice, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(ToolChoice::Auto),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(ApiError::bad_field(
                format!("unknown `tool_choice` \"{other}\" (auto, none, required or a function)"),
                "tool_choice",
            )),
        },
        Some(Value::Object(o)) => o
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .map(|n| ToolChoice::Named(n.to_owned()))
            .ok_or_else(|| {
                ApiError::bad_field(
                    "`tool_choice` object needs {\"type\": \"function\", \"function\": {\"name\": …}}",
                    "tool_choice",
                )
            }),
        Some(_) => Err(ApiError::bad_field("`tool_choice` must be a string or an object", "tool_choice")),
    }
}
