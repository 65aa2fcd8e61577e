//! `podctl proxy --litellm-config FILE`: a LiteLLM proxy config mapped onto podctl's own
//! [`FileConfig`], so a migration starts from the file people already have.
//!
//! ```yaml
//! model_list:
//!   - model_name: qwen-coder                     # → [models.qwen-coder]
//!     litellm_params:
//!       model: hosted_vllm/Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8   # → upstream_model
//!       api_base: http://localhost:8000/v1       # → replicas[0].url (`/v1` added when no path)
//!       api_key: os.environ/VLLM_API_KEY         # → replicas[0].api_key_env
//!       weight: 2                                 # → replicas[0].weight
//!     model_info:
//!       tool_format: qwen3_coder                  # podctl extension; else guessed from the id
//! router_settings:
//!   num_retries: 2                                # → [router] num_retries
//!   timeout: 600                                  # → [router] timeout_secs
//!   allowed_fails: 3                              # → [router] allowed_fails
//!   cooldown_time: 30                             # → [router] cooldown_secs
//!   fallbacks: [{ qwen-coder: [qwen-small] }]     # → [models.qwen-coder] fallbacks
//!   model_group_alias: { coder: qwen-coder }      # → [models.qwen-coder] aliases
//! general_settings:
//!   master_key: os.environ/LITELLM_MASTER_KEY     # → api_keys (resolved now)
//! ```
//!
//! Everything else is listed in [`Imported::unsupported`] for one warning; only what would make
//! the proxy serve wrongly (no URL, a fallback to an unknown model, an unset master key) fails.

mod models;
mod settings;
#[cfg(test)]
mod tests;

use std::fmt::Display;
use std::path::Path;

use serde_norway::{Mapping, Value};

use crate::proxy::config::{ConfigError, FileConfig, FileRouter};

/// A LiteLLM proxy config mapped onto podctl's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The equivalent podctl proxy config.
    pub config: FileConfig,
    /// Every key podctl does not support, as a dotted path (`litellm_settings.drop_params`,
    /// `model_list[2].litellm_params.rpm`, `router_settings.redis_host`), in file order.
    /// The caller prints them in ONE warning.
    pub unsupported: Vec<String>,
}

/// Maps the LiteLLM config `text` (read from `path`, named in errors) onto podctl's schema,
/// resolving `os.environ/NAME` references from the process environment.
pub fn import(text: &str, path: &Path) -> Result<Imported, ConfigError> {
    import_with(text, path, &|name| std::env::var(name).ok())
}

/// Same as [`import`], with the environment given (tests): `env("NAME")` is the value of $NAME.
pub fn import_with(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Imported, ConfigError> {
    let root = parse(text, path)?;
    let ctx = Ctx { path, env, file_env: file_env_names(&root) };
    let list = root.get("model_list").ok_or_else(|| ctx.invalid(format!("has no model_list; {MINIMAL}")))?;
    let mut models = ctx.model_list(list)?;
    let mut sections = Sections::default();
    let mut unsupported = Vec::new();
    for (key, value) in &root {
        let key = key_name(key);
        match key.as_str() {
            "model_list" => unsupported.append(&mut models.notes),
            "router_settings" => ctx.router_settings(value, &mut models, &mut sections, &mut unsupported)?,
            "litellm_settings" => ctx.litellm_settings(value, &mut models, &mut sections, &mut unsupported)?,
            "general_settings" => ctx.general_settings(value, &mut sections, &mut unsupported)?,
            "environment_variables" => unsupported.push(
                "environment_variables (podctl does not set environment variables; export them before starting podctl)"
                    .to_owned(),
            ),
            _ => unsupported.push(key),
        }
    }
    if sections.api_keys.is_empty() {
        sections.api_keys = ctx.default_master_key();
    }
    let config = FileConfig {
        api_keys: sections.api_keys,
        // `router_settings` over `litellm_settings`, field by field.
        router: sections.router.or(sections.litellm_router),
        models: models.models,
        ..FileConfig::default()
    };
    Ok(Imported { config, unsupported })
}

/// What a minimal file looks like, for errors about the file's shape.
const MINIMAL: &str = "a minimal LiteLLM config is:
model_list:
  - model_name: qwen-coder
    litellm_params:
      model: hosted_vllm/Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8
      api_base: http://localhost:8000/v1";

/// The file's path and environment, for resolving references and naming errors.
struct Ctx<'a> {
    path: &'a Path,
    env: &'a dyn Fn(&str) -> Option<String>,
    /// Names under `environment_variables:`, which LiteLLM would set and podctl does not.
    file_env: Vec<String>,
}

/// What the settings sections contribute besides models.
#[derive(Default)]
struct Sections {
    /// From `router_settings`, which wins over `litellm_settings`.
    router: FileRouter,
    litellm_router: FileRouter,
    api_keys: Vec<String>,
}

impl Ctx<'_> {
    /// An error about the file's content, prefixed with its path.
    fn invalid(&self, message: impl Display) -> ConfigError {
        ConfigError::LiteLlm { path: self.path.to_path_buf(), message: message.to_string() }
    }

    /// The value of `$name`, or an error saying `what` names an unset variable.
    fn resolve_env(&self, name: &str, what: &str) -> Result<String, ConfigError> {
        if let Some(value) = (self.env)(name).filter(|v| !v.is_empty()) {
            return Ok(value);
        }
        let hint = if self.file_env.iter().any(|n| n == name) {
            " (it is under environment_variables:, which podctl does not apply; export it)"
        } else {
            ""
        };
        Err(self.invalid(format!("{what} names ${name}, which is not set{hint}")))
    }
}

/// The YAML text as a top-level mapping, with `<<:` merge keys applied (LiteLLM's loader does).
fn parse(text: &str, path: &Path) -> Result<Mapping, ConfigError> {
    let yaml_error = |e: serde_norway::Error| ConfigError::Toml { path: path.into(), message: e.to_string() };
    let mut value: Value = serde_norway::from_str(text).map_err(yaml_error)?;
    value.apply_merge().map_err(yaml_error)?;
    match value {
        Value::Mapping(root) => Ok(root),
        Value::Null => Err(ConfigError::Toml { path: path.into(), message: format!("is empty; {MINIMAL}") }),
        other => Err(ConfigError::Toml {
            path: path.into(),
            message: format!("holds {} at the top, not a mapping; {MINIMAL}", describe(&other)),
        }),
    }
}

/// The variable names listed under `environment_variables:`.
fn file_env_names(root: &Mapping) -> Vec<String> {
    root.get("environment_variables")
        .and_then(Value::as_mapping)
        .map(|vars| vars.keys().map(key_name).collect())
        .unwrap_or_default()
}

/// A finite, non-negative, already rounded number as an integer (saturating).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "rounded, ≥ 0, saturating")]
fn whole(x: f64) -> u64 {
    x as u64
}

/// A mapping key as text (YAML allows numbers and booleans as keys).
fn key_name(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => describe(other),
    }
}

/// A short description of a value for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("\"{s}\""),
        Value::Sequence(_) => "a list".to_owned(),
        Value::Mapping(_) => "a mapping".to_owned(),
        Value::Tagged(t) => format!("a {} value", t.tag),
    }
}

/// A section's entries: a mapping, or nothing for an empty section (`router_settings:`).
fn entries<'v>(ctx: &Ctx<'_>, value: &'v Value, at: &str) -> Result<Vec<(String, &'v Value)>, ConfigError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Mapping(m) => Ok(m.iter().map(|(k, v)| (key_name(k), v)).collect()),
        other => Err(ctx.invalid(format!("{at} must be a mapping, not {}", describe(other)))),
    }
}
