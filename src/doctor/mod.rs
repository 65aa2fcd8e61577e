//! `podctl doctor`: every check at once, each a line (✓ pass, ! warning, ✗ fail) with what is
//! wrong and the exact command or setting that fixes it.
//!
//! Two halves, as everywhere in podctl: [`facts`] gathers everything once (GPUs, processes,
//! ports, HTTP probes, files; all I/O, short timeouts, in parallel), then [`checks`] turns
//! the facts into verdicts, purely, so each verdict is tested from hand-made facts.

pub mod checks;
pub mod facts;

use serde::Serialize;

pub use facts::Facts;

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Does not apply here (no `--continue-config`, not on RunPod, …).
    Skip,
}

/// One check's result; `doctor --json` prints a list of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable, dotted: `gpu.driver`, `port.proxy`, `probe.tool_call`, …
    pub id: &'static str,
    pub status: Status,
    /// One line.
    pub summary: String,
    /// More lines when they help (raw model text, process list, …).
    pub detail: Option<String>,
    /// The command or setting that fixes it (warnings and failures).
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(id: &'static str, summary: impl Into<String>) -> Self {
        Self { id, status: Status::Pass, summary: summary.into(), detail: None, fix: None }
    }

    pub fn warn(id: &'static str, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { id, status: Status::Warn, summary: summary.into(), detail: None, fix: Some(fix.into()) }
    }

    pub fn fail(id: &'static str, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { id, status: Status::Fail, summary: summary.into(), detail: None, fix: Some(fix.into()) }
    }

    pub fn skip(id: &'static str, summary: impl Into<String>) -> Self {
        Self { id, status: Status::Skip, summary: summary.into(), detail: None, fix: None }
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        let d = detail.into();
        self.detail = (!d.is_empty()).then_some(d);
        self
    }
}

/// Exit code: 1 when any check failed (warnings alone are 0).
pub fn exit_code(checks: &[Check]) -> u8 {
    u8::from(checks.iter().any(|c| c.status == Status::Fail))
}
