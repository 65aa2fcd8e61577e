//! Command-line types (clap) and dispatch. Each subcommand lives in its own file; only
//! the CLI prints, and only through [`crate::ui::Printer`].

mod client_config;
mod completions;
mod continue_config;
mod doctor;
mod global;
mod load;
mod logs;
mod profiles;
mod proxy;
mod serve;
mod setup;
mod start;
mod status;
mod stop;
mod supervise;
mod translate;

use clap::{CommandFactory as _, Parser, Subcommand};

pub use global::GlobalArgs;

use crate::ui::{self, Printer};

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn raw model text (stdin) into the OpenAI assistant message podctl would return.
    Translate(translate::TranslateArgs),
    /// Serve an OpenAI-compatible API in front of vLLM that turns raw tool-call text into tool_calls.
    Proxy(Box<proxy::ProxyArgs>),
    /// Start vLLM from a profile and supervise it (with --proxy, the proxy too).
    #[command(alias = "start-vllm")]
    Start(start::StartArgs),
    /// Several profiles' models behind one proxy, each started on its first request and swapped on a shared GPU.
    Serve(serve::ServeArgs),
    /// Start a model of the running `podctl serve` now and wait until it is ready (exit 0 ready, 1 failed, 2 unknown model, 3 no serve).
    Load(load::LoadArgs),
    /// Stop a model of the running `podctl serve` once its requests finish (exit 0, 2 unknown model, 3 no serve).
    Unload(load::LoadArgs),
    /// Stop vLLM, the proxy and the supervisor; no process of the run survives.
    Stop(stop::StopArgs),
    /// What runs: state, pids, ports and health (exit 0 all ready, 1 not, 3 nothing running).
    Status(status::StatusArgs),
    /// vLLM's output, as the supervisor logged it.
    Logs(logs::LogsArgs),
    /// First run on a pod: the podctl home, profile copies, a config with an API key, vLLM (--install-vllm).
    Setup(setup::SetupArgs),
    /// What a coding agent (continue, claude, codex, opencode, qwen) needs for a profile's proxy; --write merges it into the agent's config.
    #[command(name = "client-config")]
    ClientConfig(client_config::ClientConfigArgs),
    /// The Continue.dev model block for a profile's proxy; --write merges it into a config.yaml.
    #[command(name = "continue-config")]
    ContinueConfig(continue_config::ContinueConfigArgs),
    /// Check GPU, vLLM, ports, services and a real tool call; say what is wrong and the fix.
    Doctor(doctor::DoctorArgs),
    /// The profiles `start` can use, and where each comes from.
    Profiles(profiles::ProfilesArgs),
    /// The shell completion script for bash, zsh or fish.
    Completions(completions::CompletionsArgs),
    /// (internal) The background supervisor `start` runs.
    #[command(name = "__supervise", hide = true)]
    Supervise(supervise::SuperviseArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli, printer: &Printer) -> anyhow::Result<()> {
    match cli.command {
        Command::Translate(args) => {
            ui::init_tracing(cli.global.verbose, cli.global.quiet);
            translate::run(&args, printer)
        }
        Command::Proxy(args) => proxy::run(&args, &cli.global, printer),
        Command::Supervise(args) => supervise::run(&args),
        Command::Serve(args) => serve::run(&args, printer),
        command => {
            ui::init_tracing(cli.global.verbose, cli.global.quiet);
            match command {
                Command::Start(args) => start::run(&args, printer),
                Command::Stop(args) => stop::run(&args, printer),
                Command::Load(args) => load::load(&args, printer),
                Command::Unload(args) => load::unload(&args, printer),
                Command::Status(args) => status::run(&args, printer),
                Command::Logs(args) => logs::run(&args, printer),
                Command::Profiles(args) => profiles::run(&args, printer),
                Command::Doctor(args) => doctor::run(&args, printer),
                Command::Setup(args) => setup::run(&args, printer, profiles_of),
                Command::ClientConfig(args) => client_config::run(&args, printer),
                Command::ContinueConfig(args) => continue_config::run(&args, printer),
                Command::Completions(args) => completions::run(&args, Cli::command(), printer),
                Command::Translate(_) | Command::Proxy(_) | Command::Supervise(_) | Command::Serve(_) => {
                    unreachable!("handled above")
                }
            }
        }
    }
}

/// The profiles podctl's arguments `words` name (for `setup --autostart`, which checks a
/// command before writing it), or clap's first line about what is wrong with them.
fn profiles_of(words: &[String]) -> Result<Vec<String>, String> {
    let cli = Cli::try_parse_from(std::iter::once("podctl".to_owned()).chain(words.iter().cloned()))
        .map_err(|e| e.render().to_string().lines().next().unwrap_or_default().to_owned())?;
    Ok(match cli.command {
        Command::Serve(a) => a.profiles,
        Command::Start(a) => vec![a.profile],
        _ => Vec::new(),
    })
}
