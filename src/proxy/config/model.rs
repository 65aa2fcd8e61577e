//! The models the proxy serves and the vLLM replicas behind each, with the checks that hold
//! across them (names unique, fallbacks known, upstream URLs well formed).

use super::error::ConfigError;
use crate::toolcall::{Format, Reasoning};

/// Where `podctl start` runs vLLM: the upstream when none is configured.
pub const DEFAULT_UPSTREAM: &str = "http://127.0.0.1:8000/v1";

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

impl Default for ReplicaConfig {
    /// The vLLM at [`DEFAULT_UPSTREAM`], without a key.
    fn default() -> Self {
        Self { url: DEFAULT_UPSTREAM.to_owned(), key: None, weight: 1 }
    }
}

impl ReplicaConfig {
    pub fn new(url: impl Into<String>, key: Option<String>) -> Self {
        Self { url: url.into(), key, ..Self::default() }
    }
}

/// One model the proxy serves.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl Default for ModelConfig {
    /// The upstream's own model at [`DEFAULT_UPSTREAM`], in the default tool format.
    fn default() -> Self {
        Self {
            name: None,
            aliases: Vec::new(),
            replicas: vec![ReplicaConfig::default()],
            upstream_model: None,
            tool_format: Format::default(),
            reasoning: Reasoning::default(),
            fallbacks: Vec::new(),
        }
    }
}

impl ModelConfig {
    /// A model with one replica and no alias, fallback or fixed id.
    pub fn single(name: Option<String>, url: impl Into<String>, key: Option<String>, format: Format) -> Self {
        Self { name, replicas: vec![ReplicaConfig::new(url, key)], tool_format: format, ..Self::default() }
    }
}

/// Each name (and alias) belongs to one model, and fallbacks name other known models.
pub fn check_models(models: &[ModelConfig]) -> Result<(), ConfigError> {
    let mut seen: Vec<&str> = Vec::new();
    for m in models {
        for name in m.name.iter().chain(&m.aliases) {
            if seen.contains(&name.as_str()) {
                return Err(ConfigError::NameTwice { name: name.clone() });
            }
            seen.push(name);
        }
    }
    for m in models {
        let own = m.name.as_deref().unwrap_or("the model");
        for fallback in &m.fallbacks {
            if m.name.iter().chain(&m.aliases).any(|n| n == fallback) {
                return Err(ConfigError::OwnFallback { model: own.to_owned() });
            }
            if !seen.contains(&fallback.as_str()) {
                return Err(ConfigError::UnknownFallback {
                    model: own.to_owned(),
                    fallback: fallback.clone(),
                    known: seen.iter().map(|&n| n.to_owned()).collect(),
                });
            }
        }
        if m.replicas.is_empty() {
            return Err(ConfigError::NoReplica { model: own.to_owned() });
        }
    }
    Ok(())
}

/// Checks and normalises an upstream base URL (`http://host:port/v1`).
pub fn normalise_upstream(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| ConfigError::UpstreamScheme { url: url.to_owned() })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(ConfigError::UpstreamHost { url: url.to_owned() });
    }
    Ok(trimmed.to_owned())
}
