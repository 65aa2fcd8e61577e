//! Where podctl keeps things: the podctl home (profiles, keys, config) and the state dir
//! (instance records and logs). `/workspace` is the only place a RunPod pod keeps across
//! restarts, so it wins when present.
//!
//! * home: `$PODCTL_HOME`, else `/workspace/podctl` when `/workspace` exists, else
//!   `$XDG_CONFIG_HOME/podctl` (`~/.config/podctl`).
//! * state: `$PODCTL_STATE_DIR`, else `HOME/state`.

use std::path::{Path, PathBuf};

/// The folder RunPod keeps across pod restarts.
pub const WORKSPACE: &str = "/workspace";

/// The podctl home for this process's environment.
pub fn home() -> PathBuf {
    resolve_home(&|name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from), || {
        Path::new(WORKSPACE).is_dir()
    })
}

/// The state dir for this process's environment.
pub fn state_dir() -> PathBuf {
    match std::env::var_os("PODCTL_STATE_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => home().join("state"),
    }
}

/// Pure: the home from environment lookups and whether `/workspace` exists.
pub fn resolve_home(env: &dyn Fn(&str) -> Option<PathBuf>, workspace: impl FnOnce() -> bool) -> PathBuf {
    if let Some(home) = env("PODCTL_HOME") {
        return home;
    }
    if workspace() {
        return Path::new(WORKSPACE).join("podctl");
    }
    if let Some(config) = env("XDG_CONFIG_HOME") {
        return config.join("podctl");
    }
    env("HOME").unwrap_or_else(|| PathBuf::from("/tmp")).join(".config").join("podctl")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<PathBuf> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| PathBuf::from(v))
    }

    #[test]
    fn home_precedence() {
        let all = [("PODCTL_HOME", "/h"), ("XDG_CONFIG_HOME", "/x"), ("HOME", "/root")];
        assert_eq!(resolve_home(&env(&all), || true), PathBuf::from("/h"));
        assert_eq!(resolve_home(&env(&all[1..]), || true), PathBuf::from("/workspace/podctl"));
        assert_eq!(resolve_home(&env(&all[1..]), || false), PathBuf::from("/x/podctl"));
        assert_eq!(resolve_home(&env(&all[2..]), || false), PathBuf::from("/root/.config/podctl"));
    }
}
