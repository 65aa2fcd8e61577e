//! What podctl knows about vLLM itself: the exact `vllm serve` command for a profile, reading
//! its log (start-up phases, numbers, serving stats) and naming the cause when it fails. All
//! pure: text in, facts out; no I/O.

pub mod argv;
pub mod failure;
pub mod locate;
pub mod logline;

/// Where to reach a server bound to `bind`: a wildcard address is asked on loopback.
pub fn connect_host(bind: &str) -> &str {
    match bind {
        "0.0.0.0" | "" => "127.0.0.1",
        "::" => "[::1]",
        h => h,
    }
}

pub use failure::{Failure, FailureKind, diagnose, match_line};
pub use logline::{LogFact, Phase, classify};
