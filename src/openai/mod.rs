//! OpenAI wire shapes podctl produces: error bodies, ids, and the pieces of chat
//! completion responses and stream chunks. Pure data; no I/O.

mod error;
mod ids;

pub use error::{ApiError, ErrorKind};
pub use ids::{call_id, call_id_for, completion_id, unix_now};

/// Continue's CLI sends models named `gpt-5…` or `o<digit>…` to `/v1/responses`, which
/// vLLM does not serve: a model served under such a name breaks every request from it.
pub fn reserved_model_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("gpt-5")
        || (lower.starts_with('o') && lower.as_bytes().get(1).is_some_and(u8::is_ascii_digit))
}
