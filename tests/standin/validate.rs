//! The request checks vLLM 0.32 makes before generating, in its order: request schema
//! (pydantic), model name, tool choice (no tool parser configured), then the chat history as
//! the Qwen3-Coder template needs it.
//!
//! Only the fields the checks need are decoded; everything else is ignored, as vLLM ignores
//! (and passes to sampling) fields it does not check here.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A rejected request: HTTP status and vLLM's message.
pub(crate) type Rejection = (u16, String);

/// The message vLLM answers to `tool_choice: "auto"` (or `tools` without `tool_choice`)
/// when started without `--enable-auto-tool-choice`.
pub(crate) const AUTO_NEEDS_PARSER: &str =
    "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set";
/// The same for `tool_choice: "required"` (wording not observed, modelled on the `auto` one).
pub(crate) const REQUIRED_NEEDS_PARSER: &str =
    "\"required\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set";
/// The same for a named function (wording not observed, modelled on the `auto` one).
pub(crate) const NAMED_NEEDS_PARSER: &str =
    "Named tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set";

/// The part of a chat request the stand-in checks.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatRequest {
    #[serde(default)]
    pub(crate) model: Option<String>,
    pub(crate) messages: Vec<Message>,
    #[serde(default)]
    pub(crate) stream: Option<bool>,
    #[serde(default)]
    pub(crate) stream_options: Option<StreamOptions>,
    #[serde(default)]
    tools: Option<Vec<Tool>>,
    /// `None`: absent; `Some(Value::Null)`: explicitly null.
    #[serde(default, deserialize_with = "present")]
    tool_choice: Option<Value>,
    #[serde(flatten)]
    pub(crate) sampling: Sampling,
}

/// The part of a legacy completions request the stand-in checks.
#[derive(Debug, Deserialize)]
pub(crate) struct CompletionRequest {
    #[serde(default)]
    pub(crate) model: Option<String>,
    #[allow(dead_code, reason = "decoded only to require it, as vLLM does")]
    pub(crate) prompt: Value,
    #[serde(default)]
    pub(crate) stream: Option<bool>,
    #[serde(default)]
    pub(crate) stream_options: Option<StreamOptions>,
    #[serde(flatten)]
    pub(crate) sampling: Sampling,
}

/// The sampling fields vLLM checks, in chat and legacy completion requests alike (any JSON
/// value, so the checks answer in vLLM's words).
#[derive(Debug, Deserialize)]
pub(crate) struct Sampling {
    #[serde(default)]
    max_tokens: Option<Value>,
    #[serde(default)]
    n: Option<Value>,
    #[serde(default)]
    temperature: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamOptions {
    #[serde(default)]
    pub(crate) include_usage: Option<bool>,
}

/// A declared tool; only its name matters here (decoding schemas as `Value` would make the
/// benchmark baseline measure JSON trees).
#[derive(Debug, Deserialize)]
struct Tool {
    #[serde(default)]
    function: Option<ToolName>,
}

#[derive(Debug, Deserialize)]
struct ToolName {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Message {
    role: String,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCall>>,
}

#[derive(Debug, Deserialize)]
struct ToolCall {
    function: Function,
}

#[derive(Debug, Deserialize)]
struct Function {
    /// Any JSON value, so the check can answer in vLLM's words rather than serde's.
    #[serde(default, deserialize_with = "present")]
    arguments: Option<Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// `stream_options` without `stream: true` is a schema error in vLLM.
pub(crate) fn stream_options(stream: bool, options: Option<&StreamOptions>) -> Result<(), Rejection> {
    if options.is_some() && !stream {
        return Err((400, "Stream options can only be defined when `stream=True`.".to_owned()));
    }
    Ok(())
}

/// vLLM's schema validator for `tool_choice` (runs before the model check).
pub(crate) fn tool_choice_schema(req: &ChatRequest) -> Result<(), Rejection> {
    let bad = |m: &str| Err((400, m.to_owned()));
    let Some(choice) = &req.tool_choice else { return Ok(()) };
    if choice.is_null() || choice == "none" {
        return Ok(());
    }
    let Some(tools) = &req.tools else { return bad("When using `tool_choice`, `tools` must be set.") };
    match choice {
        Value::String(s) if s == "auto" || s == "required" => Ok(()),
        Value::Object(o) => {
            let Some(name) = o.get("function").and_then(|f| f.get("name")).and_then(Value::as_str) else {
                return bad("Invalid value for `function` in `tool_choice`! Correct usage: \
                     `{\"type\": \"function\", \"function\": {\"name\": \"my_function\"}}`");
            };
            let known =
                tools.iter().any(|t| t.function.as_ref().and_then(|f| f.name.as_deref()) == Some(name));
            if known {
                Ok(())
            } else {
                bad("The tool specified in `tool_choice` does not match any of the specified `tools`")
            }
        }
        other => Err((
            400,
            format!(
                "Invalid value for `tool_choice`: {other}! Only named tools, \"none\", \"auto\" or \
                 \"required\" are supported."
            ),
        )),
    }
}

/// What a server without a tool parser says to the (schema-valid) tool choice.
pub(crate) fn tool_choice_without_parser(req: &ChatRequest) -> Result<(), Rejection> {
    let has_tools = req.tools.as_ref().is_some_and(|t| !t.is_empty());
    let message = match &req.tool_choice {
        None if has_tools => AUTO_NEEDS_PARSER,
        Some(Value::String(s)) if s == "auto" => AUTO_NEEDS_PARSER,
        // vLLM treats `required` with an empty tool list as `none`.
        Some(Value::String(s)) if s == "required" && has_tools => REQUIRED_NEEDS_PARSER,
        Some(Value::Object(_)) => NAMED_NEEDS_PARSER,
        _ => return Ok(()),
    };
    Err((400, message.to_owned()))
}

/// vLLM decodes every history `tool_calls[].function.arguments` (an empty string counts as
/// `{}`) and the Qwen3-Coder template iterates it as a mapping: anything else is a 400.
pub(crate) fn history(messages: &[Message]) -> Result<(), Rejection> {
    for (m, message) in messages.iter().enumerate() {
        if message.role != "assistant" {
            continue;
        }
        for (c, call) in message.tool_calls.iter().flatten().enumerate() {
            let at = format!("messages[{m}].tool_calls[{c}].function.arguments");
            match &call.function.arguments {
                None => return Err((400, format!("{at}: Field required"))),
                Some(Value::String(s)) if s.is_empty() => {}
                Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                    Ok(Value::Object(_)) => {}
                    Ok(_) => return Err((400, format!("{at}: Can only get item pairs from a mapping."))),
                    Err(e) => return Err((400, format!("{at}: {e}"))),
                },
                Some(_) => return Err((400, format!("{at}: Input should be a valid string"))),
            }
        }
    }
    Ok(())
}

/// pydantic's lax `int`: an integer, a float without a fraction, a bool, or a string that
/// reads as an integer. `Err` is pydantic's message.
fn lax_int(value: &Value) -> Result<i128, &'static str> {
    match value {
        Value::Bool(b) => Ok(i128::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Ok(i128::from(i)),
            (_, Some(u), _) => Ok(i128::from(u)),
            #[allow(clippy::cast_possible_truncation, reason = "saturating is what matters here")]
            (_, _, Some(f)) if f.fract() == 0.0 => Ok(f as i128),
            _ => Err("Input should be a valid integer, got a number with a fractional part"),
        },
        Value::String(s) => s
            .trim()
            .parse::<i128>()
            .map_err(|_| "Input should be a valid integer, unable to parse string as an integer"),
        _ => Err("Input should be a valid integer"),
    }
}

/// vLLM's checks of `max_tokens` and `n`, in its order: the schema (pydantic), the context
/// length (`_validate_input`, counting a prompt token per 4 bytes of the request here), then
/// the sampling parameters' own checks (greedy sampling, temperature below 1e-5, allows one
/// choice only). Returns how many choices to answer: `n`, at most 16 here.
pub(crate) fn sampling(sampling: &Sampling, body_len: usize) -> Result<usize, Rejection> {
    let field = |name: &str, value: Option<&Value>| -> Result<Option<i128>, Rejection> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(v) => lax_int(v).map(Some).map_err(|msg| {
                (
                    400,
                    format!(
                        "[{{'type': 'int_parsing', 'loc': ('body', '{name}'), 'msg': '{msg}', 'input': {v}}}]"
                    ),
                )
            }),
        }
    };
    let max_tokens = field("max_tokens", sampling.max_tokens.as_ref())?;
    let n = field("n", sampling.n.as_ref())?;
    let prompt = i128::try_from(body_len / 4).unwrap_or(i128::MAX);
    let max_len = i128::from(super::endpoints::MAX_MODEL_LEN);
    if let Some(max) = max_tokens
        && prompt + max > max_len
    {
        return Err((
            400,
            format!(
                "'max_tokens' or 'max_completion_tokens' is too large: {max}. This model's maximum \
                 context length is {max_len} tokens and your request has {prompt} input tokens \
                 ({max} > {max_len} - {prompt})."
            ),
        ));
    }
    if let Some(n) = n.filter(|&n| n < 1) {
        return Err((400, format!("n must be at least 1, got {n}.")));
    }
    if let Some(max) = max_tokens.filter(|&m| m < 1) {
        return Err((400, format!("max_tokens must be at least 1, got {max}.")));
    }
    let greedy = sampling.temperature.as_ref().and_then(Value::as_f64).is_some_and(|t| t < 1e-5);
    if let Some(n) = n.filter(|&n| n > 1 && greedy) {
        return Err((400, format!("n must be 1 when using greedy sampling, got {n}.")));
    }
    Ok(n.map_or(1, |n| usize::try_from(n.min(16)).unwrap_or(1)))
}
