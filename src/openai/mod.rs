//! The OpenAI chat completion wire format, both ways: what vLLM answers, read by the proxy
//! (`upstream`: each streamed chunk and the whole answer), and what the proxy writes to its
//! client (`chat`), plus error bodies (`error`), response and tool-call ids (`ids`) and the
//! lenient field readers the stream uses (`loose`). Typed and borrowed, so the per-token
//! path builds no JSON tree. Pure data; no I/O.

pub mod chat;
mod error;
mod ids;
pub mod loose;
pub mod upstream;
mod upstream_calls;

pub use error::{ApiError, ErrorKind};
pub use ids::{call_id, call_id_for, completion_id, unix_now};

/// Continue's CLI sends models named `gpt-5…` or `o<digit>…` to `/v1/responses`, which
/// vLLM does not serve: a model served under such a name breaks every request from it.
pub fn reserved_model_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("gpt-5")
        || (lower.starts_with('o') && lower.as_bytes().get(1).is_some_and(u8::is_ascii_digit))
}
