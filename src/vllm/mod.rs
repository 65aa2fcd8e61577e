//! What podctl knows about vLLM itself: the exact `vllm serve` command for a profile
//! ([`argv`]), reading its log (start-up phases, numbers, serving stats: [`logline`]) and
//! naming the cause when it fails ([`failure`]), all pure: text in, facts out. Only
//! [`locate`] touches the machine: it finds the `vllm` executable and asks its version.
//! The log readers share their text handling (`logtext`, a leaf) and depend one way:
//! `logline` uses `failure`, both use `logtext`.

pub mod argv;
pub mod failure;
pub mod locate;
pub mod logline;
mod logtext;

pub use failure::{Failure, FailureKind, diagnose, match_line};
pub use logline::{LogFact, Phase, classify};
