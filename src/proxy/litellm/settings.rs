//! `router_settings`, `litellm_settings` and `general_settings`.

use serde_norway::Value;

use super::models::ModelList;
use super::{Ctx, Sections, describe, entries, whole};
use crate::proxy::config::ConfigError;

/// Routing strategies that are what podctl does anyway (least in flight).
const SAME_STRATEGY: &[&str] = &["simple-shuffle", "least-busy"];

/// LiteLLM's fallback for a file without `general_settings.master_key`.
const MASTER_KEY_ENV: &str = "LITELLM_MASTER_KEY";

impl Ctx<'_> {
    /// `router_settings`: retries, timeouts, cooldowns, fallbacks and aliases.
    pub(super) fn router_settings(
        &self,
        value: &Value,
        models: &mut ModelList,
        sections: &mut Sections,
        notes: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        let router = &mut sections.router;
        for (key, value) in entries(self, value, "router_settings")? {
            let at = format!("router_settings.{key}");
            match key.as_str() {
                "num_retries" => router.num_retries = Some(self.count(value, &at)?),
                "timeout" => router.timeout_secs = Some(self.seconds(value, &at, false)?),
                "allowed_fails" => router.allowed_fails = Some(self.count(value, &at)?),
                "cooldown_time" => router.cooldown_secs = Some(self.seconds(value, &at, true)?),
                "fallbacks" => self.fallbacks(value, &at, models, notes)?,
                "model_group_alias" => self.aliases(value, &at, models, notes)?,
                "routing_strategy" => self.strategy(value, &at, notes)?,
                _ => notes.push(at),
            }
        }
        Ok(())
    }

    /// `litellm_settings`: the global retries, timeout and fallbacks (`router_settings` wins).
    pub(super) fn litellm_settings(
        &self,
        value: &Value,
        models: &mut ModelList,
        sections: &mut Sections,
        notes: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        let router = &mut sections.litellm_router;
        for (key, value) in entries(self, value, "litellm_settings")? {
            let at = format!("litellm_settings.{key}");
            match key.as_str() {
                "num_retries" => router.num_retries = Some(self.count(value, &at)?),
                "request_timeout" => router.timeout_secs = Some(self.seconds(value, &at, false)?),
                "fallbacks" => self.fallbacks(value, &at, models, notes)?,
                _ => notes.push(at),
            }
        }
        Ok(())
    }

    /// `general_settings`: the master key becomes podctl's API key.
    pub(super) fn general_settings(
        &self,
        value: &Value,
        sections: &mut Sections,
        notes: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        for (key, value) in entries(self, value, "general_settings")? {
            match key.as_str() {
                "master_key" => sections.api_keys = self.master_key(value)?,
                _ => notes.push(format!("general_settings.{key}")),
            }
        }
        Ok(())
    }

    /// The key clients must send when the file names none: `$LITELLM_MASTER_KEY`, as LiteLLM does.
    pub(super) fn default_master_key(&self) -> Vec<String> {
        (self.env)(MASTER_KEY_ENV).filter(|key| !key.is_empty()).into_iter().collect()
    }

    /// `master_key`: a literal or `os.environ/NAME`, resolved now.
    fn master_key(&self, value: &Value) -> Result<Vec<String>, ConfigError> {
        const AT: &str = "general_settings.master_key";
        let key = match value {
            Value::Null => return Ok(Vec::new()),
            Value::String(text) => match text.strip_prefix("os.environ/") {
                Some(name) => self.resolve_env(name, AT)?,
                None => text.clone(),
            },
            other => return Err(self.invalid(format!("{AT} must be text, not {}", describe(other)))),
        };
        if key.trim().is_empty() {
            return Err(self.invalid(format!("{AT} is empty")));
        }
        Ok(vec![key])
    }

    /// `fallbacks: [{from: [to, …]}, …]` onto each `from` model.
    fn fallbacks(
        &self,
        value: &Value,
        at: &str,
        models: &mut ModelList,
        notes: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        let rules = match value {
            Value::Null => return Ok(()),
            Value::Sequence(rules) => rules,
            other => {
                return Err(self.invalid(format!(
                    "{at} must be a list like [{{qwen-coder: [qwen-small]}}], not {}",
                    describe(other)
                )));
            }
        };
        for (i, rule) in rules.iter().enumerate() {
            let rule_at = format!("{at}[{i}]");
            for (from, to) in entries(self, rule, &rule_at)? {
                for target in self.names(to, &rule_at)? {
                    self.link(&rule_at, &from, target, models, notes)?;
                }
            }
        }
        Ok(())
    }

    /// The target names of one fallback rule: a list, or one name.
    fn names<'v>(&self, value: &'v Value, at: &str) -> Result<Vec<&'v str>, ConfigError> {
        let bad = || self.invalid(format!("{at} must map a model_name to a list of model_names"));
        match value {
            Value::Null => Ok(Vec::new()),
            Value::String(name) => Ok(vec![name.as_str()]),
            Value::Sequence(names) => names.iter().map(|n| n.as_str().ok_or_else(bad)).collect(),
            _ => Err(bad()),
        }
    }

    /// Adds `to` to `from`'s fallbacks; a link to or from a skipped model is only noted.
    fn link(
        &self,
        at: &str,
        from: &str,
        to: &str,
        models: &mut ModelList,
        notes: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        self.check_known(at, from, models)?;
        self.check_known(at, to, models)?;
        if !models.models_has(to) {
            notes.push(format!("{at} ({from} → {to})"));
            return Ok(());
        }
        match models.models.get_mut(from) {
            Some(model) if from != to && !model.fallbacks.iter().any(|f| f == to) => {
                model.fallbacks.push(to.to_owned());
            }
            Some(_) => {}
            None => notes.push(format!("{at} ({from} → {to})")),
        }
        Ok(())
    }

    /// `model_group_alias: {alias: model_name}` (or `{alias: {model: model_name, hidden: …}}`).
    fn aliases(
        &self,
        value: &Value,
        at: &str,
        models: &mut ModelList,
        notes: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        for (alias, target) in entries(self, value, at)? {
            let Some(to) = target.as_str().or_else(|| target.get("model").and_then(Value::as_str)) else {
                return Err(self.invalid(format!("{at}.{alias} must name a model_name")));
            };
            self.check_known(at, to, models)?;
            match models.models.get_mut(to) {
                Some(model) if !model.aliases.contains(&alias) => model.aliases.push(alias),
                Some(_) => {}
                None => notes.push(format!("{at}.{alias}")),
            }
        }
        Ok(())
    }

    /// An error unless `name` is a `model_name` in `model_list` (imported or skipped).
    fn check_known(&self, at: &str, name: &str, models: &ModelList) -> Result<(), ConfigError> {
        if models.models_has(name) || models.skipped.iter().any(|s| s == name) {
            return Ok(());
        }
        Err(self.invalid(format!(
            "{at} names `{name}`, which is not a model_name in model_list (known: {})",
            models.known()
        )))
    }

    /// `routing_strategy`: podctl always routes to the least busy replica, with prefix affinity.
    fn strategy(&self, value: &Value, at: &str, notes: &mut Vec<String>) -> Result<(), ConfigError> {
        let Some(strategy) = value.as_str() else {
            return Err(self.invalid(format!("{at} must be text, not {}", describe(value))));
        };
        if !SAME_STRATEGY.contains(&strategy) {
            notes.push(format!("{at}={strategy} (podctl uses least-busy with prefix affinity)"));
        }
        Ok(())
    }

    /// A whole number ≥ 0 that fits a `u32` (retries, failures).
    fn count(&self, value: &Value, at: &str) -> Result<u32, ConfigError> {
        value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| self.invalid(format!("{at} must be a whole number ≥ 0, not {}", describe(value))))
    }

    /// Seconds, whole or not, rounded up; zero only where `zero_ok`.
    fn seconds(&self, value: &Value, at: &str, zero_ok: bool) -> Result<u64, ConfigError> {
        match value.as_f64() {
            Some(s) if s.is_finite() && (s > 0.0 || (zero_ok && s == 0.0)) => Ok(whole(s.ceil())),
            _ => {
                let least = if zero_ok { "≥ 0" } else { "above 0" };
                Err(self
                    .invalid(format!("{at} must be a number of seconds {least}, not {}", describe(value))))
            }
        }
    }
}
