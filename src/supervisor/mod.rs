//! Process lifecycle: start vLLM from a profile, follow it to ready, restart it with
//! backoff, explain fatal failures, and stop it with no process left behind.
//!
//! * [`policy`]: pure restart decisions.
//! * [`lines`]: `\r`/`\n` splitting of a child's output; [`logfile`]: the rotated log.
//! * [`child`]: spawning vLLM as a process-group leader; [`stop`]: the stop recipe.
//! * [`download`]: download progress from the Hugging Face cache.
//! * [`readiness`]: `/health` + `/v1/models`; [`run`]: the loop that ties them together.
//! * [`proxy`]: the proxy settings a profile implies, for `start --proxy`.

pub mod child;
pub mod download;
pub mod lines;
pub mod logfile;
pub mod policy;
pub mod proxy;
pub mod readiness;
pub mod run;
pub mod stop;

pub use run::{Outcome, Supervisor};

/// A fresh run id: time, pid and randomness, short enough to read in `ps e`.
pub fn new_run_id() -> String {
    let t = crate::instance::now();
    format!("{t:x}-{:x}-{:04x}", std::process::id(), fastrand::u16(..))
}
