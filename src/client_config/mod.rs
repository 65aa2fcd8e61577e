//! What each coding agent needs to reach a profile's proxy, rendered from its file in
//! `templates/` ([`crate::template`]), and merging that into the agent's own config file:
//!
//! | agent | API it speaks | printed | `--write` merges into |
//! |---|---|---|---|
//! | Continue | Chat Completions | the `config.yaml` model block | `~/.continue/config.yaml` |
//! | Claude Code | Anthropic Messages | shell exports | `env` of `~/.claude/settings.json` |
//! | Codex | OpenAI Responses | `config.toml` | `~/.codex/config.toml` |
//! | OpenCode | Chat Completions | `opencode.json` | `~/.config/opencode/opencode.json` |
//! | Qwen Code | Chat Completions | shell exports | (none: exports only) |
//!
//! The values are Continue's ([`ModelBlock`]: the served name, the proxy's URL, RunPod's
//! public one on a pod, the key, the context length) plus the variable a key is read
//! from. Merging keeps every other setting: the JSON and TOML merges are deep (our keys
//! replaced, the rest untouched; TOML comments kept), Continue's is by model name.
//!
//! `merge` holds the format-level merges; this file knows the agents.

mod merge;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use merge::{MergeError, exports_to_settings, merge_json, merge_toml};

use crate::continue_config::{ModelBlock, RenderError};
use crate::template::{self, Template};

/// A coding agent `client-config` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    /// Continue.dev (IDE extension and `cn`): Chat Completions.
    Continue,
    /// Claude Code (`claude`): the Anthropic Messages API.
    Claude,
    /// Codex CLI (`codex`): the OpenAI Responses API.
    Codex,
    /// OpenCode (`opencode`): Chat Completions through `@ai-sdk/openai-compatible`.
    Opencode,
    /// Qwen Code (`qwen`): Chat Completions.
    Qwen,
}

/// How a rendered config goes into the agent's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Continue's `config.yaml` (merged by model name).
    ContinueYaml,
    /// A JSON file, merged deep (OpenCode).
    Json,
    /// Shell exports that go into the `env` object of a JSON settings file (Claude Code).
    JsonEnv,
    /// A TOML file, merged deep with its comments kept (Codex).
    Toml,
}

impl Agent {
    /// The agent's template in `templates/`.
    pub fn template(self) -> Template {
        match self {
            Self::Continue => template::CONTINUE,
            Self::Claude => template::CLAUDE,
            Self::Codex => template::CODEX,
            Self::Opencode => template::OPENCODE,
            Self::Qwen => template::QWEN,
        }
    }

    /// What the agent is called in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Continue => "Continue",
            Self::Claude => "Claude Code",
            Self::Codex => "Codex",
            Self::Opencode => "OpenCode",
            Self::Qwen => "Qwen Code",
        }
    }

    /// How `--write` treats the agent's file; `None` when it has none to write (Qwen Code
    /// is configured by its environment).
    pub fn file_kind(self) -> Option<FileKind> {
        match self {
            Self::Continue => Some(FileKind::ContinueYaml),
            Self::Claude => Some(FileKind::JsonEnv),
            Self::Codex => Some(FileKind::Toml),
            Self::Opencode => Some(FileKind::Json),
            Self::Qwen => None,
        }
    }

    /// The config file the agent reads, found the way it finds it (its own variables
    /// first, then its default under `HOME`); `None` without a file or a `HOME`.
    pub fn default_path(self, getenv: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let var = |k: &str| getenv(k).filter(|v| !v.trim().is_empty()).map(PathBuf::from);
        let home = var("HOME");
        match self {
            Self::Continue => Some(home?.join(".continue/config.yaml")),
            Self::Claude => Some(
                var("CLAUDE_CONFIG_DIR").or_else(|| home.map(|h| h.join(".claude")))?.join("settings.json"),
            ),
            Self::Codex => {
                Some(var("CODEX_HOME").or_else(|| home.map(|h| h.join(".codex")))?.join("config.toml"))
            }
            Self::Opencode => var("OPENCODE_CONFIG").or_else(|| {
                let config = var("XDG_CONFIG_HOME").or_else(|| home.map(|h| h.join(".config")))?;
                Some(config.join("opencode/opencode.json"))
            }),
            Self::Qwen => None,
        }
    }

    /// The agent's config for `block`'s proxy: the template with the block's values and
    /// `key_env`, the variable a key is read from (Codex's `env_key`).
    pub fn render(self, block: &ModelBlock, key_env: &str) -> Result<String, RenderError> {
        if self == Self::Continue {
            return block.to_yaml();
        }
        let mut values = block.template_values();
        values.push(("key_env", key_env.to_owned()));
        let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Ok(self.template().render(&pairs)?)
    }

    /// The config for several models behind one proxy (`podctl serve A B …`), the first
    /// the default: Continue and OpenCode list every model, Codex gets a profile per model
    /// (`codex --profile NAME`), and the agents configured by their environment name the
    /// others in a comment.
    pub fn render_all(self, blocks: &[ModelBlock], key_env: &str) -> Result<String, RenderError> {
        let Some((first, rest)) = blocks.split_first() else { return Ok(String::new()) };
        let one = self.render(first, key_env)?;
        if rest.is_empty() {
            return Ok(one);
        }
        match self.file_kind() {
            Some(FileKind::ContinueYaml) => {
                let mut text = String::new();
                for block in blocks {
                    text = crate::continue_config::merge(&text, block).map_err(RenderError::other)?;
                }
                Ok(text)
            }
            Some(kind @ (FileKind::Json | FileKind::Toml)) => {
                // Merged last first, so that the first model's top-level choices win.
                let mut text = self.render(&blocks[blocks.len() - 1], key_env)?;
                for block in blocks[..blocks.len() - 1].iter().rev() {
                    let rendered = self.render(block, key_env)?;
                    text = match kind {
                        FileKind::Json => merge_json(&text, &rendered),
                        _ => merge_toml(&text, &rendered),
                    }
                    .map_err(RenderError::other)?;
                }
                Ok(text)
            }
            Some(FileKind::JsonEnv) | None => {
                let others: Vec<&str> = rest.iter().map(|b| b.model.as_str()).collect();
                Ok(format!(
                    "{one}# Also served here: {} (set the model variable above to one of them to switch).\n",
                    others.join(", ")
                ))
            }
        }
    }

    /// [`Agent::merge`] for [`Agent::render_all`]'s text: Continue's blocks one by one.
    pub fn merge_all(
        self,
        existing: &str,
        rendered: &str,
        blocks: &[ModelBlock],
    ) -> Result<String, MergeError> {
        if self.file_kind() == Some(FileKind::ContinueYaml) {
            let mut text = existing.to_owned();
            for block in blocks {
                text = crate::continue_config::merge(&text, block)?;
            }
            return Ok(text);
        }
        match blocks.first() {
            Some(first) => self.merge(existing, rendered, first),
            None => Ok(existing.to_owned()),
        }
    }

    /// `existing` (the agent's file, `""` when there is none) with `rendered` merged in.
    pub fn merge(self, existing: &str, rendered: &str, block: &ModelBlock) -> Result<String, MergeError> {
        match self.file_kind() {
            Some(FileKind::ContinueYaml) => Ok(crate::continue_config::merge(existing, block)?),
            Some(FileKind::Json) => merge_json(existing, rendered),
            Some(FileKind::JsonEnv) => merge_json(existing, &exports_to_settings(rendered)?),
            Some(FileKind::Toml) => merge_toml(existing, rendered),
            None => Err(MergeError::NoFile(self.label())),
        }
    }
}
