//! The Continue.dev model block for a profile, exactly as the client contract has it
//! (provider `openai`, `capabilities: [tool_use]`, a context length never above the served
//! `max_model_len`, no `requestOptions.timeout`), and merging it into a Continue
//! `config.yaml` without losing the user's other models or settings.
//!
//! Merging is a YAML round trip: the models and keys survive, but **comments and the
//! file's own formatting do not**. The previous file is kept as `config.yaml.bak`, and a
//! file that is not valid YAML is refused, never overwritten.
//!
//! One job per file, each using only those before it: `block` is the model of the entry,
//! `render` turns it into the printed text (`templates/continue.yaml`) or a YAML value, `merge`
//! puts it into a config's text, `write` does that to a file on disk; `key` finds the key
//! the entry carries.

mod block;
mod key;
mod merge;
mod render;
#[cfg(test)]
mod tests;
mod write;

pub use block::{KEY_PLACEHOLDER, MAX_CONTEXT, MAX_TOKENS, ModelBlock, TEMPERATURE, api_base};
pub use key::{KeySource, resolve_key};
pub use merge::{MergeError, merge};
pub use render::RenderError;
pub use write::{WriteError, Written, write, write_merged};
