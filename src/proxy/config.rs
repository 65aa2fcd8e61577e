//! Proxy settings: command-line flags over an optional TOML file, validated into one
//! [`ProxyConfig`] before anything binds a socket.
//!
//! ```toml
//! host = "0.0.0.0"            # default 127.0.0.1
//! port = 4000
//! api_keys = ["sk-…"]          # clients must send one as `Authorization: Bearer …`
//! api_key_file = "/workspace/podctl/api-key"   # one key per line, `#` comments
//! max_body_mb = 32
//! keepalive_secs = 15
//! max_silence_secs = 600      # a stream whose vLLM sends nothing this long ends with an error
//! body_timeout_secs = 60      # a request body not fully received in this long gets 408
//! header_timeout_secs = 30    # a request head not fully received in this long: closed
//! max_header_kb = 64          # bigger request headers get 431
//! grace_secs = 30
//! trace_dir = "/workspace/podctl/traces"
//! log_format = "text"          # or "json"
//!
//! metrics_public = false       # /metrics without a key
//!
//! [router]                     # routing over replicas (README: "Routing")
//! num_retries = 2              # retries on another replica, before the first byte only
//! timeout_secs = 600           # per-request deadline for those attempts
//! allowed_fails = 3            # consecutive failures before a cooldown
//! cooldown_secs = 30
//! health_interval_secs = 5     # /health probe period per replica
//! affinity = true              # same conversation prefix → same replica
//!
//! [models.qwen3-coder-30b]     # the name clients use
//! upstream = "http://127.0.0.1:8000/v1"   # one replica, or several:
//! # replicas = [{ url = "http://10.0.0.2:8000/v1", api_key_env = "POD2_KEY", weight = 2 }]
//! tool_format = "qwen3_coder"
//! aliases = ["qwen", "coder"]  # more names clients may use
//! fallbacks = ["qwen3-small"]  # models that serve when every replica is down
//! upstream_model = "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8"  # else learned from /v1/models
//! api_key_env = "VLLM_API_KEY" # the upstream's key, by env var name (never the key)
//! think_opened = false         # the chat template opens <think> (QwQ, thinking models)
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::tls::TlsFiles;
use crate::toolcall::{Format, Reasoning};

/// One vLLM server serving a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// The base URL including `/v1`, without a trailing slash.
    pub url: String,
    /// The key this vLLM was started with (`--api-key`), if any.
    pub key: Option<String>,
    /// Share of the load relative to the model's other replicas (≥ 1).
    pub weight: u32,
}

impl ReplicaConfig {
    pub fn new(url: impl Into<String>, key: Option<String>) -> Self {
        Self { url: url.into(), key, weight: 1 }
    }
}

/// One model the proxy serves.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// The name clients use; `None` means the upstream's own id only.
    pub name: Option<String>,
    /// More names clients may use for it.
    pub aliases: Vec<String>,
    /// The vLLM servers serving it (at least one).
    pub replicas: Vec<ReplicaConfig>,
    /// The upstream's model id, when configured; otherwise learned from `/v1/models`.
    pub upstream_model: Option<String>,
    pub tool_format: Format,
    pub reasoning: Reasoning,
    /// Models (by name) that serve, in order, when every replica of this one is down.
    pub fallbacks: Vec<String>,
}

impl ModelConfig {
    /// A model with one replica and no alias, fallback or fixed id.
    pub fn single(name: Option<String>, url: impl Into<String>, key: Option<String>, format: Format) -> Self {
        Self {
            name,
            aliases: Vec::new(),
            replicas: vec![ReplicaConfig::new(url, key)],
            upstream_model: None,
            tool_format: format,
            reasoning: Reasoning::Auto,
            fallbacks: Vec::new(),
        }
    }
}

/// How requests are spread over replicas, retried and failed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterConfig {
    /// Retries on another replica after a connect error or a 429/502/503/504, only before
    /// the first byte reached the client.
    pub num_retries: u32,
    /// Per-request deadline for those attempts (a healthy stream has no total limit).
    pub timeout: Duration,
    /// Consecutive failures that put a replica in cooldown (a refused connection does at once).
    pub allowed_fails: u32,
    pub cooldown: Duration,
    /// How often each replica's `/health` is probed.
    pub health_interval: Duration,
    /// Requests sharing a conversation prefix go to the same replica while load allows.
    pub affinity: bool,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            num_retries: 2,
            timeout: Duration::from_mins(10),
            allowed_fails: 3,
            cooldown: Duration::from_secs(30),
            health_interval: Duration::from_secs(5),
            affinity: true,
        }
    }
}

/// Everything `podctl proxy` needs, validated.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub host: IpAddr,
    pub port: u16,
    pub models: Vec<ModelConfig>,
    pub keys: Vec<String>,
    pub max_body: usize,
    pub keepalive: Duration,
    /// A stream whose upstream sends nothing for this long ends with an error.
    pub max_silence: Duration,
    /// A request body must arrive whole within this long (a stalled upload gets 408 rather
    /// than holding its connection and task forever).
    pub body_timeout: Duration,
    /// A request's head must arrive whole within this long (slow-loris), else the
    /// connection is closed.
    pub header_timeout: Duration,
    /// The most bytes of request headers (431 over it).
    pub max_header_bytes: usize,
    pub grace: Duration,
    pub trace_dir: Option<PathBuf>,
    pub log_json: bool,
    pub router: RouterConfig,
    /// `/metrics` answers without a key.
    pub metrics_public: bool,
    /// Serve HTTPS with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// Connections held open at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Requests one API key may have in flight; more get 429.
    pub max_in_flight_per_key: usize,
}

pub const DEFAULT_UPSTREAM: &str = "http://127.0.0.1:8000/v1";
pub const DEFAULT_PORT: u16 = 4000;

/// A setting that cannot be used, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// The TOML file, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub host: Option<IpAddr>,
    pub port: Option<u16>,
    #[serde(default)]
    pub api_keys: Vec<String>,
    pub api_key_file: Option<PathBuf>,
    pub max_body_mb: Option<usize>,
    pub keepalive_secs: Option<u64>,
    pub max_silence_secs: Option<u64>,
    pub body_timeout_secs: Option<u64>,
    pub header_timeout_secs: Option<u64>,
    pub max_header_kb: Option<u64>,
    pub grace_secs: Option<u64>,
    pub trace_dir: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub insecure_no_auth: Option<bool>,
    pub metrics_public: Option<bool>,
    /// Serve HTTPS: the PEM certificate chain and its private key.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub max_connections: Option<usize>,
    pub max_in_flight_per_key: Option<usize>,
    #[serde(default)]
    pub router: FileRouter,
    #[serde(default)]
    pub models: BTreeMap<String, FileModel>,
}

/// `[router]`: every field optional, defaults in [`RouterConfig::default`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRouter {
    pub num_retries: Option<u32>,
    pub timeout_secs: Option<u64>,
    pub allowed_fails: Option<u32>,
    pub cooldown_secs: Option<u64>,
    pub health_interval_secs: Option<u64>,
    pub affinity: Option<bool>,
}

/// `[models.NAME]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileModel {
    /// One replica (same as `replicas = [{ url = … }]`).
    pub upstream: Option<String>,
    #[serde(default)]
    pub replicas: Vec<FileReplica>,
    pub tool_format: Option<String>,
    /// The upstream key by env var name, for every replica without its own.
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub fallbacks: Vec<String>,
    pub upstream_model: Option<String>,
    #[serde(default)]
    pub think_opened: bool,
}

/// One entry of `replicas`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileReplica {
    pub url: String,
    /// The key by env var name (preferred: the file then holds no secret).
    pub api_key_env: Option<String>,
    /// The key itself.
    pub api_key: Option<String>,
    pub weight: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.into(), source })?;
        toml::from_str(&text).map_err(|e| ConfigError::Toml { path: path.into(), message: e.to_string() })
    }
}

impl FileRouter {
    /// The settings, defaults filled in.
    pub fn resolve(&self) -> RouterConfig {
        let d = RouterConfig::default();
        RouterConfig {
            num_retries: self.num_retries.unwrap_or(d.num_retries),
            timeout: self.timeout_secs.map_or(d.timeout, |s| Duration::from_secs(s.max(1))),
            allowed_fails: self.allowed_fails.unwrap_or(d.allowed_fails).max(1),
            cooldown: self.cooldown_secs.map_or(d.cooldown, Duration::from_secs),
            health_interval: self
                .health_interval_secs
                .map_or(d.health_interval, |s| Duration::from_secs(s.max(1))),
            affinity: self.affinity.unwrap_or(d.affinity),
        }
    }
}

impl FileConfig {
    /// The `[models.NAME]` sections as models, keys looked up with `env`, checked with
    /// [`check_models`].
    pub fn models(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<ModelConfig>, ConfigError> {
        let mut models = Vec::new();
        for (name, m) in &self.models {
            let section = format!("[models.{name}]");
            let tool_format = match &m.tool_format {
                Some(f) => f
                    .parse()
                    .map_err(|e: String| ConfigError::Invalid(format!("{section} tool_format: {e}")))?,
                None => Format::Qwen3Coder,
            };
            let lookup = |var: &str, what: &str| {
                env(var).filter(|k| !k.trim().is_empty()).map(|k| k.trim().to_owned()).ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "{section} {what} names ${var}, which is not set: export {var}=… (the key vLLM was started with)"
                    ))
                })
            };
            let model_key = m.api_key_env.as_deref().map(|var| lookup(var, "api_key_env")).transpose()?;
            let mut replicas = Vec::new();
            if let Some(url) = &m.upstream {
                replicas.push(ReplicaConfig::new(normalise_upstream(url)?, model_key.clone()));
            }
            for (i, r) in m.replicas.iter().enumerate() {
                let key = match (&r.api_key_env, &r.api_key) {
                    (Some(var), _) => Some(lookup(var, &format!("replicas[{i}].api_key_env"))?),
                    (None, Some(key)) => Some(key.clone()),
                    (None, None) => model_key.clone(),
                };
                let weight = r.weight.unwrap_or(1);
                if weight == 0 {
                    return Err(ConfigError::Invalid(format!(
                        "{section} replicas[{i}].weight must be at least 1"
                    )));
                }
                replicas.push(ReplicaConfig { url: normalise_upstream(&r.url)?, key, weight });
            }
            if replicas.is_empty() {
                replicas.push(ReplicaConfig::new(DEFAULT_UPSTREAM, model_key));
            }
            models.push(ModelConfig {
                name: Some(name.clone()),
                aliases: m.aliases.clone(),
                replicas,
                upstream_model: m.upstream_model.clone(),
                tool_format,
                reasoning: if m.think_opened { Reasoning::PromptOpened } else { Reasoning::Auto },
                fallbacks: m.fallbacks.clone(),
            });
        }
        check_models(&models)?;
        Ok(models)
    }
}

/// Each name (and alias) belongs to one model, and fallbacks name other known models.
pub fn check_models(models: &[ModelConfig]) -> Result<(), ConfigError> {
    let mut seen: Vec<&str> = Vec::new();
    for m in models {
        for name in m.name.iter().chain(&m.aliases) {
            if seen.contains(&name.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "model name `{name}` is used twice; each name and alias must be unique"
                )));
            }
            seen.push(name);
        }
    }
    for m in models {
        let own = m.name.as_deref().unwrap_or("the model");
        for fallback in &m.fallbacks {
            if m.name.iter().chain(&m.aliases).any(|n| n == fallback) {
                return Err(ConfigError::Invalid(format!("model `{own}` lists itself as a fallback")));
            }
            if !seen.contains(&fallback.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "model `{own}` falls back to `{fallback}`, which is not configured (models: {})",
                    seen.join(", ")
                )));
            }
        }
        if m.replicas.is_empty() {
            return Err(ConfigError::Invalid(format!("model `{own}` has no replica")));
        }
    }
    Ok(())
}

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
        return Err(ConfigError::Invalid(format!("{} holds no API key", path.display())));
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

/// The TLS files from a certificate and a key setting: both or neither.
pub fn tls_files(cert: Option<&PathBuf>, key: Option<&PathBuf>) -> Result<Option<TlsFiles>, ConfigError> {
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => {
            let files = TlsFiles { cert: cert.clone(), key: key.clone() };
            // Read now, so a bad file stops the start with its reason, not the first client.
            super::tls::load(&files)?;
            Ok(Some(files))
        }
        (Some(_), None) => Err(ConfigError::Invalid(
            "a TLS certificate without its key: give --tls-key (tls_key) too".to_owned(),
        )),
        (None, Some(_)) => Err(ConfigError::Invalid(
            "a TLS key without its certificate: give --tls-cert (tls_cert) too".to_owned(),
        )),
    }
}

/// Checks and normalises an upstream base URL (`http://host:port/v1`).
pub fn normalise_upstream(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest =
        trimmed.strip_prefix("http://").or_else(|| trimmed.strip_prefix("https://")).ok_or_else(|| {
            ConfigError::Invalid(format!("upstream `{url}` must start with http:// or https://"))
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(ConfigError::Invalid(format!("upstream `{url}` has no host")));
    }
    Ok(trimmed.to_owned())
}

/// Binding beyond loopback without keys exposes a GPU to anyone who finds the URL.
pub fn check_exposure(host: IpAddr, keys: &[String], insecure_no_auth: bool) -> Result<(), ConfigError> {
    if host.is_loopback() || !keys.is_empty() || insecure_no_auth {
        return Ok(());
    }
    Err(ConfigError::Invalid(format!(
        "refusing to listen on {host} without an API key: anyone who can reach this port could use the model"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls() {
        assert_eq!(normalise_upstream("http://127.0.0.1:8000/v1/").expect("ok"), "http://127.0.0.1:8000/v1");
        assert!(normalise_upstream("127.0.0.1:8000").is_err());
        assert!(normalise_upstream("http://").is_err());
    }

    #[test]
    fn exposure_needs_a_key() {
        let any: IpAddr = "0.0.0.0".parse().expect("ip");
        let lo: IpAddr = "127.0.0.1".parse().expect("ip");
        assert!(check_exposure(lo, &[], false).is_ok());
        assert!(check_exposure(any, &[], false).is_err());
        assert!(check_exposure(any, &["k".into()], false).is_ok());
        assert!(check_exposure(any, &[], true).is_ok());
    }

    #[test]
    fn toml_rejects_unknown_keys_with_a_line() {
        let err = toml::from_str::<FileConfig>("port = 4000\nprot = 1\n").expect_err("unknown key");
        let text = err.to_string();
        assert!(text.contains("prot") && text.contains("line 2"), "{text}");
        let ok: FileConfig =
            toml::from_str("[models.qwen]\nupstream = \"http://h:1/v1\"\ntool_format = \"hermes\"\n")
                .expect("valid");
        assert_eq!(ok.models["qwen"].tool_format.as_deref(), Some("hermes"));
    }
}
