//! OpenAI wire shapes podctl produces: error bodies, ids, and the pieces of chat
//! completion responses and stream chunks. Pure data; no I/O.

mod error;
mod ids;

pub use error::{ApiError, ErrorKind};
pub use ids::{call_id, completion_id, unix_now};
