//! podctl: serve an open coding model from a rented GPU pod.
//!
//! One binary replaces the shell scripts and the Python proxy people glue around vLLM.
//! The library is organised so that decisions live in pure modules and I/O stays thin:
//!
//! * [`toolcall`]: the engine that turns a model's raw output text into OpenAI tool-call
//!   events. Pure and synchronous; used by `podctl translate` and, later, the proxy.
//! * [`cli`]: command-line types and the subcommands; the only code that prints, through [`ui`].
//! * [`ui`]: the printer, styles and error rendering (`error:` / `hint:`).

pub mod atomic_write;
pub mod cli;
pub mod continue_config;
pub mod doctor;
pub mod gpu;
pub mod home;
pub mod instance;
pub mod openai;
pub mod procs;
pub mod profile;
pub mod proxy;
pub mod setup;
pub mod supervisor;
#[cfg(test)]
mod testutil;
pub mod toolcall;
pub mod ui;
pub mod vllm;
