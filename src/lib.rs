//! podctl: serve an open coding model from a rented GPU pod.
//!
//! One binary replaces the shell scripts and the Python proxy people glue around vLLM: it
//! starts and supervises vLLM from a profile, and serves an OpenAI-compatible proxy that
//! turns the model's raw tool-call text into tool calls. Decisions live in pure code and
//! I/O stays thin: an area reads its input or gathers its facts first, then decides
//! without touching the machine, so the deciding half is tested from hand-made values.
//!
//! The modules, from the bottom up; each uses only modules listed before it:
//!
//! * [`json_escape`]: a string written as a JSON string, byte for byte as serde_json
//!   writes it. A leaf.
//! * [`utf8`]: the UTF-8 check of request bodies and stream events (simdutf8's, std's
//!   error). A leaf.
//! * [`toolcall`]: the engine that turns a model's raw output text into tool-call events,
//!   one state machine per format. Pure and synchronous; only `json_escape` below it.
//! * [`gpu`]: this machine's GPUs, through NVML or `nvidia-smi`, and a prediction of
//!   vLLM's start-up memory check.
//! * [`procs`]: `/proc` facts: processes, their environment, who listens on a port and who
//!   holds a GPU.
//! * [`home`]: where podctl keeps things (the podctl home and the state dir).
//! * [`atomic_write`]: replacing a file so that a reader or a crash never sees half of it.
//! * [`template`]: the client config files of `templates/`, embedded, and their one
//!   substitution.
//! * [`ui`]: the printer, progress, styles and error rendering (`error:` / `hint:`).
//! * [`openai`]: OpenAI wire shapes (errors, ids) and names clients reserve; uses
//!   `toolcall` for the format in a call id.
//! * [`proxy`]: the axum server of `podctl proxy`: request rewrite, SSE decoding, stream
//!   translation through `toolcall`, routing to replicas; it never uses `supervisor`
//!   (`podctl proxy` runs alone).
//! * [`profile`]: TOML profiles read into a validated `Profile`, and finding them by name.
//! * [`vllm`]: facts about vLLM: profile → the exact `vllm serve` command, its log lines →
//!   phases, numbers and failure causes (all pure), and finding the executable.
//! * [`instance`]: the on-disk record of a running instance, written atomically.
//! * [`supervisor`]: vLLM's lifecycle: spawn, follow to ready, restart with backoff, stop
//!   with nothing left behind; a pure restart policy under a thin executor.
//! * [`continue_config`]: the Continue.dev model block for a profile's proxy, printed or
//!   merged into a `config.yaml`.
//! * [`client_config`]: what each coding agent (Continue, Claude Code, Codex, OpenCode,
//!   Qwen Code) needs to reach a profile's proxy, printed or merged into its config file.
//! * [`setup`]: `podctl setup`'s file work (home, profile copies, a keyed config) and
//!   installing vLLM into a venv.
//! * [`doctor`]: every check at once: facts gathered once (all the I/O), then pure verdicts.
//! * [`cli`]: clap types and one file per subcommand, on top of everything; the only code
//!   that prints, through [`ui`].
//!

pub mod atomic_write;
pub mod cli;
pub mod client_config;
pub mod continue_config;
pub mod doctor;
pub mod gpu;
pub mod home;
pub mod instance;
pub mod json_escape;
pub mod openai;
pub mod procs;
pub mod profile;
pub mod proxy;
pub mod serve;
pub mod setup;
pub mod supervisor;
pub mod template;
#[cfg(test)]
mod testutil;
pub mod toolcall;
pub mod ui;
pub mod utf8;
pub mod vllm;
