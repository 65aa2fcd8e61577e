//! `podctl load MODEL` / `podctl unload MODEL`: ask the running `podctl serve` (through its
//! local control socket) to start a model now and wait until it is ready, or to stop it once
//! its requests are done.
//!
//! Exit codes: 0 done; 1 the model failed to start (the diagnosis is printed); 2 `MODEL` is
//! not one of the models served; 3 no `podctl serve` is running.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use clap::Args;

use crate::serve::control::{Reply, socket_path};
use crate::ui::exit;
use crate::ui::{Printer, UserError};

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 done, 1 the model failed to start, 2 not a served model, 3 no `podctl serve` running."
)]
pub struct LoadArgs {
    /// A served model name (or its profile's name).
    pub model: String,
}

pub(super) fn load(args: &LoadArgs, printer: &Printer) -> anyhow::Result<()> {
    let reply = ask("load", &args.model)?;
    printer.note(&format!("{}: {}", args.model, reply.state));
    Ok(())
}

pub(super) fn unload(args: &LoadArgs, printer: &Printer) -> anyhow::Result<()> {
    let reply = ask("unload", &args.model)?;
    printer.note(&format!("{}: {}", args.model, reply.state));
    Ok(())
}

fn ask(verb: &str, model: &str) -> Result<Reply, UserError> {
    let path = socket_path();
    let mut stream = UnixStream::connect(&path).map_err(|e| UserError {
        code: exit::NOT_RUNNING,
        ..UserError::failure(format!("no `podctl serve` is running (cannot reach {}: {e})", path.display()))
            .hint("start one with `podctl serve PROFILE...`")
    })?;
    let lost = |e: std::io::Error| {
        UserError::failure(format!("lost `podctl serve` while it answered: {e}"))
            .hint("`podctl status` shows what runs; see serve.log in the state folder")
    };
    stream.write_all(format!("{verb} {model}\n").as_bytes()).map_err(lost)?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).map_err(lost)?;
    let reply: Reply = serde_json::from_str(line.trim()).map_err(|e| {
        UserError::failure(format!("`podctl serve` answered something unreadable ({e}): {}", line.trim()))
            .hint("is it the same podctl version? restart it with `podctl stop` and `podctl serve`")
    })?;
    match &reply.error {
        None => Ok(reply),
        Some(e) if reply.unknown => {
            Err(UserError::usage(e.clone()).hint("`podctl status` lists the models served"))
        }
        Some(e) => {
            Err(UserError::failure(e.clone()).hint(format!("`podctl logs {model}` shows vLLM's output")))
        }
    }
}
