//! Writing a merged config to disk: the previous file kept as `PATH.bak`, the new one put
//! in place atomically, a file that is not valid YAML refused and never overwritten.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use super::block::ModelBlock;
use super::merge::{MergeError, merge};

use crate::atomic_write::{self, Mode};

/// What [`write()`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// A new file.
    Created,
    /// Replaced; the previous file is at this path.
    Updated { backup: PathBuf },
    /// The file already held exactly this; not touched.
    Unchanged,
}

/// Why [`write()`] (or [`write_merged`], whose merge fails with `E`) failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError<E = MergeError> {
    #[error("{path}: {source}")]
    Merge { path: PathBuf, source: E },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Merges `block` into the config at `path`: the old file is copied to `PATH.bak` first and
/// the new one replaces it atomically ([`atomic_write`]). A new file is created with mode
/// 0600, since it holds a key; an existing file keeps its mode.
pub fn write(path: &Path, block: &ModelBlock) -> Result<Written, WriteError> {
    write_merged(path, |old| merge(old, block))
}

/// Replaces the file at `path` with `merge` of its text (`""` when there is none), as
/// [`write()`] does for Continue: any client's config file is written this way.
pub fn write_merged<E>(
    path: &Path,
    merge: impl FnOnce(&str) -> Result<String, E>,
) -> Result<Written, WriteError<E>> {
    let io = |source: std::io::Error| WriteError::Io { path: path.to_owned(), source };
    let (old, mode) = match std::fs::read_to_string(path) {
        Ok(text) => (Some(text), std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o7777),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, 0o600),
        Err(e) => return Err(io(e)),
    };
    let merged = merge(old.as_deref().unwrap_or(""))
        .map_err(|source| WriteError::Merge { path: path.to_owned(), source })?;
    if old.as_deref() == Some(merged.as_str()) {
        return Ok(Written::Unchanged);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let backup = old.is_some().then(|| sibling(path, ".bak"));
    if let Some(backup) = &backup {
        std::fs::copy(path, backup).map_err(|source| WriteError::Io { path: backup.clone(), source })?;
    }
    atomic_write::write(path, merged.as_bytes(), Mode::Exact(mode)).map_err(io)?;
    Ok(match backup {
        Some(backup) => Written::Updated { backup },
        None => Written::Created,
    })
}

/// `path` with `suffix` appended to its file name.
pub(super) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}
