//! Everything that reaches the terminal goes through here: the [`Printer`] (stdout for
//! data, stderr for messages), progress, the log, colour that follows the terminal,
//! `NO_COLOR` and `--color`, and errors rendered as `error:` / `caused by:` / `hint:` with
//! a meaningful exit code. Only clap's own help and usage errors are printed by clap.

mod error;
mod printer;
pub mod progress;

pub use error::{UserError, exit};
pub use printer::{ColorChoice, Printer};

use tracing_subscriber::EnvFilter;

/// Logs go to stderr. `-q` keeps errors only; each `-v` shows more; `RUST_LOG` overrides.
pub fn init_tracing(verbose: u8, quiet: bool) {
    init_tracing_with(verbose, quiet, false, false);
}

/// Like [`init_tracing`]; `service` makes `info` the default level (a server logs one line
/// per request), `json` writes one JSON object per line.
pub fn init_tracing_with(verbose: u8, quiet: bool, service: bool, json: bool) {
    let levels = ["warn", "info", "debug", "trace"];
    let base = usize::from(service) + usize::from(verbose);
    let level = if quiet { "error" } else { levels[base.min(levels.len() - 1)] };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(format!("podctl={level}")));
    // A log that cannot be written (stderr on a full disk) is dropped: the default would
    // report it with `eprintln!`, which panics when stderr fails, taking the service down.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .log_internal_errors(false);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.with_ansi(console::colors_enabled_stderr()).try_init()
    };
}
