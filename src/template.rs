//! The files of `templates/`, embedded in the binary, and the one substitution they use:
//! `{{name}}` is replaced by a value, escaped for where it sits (inside a JSON, TOML or
//! YAML double-quoted string, or a shell single-quoted word), so a key or URL with a quote
//! in it cannot break the file. Nothing else is special: a template is the client's file
//! as the user will see it, and a contributor changes a client's shape there alone.
//!
//! A placeholder that is not among the values given is an error, never left in the output.

/// How a value is escaped where a template puts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// Inside `"…"` of JSON, TOML (basic string) or YAML (double-quoted scalar): the three
    /// share `\\`, `\"` and `\uXXXX`. Numbers sit outside quotes and need none of it.
    DoubleQuoted,
    /// Inside `'…'` of a POSIX shell word: a `'` becomes `'\''`.
    ShellSingle,
}

/// One file of `templates/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// The file name under `templates/` (for errors and tests).
    pub name: &'static str,
    pub text: &'static str,
    pub quoting: Quoting,
}

/// Continue's model block (`config.yaml`).
pub const CONTINUE: Template = Template {
    name: "continue.yaml",
    text: include_str!("../templates/continue.yaml"),
    quoting: Quoting::DoubleQuoted,
};
/// Claude Code's environment (shell exports).
pub const CLAUDE: Template = Template {
    name: "claude.sh",
    text: include_str!("../templates/claude.sh"),
    quoting: Quoting::ShellSingle,
};
/// Codex's `config.toml`.
pub const CODEX: Template = Template {
    name: "codex.toml",
    text: include_str!("../templates/codex.toml"),
    quoting: Quoting::DoubleQuoted,
};
/// OpenCode's `opencode.json`.
pub const OPENCODE: Template = Template {
    name: "opencode.json",
    text: include_str!("../templates/opencode.json"),
    quoting: Quoting::DoubleQuoted,
};
/// Qwen Code's environment (shell exports).
pub const QWEN: Template =
    Template { name: "qwen.sh", text: include_str!("../templates/qwen.sh"), quoting: Quoting::ShellSingle };

/// The script `podctl setup --autostart` writes (the pod's start command runs it).
pub const AUTOSTART: Template = Template {
    name: "autostart.sh",
    text: include_str!("../templates/autostart.sh"),
    quoting: Quoting::ShellSingle,
};

/// Every client template, for tests that render them all.
pub const ALL: [Template; 5] = [CONTINUE, CLAUDE, CODEX, OPENCODE, QWEN];

/// Why a template cannot be rendered (a bug in a template or its caller, caught by tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("templates/{template}: `{{{{{name}}}}}` has no value")]
    Unknown { template: &'static str, name: String },
    #[error("templates/{template}: a `{{{{` is never closed")]
    Unclosed { template: &'static str },
}

impl Template {
    /// The template with every `{{name}}` replaced by its value from `values`, escaped by
    /// [`Template::quoting`].
    pub fn render(&self, values: &[(&str, &str)]) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.text.len() + 256);
        let mut rest = self.text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or(TemplateError::Unclosed { template: self.name })?;
            let name = after[..end].trim();
            let value = values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| *v)
                .ok_or_else(|| TemplateError::Unknown { template: self.name, name: name.to_owned() })?;
            escape(self.quoting, value, &mut out);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn escape(quoting: Quoting, value: &str, out: &mut String) {
    match quoting {
        Quoting::ShellSingle => out.push_str(&value.replace('\'', r"'\''")),
        Quoting::DoubleQuoted => {
            for c in value.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
                    c => out.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Template =
        Template { name: "t", text: "a = \"{{ x }}\" n = {{n}}\n", quoting: Quoting::DoubleQuoted };

    #[test]
    fn values_are_put_in_and_escaped_for_their_quotes() {
        assert_eq!(
            T.render(&[("x", "q\"\\\n\u{1}"), ("n", "7")]),
            Ok("a = \"q\\\"\\\\\\n\\u0001\" n = 7\n".to_owned())
        );
        let sh = Template { name: "s", text: "export A='{{a}}'", quoting: Quoting::ShellSingle };
        assert_eq!(sh.render(&[("a", "it's")]), Ok("export A='it'\\''s'".to_owned()));
    }

    #[test]
    fn an_unknown_or_unclosed_placeholder_is_an_error() {
        assert_eq!(T.render(&[("x", "1")]), Err(TemplateError::Unknown { template: "t", name: "n".into() }));
        let open = Template { name: "o", text: "a {{x", quoting: Quoting::DoubleQuoted };
        assert_eq!(open.render(&[("x", "1")]), Err(TemplateError::Unclosed { template: "o" }));
    }

    #[test]
    fn the_escaped_value_reads_back_in_json_toml_and_yaml() {
        let nasty = "k\"e\\y\n'x'";
        let json = Template { name: "j", text: "{\"k\": \"{{v}}\"}", quoting: Quoting::DoubleQuoted };
        let v: serde_json::Value =
            serde_json::from_str(&json.render(&[("v", nasty)]).expect("renders")).expect("json");
        assert_eq!(v["k"], nasty);
        let toml_t = Template { name: "t", text: "k = \"{{v}}\"\n", quoting: Quoting::DoubleQuoted };
        let t: toml::Table = toml::from_str(&toml_t.render(&[("v", nasty)]).expect("renders")).expect("toml");
        assert_eq!(t["k"].as_str(), Some(nasty));
        let yaml = Template { name: "y", text: "k: \"{{v}}\"\n", quoting: Quoting::DoubleQuoted };
        let y: serde_norway::Value =
            serde_norway::from_str(&yaml.render(&[("v", nasty)]).expect("renders")).expect("yaml");
        assert_eq!(y["k"].as_str(), Some(nasty));
    }
}
