//! The one writer of podctl's own output: data to stdout; notes, warnings and errors to
//! stderr. Besides it only the progress display ([`super::progress`]) and the log
//! (tracing, set up by [`super::init_tracing`]) write to the terminal, both on stderr.

use std::io::Write;

use console::style;

use super::error::{UserError, exit};

/// When to colour output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

/// Writes data to stdout and messages to stderr.
#[derive(Debug, Clone)]
pub struct Printer {
    quiet: bool,
}

impl Printer {
    /// Decides colour once for the whole process (console's global switches).
    pub fn new(color: ColorChoice, quiet: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        match color {
            ColorChoice::Always => {
                console::set_colors_enabled(true);
                console::set_colors_enabled_stderr(true);
            }
            ColorChoice::Never => {
                console::set_colors_enabled(false);
                console::set_colors_enabled_stderr(false);
            }
            ColorChoice::Auto if no_color => {
                console::set_colors_enabled(false);
                console::set_colors_enabled_stderr(false);
            }
            ColorChoice::Auto => {}
        }
        Self { quiet }
    }

    /// Data (JSON, tables): always printed, even with `-q`.
    pub fn data(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    /// Data exactly as given (no newline added), flushed.
    pub fn data_raw(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// A message for the person (stderr; hidden with `-q`).
    pub fn note(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{message}");
        }
    }

    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// A warning on stderr (hidden with `-q`).
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{} {message}", style("warning:").yellow().bold());
        }
    }

    /// Prints an error with its causes and hint; returns the exit code to use.
    pub fn report(&self, error: &anyhow::Error) -> u8 {
        let mut err = std::io::stderr().lock();
        // An empty message is an exit code alone (`status` has already said everything).
        if let Some(user) = error.downcast_ref::<UserError>()
            && user.message.is_empty()
        {
            return user.code;
        }
        let _ = writeln!(err, "{} {error}", style("error:").red().bold());
        for cause in error.chain().skip(1) {
            let _ = writeln!(err, "  {} {cause}", style("caused by:").dim());
        }
        match error.downcast_ref::<UserError>() {
            Some(user) => {
                if let Some(hint) = &user.hint {
                    let _ = writeln!(err, "{} {hint}", style("hint:").cyan().bold());
                }
                user.code
            }
            None => exit::FAILURE,
        }
    }
}
