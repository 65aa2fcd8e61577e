//! The API keys clients must send: read from a key file, and required before listening
//! beyond loopback.

use std::net::IpAddr;
use std::path::Path;

use super::error::ConfigError;

/// Reads keys from a file: one per line, blank lines and `#` comments skipped.
pub fn read_key_file(path: &Path) -> Result<Vec<String>, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    let keys: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if keys.is_empty() {
        return Err(ConfigError::NoKeyInFile { path: path.into() });
    }
    Ok(keys)
}

/// A warning when a file that holds API keys can be read or written by other users
/// (`chmod 600` fixes it); `None` when it is private or cannot be examined.
pub fn exposure_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "{} holds API keys and other users can read it (mode {mode:03o}); fix: chmod 600 {}",
            path.display(),
            path.display()
        )
    })
}

/// Binding beyond loopback without keys exposes a GPU to anyone who finds the URL.
pub fn check_exposure(host: IpAddr, keys: &[String], insecure_no_auth: bool) -> Result<(), ConfigError> {
    if host.is_loopback() || !keys.is_empty() || insecure_no_auth {
        return Ok(());
    }
    Err(ConfigError::OpenWithoutKey { host })
}
