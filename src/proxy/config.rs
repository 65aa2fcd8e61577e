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
//! grace_secs = 30
//! trace_dir = "/workspace/podctl/traces"
//! log_format = "text"          # or "json"
//!
//! [models.qwen3-coder-30b]     # the name clients use
//! upstream = "http://127.0.0.1:8000/v1"
//! tool_format = "qwen3_coder"
//! api_key_env = "VLLM_API_KEY" # the upstream's key, by env var name (never the key)
//! think_opened = false         # the chat template opens <think> (QwQ, thinking models)
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::toolcall::{Format, Reasoning};

/// One model the proxy serves.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// The name clients use; `None` means the upstream's own id only.
    pub name: Option<String>,
    /// The upstream base URL including `/v1`, without a trailing slash.
    pub upstream: String,
    pub upstream_key: Option<String>,
    pub tool_format: Format,
    pub reasoning: Reasoning,
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
    pub grace: Duration,
    pub trace_dir: Option<PathBuf>,
    pub log_json: bool,
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
#[derive(Debug, Default, Deserialize)]
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
    pub grace_secs: Option<u64>,
    pub trace_dir: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub insecure_no_auth: Option<bool>,
    #[serde(default)]
    pub models: BTreeMap<String, FileModel>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileModel {
    pub upstream: Option<String>,
    pub tool_format: Option<String>,
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub think_opened: bool,
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
