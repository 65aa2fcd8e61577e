//! Rendering a [`ModelBlock`]: the text `continue-config` and `setup` print, from
//! `templates/continue.yaml`, and the YAML value `merge` puts into a config, read back from
//! that same text (so what is printed and what is written cannot drift apart).

use serde_norway::Value;

use super::block::ModelBlock;
use crate::template::{self, TemplateError};

/// Why the block cannot be rendered: a broken template (caught by the tests of
/// `templates/`), never the user's input.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("templates/continue.yaml does not render to YAML with one entry under `models`: {0}")]
    Yaml(String),
    /// Rendered configs that do not merge into one (several models' configs).
    #[error("the configs of the models do not merge: {0}")]
    Merge(String),
}

impl RenderError {
    pub(crate) fn other(e: impl std::fmt::Display) -> Self {
        Self::Merge(e.to_string())
    }
}

impl ModelBlock {
    /// The values the templates of `templates/` use, from this block.
    pub fn template_values(&self) -> Vec<(&'static str, String)> {
        vec![
            ("name", self.name.clone()),
            ("model", self.model.clone()),
            ("api_base", self.api_base.clone()),
            ("root_url", self.api_base.strip_suffix("/v1").unwrap_or(&self.api_base).to_owned()),
            ("key", self.api_key.clone()),
            ("context_length", self.context_length.to_string()),
            ("max_tokens", self.max_tokens.to_string()),
            ("temperature", self.temperature.to_string()),
        ]
    }

    /// The block to paste under a config's `models:`, with the contract's comments.
    pub fn to_yaml(&self) -> Result<String, RenderError> {
        let values = self.template_values();
        let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Ok(template::CONTINUE.render(&pairs)?)
    }

    /// The entry as a YAML value (what `merge` puts into a config).
    pub fn to_value(&self) -> Result<Value, RenderError> {
        let text = self.to_yaml()?;
        let mut doc: Value = serde_norway::from_str(&text).map_err(|e| RenderError::Yaml(e.to_string()))?;
        match doc.get_mut("models").and_then(Value::as_sequence_mut).map(std::mem::take) {
            Some(models) if models.len() == 1 => {
                models.into_iter().next().ok_or(RenderError::Yaml("empty".into()))
            }
            _ => Err(RenderError::Yaml("no single entry".into())),
        }
    }
}
