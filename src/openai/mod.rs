//! The OpenAI chat completion wire format, both ways: what vLLM answers, read by the proxy
//! (`upstream`: each streamed chunk and the whole answer; `chunk_scan`: [`read_chunk`], the
//! fast reader of vLLM's usual stream events; `chunk_reader`: [`ChunkReader`], which reads
//! a stream's repeated events by the last one's bytes; `completion_scan`: [`read_completion`], the
//! same for its whole answer; `spans`: a request's values checked and split by the same
//! scanner), and what the proxy writes to its client (`chat`, with [`crate::json_escape`]'s serde-exact
//! JSON strings), plus error bodies (`error`), response and tool-call ids (`ids`) and the
//! lenient field readers the stream uses (`loose`). Typed and borrowed, so the per-token
//! path builds no JSON tree. Pure data; no I/O.

pub mod chat;
mod chunk_reader;
mod chunk_scan;
mod completion_scan;
mod error;
mod ids;
pub mod loose;
pub mod spans;
pub mod upstream;
mod upstream_calls;

pub use crate::json_escape::push_json_string;
pub use chunk_reader::{ChunkReader, Event, TextEvent};
pub use chunk_scan::read_chunk;
pub use completion_scan::read_completion;
pub use error::{ApiError, ErrorKind};
pub use ids::{call_id, call_id_for, completion_id, unix_now};
