//! Which key the block carries: the one clients must send to the profile's proxy, found the
//! way `start --proxy` finds it.

use std::path::{Path, PathBuf};

use crate::profile::Profile;

/// Where a key came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `--key`.
    Flag,
    /// The variable the profile's `[proxy] api_key_env` names.
    Env(String),
    /// `api_keys` (or `api_key_file`) of the podctl config.
    ConfigFile(PathBuf),
}

/// The key clients must send to `profile`'s proxy, as `start --proxy` picks it: `flag`,
/// else the profile's `api_key_env` variable, else the first of `config`'s keys.
pub fn resolve_key(
    flag: Option<&str>,
    profile: &Profile,
    getenv: &dyn Fn(&str) -> Option<String>,
    config: &Path,
) -> Option<(String, KeySource)> {
    if let Some(key) = flag.map(str::trim).filter(|k| !k.is_empty()) {
        return Some((key.to_owned(), KeySource::Flag));
    }
    let var = &profile.proxy.api_key_env;
    if let Some(key) = getenv(var).map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()) {
        return Some((key, KeySource::Env(var.clone())));
    }
    let file = crate::proxy::config::FileConfig::load(config).ok()?;
    let keys = match (file.api_keys.is_empty(), &file.api_key_file) {
        (true, Some(key_file)) => crate::proxy::config::read_key_file(key_file).ok()?,
        _ => file.api_keys,
    };
    keys.into_iter().next().map(|k| (k, KeySource::ConfigFile(config.to_owned())))
}
