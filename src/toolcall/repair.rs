//! History repair (spec section 8): the `arguments` of calls a client sends back in the
//! conversation, made valid for the chat template whatever the model wrote earlier.

use super::coerce;
use super::schema::Types;

/// A history call's `arguments` text as a valid JSON-object string: a JSON object is
/// re-serialised; a Python-style literal or a JSON string holding an object is decoded;
/// anything else becomes a small object recording the problem, so the model sees that its
/// earlier call was malformed instead of the conversation failing.
pub fn repair_arguments(text: &str) -> String {
    // No arguments, written as nothing or `null`.
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return "{}".to_owned();
    }
    let mut value = String::new();
    coerce::coerce_into(text, Types::OBJECT, &mut value);
    if let Ok(object @ serde_json::Value::Object(_)) = serde_json::from_str::<serde_json::Value>(&value) {
        object.to_string()
    } else {
        let original: String = text.chars().take(1000).collect();
        serde_json::json!({"invalid_arguments": original}).to_string()
    }
}
