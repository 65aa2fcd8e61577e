//! `podctl setup`'s file work, idempotent: the podctl home with its `models/`, `state/` and
//! `logs/` folders, editable copies of the built-in profiles (never overwriting one that
//! exists), and `config.toml` with a generated API key (mode 0600; `--rotate-key` replaces
//! only the key). Everything is decided from a [`Setup`] value, so tests choose the home
//! and whether `/workspace` exists; what was done comes back as a list of [`Action`]s. A
//! second run creates nothing and says so. Installing vLLM is [`install`].

pub mod autostart;
pub mod install;

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::atomic_write::{self, Mode};
use crate::profile::{Origin, Profile, catalog};
use crate::proxy::config::FileConfig;

/// What `setup` works on.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The podctl home ([`crate::home::home`]).
    pub home: PathBuf,
    /// The state dir ([`crate::home::state_dir`]).
    pub state: PathBuf,
    /// `/workspace` exists: the profile copies keep their caches there.
    pub workspace: bool,
    /// Replace the key in an existing `config.toml`.
    pub rotate_key: bool,
}

/// What happened to one thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Did {
    /// Made now.
    Created,
    /// Already there, left alone.
    Kept,
    /// Already there, changed (key rotated, mode fixed).
    Changed,
}

/// One thing `setup` looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub did: Did,
    pub path: PathBuf,
    /// A few words for the person: "your edited qwen.toml", "API key rotated".
    pub what: String,
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub actions: Vec<Action>,
    /// Things the person should know (an invalid config, a too-open mode that was fixed).
    pub warnings: Vec<String>,
}

impl Report {
    /// Nothing was created or changed.
    pub fn unchanged(&self) -> bool {
        self.actions.iter().all(|a| a.did == Did::Kept)
    }

    /// The paths with `did`.
    pub fn paths(&self, did: Did) -> Vec<&Path> {
        self.actions.iter().filter(|a| a.did == did).map(|a| a.path.as_path()).collect()
    }

    fn push(&mut self, did: Did, path: &Path, what: impl Into<String>) {
        self.actions.push(Action { did, path: path.to_owned(), what: what.into() });
    }
}

/// Why setup could not finish.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SetupError + '_ {
    move |source| SetupError::Io { path: path.to_owned(), source }
}

/// The caches a pod keeps across restarts (inserted into profiles' `[env]` on `/workspace`).
pub const WORKSPACE_ENV: &[(&str, &str)] =
    &[("HF_HOME", "/workspace/hf"), ("VLLM_CACHE_ROOT", "/workspace/vllm-cache")];

/// The prefix of generated keys.
pub const KEY_PREFIX: &str = "sk-podctl-";

impl Setup {
    /// The podctl config (`HOME/config.toml`).
    pub fn config_path(&self) -> PathBuf {
        self.home.join("config.toml")
    }

    /// The profile copies' folder.
    pub fn models_dir(&self) -> PathBuf {
        self.home.join("models")
    }

    /// Does the work; safe to run again.
    pub fn run(&self) -> Result<Report, SetupError> {
        let mut report = Report::default();
        for dir in [self.home.clone(), self.models_dir(), self.state.clone(), self.home.join("logs")] {
            if dir.is_dir() {
                report.push(Did::Kept, &dir, "folder");
            } else {
                std::fs::create_dir_all(&dir).map_err(io(&dir))?;
                report.push(Did::Created, &dir, "folder");
            }
        }
        self.profiles(&mut report)?;
        self.config(&mut report)?;
        Ok(report)
    }

    fn profiles(&self, report: &mut Report) -> Result<(), SetupError> {
        for (name, builtin) in catalog::BUILTIN {
            let path = self.models_dir().join(format!("{name}.toml"));
            let text = if self.workspace { with_workspace_env(builtin) } else { (*builtin).to_owned() };
            match std::fs::read_to_string(&path) {
                Ok(current) if current == *builtin || current == with_workspace_env(builtin) => {
                    report.push(Did::Kept, &path, format!("{name}.toml"));
                }
                Ok(_) => report.push(Did::Kept, &path, format!("your edited {name}.toml")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let mut file = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&path)
                        .map_err(io(&path))?;
                    file.write_all(text.as_bytes()).map_err(io(&path))?;
                    report.push(Did::Created, &path, format!("{name}.toml"));
                }
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Ok(())
    }

    fn config(&self, report: &mut Report) -> Result<(), SetupError> {
        let path = self.config_path();
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let text = config_text(&new_key());
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(io(&path))?;
                file.write_all(text.as_bytes()).map_err(io(&path))?;
                report.push(Did::Created, &path, "config with a new API key");
                return Ok(());
            }
            Err(e) => return Err(io(&path)(e)),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io(&path))?;
            report.warnings.push(format!(
                "{} was readable by others (mode {mode:03o}); it holds API keys, so it is now 0600",
                path.display()
            ));
            report.push(Did::Changed, &path, format!("mode {mode:03o} → 600"));
        }
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        if self.rotate_key {
            let rotated = rotate_key(&text, &new_key());
            toml::from_str::<FileConfig>(&rotated)
                .map_err(|e| SetupError::Config { path: path.clone(), message: e.to_string() })?;
            atomic_write::write(&path, rotated.as_bytes(), Mode::Exact(0o600)).map_err(io(&path))?;
            report.push(Did::Changed, &path, "API key rotated");
            return Ok(());
        }
        match toml::from_str::<FileConfig>(&text) {
            Ok(config) if config.api_keys.is_empty() && config.api_key_file.is_none() => {
                report.warnings.push(format!(
                    "{} has no api_keys: `podctl start --proxy` needs $PODCTL_API_KEY; `podctl setup --rotate-key` adds one",
                    path.display()
                ));
            }
            Ok(_) => {}
            Err(e) => report.warnings.push(format!(
                "{} is not a valid config ({}); `podctl start --proxy` will refuse it until fixed",
                path.display(),
                e.message().trim()
            )),
        }
        if !report.actions.iter().any(|a| a.path == path) {
            report.push(Did::Kept, &path, "config and its API key");
        }
        Ok(())
    }
}

/// A fresh key: `sk-podctl-` and 48 random hex digits.
pub fn new_key() -> String {
    let mut key = String::from(KEY_PREFIX);
    for _ in 0..3 {
        key.push_str(&format!("{:016x}", fastrand::u64(..)));
    }
    key
}

/// The config `setup` writes: the `podctl proxy --config` format, commented.
pub fn config_text(key: &str) -> String {
    format!(
        "# podctl's config, written by `podctl setup`. It holds the API keys clients send, so\n\
         # keep it private (mode 0600). Same format as `podctl proxy --config FILE`.\n\
         #\n\
         # `podctl start PROFILE --proxy` takes the keys from here unless $PODCTL_API_KEY is set\n\
         # (the variable the profile's [proxy] api_key_env names); the proxy's host and port\n\
         # then come from the profile's [proxy] table. host and port below are for\n\
         # `podctl proxy --config`.\n\
         \n\
         host = \"0.0.0.0\"   # RunPod's HTTP proxy reaches the pod on 0.0.0.0\n\
         port = 4000        # expose this port in the pod's settings\n\
         \n\
         # Clients send one as `Authorization: Bearer <key>` (Continue: `apiKey`).\n\
         # `podctl setup --rotate-key` replaces it; the old key stops working when the proxy restarts.\n\
         {}\n",
        key_line(key)
    )
}

fn key_line(key: &str) -> String {
    format!("api_keys = [\"{key}\"]")
}

/// `text` with its `api_keys = [...]` (one line or several) replaced by `[key]`, the rest
/// kept byte for byte. Without such a line, it goes before the first table.
pub fn rotate_key(text: &str, key: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let is_key_line = |l: &str| {
        let t = l.trim_start();
        t.strip_prefix("api_keys").is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let mut out = String::with_capacity(text.len() + 80);
    if let Some(start) = lines.iter().position(|l| is_key_line(l)) {
        // An array spread over lines ends at the line holding its `]`.
        let mut end = start;
        let mut depth = 0i32;
        for (i, line) in lines.iter().enumerate().skip(start) {
            let code = line.split('#').next().unwrap_or("");
            depth += i32::try_from(code.matches('[').count()).unwrap_or(0);
            depth -= i32::try_from(code.matches(']').count()).unwrap_or(0);
            end = i;
            if depth <= 0 {
                break;
            }
        }
        lines[..start].iter().for_each(|l| out.push_str(l));
        out.push_str(&key_line(key));
        out.push('\n');
        lines[end + 1..].iter().for_each(|l| out.push_str(l));
    } else {
        let table = lines.iter().position(|l| l.trim_start().starts_with('[')).unwrap_or(lines.len());
        lines[..table].iter().for_each(|l| out.push_str(l));
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&key_line(key));
        out.push('\n');
        lines[table..].iter().for_each(|l| out.push_str(l));
    }
    out
}

/// A built-in profile's text with [`WORKSPACE_ENV`] added to its `[env]` table (right after
/// the `[env]` header, or in a new table at the end), skipping keys it already sets.
pub fn with_workspace_env(text: &str) -> String {
    let set = Profile::parse("builtin", Origin::Builtin, text).map(|p| p.env).unwrap_or_default();
    let mut lines = String::new();
    for (k, v) in WORKSPACE_ENV.iter().filter(|(k, _)| !set.contains_key(*k)) {
        let _ = writeln!(lines, "{k} = \"{v}\"   # podctl setup: on /workspace, kept across pod restarts");
    }
    if lines.is_empty() {
        return text.to_owned();
    }
    let is_env_header = |l: &str| {
        l.trim()
            .strip_prefix("[env]")
            .is_some_and(|rest| rest.trim().is_empty() || rest.trim().starts_with('#'))
    };
    let mut out = String::with_capacity(text.len() + lines.len() + 8);
    let mut done = false;
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        if !done && is_env_header(line) {
            if !line.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&lines);
            done = true;
        }
    }
    if !done {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("\n[env]\n");
        out.push_str(&lines);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A setup whose home and state dir are in `dir`.
    fn setup_in(dir: &Path, workspace: bool, rotate_key: bool) -> Setup {
        Setup { home: dir.join("home"), state: dir.join("state"), workspace, rotate_key }
    }

    #[test]
    fn workspace_env_goes_into_every_builtin_and_still_parses() {
        for (name, text) in catalog::BUILTIN {
            let edited = with_workspace_env(text);
            let p = Profile::parse(name, Origin::Builtin, &edited)
                .unwrap_or_else(|e| panic!("{name}: {e}\n{edited}"));
            assert_eq!(p.env.get("HF_HOME").map(String::as_str), Some("/workspace/hf"), "{name}");
            assert_eq!(p.env.get("VLLM_CACHE_ROOT").map(String::as_str), Some("/workspace/vllm-cache"));
            assert_eq!(with_workspace_env(&edited), edited, "{name}: a second pass adds nothing");
        }
        // No [env] table: one is appended. A user's HF_HOME is kept.
        let p = Profile::parse(
            "x",
            Origin::Builtin,
            &with_workspace_env("model = \"a/b\"\n[proxy]\nport = 4001"),
        )
        .expect("appended table parses");
        assert_eq!(p.env.len(), 2);
        assert_eq!(p.proxy.port, 4001);
        let mine = with_workspace_env("model = \"a/b\"\n[env] # mine\nHF_HOME = \"/data\"\n");
        let p = Profile::parse("x", Origin::Builtin, &mine).expect("parses");
        assert_eq!(p.env.get("HF_HOME").map(String::as_str), Some("/data"));
        assert_eq!(p.env.get("VLLM_CACHE_ROOT").map(String::as_str), Some("/workspace/vllm-cache"));
    }

    #[test]
    fn config_text_parses_and_rotation_changes_only_the_key() {
        let key = new_key();
        assert_eq!(key.len(), KEY_PREFIX.len() + 48);
        assert!(key[KEY_PREFIX.len()..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(key, new_key());
        let text = config_text(&key);
        let c: FileConfig = toml::from_str(&text).expect("parses");
        assert_eq!(c.api_keys, [key.as_str()]);
        assert_eq!(c.port, Some(4000));
        assert_eq!(c.host.map(|h| h.to_string()).as_deref(), Some("0.0.0.0"));

        let rotated = rotate_key(&text, "sk-new");
        assert_eq!(toml::from_str::<FileConfig>(&rotated).expect("parses").api_keys, ["sk-new"]);
        assert_eq!(rotated.replace("sk-new", &key), text, "only the key changed");

        let multi = "port = 1\napi_keys = [\n  \"a\", # first\n  \"b\",\n]\n[models.x]\nupstream = \"http://h:1/v1\"\n";
        let rotated = rotate_key(multi, "k");
        assert_eq!(rotated, "port = 1\napi_keys = [\"k\"]\n[models.x]\nupstream = \"http://h:1/v1\"\n");
        let none = "port = 1\n[models.x]\nupstream = \"http://h:1/v1\"\n";
        let c: FileConfig = toml::from_str(&rotate_key(none, "k")).expect("inserted before the table");
        assert_eq!(c.api_keys, ["k"]);
        assert!(c.models.contains_key("x"));
        assert_eq!(rotate_key("", "k"), "api_keys = [\"k\"]\n");
    }

    #[test]
    fn second_run_keeps_everything_and_edits_survive() {
        let d = tempfile::tempdir().expect("temp dir");
        let first = setup_in(d.path(), true, false).run().expect("first");
        assert!(!first.unchanged());
        assert!(first.warnings.is_empty(), "{:?}", first.warnings);
        let config = d.path().join("home/config.toml");
        assert_eq!(std::fs::metadata(&config).expect("meta").permissions().mode() & 0o777, 0o600);
        let loaded = FileConfig::load(&config).expect("config loads");
        assert_eq!(loaded.api_keys.len(), 1);
        for (name, _) in catalog::BUILTIN {
            let path = d.path().join(format!("home/models/{name}.toml"));
            let p = catalog::find_in(&path.display().to_string(), &[]).expect("copy parses");
            assert_eq!(p.env.get("HF_HOME").map(String::as_str), Some("/workspace/hf"));
        }
        for dir in ["home", "home/models", "home/logs", "state"] {
            assert!(d.path().join(dir).is_dir(), "{dir}");
        }

        let qwen = d.path().join("home/models/qwen.toml");
        std::fs::write(&qwen, "model = \"mine/model\"\n").expect("edit");
        let second = setup_in(d.path(), true, false).run().expect("second");
        assert!(second.unchanged(), "{:?}", second.actions);
        assert!(second.actions.iter().any(|a| a.what == "your edited qwen.toml"));
        assert_eq!(std::fs::read_to_string(&qwen).expect("read"), "model = \"mine/model\"\n");

        // A copy made off /workspace is "unchanged" on /workspace too (and the reverse).
        let third = setup_in(d.path(), false, false).run().expect("third");
        assert!(third.actions.iter().any(|a| a.what == "qwen3.toml"));

        // A too-open config is fixed; rotation changes the key only.
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let fixed = setup_in(d.path(), false, false).run().expect("fix");
        assert_eq!(fixed.warnings.len(), 1);
        assert_eq!(std::fs::metadata(&config).expect("meta").permissions().mode() & 0o777, 0o600);
        let before = std::fs::read_to_string(&config).expect("read");
        let rotated = setup_in(d.path(), false, true).run().expect("rotate");
        assert!(rotated.actions.iter().any(|a| a.did == Did::Changed && a.what == "API key rotated"));
        let after = FileConfig::load(&config).expect("still loads");
        assert_ne!(after.api_keys, loaded.api_keys);
        assert_eq!(std::fs::metadata(&config).expect("meta").permissions().mode() & 0o777, 0o600);
        let after_text = std::fs::read_to_string(&config).expect("read");
        assert_eq!(after_text.replace(&after.api_keys[0], &loaded.api_keys[0]), before);
    }
}
