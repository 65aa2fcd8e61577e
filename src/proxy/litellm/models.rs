//! `model_list`: entries with one `model_name` become the replicas of one podctl model.

use std::collections::BTreeMap;

use serde_norway::{Mapping, Value};

use super::{Ctx, describe, entries, guess_format, key_name, whole};
use crate::proxy::config::{ConfigError, FileModel, FileReplica, normalise_upstream};
use crate::toolcall::Format;

/// Providers whose `api_base` is an OpenAI-compatible server podctl can proxy.
const PROVIDERS: &[&str] = &["hosted_vllm", "openai"];

/// The imported models, with what was left out.
pub(super) struct ModelList {
    pub(super) models: BTreeMap<String, FileModel>,
    /// `model_name`s whose entries were all skipped (another provider, a wildcard).
    pub(super) skipped: Vec<String>,
    /// Unsupported keys and skipped entries, in file order.
    pub(super) notes: Vec<String>,
}

impl ModelList {
    /// Whether `name` is an imported model.
    pub(super) fn models_has(&self, name: &str) -> bool {
        self.models.contains_key(name)
    }

    /// The imported model names, for errors.
    pub(super) fn known(&self) -> String {
        self.models.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
    }
}

/// One usable `model_list` entry.
struct Entry {
    name: String,
    replica: FileReplica,
    /// The upstream's model id (`litellm_params.model` without the provider).
    id: String,
    /// `model_info.tool_format`, when given.
    format: Option<Format>,
}

/// What `litellm_params` says about the server, once the provider is known to be usable.
struct Params<'v> {
    provider: &'static str,
    id: String,
    api_base: Option<&'v Value>,
}

impl Ctx<'_> {
    /// Reads `model_list` into podctl models, one per `model_name`.
    pub(super) fn model_list(&self, list: &Value) -> Result<ModelList, ConfigError> {
        let Some(items) = list.as_sequence() else {
            return Err(self.invalid(format!(
                "model_list must be a list, not {}; {}",
                describe(list),
                super::MINIMAL
            )));
        };
        if items.is_empty() {
            return Err(self.invalid(format!("model_list is empty; {}", super::MINIMAL)));
        }
        let mut notes = Vec::new();
        let mut used = Vec::new();
        let mut skipped = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match self.entry(i, item, &mut notes)? {
                Some(entry) => used.push(entry),
                None => skipped.extend(item.get("model_name").and_then(Value::as_str).map(str::to_owned)),
            }
        }
        if used.is_empty() {
            return Err(self.invalid(format!(
                "no model_list entry is served by an OpenAI-compatible server podctl can proxy \
                 (hosted_vllm/ or openai/ with an api_base); skipped: {}",
                notes.join(", ")
            )));
        }
        let models = self.group(used)?;
        skipped.retain(|name| !models.contains_key(name));
        Ok(ModelList { models, skipped, notes })
    }

    /// One entry, or `None` (with a note) when it is for a server podctl cannot proxy.
    fn entry(&self, i: usize, item: &Value, notes: &mut Vec<String>) -> Result<Option<Entry>, ConfigError> {
        let Some(map) = item.as_mapping() else {
            return Err(self.invalid(format!(
                "model_list[{i}] must be a mapping with model_name and litellm_params, not {}",
                describe(item)
            )));
        };
        let name = match map.get("model_name") {
            Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(self.invalid(format!("model_list[{i}] has no model_name (the name clients use)")));
            }
        };
        let label = format!("model_list[{i}] (model_name: {name})");
        let Some(params) = map.get("litellm_params").and_then(Value::as_mapping) else {
            return Err(
                self.invalid(format!("{label} has no litellm_params mapping with model and api_base"))
            );
        };
        let Some(server) = self.params(&label, params)? else {
            notes.push(format!("model_list[{i}] ({})", skip_reason(params)));
            return Ok(None);
        };
        if server.id.contains('*') || name.contains('*') {
            notes.push(format!("model_list[{i}] ({} wildcard)", model_text(params)));
            return Ok(None);
        }
        let Some(api_base) = server.api_base else {
            if server.provider == "openai" {
                notes.push(format!("model_list[{i}] ({} without api_base)", model_text(params)));
                return Ok(None);
            }
            return Err(self.invalid(format!(
                "{label}: litellm_params.api_base is missing; podctl needs the server's URL, \
                 e.g. http://localhost:8000/v1"
            )));
        };
        let url = self.api_base(&label, api_base)?;
        let mut replica = FileReplica { url, api_key_env: None, api_key: None, weight: None };
        let mut format = None;
        for (key, value) in map {
            let key = key_name(key);
            match key.as_str() {
                "model_name" => {}
                "litellm_params" => self.replica_params(i, &label, params, &mut replica, notes)?,
                "model_info" => format = self.model_info(i, &label, value, notes)?,
                _ => notes.push(format!("model_list[{i}].{key}")),
            }
        }
        Ok(Some(Entry { name, replica, id: server.id, format }))
    }

    /// The provider and model id, or `None` for a provider podctl cannot proxy.
    fn params<'v>(&self, label: &str, params: &'v Mapping) -> Result<Option<Params<'v>>, ConfigError> {
        let Some(model) = params.get("model").and_then(Value::as_str) else {
            return Err(self.invalid(format!(
                "{label}: litellm_params.model is missing; expected hosted_vllm/<the model id vLLM serves>"
            )));
        };
        let (provider, id) = match params.get("custom_llm_provider").and_then(Value::as_str) {
            Some(provider) => {
                (provider, model.strip_prefix(provider).and_then(|m| m.strip_prefix('/')).unwrap_or(model))
            }
            None => model.split_once('/').unwrap_or(("", model)),
        };
        let Some(provider) = PROVIDERS.iter().copied().find(|p| *p == provider) else {
            return Ok(None);
        };
        if id.trim().is_empty() {
            return Err(self.invalid(format!(
                "{label}: litellm_params.model `{model}` names no model after {provider}/"
            )));
        }
        Ok(Some(Params {
            provider,
            id: id.to_owned(),
            api_base: params.get("api_base").filter(|v| !v.is_null()),
        }))
    }

    /// `api_base` as podctl's upstream URL: `os.environ/NAME` resolved, `/v1` added to a bare host.
    fn api_base(&self, label: &str, value: &Value) -> Result<String, ConfigError> {
        let what = format!("{label}: litellm_params.api_base");
        let Some(text) = value.as_str() else {
            return Err(self.invalid(format!("{what} must be a URL, not {}", describe(value))));
        };
        let text = match text.strip_prefix("os.environ/") {
            Some(name) => self.resolve_env(name, &what)?,
            None => text.to_owned(),
        };
        let url = normalise_upstream(&text).map_err(|e| self.invalid(format!("{what}: {e}")))?;
        let host_and_path = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        Ok(if host_and_path.contains('/') { url } else { format!("{url}/v1") })
    }

    /// `api_key` and `weight` into the replica; other `litellm_params` keys are noted.
    fn replica_params(
        &self,
        i: usize,
        label: &str,
        params: &Mapping,
        replica: &mut FileReplica,
        notes: &mut Vec<String>,
    ) -> Result<(), ConfigError> {
        for (key, value) in params {
            let key = key_name(key);
            match key.as_str() {
                "model" | "api_base" | "custom_llm_provider" => {}
                "api_key" => self.api_key(label, value, replica)?,
                "weight" => replica.weight = Some(self.weight(label, value)?),
                _ => notes.push(format!("model_list[{i}].litellm_params.{key}")),
            }
        }
        Ok(())
    }

    /// `api_key`: `os.environ/NAME` becomes `api_key_env`, anything else the key itself.
    fn api_key(&self, label: &str, value: &Value, replica: &mut FileReplica) -> Result<(), ConfigError> {
        let key = match value {
            Value::Null => return Ok(()),
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                return Err(self.invalid(format!(
                    "{label}: litellm_params.api_key must be text, not {}",
                    describe(other)
                )));
            }
        };
        match key.strip_prefix("os.environ/") {
            Some("") => {
                Err(self.invalid(format!("{label}: litellm_params.api_key `os.environ/` names no variable")))
            }
            Some(name) => {
                replica.api_key_env = Some(name.to_owned());
                Ok(())
            }
            None => {
                replica.api_key = Some(key);
                Ok(())
            }
        }
    }

    /// `weight`: LiteLLM allows any positive number; podctl wants a whole one, at least 1.
    fn weight(&self, label: &str, value: &Value) -> Result<u32, ConfigError> {
        match value.as_f64() {
            Some(w) if w.is_finite() && w > 0.0 => {
                Ok(u32::try_from(whole(w.round()).max(1)).unwrap_or(u32::MAX))
            }
            _ => Err(self.invalid(format!(
                "{label}: litellm_params.weight must be a positive number, not {}",
                describe(value)
            ))),
        }
    }

    /// `model_info`: `tool_format` (a podctl extension) is used, `id` is ignored, the rest noted.
    fn model_info(
        &self,
        i: usize,
        label: &str,
        value: &Value,
        notes: &mut Vec<String>,
    ) -> Result<Option<Format>, ConfigError> {
        let mut format = None;
        for (key, value) in entries(self, value, &format!("{label}: model_info"))? {
            match key.as_str() {
                "id" => {}
                "tool_format" => {
                    let name = value.as_str().unwrap_or_default();
                    let parsed = name
                        .parse::<Format>()
                        .map_err(|e| self.invalid(format!("{label}: model_info.tool_format: {e}")))?;
                    format = Some(parsed);
                }
                _ => notes.push(format!("model_list[{i}].model_info.{key}")),
            }
        }
        Ok(format)
    }

    /// Entries sharing a `model_name` become one model's replicas, in file order.
    fn group(&self, used: Vec<Entry>) -> Result<BTreeMap<String, FileModel>, ConfigError> {
        let mut groups: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for entry in used {
            groups.entry(entry.name.clone()).or_default().push(entry);
        }
        groups.into_iter().map(|(name, entries)| Ok((name.clone(), self.model(&name, entries)?))).collect()
    }

    /// One podctl model from its entries.
    fn model(&self, name: &str, entries: Vec<Entry>) -> Result<FileModel, ConfigError> {
        let upstream_model = same(entries.iter().map(|e| e.id.clone()));
        let mut explicit: Vec<Format> = Vec::new();
        for format in entries.iter().filter_map(|e| e.format) {
            if !explicit.contains(&format) {
                explicit.push(format);
            }
        }
        let format = match explicit.as_slice() {
            [] => same(entries.iter().map(|e| guess_format(&e.id))).flatten().or_else(|| guess_format(name)),
            [one] => Some(*one),
            several => {
                let names: Vec<&str> = several.iter().map(|f| f.as_str()).collect();
                return Err(self.invalid(format!(
                    "model_name {name}: its entries disagree on model_info.tool_format ({})",
                    names.join(", ")
                )));
            }
        };
        Ok(FileModel {
            replicas: entries.into_iter().map(|e| e.replica).collect(),
            tool_format: format.map(|f| f.as_str().to_owned()),
            upstream_model,
            ..FileModel::default()
        })
    }
}

/// The one value every item has, or `None` when they differ.
fn same<T: PartialEq>(mut items: impl Iterator<Item = T>) -> Option<T> {
    let first = items.next()?;
    items.all(|item| item == first).then_some(first)
}

/// How a skipped entry is named in the notes: its `model` (with the provider).
fn skip_reason(params: &Mapping) -> String {
    match params.get("custom_llm_provider").and_then(Value::as_str) {
        Some(provider) => format!("{provider}: {}", model_text(params)),
        None => model_text(params),
    }
}

/// `litellm_params.model` as written.
fn model_text(params: &Mapping) -> String {
    params.get("model").and_then(Value::as_str).unwrap_or_default().to_owned()
}
