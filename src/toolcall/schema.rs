//! JSON-schema → the set of JSON types a parameter may take (spec section 4).
//!
//! Only what typing a raw value needs: `type` (string or list, with common aliases),
//! `enum`/`const` (types inferred from the values), `anyOf`/`oneOf`/`allOf` (recursively),
//! local `$ref`, and OpenAPI's `nullable`.

use serde_json::Value;

/// A set of JSON types. Empty means the schema says nothing usable: treat as string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Types(u8);

impl Types {
    pub const NULL: Self = Self(1);
    pub const BOOLEAN: Self = Self(1 << 1);
    pub const INTEGER: Self = Self(1 << 2);
    pub const NUMBER: Self = Self(1 << 3);
    pub const STRING: Self = Self(1 << 4);
    pub const OBJECT: Self = Self(1 << 5);
    pub const ARRAY: Self = Self(1 << 6);
    pub const NONE: Self = Self(0);

    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Values of this type are kept verbatim as strings (and so can stream as they arrive).
    pub fn is_pure_string(self) -> bool {
        self == Self::STRING || self.is_empty()
    }

    /// The type of a JSON value (for `enum` and `const`).
    pub fn of(value: &Value) -> Self {
        match value {
            Value::Null => Self::NULL,
            Value::Bool(_) => Self::BOOLEAN,
            Value::Number(n) if n.is_i64() || n.is_u64() => Self::INTEGER,
            Value::Number(_) => Self::NUMBER,
            Value::String(_) => Self::STRING,
            Value::Array(_) => Self::ARRAY,
            Value::Object(_) => Self::OBJECT,
        }
    }

    /// A type name as models' tool schemas write it, aliases included.
    pub fn from_name(name: &str) -> Self {
        match name.trim().to_ascii_lowercase().as_str() {
            "null" | "none" | "nonetype" => Self::NULL,
            "boolean" | "bool" => Self::BOOLEAN,
            "integer" | "int" | "long" => Self::INTEGER,
            "number" | "float" | "double" | "decimal" => Self::NUMBER,
            "string" | "str" | "text" => Self::STRING,
            "object" | "dict" | "map" => Self::OBJECT,
            "array" | "list" | "tuple" => Self::ARRAY,
            _ => Self::NONE,
        }
    }

    /// Collects the allowed types of `schema`; `root` is the whole `parameters` schema, for `$ref`.
    pub fn from_schema(schema: &Value, root: &Value) -> Self {
        collect(schema, root, 0, &mut Walk::default())
    }
}

/// Nesting deeper than this is treated as saying nothing.
const MAX_DEPTH: usize = 32;
/// At most this many schema nodes are looked at per parameter: a hostile schema
/// (`anyOf` of `$ref`s to itself) cannot make the walk exponential.
const MAX_NODES: usize = 4096;

/// What one walk has seen: each `$ref` is expanded once, and the walk is bounded.
#[derive(Default)]
struct Walk<'a> {
    refs: Vec<&'a str>,
    nodes: usize,
}

fn collect<'a>(schema: &'a Value, root: &'a Value, depth: usize, walk: &mut Walk<'a>) -> Types {
    let Value::Object(map) = schema else { return Types::NONE };
    walk.nodes += 1;
    if depth > MAX_DEPTH || walk.nodes > MAX_NODES {
        return Types::NONE;
    }
    let mut types = Types::NONE;
    match map.get("type") {
        Some(Value::String(name)) => types = types.union(Types::from_name(name)),
        Some(Value::Array(names)) => {
            for name in names.iter().filter_map(Value::as_str) {
                types = types.union(Types::from_name(name));
            }
        }
        _ => {}
    }
    if let Some(Value::Array(values)) = map.get("enum") {
        for value in values {
            types = types.union(Types::of(value));
        }
    }
    if let Some(value) = map.get("const") {
        types = types.union(Types::of(value));
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(subs)) = map.get(key) {
            for sub in subs {
                types = types.union(collect(sub, root, depth + 1, walk));
            }
        }
    }
    if let Some(reference) = map.get("$ref").and_then(Value::as_str)
        && !walk.refs.contains(&reference)
    {
        walk.refs.push(reference);
        if let Some(target) = resolve(reference, root) {
            types = types.union(collect(target, root, depth + 1, walk));
        }
    }
    if map.get("nullable") == Some(&Value::Bool(true)) && !types.is_empty() {
        types = types.union(Types::NULL);
    }
    if types.is_empty() {
        // Shape keywords without a `type` still say what the value is.
        if map.contains_key("properties") || map.contains_key("additionalProperties") {
            types = Types::OBJECT;
        } else if map.contains_key("items") || map.contains_key("prefixItems") {
            types = Types::ARRAY;
        }
    }
    types
}

/// Resolves a local reference (`#/$defs/Name`, `#/definitions/Name`, `#`).
fn resolve<'a>(reference: &str, root: &'a Value) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    // JSON pointer escapes: ~1 is '/', ~0 is '~'; pointer() handles them.
    root.pointer(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn types(schema: &Value) -> Types {
        Types::from_schema(schema, schema)
    }

    #[test]
    fn type_string_list_and_aliases() {
        assert_eq!(types(&json!({"type": "string"})), Types::STRING);
        assert_eq!(types(&json!({"type": ["integer", "null"]})), Types::INTEGER.union(Types::NULL));
        assert_eq!(types(&json!({"type": "int"})), Types::INTEGER);
        assert_eq!(types(&json!({"type": "dict"})), Types::OBJECT);
        assert_eq!(types(&json!({"type": "list"})), Types::ARRAY);
        assert_eq!(types(&json!({"type": "float"})), Types::NUMBER);
        assert_eq!(types(&json!({"type": "bool"})), Types::BOOLEAN);
    }

    #[test]
    fn enum_const_and_combinators() {
        assert_eq!(types(&json!({"enum": ["a", "b"]})), Types::STRING);
        assert_eq!(
            types(&json!({"enum": [1, 2.5, null]})),
            Types::INTEGER.union(Types::NUMBER).union(Types::NULL)
        );
        assert_eq!(types(&json!({"const": true})), Types::BOOLEAN);
        assert_eq!(
            types(&json!({"anyOf": [{"type": "integer"}, {"oneOf": [{"type": "array"}]}]})),
            Types::INTEGER.union(Types::ARRAY)
        );
    }

    #[test]
    fn local_refs_resolve_and_cycles_end() {
        let root = json!({"$defs": {"N": {"type": "number"}, "Loop": {"$ref": "#/$defs/Loop"}}});
        assert_eq!(Types::from_schema(&json!({"$ref": "#/$defs/N"}), &root), Types::NUMBER);
        assert_eq!(Types::from_schema(&json!({"$ref": "#/$defs/Loop"}), &root), Types::NONE);
        assert_eq!(Types::from_schema(&json!({"$ref": "#/$defs/Missing"}), &root), Types::NONE);
    }

    #[test]
    fn hostile_schemas_stay_cheap() {
        // Each level refers to itself three times: exponential without the `$ref` memory.
        let root = json!({"$defs": {"n": {"anyOf": [{"$ref": "#/$defs/n"}, {"$ref": "#/$defs/n"},
            {"$ref": "#/$defs/n"}, {"type": "integer"}]}}});
        assert_eq!(Types::from_schema(&json!({"$ref": "#/$defs/n"}), &root), Types::INTEGER);
    }

    #[test]
    fn shape_keywords_and_nullable() {
        assert_eq!(types(&json!({"properties": {}})), Types::OBJECT);
        assert_eq!(types(&json!({"items": {}})), Types::ARRAY);
        assert_eq!(types(&json!({"type": "string", "nullable": true})), Types::STRING.union(Types::NULL));
        assert!(types(&json!({"description": "anything"})).is_pure_string());
        assert!(!types(&json!({"type": ["string", "null"]})).is_pure_string());
    }
}
