//! Merging a [`ModelBlock`] into a Continue `config.yaml` as text: a YAML round trip that
//! keeps every other model and key (but not comments or formatting).

use serde_norway::{Mapping, Value};

use super::block::{ModelBlock, NEW_CONFIG};

/// Why a config cannot be merged into.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("not valid YAML: {0}")]
    Yaml(String),
    #[error("the top level is not a mapping of settings (`name:`, `models:`, …)")]
    NotMapping,
    #[error("`models` is not a list")]
    ModelsNotList,
    #[error(transparent)]
    Render(#[from] super::render::RenderError),
}

impl From<serde_norway::Error> for MergeError {
    fn from(e: serde_norway::Error) -> Self {
        Self::Yaml(e.to_string())
    }
}

/// `existing` (a Continue `config.yaml`, possibly empty) with `block` in its `models`: an
/// entry with the same `name` is replaced in place (later duplicates dropped), else the
/// block is appended. Every other model and key is kept; comments are not. An empty file
/// becomes a minimal valid config.
pub fn merge(existing: &str, block: &ModelBlock) -> Result<String, MergeError> {
    let parsed: Value =
        if existing.trim().is_empty() { Value::Null } else { serde_norway::from_str(existing)? };
    let mut root = match parsed {
        Value::Null => match serde_norway::to_value(NEW_CONFIG)? {
            Value::Mapping(m) => m,
            _ => Mapping::new(),
        },
        Value::Mapping(m) => m,
        _ => return Err(MergeError::NotMapping),
    };
    let ours = block.to_value()?;
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
    Ok(serde_norway::to_string(&Value::Mapping(root))?)
}
