//! Model profiles: one TOML file per way of serving a model (`models/qwen.toml`), read into a
//! validated [`Profile`] before anything starts. Every field is documented in
//! `models/README.md`; the field names follow vLLM's own flags (`tensor_parallel_size` is
//! `--tensor-parallel-size`), so what users know from vLLM carries over.
//!
//! Errors name the file, the line and the key, with the fix ([`ProfileError`]); unknown keys
//! are rejected with the closest known key suggested. [`catalog`] finds profiles by name.

pub mod catalog;
mod error;
mod origin;
mod raw;
mod validate;
mod validated;

pub use catalog::Entry;
pub use error::ProfileError;
pub use origin::Origin;
pub use validated::*;

#[cfg(test)]
mod tests;
