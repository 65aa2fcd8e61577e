//! Errors meant for the person at the terminal: what went wrong, what to do next, and the
//! exit code scripts can rely on.

use std::fmt;

/// Exit codes podctl uses.
pub mod exit {
    /// A failure while doing the work (upstream down, file system, …).
    pub const FAILURE: u8 = 1;
    /// Bad input: arguments, files or data the user gave.
    pub const USAGE: u8 = 2;
    /// `podctl status`: nothing is running.
    pub const NOT_RUNNING: u8 = 3;
}

/// An error that carries its own hint and exit code.
#[derive(Debug)]
pub struct UserError {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
}

impl UserError {
    /// Bad input (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self { message: message.into(), hint: None, code: exit::USAGE }
    }

    /// A failure while doing the work (exit code 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self { message: message.into(), hint: None, code: exit::FAILURE }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}
