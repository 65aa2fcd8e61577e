//! The tool-call engine: a model's raw output text in, OpenAI tool-call events out.
//!
//! vLLM runs without a tool parser; this module alone decides which parts of the text are
//! prose, which are reasoning and which are tool calls (`shared/guide/toolcall-spec.md` is
//! the specification). It is pure and synchronous: no async, no I/O, no clock. The same
//! [`Engine`] serves streaming (fed each upstream delta) and non-streaming (fed the whole
//! text once), so the two modes cannot disagree: any chunking of the input gives the same
//! events, merged, as feeding it whole.
//!
//! Shape of the code (each file depends only on the files listed before it, and no format's
//! file imports another format's):
//! * Vocabulary: [`Format`] and [`Reasoning`] (`format.rs`), [`Event`] and the [`Sink`]
//!   that receives them (`event.rs`), [`Outcomes`] (`outcome.rs`), the request's tools and
//!   their schema types (`tools.rs`, `schema.rs`).
//! * Shared machinery: marker matching over input that may end mid-marker (`scan.rs`); the
//!   content rule while streaming (`shaper.rs`); channels, counters and call bookkeeping
//!   every machine keeps (`core.rs`); the `Machine` trait, its driver
//!   loop, and what `auto` hands over (`machine.rs`); JSON calls found and decoded
//!   (`json.rs`); XML-style arguments written as their values arrive (`xml_args.rs`);
//!   typing raw values by the schema (`coerce.rs`, `pyliteral.rs`); `auto`'s marker
//!   search (`detect.rs`).
//! * One machine per family: `qwen/` (`qwen3_coder` XML, `hermes` JSON, and `auto`, which
//!   reads both and watches for the other families' decisive markers; with Seed's tags,
//!   `seed.rs`, it reads `seed_oss`), `llama3.rs`, `mistral.rs`, `glm45.rs` (`glm45` and
//!   `glm47`), `special.rs` (special-token markers around JSON arguments) with the dialects
//!   `deepseek.rs` and `kimi.rs`, `invoke/` (`<invoke name=…>` blocks of named parameters)
//!   with the dialects `minimax.rs` (`minimax_m2`), `dsml.rs` (`deepseek_v32`,
//!   `deepseek_v4`) and `kimi_k3.rs` (XTML), `gemma4/`, and `passthrough.rs` (`none`).
//!   Each family's end-of-turn tokens are dropped by its machine (`Core::end_of_turn`).
//! * The [`Engine`] (`engine.rs`) builds the machine for a format, keeps the undecided tail
//!   of the input (a suffix that could still become a marker: input is consumed once, so
//!   cost is linear in the output length), and carries out `auto`'s hand-over.
//! * [`MessageBuilder`] folds events into the final assistant message; [`repair_arguments`]
//!   mends the arguments of history calls.
//!
//! Adding a format:
//! 1. One file (or a folder for a large grammar) with its state machine: a `State` enum, a
//!    struct holding a `Core` and the state, `new` and (if `auto` may hand
//!    over to it) `resume`, and `impl Machine` (`step`, `settle`, `core`). Calls go out
//!    through `Core::commit`/`args`/`end` or `Core::whole_call`; JSON arguments through
//!    `json.rs`, XML-style values through `XmlArgs`. A format that only changes markers of
//!    an existing machine is a dialect (see `kimi.rs`).
//! 2. One [`Format`] variant: its name in `NAMES`/`ALL`/`as_str`/`FromStr` (with the names
//!    vLLM uses as aliases), `call_id_len` if its template constrains call ids, and the
//!    model names that imply it in [`Format::guess`].
//! 3. In `engine.rs`: its machine in `machine_for` (and `resume`), and, if `auto` should
//!    recognise it, its decisive markers in `DECISIVE`.
//! 4. Its rows in the table tests (`tests/support/`: one row per rule of the spec), which
//!    the chunking property and the fuzz target then run in every chunking.

mod coerce;
mod core;
mod deepseek;
mod detect;
mod dsml;
mod engine;
mod event;
mod format;
mod gemma4;
mod glm45;
mod guess;
mod invoke;
mod json;
mod kimi;
mod kimi_k3;
mod llama3;
mod machine;
mod message;
mod minimax;
mod mistral;
mod outcome;
mod passthrough;
mod pyliteral;
mod qwen;
mod repair;
mod scan;
mod schema;
mod seed;
mod shaper;
mod special;
mod tools;
mod xml_args;

pub use engine::Engine;
pub use event::{Event, FinishReason, OwnedEvent, Sink, UpstreamFinish};
pub use format::{Format, Reasoning};
pub use message::{Message, MessageBuilder, ToolCall};
pub use outcome::Outcomes;
pub use repair::repair_arguments;
pub use schema::Types;
pub use tools::{Tool, Tools, ToolsError};
