//! The proxy on real sockets in front of the stand-in vLLM (no tool parser): translation
//! streaming and not, every error path, auth, cancellation, keep-alive, graceful stop,
//! model aliasing, the pass-through endpoints, and malformed or hostile input.

#[path = "../standin/mod.rs"]
mod standin;

mod bad_input;
mod chat;
mod endpoints;
mod errors;
mod faults;
mod harness;
mod lifecycle;
mod limits;
mod messages;
mod messages_errors;
mod responses;
mod routing;
mod tls;
mod vllm_parses;
