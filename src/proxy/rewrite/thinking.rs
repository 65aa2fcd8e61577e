//! Whether the request turned the model's thinking on or off for this turn, from the
//! `chat_template_kwargs` the chat templates read: `enable_thinking` (Qwen3, Qwen3.5+, GLM,
//! MiniMax), `thinking` (DeepSeek V3.1+), `thinking_mode` (Kimi, Seed) and
//! `reasoning_effort` (DeepSeek V4: `none` is off). The answer's reasoning follows it: a
//! request that turned thinking off gets its output read as the answer from the start,
//! whatever the profile's default.

use serde_json::Value;

/// `Some(false)`: the request turned thinking off; `Some(true)`: on; `None`: it said
/// nothing the templates read (the profile's default holds).
pub(crate) fn requested(kwargs: Option<&str>) -> Option<bool> {
    let Ok(Value::Object(kwargs)) = serde_json::from_str::<Value>(kwargs?) else { return None };
    let word = |v: &Value| -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "" => None,
                "none" | "off" | "disabled" | "disable" | "false" | "no_think" | "non-thinking"
                | "nothink" => Some(false),
                _ => Some(true),
            },
            _ => None,
        }
    };
    ["enable_thinking", "thinking", "thinking_mode", "reasoning_effort"]
        .iter()
        .find_map(|key| kwargs.get(*key).and_then(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Option<bool> {
        requested(Some(json))
    }

    #[test]
    fn reads_every_templates_switch() {
        assert_eq!(read(r#"{"enable_thinking": false}"#), Some(false));
        assert_eq!(read(r#"{"enable_thinking": true}"#), Some(true));
        assert_eq!(read(r#"{"thinking": false}"#), Some(false));
        assert_eq!(read(r#"{"thinking_mode": "off"}"#), Some(false));
        assert_eq!(read(r#"{"reasoning_effort": "none"}"#), Some(false));
        assert_eq!(read(r#"{"reasoning_effort": "high"}"#), Some(true));
        assert_eq!(read(r#"{"other": 1}"#), None);
        assert_eq!(read("[]"), None);
        assert_eq!(requested(None), None);
    }
}
