//! Rendering a [`ModelBlock`]: the YAML value `merge` puts into a config, and the text
//! `continue-config` and `setup` print, both serialised from the serde types of `block`.

use serde_norway::Value;

use super::block::{ModelBlock, Models};

/// Printed above the block: why three of its values are what they are (the client
/// contract). A comment, so the block still pastes as it is.
const NOTES: &str = "\
# provider `openai`, not `vllm`: that one templates the chat client-side
# capabilities [tool_use]: without it the IDE never sends tools
# contextLength: never above the served max_model_len
";

impl ModelBlock {
    /// The entry as a YAML value (what `merge` puts into a config).
    pub fn to_value(&self) -> Result<Value, serde_norway::Error> {
        serde_norway::to_value(self.entry())
    }

    /// The block to paste under a config's `models:`, with the contract's comments.
    pub fn to_yaml(&self) -> Result<String, serde_norway::Error> {
        let yaml = serde_norway::to_string(&Models { models: [self.entry()] })?;
        Ok(format!("{NOTES}{yaml}"))
    }
}
