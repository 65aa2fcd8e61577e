//! The Continue.dev model block for a profile, exactly as the client contract has it
//! (provider `openai`, `capabilities: [tool_use]`, a context length never above the served
//! `max_model_len`, no `requestOptions.timeout`), and merging it into a Continue
//! `config.yaml` without losing the user's other models or settings.
//!
//! Merging is a YAML round trip: the models and keys survive, but **comments and the
//! file's own formatting do not**. The previous file is kept as `config.yaml.bak`, and a
//! file that is not valid YAML is refused, never overwritten.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use crate::atomic_write::{self, Mode};
use crate::profile::{MaxModelLen, Profile};

/// The longest context the generated block asks for (Continue's own budget; larger only
/// slows every request).
pub const MAX_CONTEXT: u32 = 131_072;
/// `defaultCompletionOptions.maxTokens`.
pub const MAX_TOKENS: u32 = 8192;
/// `defaultCompletionOptions.temperature`.
pub const TEMPERATURE: f64 = 0.1;
/// The key shown when none is known.
pub const KEY_PLACEHOLDER: &str = "<your podctl key>";

/// One model entry of a Continue `config.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBlock {
    /// `name`: what Continue shows, and what [`merge`] matches on.
    pub name: String,
    /// `model`: the name the proxy serves.
    pub model: String,
    pub api_base: String,
    pub api_key: String,
    pub context_length: u32,
    pub max_tokens: u32,
    pub temperature: f64,
}

/// The proxy's URL as a client reaches it: RunPod's public URL when `RUNPOD_POD_ID` is
/// set (the port must be exposed in the pod's settings), else loopback.
pub fn api_base(getenv: &dyn Fn(&str) -> Option<String>, port: u16) -> String {
    match getenv("RUNPOD_POD_ID").map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()) {
        Some(pod) => format!("https://{pod}-{port}.proxy.runpod.net/v1"),
        None => format!("http://127.0.0.1:{port}/v1"),
    }
}

impl ModelBlock {
    /// The block for `profile` behind its proxy, with `api_key`.
    pub fn for_profile(profile: &Profile, api_key: &str, getenv: &dyn Fn(&str) -> Option<String>) -> Self {
        let context_length = match profile.max_model_len {
            Some(MaxModelLen::Tokens(n)) => n.min(MAX_CONTEXT),
            Some(MaxModelLen::Auto) | None => MAX_CONTEXT,
        };
        Self {
            name: format!("{} (podctl)", profile.served_model_name),
            model: profile.served_model_name.clone(),
            api_base: api_base(getenv, profile.proxy.port),
            api_key: api_key.to_owned(),
            context_length,
            max_tokens: MAX_TOKENS,
            temperature: TEMPERATURE,
        }
    }

    /// The entry as a YAML value (for [`merge`]).
    pub fn to_value(&self) -> Value {
        let s = |v: &str| Value::String(v.to_owned());
        let list = |items: &[&str]| Value::Sequence(items.iter().map(|i| s(i)).collect());
        let mut options = Mapping::new();
        options.insert(s("contextLength"), Value::Number(self.context_length.into()));
        options.insert(s("maxTokens"), Value::Number(self.max_tokens.into()));
        options.insert(s("temperature"), Value::Number(self.temperature.into()));
        let mut m = Mapping::new();
        m.insert(s("name"), s(&self.name));
        m.insert(s("provider"), s("openai"));
        m.insert(s("model"), s(&self.model));
        m.insert(s("apiBase"), s(&self.api_base));
        m.insert(s("apiKey"), s(&self.api_key));
        m.insert(s("roles"), list(&["chat", "edit", "apply"]));
        m.insert(s("capabilities"), list(&["tool_use"]));
        m.insert(s("defaultCompletionOptions"), Value::Mapping(options));
        Value::Mapping(m)
    }

    /// The block to paste under a config's `models:`, with the contract's comments.
    pub fn to_yaml(&self) -> String {
        format!(
            "models:\n  - name: {name}\n    provider: openai            # not `vllm`: that one templates the chat client-side\n    \
             model: {model}\n    apiBase: {base}\n    apiKey: {key}\n    roles: [chat, edit, apply]\n    \
             capabilities: [tool_use]    # without it the IDE never sends tools\n    defaultCompletionOptions:\n      \
             contextLength: {ctx}     # never above the served max_model_len\n      maxTokens: {max}\n      \
             temperature: {temp}\n",
            name = scalar(&self.name),
            model = scalar(&self.model),
            base = scalar(&self.api_base),
            key = scalar(&self.api_key),
            ctx = self.context_length,
            max = self.max_tokens,
            temp = self.temperature,
        )
    }
}

/// A string as a YAML scalar, quoted only when YAML needs it.
fn scalar(text: &str) -> String {
    serde_norway::to_string(&Value::String(text.to_owned()))
        .map_or_else(|_| format!("{text:?}"), |s| s.trim_end().to_owned())
}

/// Why a config cannot be merged into.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("not valid YAML: {0}")]
    Yaml(String),
    #[error("the top level is not a mapping of settings (`name:`, `models:`, …)")]
    NotMapping,
    #[error("`models` is not a list")]
    ModelsNotList,
}

/// `existing` (a Continue `config.yaml`, possibly empty) with `block` in its `models`: an
/// entry with the same `name` is replaced in place (later duplicates dropped), else the
/// block is appended. Every other model and key is kept; comments are not. An empty file
/// becomes a minimal valid config.
pub fn merge(existing: &str, block: &ModelBlock) -> Result<String, MergeError> {
    let parsed: Value = if existing.trim().is_empty() {
        Value::Null
    } else {
        serde_norway::from_str(existing).map_err(|e| MergeError::Yaml(e.to_string()))?
    };
    let mut root = match parsed {
        Value::Null => {
            let mut m = Mapping::new();
            m.insert("name".into(), "podctl".into());
            m.insert("version".into(), "1.0.0".into());
            m.insert("schema".into(), "v1".into());
            m
        }
        Value::Mapping(m) => m,
        _ => return Err(MergeError::NotMapping),
    };
    let ours = block.to_value();
    let models = root.entry("models".into()).or_insert(Value::Null);
    if models.is_null() {
        *models = Value::Sequence(Vec::new());
    }
    let Value::Sequence(list) = models else { return Err(MergeError::ModelsNotList) };
    let same = |v: &Value| v.get("name").and_then(Value::as_str) == Some(block.name.as_str());
    match list.iter().position(same) {
        Some(first) => {
            list[first] = ours;
            let mut index = 0;
            list.retain(|v| {
                index += 1;
                index - 1 == first || !same(v)
            });
        }
        None => list.push(ours),
    }
    serde_norway::to_string(&Value::Mapping(root)).map_err(|e| MergeError::Yaml(e.to_string()))
}

/// What [`write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// A new file.
    Created,
    /// Replaced; the previous file is at this path.
    Updated { backup: PathBuf },
    /// The file already held exactly this; not touched.
    Unchanged,
}

/// Why [`write`] failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path}: {source}")]
    Merge { path: PathBuf, source: MergeError },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Merges `block` into the config at `path`: the old file is copied to `PATH.bak` first and
/// the new one replaces it atomically ([`atomic_write`]). A new file is
/// created with mode 0600, since it holds a key; an existing file keeps its mode.
pub fn write(path: &Path, block: &ModelBlock) -> Result<Written, WriteError> {
    let io = |source: std::io::Error| WriteError::Io { path: path.to_owned(), source };
    let (old, mode) = match std::fs::read_to_string(path) {
        Ok(text) => (Some(text), std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o7777),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, 0o600),
        Err(e) => return Err(io(e)),
    };
    let merged = merge(old.as_deref().unwrap_or(""), block)
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
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Origin;

    fn profile(extra: &str) -> Profile {
        let text = format!("model = \"Org/M\"\nserved_model_name = \"m-7b\"\n{extra}");
        Profile::parse("m", Origin::Builtin, &text).expect("profile")
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn block() -> ModelBlock {
        ModelBlock::for_profile(&profile("max_model_len = 32768\n"), "sk-test", &no_env)
    }

    #[test]
    fn block_follows_the_client_contract() {
        let b = block();
        assert_eq!(b.name, "m-7b (podctl)");
        assert_eq!(b.api_base, "http://127.0.0.1:4000/v1");
        assert_eq!(b.context_length, 32768);
        let big = ModelBlock::for_profile(&profile("max_model_len = 262144\n"), "k", &no_env);
        assert_eq!(big.context_length, MAX_CONTEXT);
        let auto = ModelBlock::for_profile(&profile("max_model_len = \"auto\"\n"), "k", &no_env);
        assert_eq!(auto.context_length, MAX_CONTEXT);
        let unknown = ModelBlock::for_profile(&profile("[proxy]\nport = 4100\n"), "k", &no_env);
        assert_eq!(unknown.context_length, MAX_CONTEXT);
        let pod = |k: &str| (k == "RUNPOD_POD_ID").then(|| "abc123".to_owned());
        assert_eq!(
            ModelBlock::for_profile(&profile("[proxy]\nport = 4100\n"), "k", &pod).api_base,
            "https://abc123-4100.proxy.runpod.net/v1"
        );

        // The printed text and the value are the same config.
        let printed: Value = serde_norway::from_str(&b.to_yaml()).expect("printed block parses");
        let entry = &printed["models"][0];
        assert_eq!(entry, &b.to_value());
        assert_eq!(entry["provider"].as_str(), Some("openai"));
        assert_eq!(entry["model"].as_str(), Some("m-7b"));
        assert_eq!(entry["apiKey"].as_str(), Some("sk-test"));
        assert_eq!(entry["capabilities"][0].as_str(), Some("tool_use"));
        assert_eq!(entry["roles"].as_sequence().map(Vec::len), Some(3));
        assert_eq!(entry["defaultCompletionOptions"]["maxTokens"].as_u64(), Some(8192));
        assert_eq!(entry["defaultCompletionOptions"]["temperature"].as_f64(), Some(0.1));
        assert!(entry.get("requestOptions").is_none());

        // A placeholder key still prints as valid YAML.
        let mut odd = b.clone();
        odd.api_key = KEY_PLACEHOLDER.into();
        odd.name = "a: b # c".into();
        let printed: Value = serde_norway::from_str(&odd.to_yaml()).expect("quoted");
        assert_eq!(printed["models"][0], odd.to_value());
    }

    #[test]
    fn merge_keeps_other_models_and_keys_and_replaces_ours() {
        let existing = "name: my config\nversion: 0.0.1\nschema: v1\n# a comment\nmodels:\n  - name: GPT\n    provider: openai\n    model: gpt-4o\ncontext:\n  - provider: code\n";
        let once = merge(existing, &block()).expect("merge");
        let v: Value = serde_norway::from_str(&once).expect("valid");
        assert_eq!(v["name"].as_str(), Some("my config"));
        assert_eq!(v["context"][0]["provider"].as_str(), Some("code"));
        let models = v["models"].as_sequence().expect("list");
        assert_eq!(models.len(), 2);
        assert_eq!(models[0]["name"].as_str(), Some("GPT"));
        assert_eq!(models[1], block().to_value());

        let mut newer = block();
        newer.api_key = "sk-new".into();
        let twice = merge(&once, &newer).expect("merge again");
        let v: Value = serde_norway::from_str(&twice).expect("valid");
        let models = v["models"].as_sequence().expect("list");
        assert_eq!(models.len(), 2, "replaced, not duplicated");
        assert_eq!(models[1]["apiKey"].as_str(), Some("sk-new"));
        assert_eq!(merge(&twice, &newer).expect("idempotent"), twice);

        // Duplicates of ours collapse into the first one's place.
        let dup = format!("models:\n{0}  - name: other\n{0}", "  - name: m-7b (podctl)\n");
        let v: Value = serde_norway::from_str(&merge(&dup, &block()).expect("merge")).expect("valid");
        let names: Vec<&str> =
            v["models"].as_sequence().expect("list").iter().filter_map(|m| m["name"].as_str()).collect();
        assert_eq!(names, ["m-7b (podctl)", "other"]);
    }

    #[test]
    fn merge_into_nothing_and_refusals() {
        for empty in ["", "\n  \n", "# only a comment\n"] {
            let v: Value = serde_norway::from_str(&merge(empty, &block()).expect("merge")).expect("valid");
            assert_eq!(v["name"].as_str(), Some("podctl"));
            assert_eq!(v["version"].as_str(), Some("1.0.0"));
            assert_eq!(v["schema"].as_str(), Some("v1"));
            assert_eq!(v["models"][0], block().to_value());
        }
        let v: Value = serde_norway::from_str(&merge("name: x\nmodels:\n", &block()).expect("null models"))
            .expect("valid");
        assert_eq!(v["models"][0], block().to_value());
        assert!(matches!(merge("models: [unclosed\n", &block()), Err(MergeError::Yaml(_))));
        assert!(matches!(merge("- a\n- b\n", &block()), Err(MergeError::NotMapping)));
        assert!(matches!(merge("models: 3\n", &block()), Err(MergeError::ModelsNotList)));
    }

    #[test]
    fn key_order_flag_env_config() {
        let dir = std::env::temp_dir().join(format!("podctl-ccfg-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let config = dir.join("config.toml");
        let p = profile("");
        assert_eq!(resolve_key(None, &p, &no_env, &config), None);
        std::fs::write(&config, "api_keys = [\"sk-file\", \"sk-2\"]\n").expect("write");
        assert_eq!(
            resolve_key(None, &p, &no_env, &config),
            Some(("sk-file".into(), KeySource::ConfigFile(config.clone())))
        );
        let env = |k: &str| (k == "PODCTL_API_KEY").then(|| "sk-env".to_owned());
        assert_eq!(resolve_key(None, &p, &env, &config).map(|k| k.0).as_deref(), Some("sk-env"));
        assert_eq!(resolve_key(Some("sk-flag"), &p, &env, &config).map(|k| k.1), Some(KeySource::Flag));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn write_backs_up_and_never_touches_invalid_files() {
        let dir = std::env::temp_dir().join(format!("podctl-ccfg-write-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub/config.yaml");
        assert_eq!(write(&path, &block()).expect("create"), Written::Created);
        assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        assert_eq!(write(&path, &block()).expect("again"), Written::Unchanged);
        assert!(!sibling(&path, ".bak").exists());
        let first = std::fs::read_to_string(&path).expect("read");
        let mut newer = block();
        newer.api_key = "sk-2".into();
        assert_eq!(
            write(&path, &newer).expect("update"),
            Written::Updated { backup: sibling(&path, ".bak") }
        );
        assert_eq!(std::fs::read_to_string(sibling(&path, ".bak")).expect("bak"), first);

        std::fs::write(&path, "models: [oops\n").expect("write");
        let err = write(&path, &block()).expect_err("invalid");
        assert!(err.to_string().contains("config.yaml"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "models: [oops\n");
        let leftovers: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
