//! The chat request as vLLM (without a tool parser) must see it, and the plan for
//! answering the client (spec sections 7–8). Pure: JSON in, JSON and a [`Plan`] out.
//!
//! * Upstream gets the client's `tools` with `tool_choice: "none"` (vLLM answers 400 to
//!   anything else without a parser but still renders the tools into the prompt), no
//!   `parallel_tool_calls`, and `skip_special_tokens: false` with
//!   `spaces_between_special_tokens: false` (tool markers must survive, unspaced).
//! * The client's `tool_choice`, `parallel_tool_calls`, stream flags and tool schemas go
//!   into the [`Plan`] and are honoured on the response side.
//! * `required` and a named function are steered with an instruction in the system prompt
//!   (a named function is the only tool sent).
//! * Every history `tool_calls[].function.arguments` becomes a valid JSON-object string:
//!   vLLM decodes them before templating, and one bad string fails every later turn.
//! * Every other field, known or not, is passed through unchanged.
//!
//! Files by job: `request` (the request, read and rewritten), `fields` (its top-level
//! fields, read without parsing their values), `tools` (`tools`, `tool_choice` and the tools
//! cache), `messages` (the history, repaired and steered), `ids` (history ids fitted to
//! a template) and `thinking` (whether the request turned thinking on or off).

mod fields;
mod ids;
mod messages;
mod request;
#[cfg(test)]
mod tests;
mod thinking;
mod tools;

pub(crate) use fields::Layout;
pub(crate) use request::ChatRequest;
pub(crate) use tools::ToolsCache;
