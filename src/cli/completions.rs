//! `podctl completions bash|zsh|fish`: the shell completion script, on stdout.
//!
//! ```sh
//! podctl completions bash > ~/.local/share/bash-completion/completions/podctl
//! podctl completions zsh  > "${fpath[1]}/_podctl"
//! podctl completions fish > ~/.config/fish/completions/podctl.fish
//! ```

use clap::Args;
use clap_complete::Shell;

use crate::ui::Printer;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `command` (the whole command line, `Cli::command()`).
pub(super) fn run(
    args: &CompletionsArgs,
    mut command: clap::Command,
    printer: &Printer,
) -> anyhow::Result<()> {
    let mut out: Vec<u8> = Vec::new();
    clap_complete::generate(args.shell, &mut command, "podctl", &mut out);
    printer.data_raw(&String::from_utf8_lossy(&out))?;
    Ok(())
}
