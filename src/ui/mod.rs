//! Everything that reaches the terminal goes through here: the [`Printer`] (stdout for
//! data, stderr for messages), colour that follows the terminal, `NO_COLOR` and `--color`,
//! and errors rendered as `error:` / `caused by:` / `hint:` with a meaningful exit code.

mod error;
mod printer;

pub use error::{UserError, exit};
pub use printer::{ColorChoice, Printer};

use tracing_subscriber::EnvFilter;

/// Logs go to stderr. `-q` keeps errors only; each `-v` shows more; `RUST_LOG` overrides.
pub fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(format!("podctl={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(console::colors_enabled_stderr())
        .with_target(false)
        .try_init();
}
