//! History tool call ids fitted to a chat template that constrains them (Mistral's: exactly
//! 9 alphanumerics), deterministically, so a call and its result still match.

use serde_json::{Map, Value};

/// Maps a message's tool call ids (an assistant's `tool_calls[].id`, a tool result's
/// `tool_call_id`) to exactly `len` alphanumerics. An id that already fits is kept; any other
/// is replaced by a stable hash of it, so a call and its result still match.
pub(super) fn fit_message_ids(message: &mut Map<String, Value>, len: usize) {
    if let Some(Value::String(id)) = message.get_mut("tool_call_id") {
        *id = fit_id(id, len);
    }
    if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
        for call in calls {
            if let Some(Value::String(id)) = call.get_mut("id") {
                *id = fit_id(id, len);
            }
        }
    }
}

/// `id` as exactly `len` ASCII alphanumerics: itself when it already is, otherwise a
/// base-62 rendering of its 64-bit FNV-1a hash (deterministic across requests and restarts).
fn fit_id(id: &str, len: usize) -> String {
    const DIGITS: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if id.len() == len && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return id.to_owned();
    }
    let mut out = String::with_capacity(len);
    let mut round = 0u64;
    while out.len() < len {
        let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ round;
        for b in id.bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        // 10 base-62 digits use 59.5 of the 64 bits.
        for _ in 0..10 {
            if out.len() == len {
                break;
            }
            out.push(char::from(DIGITS[usize::try_from(hash % 62).unwrap_or(0)]));
            hash /= 62;
        }
        round += 1;
    }
    out
}
