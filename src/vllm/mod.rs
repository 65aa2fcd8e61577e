//! What podctl knows about vLLM itself: the exact `vllm serve` command for a profile, reading
//! its log (start-up phases, numbers, serving stats) and naming the cause when it fails. All
//! pure: text in, facts out; no I/O.

pub mod argv;
pub mod failure;
pub mod locate;
pub mod logline;

pub use failure::{Failure, FailureKind, diagnose, match_line};
pub use logline::{LogFact, Phase, classify};
