//! The `podctl` binary: parse arguments, decide colour, run, map the outcome to an exit
//! code. Everything else lives in the library (the log is set up by `cli::run`, since the
//! proxy and the supervisor log differently from the other subcommands).

use std::process::ExitCode;

// The proxy allocates per request (JSON trees); mimalloc is much faster at that than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use podctl::cli::Cli;
use podctl::ui::Printer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(cli.global.color, cli.global.quiet);
    match podctl::cli::run(cli, &printer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => ExitCode::from(printer.report(&error)),
    }
}
