//! The request's declared tools: names and, per parameter, the allowed JSON types.

use std::collections::HashMap;

use serde_json::Value;

use super::schema::Types;

/// The tools a request declared, as the engine needs them.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    by_name: HashMap<String, Tool>,
}

/// One declared function.
#[derive(Debug, Clone, Default)]
pub struct Tool {
    params: HashMap<String, Types>,
}

/// The `tools` value could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ToolsError {
    #[error("`tools` must be an array of tool objects")]
    NotArray,
    #[error(
        "tools[{0}] has no function name (expected {{\"type\": \"function\", \"function\": {{\"name\": …}}}})"
    )]
    NoName(usize),
    #[error("tools[{index}].function.parameters must be a JSON object, not {found}")]
    BadParameters { index: usize, found: &'static str },
}

impl Tools {
    /// No tools declared.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads an OpenAI `tools` array. Each entry is `{"type": "function", "function": {name,
    /// parameters}}`; the bare `{name, parameters}` form is accepted too.
    pub fn from_openai(tools: &Value) -> Result<Self, ToolsError> {
        let Value::Array(list) = tools else { return Err(ToolsError::NotArray) };
        let mut by_name = HashMap::with_capacity(list.len());
        for (index, entry) in list.iter().enumerate() {
            let function = entry.get("function").unwrap_or(entry);
            let name = function.get("name").and_then(Value::as_str).ok_or(ToolsError::NoName(index))?;
            let parameters = function.get("parameters").unwrap_or(&Value::Null);
            let params = match parameters {
                Value::Null => HashMap::new(),
                Value::Object(map) => match map.get("properties") {
                    Some(Value::Object(props)) => props
                        .iter()
                        .map(|(key, schema)| (key.clone(), Types::from_schema(schema, parameters)))
                        .collect(),
                    _ => HashMap::new(),
                },
                other => return Err(ToolsError::BadParameters { index, found: json_kind(other) }),
            };
            by_name.insert(name.to_owned(), Tool { params });
        }
        Ok(Self { by_name })
    }

    pub fn get(&self, name: &str) -> Option<&Tool> {
        self.by_name.get(name)
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl Tool {
    /// The allowed types of a declared parameter; `None` when the schema does not list it.
    pub fn param(&self, name: &str) -> Option<Types> {
        self.params.get(name).copied()
    }

    /// The names of its declared parameters.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.params.keys().map(String::as_str)
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_openai_and_bare_shapes() {
        let tools = Tools::from_openai(&json!([
            {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object",
                "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}}}}},
            {"name": "bare", "parameters": {"properties": {"x": {"type": "boolean"}}}},
            {"type": "function", "function": {"name": "noargs"}}
        ]))
        .expect("valid tools");
        assert_eq!(tools.get("read_file").and_then(|t| t.param("limit")), Some(Types::INTEGER));
        assert_eq!(tools.get("bare").and_then(|t| t.param("x")), Some(Types::BOOLEAN));
        assert!(tools.get("noargs").is_some());
        assert!(tools.get("read_file").and_then(|t| t.param("nope")).is_none());
    }

    #[test]
    fn rejects_broken_tools() {
        assert_eq!(Tools::from_openai(&json!({})).unwrap_err(), ToolsError::NotArray);
        assert_eq!(Tools::from_openai(&json!([{"type": "function"}])).unwrap_err(), ToolsError::NoName(0));
        assert!(matches!(
            Tools::from_openai(&json!([{"name": "f", "parameters": 3}])),
            Err(ToolsError::BadParameters { index: 0, .. })
        ));
    }
}
