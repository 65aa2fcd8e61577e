//! Merging a rendered config into the file a client already has, without losing its other
//! settings: JSON and TOML deep (a table or object of ours is merged key by key into the
//! user's, any other value of ours replaces theirs, everything else stays), TOML with its
//! comments and layout kept (`toml_edit`). A file that does not parse is refused, so
//! nothing the user wrote is ever overwritten by a guess. An empty or missing file gets
//! the rendered text itself, comments included.

use serde_json::{Map, Value};

/// Why a client's file cannot be merged into.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("not valid JSON (comments and trailing commas are not read): {0}")]
    Json(serde_json::Error),
    #[error("the top level is not a JSON object")]
    JsonNotObject,
    #[error("not valid TOML: {0}")]
    Toml(Box<toml_edit::TomlError>),
    #[error(transparent)]
    Continue(#[from] crate::continue_config::MergeError),
    #[error("a rendered line is not `export NAME='value'`: {0}")]
    Export(String),
    #[error("{0} has no config file: it reads its environment")]
    NoFile(&'static str),
}

/// `existing` JSON with `ours` (a JSON object's text) merged in deep; pretty-printed.
pub fn merge_json(existing: &str, ours: &str) -> Result<String, MergeError> {
    let ours: Value = serde_json::from_str(ours).map_err(MergeError::Json)?;
    if existing.trim().is_empty() {
        return pretty(&ours);
    }
    let Value::Object(mut root) = serde_json::from_str(existing).map_err(MergeError::Json)? else {
        return Err(MergeError::JsonNotObject);
    };
    let Value::Object(ours) = ours else { return Err(MergeError::JsonNotObject) };
    deep_json(&mut root, ours);
    pretty(&Value::Object(root))
}

fn deep_json(into: &mut Map<String, Value>, ours: Map<String, Value>) {
    for (key, value) in ours {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(theirs)), Value::Object(ours)) => deep_json(theirs, ours),
            (Some(slot), value) => *slot = value,
            (None, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn pretty(value: &Value) -> Result<String, MergeError> {
    let mut text = serde_json::to_string_pretty(value).map_err(MergeError::Json)?;
    text.push('\n');
    Ok(text)
}

/// `existing` TOML with `ours` merged in deep, keeping the user's comments and layout.
pub fn merge_toml(existing: &str, ours: &str) -> Result<String, MergeError> {
    if existing.trim().is_empty() {
        return Ok(ours.to_owned());
    }
    let parse =
        |text: &str| text.parse::<toml_edit::DocumentMut>().map_err(|e| MergeError::Toml(Box::new(e)));
    let mut doc = parse(existing)?;
    let ours = parse(ours)?;
    deep_toml(doc.as_table_mut(), ours.as_table());
    let mut text = doc.to_string();
    // Keys added at the end of the last table come without the file's final newline.
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

fn deep_toml(into: &mut toml_edit::Table, ours: &toml_edit::Table) {
    for (key, item) in ours {
        match (into.get_mut(key), item) {
            (Some(toml_edit::Item::Table(theirs)), toml_edit::Item::Table(ours)) => deep_toml(theirs, ours),
            (Some(toml_edit::Item::Value(theirs)), toml_edit::Item::Value(ours)) => {
                // The value is replaced, the spacing and comment around it are the user's.
                let decor = theirs.decor().clone();
                *theirs = ours.clone();
                *theirs.decor_mut() = decor;
            }
            (Some(slot), item) => *slot = item.clone(),
            (None, item) => {
                into.insert(key, item.clone());
            }
        }
    }
}

/// Shell exports (`export NAME='value'` lines; comments and blank lines skipped) as the
/// JSON of a settings file's `env` object (Claude Code's `settings.json`).
pub fn exports_to_settings(exports: &str) -> Result<String, MergeError> {
    let mut env = Map::new();
    for line in exports.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let bad = || MergeError::Export(line.to_owned());
        let (name, quoted) = line.strip_prefix("export ").and_then(|l| l.split_once('=')).ok_or_else(bad)?;
        let inner = quoted.strip_prefix('\'').and_then(|q| q.strip_suffix('\'')).ok_or_else(bad)?;
        env.insert(name.to_owned(), Value::String(inner.replace(r"'\''", "'")));
    }
    let mut root = Map::new();
    root.insert("env".to_owned(), Value::Object(env));
    pretty(&Value::Object(root))
}
