//! The client APIs the proxy answers in, over one translation core.
//!
//! Every request, whatever API it came in, is turned into a chat request for vLLM
//! ([`Api::to_chat`]), goes through the same rewrite, routing and retries, and its answer
//! through the same engine and tool-call policy (`choice.rs`). What differs per API is only
//! at the edges: how the request reads, how the translated answer is written, streamed
//! ([`StreamWire`]) or whole ([`Api::render_whole`]), and how errors look. Adding an API is
//! one file here and a route.

mod api;
pub(crate) mod chat;
pub(crate) mod messages;
pub(crate) mod responses;
pub(crate) mod to_chat;

pub(crate) use api::{Api, Call, Choice, Extra, StreamWire, Whole};

/// The API a request path belongs to, for answers written before its handler runs (a
/// refused key, a full limit): Chat Completions' shape for every path no other API claims.
pub(crate) fn for_path(path: &str) -> &'static dyn Api {
    if path.starts_with("/v1/messages") {
        return &messages::MessagesApi;
    }
    if path.starts_with("/v1/responses") {
        return &responses::ResponsesApi;
    }
    &chat::ChatApi
}
