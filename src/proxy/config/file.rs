//! The TOML file (`podctl proxy --config`, and the `config.toml` `podctl setup` writes), as
//! written: every setting optional, unknown keys refused with their line.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::error::ConfigError;
use super::model::{DEFAULT_UPSTREAM, ModelConfig, ReplicaConfig, check_models, normalise_upstream};
use super::router::RouterConfig;
use crate::toolcall::{Format, Reasoning};

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
    pub stream_tool_arguments: Option<bool>,
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
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
    /// As in a profile: `true` opened, `false` not even for families that open it, unset
    /// the family's default.
    pub think_opened: Option<bool>,
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
    /// These settings over `below`, field by field.
    #[must_use]
    pub fn or(self, below: Self) -> Self {
        Self {
            num_retries: self.num_retries.or(below.num_retries),
            timeout_secs: self.timeout_secs.or(below.timeout_secs),
            allowed_fails: self.allowed_fails.or(below.allowed_fails),
            cooldown_secs: self.cooldown_secs.or(below.cooldown_secs),
            health_interval_secs: self.health_interval_secs.or(below.health_interval_secs),
            affinity: self.affinity.or(below.affinity),
        }
    }

    /// Writes the settings given into `router` (the deadline and the probe period at least
    /// 1 s, at least one failure before a cooldown).
    pub fn apply(&self, router: &mut RouterConfig) {
        if let Some(n) = self.num_retries {
            router.num_retries = n;
        }
        if let Some(s) = self.timeout_secs {
            router.timeout = Duration::from_secs(s.max(1));
        }
        if let Some(n) = self.allowed_fails {
            router.allowed_fails = n.max(1);
        }
        if let Some(s) = self.cooldown_secs {
            router.cooldown = Duration::from_secs(s);
        }
        if let Some(s) = self.health_interval_secs {
            router.health_interval = Duration::from_secs(s.max(1));
        }
        if let Some(affinity) = self.affinity {
            router.affinity = affinity;
        }
    }
}

impl FileConfig {
    /// The `[models.NAME]` sections as models, keys looked up with `env`, checked with
    /// [`check_models`].
    pub fn models(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<ModelConfig>, ConfigError> {
        let mut models = Vec::new();
        for (name, m) in &self.models {
            let tool_format = match &m.tool_format {
                Some(f) => {
                    f.parse().map_err(|reason| ConfigError::ToolFormat { model: name.clone(), reason })?
                }
                None => Format::default(),
            };
            let lookup = |var: &str, setting: String| {
                env(var).filter(|k| !k.trim().is_empty()).map(|k| k.trim().to_owned()).ok_or_else(|| {
                    ConfigError::KeyVarUnset { model: name.clone(), setting, var: var.to_owned() }
                })
            };
            let model_key =
                m.api_key_env.as_deref().map(|var| lookup(var, "api_key_env".to_owned())).transpose()?;
            let mut replicas = Vec::new();
            if let Some(url) = &m.upstream {
                replicas.push(ReplicaConfig::new(normalise_upstream(url)?, model_key.clone()));
            }
            for (i, r) in m.replicas.iter().enumerate() {
                let key = match (&r.api_key_env, &r.api_key) {
                    (Some(var), _) => Some(lookup(var, format!("replicas[{i}].api_key_env"))?),
                    (None, Some(key)) => Some(key.clone()),
                    (None, None) => model_key.clone(),
                };
                let weight = r.weight.unwrap_or(ReplicaConfig::default().weight);
                if weight == 0 {
                    return Err(ConfigError::ZeroWeight { model: name.clone(), replica: i });
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
                reasoning: match m.think_opened {
                    Some(true) => Reasoning::PromptOpened,
                    Some(false) => Reasoning::PromptClosed,
                    None => Reasoning::Auto,
                },
                fallbacks: m.fallbacks.clone(),
            });
        }
        check_models(&models)?;
        Ok(models)
    }
}
