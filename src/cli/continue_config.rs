//! `podctl continue-config [PROFILE] [--write PATH] [--key KEY]`: the Continue.dev model
//! block for a profile's proxy, printed, or merged into a Continue `config.yaml` (other
//! models and settings kept, ours replaced; comments are lost in the YAML round trip, so
//! the old file is kept as `config.yaml.bak`).

use std::path::PathBuf;

use clap::Args;

use crate::continue_config::{self, ModelBlock, Written};
use crate::profile::Profile;
use crate::ui::{Printer, UserError};

#[derive(Debug, Args)]
pub struct ContinueConfigArgs {
    /// The profile whose proxy Continue talks to (see `podctl profiles`).
    #[arg(default_value = "qwen")]
    pub profile: String,
    /// Merge the block into this Continue config instead of printing it (e.g.
    /// ~/.continue/config.yaml); the previous file is kept as PATH.bak.
    #[arg(long, value_name = "PATH")]
    pub write: Option<PathBuf>,
    /// The key Continue sends [default: $PODCTL_API_KEY, else api_keys in HOME/config.toml].
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
}

pub(super) fn run(args: &ContinueConfigArgs, printer: &Printer) -> anyhow::Result<()> {
    let (_, block) = profile_block(&args.profile, args.key.as_deref(), printer)?;
    let Some(path) = &args.write else {
        printer.data(&block.to_yaml()?)?;
        return Ok(());
    };
    let written = continue_config::write(path, &block).map_err(|e| match e {
        continue_config::WriteError::Merge { .. } => UserError::usage(format!("{e}; the file was not changed"))
            .hint("fix the YAML (or move the file away), then run this again; or paste the block from `podctl continue-config` by hand"),
        continue_config::WriteError::Io { .. } => UserError::failure(e.to_string())
            .hint("check that the folder exists and is writable"),
    })?;
    match written {
        Written::Created => printer.note(&format!("wrote {} with the model `{}`", path.display(), block.name)),
        Written::Updated { backup } => printer.note(&format!(
            "updated `{}` in {} (other models kept; comments and formatting are not kept by the YAML round trip: \
             the previous file is {})",
            block.name,
            path.display(),
            backup.display()
        )),
        Written::Unchanged => {
            printer.note(&format!("{} already has this `{}` block; unchanged", path.display(), block.name));
        }
    }
    printer.note(&format!("Continue talks to {} as `{}`", block.api_base, block.model));
    Ok(())
}

/// The profile named `name` and the block for its proxy, with the key from `key` or found
/// the way `start --proxy` finds it (a placeholder and a warning when there is none).
pub(super) fn profile_block(
    name: &str,
    key: Option<&str>,
    printer: &Printer,
) -> anyhow::Result<(Profile, ModelBlock)> {
    let profile = crate::profile::catalog::find(name).map_err(|e| super::start::profile_error(&e))?;
    let getenv = |k: &str| std::env::var(k).ok();
    let config = crate::supervisor::proxy::config_file();
    let key = continue_config::resolve_key(key, &profile, &getenv, &config).map(|(k, _)| k);
    let key = key.unwrap_or_else(|| {
        printer.warn(&format!(
            "no API key known (--key, ${}, api_keys in {}): the config has a placeholder; `podctl setup` writes a key",
            profile.proxy.api_key_env,
            config.display()
        ));
        continue_config::KEY_PLACEHOLDER.to_owned()
    });
    let block = ModelBlock::for_profile(&profile, &key, &getenv);
    Ok((profile, block))
}
