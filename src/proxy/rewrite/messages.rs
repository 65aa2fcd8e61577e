//! The history as vLLM must see it: raw messages copied as they are, except those whose
//! tool calls need repair or ids fitted, and the system message that carries a steering
//! instruction.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use super::ids::fit_message_ids;
use crate::openai::ApiError;

/// Just a message's role, borrowed when it has no escapes.
#[derive(serde::Deserialize)]
struct Role<'a> {
    #[serde(borrow)]
    role: Option<std::borrow::Cow<'a, str>>,
}

/// A message's role. Clients put `role` first, so it is read straight off the front when it
/// is there; otherwise the message is parsed (its content skipped) to find it.
pub(super) fn role(message: &str) -> Option<Cow<'_, str>> {
    let rest = message.trim_start().strip_prefix('{')?.trim_start().strip_prefix("\"role\"");
    if let Some(rest) = rest.and_then(|r| r.trim_start().strip_prefix(':')).map(str::trim_start)
        && let Some(value) = rest.strip_prefix('"')
        && let Some(end) = value.find(['"', '\\'])
        && value.as_bytes()[end] == b'"'
    {
        return Some(Cow::Borrowed(&value[..end]));
    }
    serde_json::from_str::<Role<'_>>(message).ok().and_then(|r| r.role)
}

/// The messages array for upstream: raw messages copied as they are, except those whose
/// history calls need repair (or ids that must be fitted to `id_len`) and the first one when
/// it carries the steering instruction.
pub(super) fn write_messages(
    messages: &[&str],
    instruction: Option<&str>,
    id_len: Option<usize>,
) -> Result<String, ApiError> {
    let mut out = String::with_capacity(messages.iter().map(|m| m.len() + 1).sum::<usize>() + 64);
    out.push('[');
    // Only steering needs to know the first message's role: don't parse it otherwise.
    let first_is_system =
        instruction.is_some() && messages.first().is_some_and(|m| role(m).as_deref() == Some("system"));
    if let (Some(text), false) = (instruction, first_is_system) {
        out.push_str(&serde_json::json!({"role": "system", "content": text}).to_string());
        out.push(',');
    }
    for (i, raw) in messages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let text = *raw;
        if !text.trim_start().starts_with('{') {
            return Err(ApiError::bad_field(format!("messages[{i}] must be an object"), "messages"));
        }
        let steer_here = i == 0 && first_is_system && instruction.is_some();
        // memchr's search: `str::contains` took a thousand instructions on a long message.
        let has = |key: &str| memchr::memmem::find(text.as_bytes(), key.as_bytes()).is_some();
        let has_calls = has("\"tool_calls\"");
        let fit_ids = id_len.filter(|_| has_calls || has("\"tool_call_id\""));
        if steer_here || fit_ids.is_some() || has_calls {
            // Only the nesting limit can fail here: the text is one JSON object.
            let mut message: Value = serde_json::from_str(text)
                .map_err(|e| ApiError::bad_field(format!("messages[{i}] cannot be read: {e}"), "messages"))?;
            if let Value::Object(map) = &mut message {
                repair_message(map, i)?;
                if let Some(len) = fit_ids {
                    fit_message_ids(map, len);
                }
                if steer_here && let Some(text) = instruction {
                    steer(map, text);
                }
            }
            out.push_str(&message.to_string());
        } else {
            out.push_str(text);
        }
    }
    out.push(']');
    Ok(out)
}

/// Appends an instruction to a system message's content.
fn steer(system: &mut Map<String, Value>, instruction: &str) {
    match system.get_mut("content") {
        Some(Value::String(text)) => {
            text.push_str("\n\n");
            text.push_str(instruction);
        }
        Some(Value::Array(parts)) => parts.push(json!({"type": "text", "text": instruction})),
        _ => {
            system.insert("content".into(), Value::String(instruction.to_owned()));
        }
    }
}

/// Makes every history call's `arguments` in message `at` a JSON-object string (spec
/// section 8), keeping ids and links intact. What cannot be repaired (a `tool_calls` that
/// is not an array, a call without a named `function`) is a 400 naming it, not a request
/// vLLM's template would choke on.
fn repair_message(message: &mut Map<String, Value>, at: usize) -> Result<(), ApiError> {
    let calls = match message.get_mut("tool_calls") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(calls)) => calls,
        Some(_) => {
            return Err(ApiError::bad_field(
                format!("messages[{at}].tool_calls must be an array"),
                "messages",
            ));
        }
    };
    for (c, call) in calls.iter_mut().enumerate() {
        let function = match call.get_mut("function") {
            Some(Value::Object(function)) if function.get("name").is_some_and(Value::is_string) => function,
            _ => {
                return Err(ApiError::bad_field(
                    format!("messages[{at}].tool_calls[{c}] needs a `function` with a string `name`"),
                    "messages",
                ));
            }
        };
        let repaired = match function.get("arguments") {
            Some(Value::String(text)) => crate::toolcall::repair_arguments(text),
            Some(Value::Object(map)) => Value::Object(map.clone()).to_string(),
            _ => "{}".to_owned(),
        };
        function.insert("arguments".into(), Value::String(repaired));
    }
    Ok(())
}
