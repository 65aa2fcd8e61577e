//! `podctl setup`, `continue-config`, `client-config` and `completions`, run as the real binary against a
//! sandboxed home (`PODCTL_HOME`, `PODCTL_STATE_DIR` and `HOME` in a temp dir): a clean
//! home becomes a working one, a second run changes nothing, edits and other models
//! survive, and `--install-vllm` fails clearly (stand-in Python and pip scripts). Beside
//! the checks of single lines, each run's whole output is a snapshot (`tests/snapshots/`);
//! the completion scripts are not (they are clap's, not podctl's words).

mod transcript;

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use podctl::proxy::config::FileConfig;
use serde_norway::Value;

use crate::transcript::{settings, transcript};

struct Sandbox {
    dir: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Sandbox {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("podctl-setup-it-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("sandbox");
        Self { dir, env: Vec::new() }
    }

    fn home(&self) -> PathBuf {
        self.dir.join("home")
    }

    fn config(&self) -> PathBuf {
        self.home().join("config.toml")
    }

    fn with(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.env.push((key, value.into()));
        self
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_podctl"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("PODCTL_HOME", self.home())
            .env("PODCTL_STATE_DIR", self.dir.join("state"))
            .env("HOME", &self.dir)
            .env("NO_COLOR", "1");
        for var in [
            "PODCTL_API_KEY",
            "PODCTL_VLLM_BIN",
            "PODCTL_PYTHON",
            "PODCTL_MIN_INSTALL_GB",
            "RUNPOD_POD_ID",
            "XDG_CONFIG_HOME",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.output().expect("podctl runs")
    }

    /// No vLLM anywhere (the override names a file that does not exist), so what setup says
    /// about vLLM does not depend on this machine.
    fn without_vllm(self) -> Self {
        let nowhere = self.dir.join("no-vllm").display().to_string();
        self.with("PODCTL_VLLM_BIN", nowhere)
    }

    /// Asserts the snapshot `name` of `out`, a run in this sandbox.
    fn assert_snapshot(&self, name: &str, out: &Output) {
        let dir = self.dir.display().to_string();
        settings(&[(&dir, "[SANDBOX]")]).bind(|| insta::assert_snapshot!(name, transcript(out)));
    }

    fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn key_in(config: &Path) -> String {
    let loaded = FileConfig::load(config).expect("config.toml parses as the proxy's config");
    assert_eq!(loaded.api_keys.len(), 1);
    loaded.api_keys[0].clone()
}

/// Every file and folder under `root`: path → (length, mtime, content hash).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u64, SystemTime, u64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        let mut hash = DefaultHasher::new();
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read_dir") {
                let entry = entry.expect("entry");
                entry.file_name().hash(&mut hash);
                stack.push(entry.path());
            }
        } else {
            std::fs::read(&path).expect("read").hash(&mut hash);
        }
        out.insert(path, (meta.len(), meta.modified().expect("mtime"), hash.finish()));
    }
    out
}

#[test]
fn setup_on_a_clean_home_makes_a_working_home() {
    let sb = Sandbox::new("clean").without_vllm();
    let out = sb.run(&["setup"]);
    ok(&out);
    sb.assert_snapshot("setup_on_a_clean_home", &out);
    for dir in ["home", "home/models", "home/logs", "state"] {
        assert!(sb.dir.join(dir).is_dir(), "{dir} missing");
    }
    assert_eq!(mode(&sb.config()), 0o600, "config.toml holds keys");
    let key = key_in(&sb.config());
    assert!(key.starts_with("sk-podctl-") && key.len() == "sk-podctl-".len() + 48, "{key}");
    for (name, _) in podctl::profile::catalog::BUILTIN {
        let path = sb.home().join("models").join(format!("{name}.toml"));
        podctl::profile::catalog::find_in(&path.display().to_string(), &[])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let text = stdout(&out);
    let printed: Value = serde_norway::from_str(&text).expect("stdout is the Continue block");
    let model = &printed["models"][0];
    assert_eq!(model["apiKey"].as_str(), Some(key.as_str()), "the real key, not a placeholder");
    assert_eq!(model["apiBase"].as_str(), Some("http://127.0.0.1:4000/v1"));
    assert_eq!(model["provider"].as_str(), Some("openai"));
    assert_eq!(model["capabilities"][0].as_str(), Some("tool_use"));
    assert!(model.get("requestOptions").is_none());
    let notes = stderr(&out);
    assert!(notes.contains("created") && notes.contains("podctl start qwen --proxy"), "{notes}");
    assert!(notes.contains("podctl doctor"), "{notes}");
}

#[test]
fn second_setup_changes_nothing_and_says_so() {
    let sb = Sandbox::new("twice").without_vllm();
    ok(&sb.run(&["setup"]));
    let before = snapshot(&sb.dir);
    let again = sb.run(&["setup"]);
    ok(&again);
    sb.assert_snapshot("setup_a_second_time", &again);
    assert_eq!(snapshot(&sb.dir), before, "a second run touches nothing");
    assert!(stderr(&again).contains("nothing changed"), "{}", stderr(&again));

    let json = sb.run(&["setup", "--json"]);
    ok(&json);
    assert_eq!(snapshot(&sb.dir), before);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v["created"], serde_json::json!([]));
    assert_eq!(v["unchanged"], true);
    assert_eq!(v["home"].as_str(), Some(sb.home().display().to_string().as_str()));
    assert_eq!(v["key_file"].as_str(), Some(sb.config().display().to_string().as_str()));
    assert!(v["kept"].as_array().is_some_and(|k| k.len() >= 9), "{v:#}");
    assert!(v["vllm"].is_null() || v["vllm"]["path"].is_string(), "{v:#}");
    assert!(v["continue"].as_str().is_some_and(|c| c.contains("apiBase")), "{v:#}");
}

#[test]
fn an_edited_profile_is_kept() {
    let sb = Sandbox::new("edited").without_vllm();
    ok(&sb.run(&["setup"]));
    let qwen = sb.home().join("models/qwen.toml");
    let mine = "model = \"Org/Mine\"\nserved_model_name = \"mine\"\n";
    std::fs::write(&qwen, mine).expect("edit");
    let out = sb.run(&["setup"]);
    ok(&out);
    sb.assert_snapshot("setup_keeps_an_edited_profile", &out);
    assert_eq!(std::fs::read_to_string(&qwen).expect("read"), mine);
    assert!(stderr(&out).contains("kept your edited qwen.toml"), "{}", stderr(&out));
    // The block follows the edited profile.
    assert!(stdout(&out).contains("model: \"mine\""), "{}", stdout(&out));
}

#[test]
fn rotate_key_changes_only_the_key() {
    let sb = Sandbox::new("rotate").without_vllm();
    ok(&sb.run(&["setup"]));
    let old_text = std::fs::read_to_string(sb.config()).expect("read");
    let old_key = key_in(&sb.config());
    let out = sb.run(&["setup", "--rotate-key"]);
    ok(&out);
    sb.assert_snapshot("setup_rotate_key", &out);
    let new_key = key_in(&sb.config());
    assert_ne!(new_key, old_key);
    assert_eq!(std::fs::read_to_string(sb.config()).expect("read").replace(&new_key, &old_key), old_text);
    assert_eq!(mode(&sb.config()), 0o600);
    assert!(stderr(&out).contains("old key stops working"), "{}", stderr(&out));
    assert!(stdout(&out).contains(&new_key), "the printed block has the new key");
}

#[test]
fn a_config_readable_by_others_is_made_private() {
    let sb = Sandbox::new("mode").without_vllm();
    ok(&sb.run(&["setup"]));
    std::fs::set_permissions(sb.config(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = sb.run(&["setup"]);
    ok(&out);
    sb.assert_snapshot("setup_makes_a_readable_config_private", &out);
    assert_eq!(mode(&sb.config()), 0o600);
    assert!(stderr(&out).contains("warning:") && stderr(&out).contains("0600"), "{}", stderr(&out));
}

#[test]
fn continue_config_write_merges_without_losing_other_models() {
    let sb = Sandbox::new("merge");
    ok(&sb.run(&["setup"]));
    let key = key_in(&sb.config());
    let path = sb.dir.join(".continue/config.yaml");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    let original = "name: Local Assistant\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: Llama\n    provider: ollama\n    model: llama3.1:8b\n    roles: [chat]\ncontext:\n  - provider: code\n";
    std::fs::write(&path, original).expect("write");

    let out = sb.run(&["continue-config", "--write", path.to_str().expect("utf-8")]);
    ok(&out);
    sb.assert_snapshot("continue_config_write_merges", &out);
    assert!(stderr(&out).contains("comments"), "says comments are not kept: {}", stderr(&out));
    let merged: Value =
        serde_norway::from_str(&std::fs::read_to_string(&path).expect("read")).expect("valid YAML");
    let models = merged["models"].as_sequence().expect("models");
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["name"].as_str(), Some("Llama"));
    assert_eq!(models[1]["apiKey"].as_str(), Some(key.as_str()));
    assert_eq!(merged["context"][0]["provider"].as_str(), Some("code"));
    assert_eq!(merged["name"].as_str(), Some("Local Assistant"));
    assert_eq!(std::fs::read_to_string(sb.dir.join(".continue/config.yaml.bak")).expect("backup"), original);

    // Again, with another key: ours is replaced, not duplicated.
    let out =
        sb.run(&["continue-config", "qwen", "--write", path.to_str().expect("utf-8"), "--key", "sk-other"]);
    ok(&out);
    let merged: Value =
        serde_norway::from_str(&std::fs::read_to_string(&path).expect("read")).expect("valid YAML");
    let models = merged["models"].as_sequence().expect("models");
    assert_eq!(models.len(), 2);
    assert_eq!(models[1]["apiKey"].as_str(), Some("sk-other"));

    // And once more, the same: nothing to do.
    let before = snapshot(&sb.dir.join(".continue"));
    let out =
        sb.run(&["continue-config", "qwen", "--write", path.to_str().expect("utf-8"), "--key", "sk-other"]);
    ok(&out);
    sb.assert_snapshot("continue_config_write_unchanged", &out);
    assert!(stderr(&out).contains("unchanged"), "{}", stderr(&out));
    assert_eq!(snapshot(&sb.dir.join(".continue")), before);

    // A new file is a minimal valid config.
    let fresh = sb.dir.join("fresh/config.yaml");
    ok(&sb.run(&["continue-config", "--write", fresh.to_str().expect("utf-8")]));
    let v: Value = serde_norway::from_str(&std::fs::read_to_string(&fresh).expect("read")).expect("valid");
    assert_eq!(v["schema"].as_str(), Some("v1"));
    assert_eq!(v["models"][0]["apiKey"].as_str(), Some(key.as_str()));
    assert_eq!(mode(&fresh), 0o600);
}

#[test]
fn continue_config_refuses_invalid_yaml_untouched() {
    let sb = Sandbox::new("invalid");
    let path = sb.dir.join("config.yaml");
    let broken = "models:\n  - name: a\n    roles: [chat\n";
    std::fs::write(&path, broken).expect("write");
    let out = sb.run(&["continue-config", "--write", path.to_str().expect("utf-8"), "--key", "k"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    sb.assert_snapshot("continue_config_refuses_invalid_yaml", &out);
    assert!(stderr(&out).contains("config.yaml") && stderr(&out).contains("hint:"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), broken);
    assert!(!sb.dir.join("config.yaml.bak").exists());
    assert_eq!(std::fs::read_dir(&sb.dir).expect("dir").count(), 1, "no temporary file left");
}

#[test]
fn continue_config_without_a_key_prints_a_placeholder_and_warns() {
    let sb = Sandbox::new("nokey");
    let out = sb.run(&["continue-config"]);
    ok(&out);
    sb.assert_snapshot("continue_config_without_a_key", &out);
    assert!(stdout(&out).contains("<your podctl key>"), "{}", stdout(&out));
    assert!(stderr(&out).contains("warning:"), "{}", stderr(&out));
    let sb = sb.with("PODCTL_API_KEY", "sk-from-env");
    let from_env = sb.run(&["continue-config"]);
    sb.assert_snapshot("continue_config_with_the_key_from_the_environment", &from_env);
    assert!(stdout(&from_env).contains("apiKey: \"sk-from-env\""));
}

#[test]
fn on_runpod_the_public_url_is_printed() {
    let sb = Sandbox::new("runpod").with("RUNPOD_POD_ID", "abc123").without_vllm();
    let out = sb.run(&["setup"]);
    ok(&out);
    sb.assert_snapshot("setup_on_runpod", &out);
    assert!(
        stdout(&out).contains("apiBase: \"https://abc123-4000.proxy.runpod.net/v1\""),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("https://abc123-4000.proxy.runpod.net/v1"), "next steps name it");
    let cc = sb.run(&["continue-config"]);
    ok(&cc);
    sb.assert_snapshot("continue_config_on_runpod", &cc);
    assert!(stdout(&cc).contains("https://abc123-4000.proxy.runpod.net/v1"));
}

#[test]
fn setup_then_start_works_without_editing() {
    let sb = Sandbox::new("start").without_vllm();
    ok(&sb.run(&["setup"]));
    // No PODCTL_API_KEY: the proxy's key comes from HOME/config.toml.
    let out = sb.run(&["start", "qwen", "--proxy", "--dry-run"]);
    ok(&out);
    sb.assert_snapshot("start_dry_run_after_setup", &out);
    let text = stdout(&out);
    assert!(
        text.contains(&sb.home().join("models/qwen.toml").display().to_string()),
        "the home copy: {text}"
    );
    assert!(text.contains("# proxy: http://0.0.0.0:4000/v1") && text.contains("1 key(s)"), "{text}");
    // Without setup, the same start is refused for want of a key.
    let bare = Sandbox::new("start-bare").without_vllm();
    let out = bare.run(&["start", "qwen", "--proxy", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    bare.assert_snapshot("start_without_setup_wants_a_key", &out);
    assert!(stderr(&out).contains("podctl setup"), "{}", stderr(&out));
}

/// A stand-in `python3 -m venv DIR` whose venv gets `pip` = `pip_body`.
fn fake_python(sb: &Sandbox, pip_body: &str) -> PathBuf {
    let pip = sb.script("pip-template", pip_body);
    let python = sb.script("python-template", "exit 0");
    sb.script(
        "fake-python3",
        &format!(
            "[ \"$1 $2\" = \"-m venv\" ] || exit 9\nmkdir -p \"$3/bin\" && cp {} \"$3/bin/python\" && cp {} \"$3/bin/pip\"",
            python.display(),
            pip.display()
        ),
    )
}

#[test]
fn install_vllm_fails_clearly() {
    // No network to the package index.
    let sb = Sandbox::new("nonet");
    let python = fake_python(
        &sb,
        "echo Collecting vllm\n\
         echo \"WARNING: Retrying after connection broken by 'NewConnectionError(Failed to establish a new connection: [Errno -3] Temporary failure in name resolution)'\" >&2\n\
         echo 'ERROR: Could not find a version that satisfies the requirement vllm (from versions: none)' >&2\n\
         echo 'ERROR: No matching distribution found for vllm' >&2\n\
         exit 1",
    );
    let sb = sb.with("PODCTL_PYTHON", python.display().to_string()).with("PODCTL_MIN_INSTALL_GB", "0");
    let out = sb.run(&["setup", "--install-vllm"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // No snapshot of this one: the stand-in pip writes to stdout and stderr, and the order
    // in which podctl reads lines from the two pipes is not fixed.
    let err = stderr(&out);
    assert!(
        err.contains("could not download vLLM") && err.contains("hint:") && err.contains("network"),
        "{err}"
    );
    assert!(err.contains("No matching distribution"), "pip's own words are shown: {err}");
    assert!(sb.home().join("logs/install-vllm.log").is_file());

    // A venv without pip.
    let sb = Sandbox::new("nopip");
    let python = sb.script(
        "fake-python3",
        "mkdir -p \"$3/bin\" && printf '#!/bin/sh\\n' > \"$3/bin/python\" && chmod 755 \"$3/bin/python\"",
    );
    let sb = sb.with("PODCTL_PYTHON", python.display().to_string()).with("PODCTL_MIN_INSTALL_GB", "0");
    let out = sb.run(&["setup", "--install-vllm"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    sb.assert_snapshot("install_vllm_venv_without_pip", &out);
    assert!(stderr(&out).contains("has no pip") && stderr(&out).contains("python3-venv"), "{}", stderr(&out));

    // No Python at all.
    let sb = Sandbox::new("nopython")
        .with("PODCTL_PYTHON", "/nonexistent/python3")
        .with("PODCTL_MIN_INSTALL_GB", "0");
    let out = sb.run(&["setup", "--install-vllm"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    sb.assert_snapshot("install_vllm_without_python", &out);
    assert!(stderr(&out).contains("not found") && stderr(&out).contains("PODCTL_PYTHON"), "{}", stderr(&out));

    // A full disk, from pip's output.
    let sb = Sandbox::new("diskfull");
    let python = fake_python(
        &sb,
        "echo 'ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device' >&2\nexit 1",
    );
    let sb = sb.with("PODCTL_PYTHON", python.display().to_string()).with("PODCTL_MIN_INSTALL_GB", "0");
    let out = sb.run(&["setup", "--install-vllm"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    sb.assert_snapshot("install_vllm_disk_full", &out);
    assert!(stderr(&out).contains("disk space"), "{}", stderr(&out));

    // Too little free space: refused before anything is downloaded, with the numbers.
    let sb = Sandbox::new("nospace").with("PODCTL_MIN_INSTALL_GB", "100000000");
    let out = sb.run(&["setup", "--install-vllm"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    sb.assert_snapshot("install_vllm_too_little_space", &out);
    assert!(stderr(&out).contains("GiB free") && stderr(&out).contains("100000000 GiB"), "{}", stderr(&out));
    assert!(!sb.home().join("venv").exists());
}

#[test]
fn install_vllm_then_start_uses_the_venv() {
    let sb = Sandbox::new("install");
    let vllm = sb.script("vllm-template", "echo 'INFO loading'; echo 0.11.0");
    let python = fake_python(
        &sb,
        &format!(
            "echo Collecting vllm\necho 'Successfully installed vllm-0.11.0'\ncp {} \"$(dirname \"$0\")/vllm\"",
            vllm.display()
        ),
    );
    // PATH without any vllm, so the venv's is the one found.
    let sb = sb
        .with("PODCTL_PYTHON", python.display().to_string())
        .with("PODCTL_MIN_INSTALL_GB", "0")
        .with("PATH", "/usr/bin:/bin");
    let out = sb.run(&["setup", "--install-vllm"]);
    ok(&out);
    sb.assert_snapshot("install_vllm", &out);
    let venv_vllm = sb.home().join("venv/bin/vllm");
    assert!(stderr(&out).contains("installed vLLM 0.11.0"), "{}", stderr(&out));
    assert!(stderr(&out).contains(&venv_vllm.display().to_string()), "{}", stderr(&out));

    let again = sb.run(&["setup", "--install-vllm", "--json"]);
    ok(&again);
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(v["vllm"]["path"].as_str(), Some(venv_vllm.display().to_string().as_str()));
    assert_eq!(v["vllm"]["version"].as_str(), Some("0.11.0"));
    assert_eq!(v["unchanged"], true);

    let dry = sb.run(&["start", "qwen", "--dry-run"]);
    ok(&dry);
    sb.assert_snapshot("start_dry_run_uses_the_venv", &dry);
    assert!(stdout(&dry).contains(&format!("{} serve", venv_vllm.display())), "{}", stdout(&dry));
}

#[test]
fn completions_for_each_shell() {
    let sb = Sandbox::new("completions");
    for shell in ["bash", "zsh", "fish"] {
        let out = sb.run(&["completions", shell]);
        ok(&out);
        let text = stdout(&out);
        assert!(text.contains("podctl") && text.contains("continue-config"), "{shell}: {text}");
    }
    let bad = sb.run(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Every agent's config on a pod, as printed: each a snapshot, each in its own format,
/// with RunPod's public URL and the key; `client-config continue` is `continue-config`.
#[test]
fn client_config_prints_what_each_agent_needs() {
    let sb = Sandbox::new("clients").with("RUNPOD_POD_ID", "abc123").with("PODCTL_API_KEY", "sk-pod-key");
    for agent in ["continue", "claude", "codex", "opencode", "qwen"] {
        let out = sb.run(&["client-config", agent]);
        ok(&out);
        sb.assert_snapshot(&format!("client_config_{agent}"), &out);
        let text = stdout(&out);
        assert!(text.contains("sk-pod-key") || agent == "codex", "{agent}: {text}");
        assert!(text.contains("https://abc123-4000.proxy.runpod.net"), "{agent}: {text}");
    }
    assert_eq!(stdout(&sb.run(&["client-config", "continue"])), stdout(&sb.run(&["continue-config"])));
    let codex = sb.run(&["client-config", "codex", "qwen", "--key", "sk-flag"]);
    assert!(!stdout(&codex).contains("sk-flag"), "the key stays out of config.toml");
    assert!(stderr(&codex).contains("export PODCTL_API_KEY='sk-flag'"), "{}", stderr(&codex));
    let unknown = sb.run(&["client-config", "cursor"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("claude"), "lists the agents: {}", stderr(&unknown));
}

/// `--write` puts each agent's config where the agent looks (under HOME here), keeps
/// every other setting and the previous file as .bak, changes nothing the second time,
/// and refuses a file it cannot read, untouched.
#[test]
fn client_config_write_merges_into_each_agents_file() {
    let sb = Sandbox::new("clients-write").with("PODCTL_API_KEY", "sk-w");
    let codex = sb.dir.join(".codex/config.toml");
    std::fs::create_dir_all(codex.parent().expect("parent")).expect("dir");
    let original =
        "# mine\napproval_policy = \"never\" # keep\n\n[model_providers.other]\nbase_url = \"http://x/v1\"\n";
    std::fs::write(&codex, original).expect("write");
    let out = sb.run(&["client-config", "codex", "--write"]);
    ok(&out);
    sb.assert_snapshot("client_config_write_codex", &out);
    let merged = std::fs::read_to_string(&codex).expect("read");
    assert!(merged.starts_with("# mine\napproval_policy = \"never\" # keep\n"), "{merged}");
    let t: toml::Table = toml::from_str(&merged).expect("toml");
    assert_eq!(t["model_provider"].as_str(), Some("podctl"));
    assert_eq!(t["model_providers"]["other"]["base_url"].as_str(), Some("http://x/v1"));
    assert_eq!(t["model_providers"]["podctl"]["base_url"].as_str(), Some("http://127.0.0.1:4000/v1"));
    assert_eq!(std::fs::read_to_string(sb.dir.join(".codex/config.toml.bak")).expect("backup"), original);
    let again = sb.run(&["client-config", "codex", "--write"]);
    ok(&again);
    assert!(stderr(&again).contains("unchanged"), "{}", stderr(&again));

    let claude = sb.dir.join(".claude/settings.json");
    std::fs::create_dir_all(claude.parent().expect("parent")).expect("dir");
    std::fs::write(&claude, r#"{"permissions": {"allow": ["Read"]}, "env": {"MINE": "1"}}"#).expect("write");
    ok(&sb.run(&["client-config", "claude", "--write"]));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&claude).expect("read")).expect("json");
    assert_eq!(v["permissions"]["allow"][0], "Read");
    assert_eq!(v["env"]["MINE"], "1");
    assert_eq!(v["env"]["ANTHROPIC_BASE_URL"], "http://127.0.0.1:4000");
    assert_eq!(v["env"]["ANTHROPIC_API_KEY"], "sk-w");

    // A new OpenCode config is the template itself, private (it holds the key).
    let out = sb.run(&["client-config", "opencode", "--write"]);
    ok(&out);
    let opencode = sb.dir.join(".config/opencode/opencode.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&opencode).expect("read")).expect("json");
    assert_eq!(v["provider"]["pod"]["options"]["apiKey"], "sk-w");
    assert_eq!(mode(&opencode), 0o600);

    // JSON with comments is not read: refused, untouched.
    let commented = sb.dir.join("commented.json");
    std::fs::write(&commented, "{ // mine\n}").expect("write");
    let out = sb.run(&["client-config", "opencode", "--write", commented.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    sb.assert_snapshot("client_config_write_refuses_unreadable_json", &out);
    assert_eq!(std::fs::read_to_string(&commented).expect("read"), "{ // mine\n}");

    // Qwen Code has no file: a clear refusal.
    let out = sb.run(&["client-config", "qwen", "--write"]);
    assert_eq!(out.status.code(), Some(2));
    sb.assert_snapshot("client_config_write_qwen_refused", &out);
}
