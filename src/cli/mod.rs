//! Command-line types (clap) and dispatch. Each subcommand lives in its own file; only
//! the CLI prints, and only through [`crate::ui::Printer`].

mod proxy;
mod translate;

use clap::{Args, Parser, Subcommand};

use crate::ui::{self, ColorChoice, Printer};

/// Serve an open coding model from a rented GPU: vLLM lifecycle and a tool-call
/// translating OpenAI proxy, in one binary.
#[derive(Debug, Parser)]
#[command(name = "podctl", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to use colour (`auto` follows the terminal and NO_COLOR).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn raw model text (stdin) into the OpenAI assistant message podctl would return.
    Translate(translate::TranslateArgs),
    /// Serve an OpenAI-compatible API in front of vLLM that turns raw tool-call text into tool_calls.
    Proxy(Box<proxy::ProxyArgs>),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli, printer: &Printer) -> anyhow::Result<()> {
    match cli.command {
        Command::Translate(args) => {
            ui::init_tracing(cli.global.verbose, cli.global.quiet);
            translate::run(&args, printer)
        }
        Command::Proxy(args) => proxy::run(&args, &cli.global, printer),
    }
}
