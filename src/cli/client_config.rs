//! `podctl client-config AGENT [PROFILE...] [--write [PATH]] [--key KEY]`: what a coding agent
//! (Continue, Claude Code, Codex, OpenCode, Qwen Code) needs to talk to a profile's proxy,
//! printed from its file in `templates/`, or merged into the agent's own config file
//! (other settings kept, the previous file kept as PATH.bak). `continue` is the same code
//! as `podctl continue-config`.

use std::path::PathBuf;

use clap::Args;

use crate::client_config::Agent;
use crate::continue_config::{self, ModelBlock, Written};
use crate::ui::{Printer, UserError};

#[derive(Debug, Args)]
pub struct ClientConfigArgs {
    /// The agent to configure.
    #[arg(value_enum)]
    pub agent: Agent,
    /// The profile whose proxy the agent talks to (see `podctl profiles`); several for
    /// `podctl serve A B …` (every model behind the first one's proxy, the first the default).
    #[arg(default_value = "qwen", num_args = 1..)]
    pub profiles: Vec<String>,
    /// Merge the config into the agent's file instead of printing it: PATH, or where the
    /// agent looks (~/.continue/config.yaml, ~/.claude/settings.json, ~/.codex/config.toml,
    /// ~/.config/opencode/opencode.json); the previous file is kept as PATH.bak.
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    #[allow(
        clippy::option_option,
        reason = "clap's shape for a flag whose value is optional: absent, bare, or a path"
    )]
    pub write: Option<Option<PathBuf>>,
    /// The key the agent sends [default: $PODCTL_API_KEY, else api_keys in HOME/config.toml].
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
}

pub(super) fn run(args: &ClientConfigArgs, printer: &Printer) -> anyhow::Result<()> {
    let getenv = |k: &str| std::env::var(k).ok();
    let path = match &args.write {
        None => None,
        Some(path) => Some(write_path(args.agent, path.as_ref(), &getenv)?),
    };
    if let (Agent::Continue, [profile]) = (args.agent, args.profiles.as_slice()) {
        let continue_args = super::continue_config::ContinueConfigArgs {
            profile: profile.clone(),
            write: path,
            key: args.key.clone(),
        };
        return super::continue_config::run(&continue_args, printer);
    }
    let mut blocks = Vec::with_capacity(args.profiles.len());
    let mut first_profile = None;
    for name in &args.profiles {
        let (profile, mut block) = super::continue_config::profile_block(name, args.key.as_deref(), printer)?;
        match &first_profile {
            // One proxy serves them all (`podctl serve`): the first profile's.
            Some((_, first)) => block.api_base.clone_from(first),
            None => first_profile = Some((profile, block.api_base.clone())),
        }
        if blocks.iter().any(|b: &ModelBlock| b.model == block.model) {
            return Err(
                UserError::usage(format!("two profiles serve the model name `{}`", block.model)).into()
            );
        }
        blocks.push(block);
    }
    let Some((profile, _)) = first_profile else { return Ok(()) };
    let block = &blocks[0];
    let key_env = &profile.proxy.api_key_env;
    let rendered = args.agent.render_all(&blocks, key_env)?;
    let Some(path) = path else {
        printer.data(&rendered)?;
        key_note(args.agent, key_env, block, printer);
        return Ok(());
    };
    let written = continue_config::write_merged(&path, |old| args.agent.merge_all(old, &rendered, &blocks))
        .map_err(|e| match e {
            continue_config::WriteError::Merge { .. } => UserError::usage(format!("{e}; the file was not changed"))
                .hint(format!(
                    "fix the file (or move it away), then run this again; or paste from `podctl client-config {}` by hand",
                    agent_arg(args.agent)
                )),
            continue_config::WriteError::Io { .. } => {
                UserError::failure(e.to_string()).hint("check that the folder exists and is writable")
            }
        })?;
    let label = args.agent.label();
    match written {
        Written::Created => printer.note(&format!("wrote {} for {label}", path.display())),
        Written::Updated { backup } => printer.note(&format!(
            "updated {} for {label} (other settings kept; the previous file is {})",
            path.display(),
            backup.display()
        )),
        Written::Unchanged => printer.note(&format!("{} already has this config; unchanged", path.display())),
    }
    key_note(args.agent, key_env, block, printer);
    let models: Vec<&str> = blocks.iter().map(|b| b.model.as_str()).collect();
    printer.note(&format!("{label} talks to {} as `{}`", block.api_base, models.join("`, `")));
    Ok(())
}

/// Codex reads its key from the variable `env_key` names, never from its file: say so.
fn key_note(agent: Agent, key_env: &str, block: &ModelBlock, printer: &Printer) {
    if agent == Agent::Codex {
        printer.note(&format!(
            "Codex reads the key from ${key_env}: export {key_env}='{}'",
            block.api_key.replace('\'', r"'\''")
        ));
    }
}

fn agent_arg(agent: Agent) -> String {
    clap::ValueEnum::to_possible_value(&agent).map(|v| v.get_name().to_owned()).unwrap_or_default()
}

/// The file `--write` merges into: `given`, else where the agent looks.
fn write_path(
    agent: Agent,
    given: Option<&PathBuf>,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, UserError> {
    if agent.file_kind().is_none() {
        return Err(UserError::usage(format!(
            "{} has no config file to write: it reads its environment",
            agent.label()
        ))
        .hint(format!(
            "put the exports of `podctl client-config {}` in your shell profile",
            agent_arg(agent)
        )));
    }
    if let Some(path) = given {
        return Ok(path.clone());
    }
    agent.default_path(getenv).ok_or_else(|| {
        UserError::usage(format!("cannot tell where {}'s config file is ($HOME is not set)", agent.label()))
            .hint("name the file: --write PATH")
    })
}
