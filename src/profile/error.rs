//! Profile errors: which file, which line, which key, and what to write instead.

use std::path::PathBuf;

/// A profile that cannot be found, read or used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{}", invalid_message(file, *line, message))]
    Invalid { file: String, line: Option<usize>, key: Option<String>, message: String, hint: String },
    #[error("no profile named `{name}`")]
    NotFound { name: String, searched: Vec<PathBuf>, available: Vec<String> },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
}

fn invalid_message(file: &str, line: Option<usize>, message: &str) -> String {
    match line {
        Some(line) => format!("{file}:{line}: {message}"),
        None => format!("{file}: {message}"),
    }
}

impl ProfileError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            Self::Invalid { hint, .. } => hint.clone(),
            Self::NotFound { searched, available, .. } => {
                let dirs: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
                format!(
                    "profiles: {}; looked in {} and the built-in set; `podctl profiles` lists them",
                    if available.is_empty() { "none".to_owned() } else { available.join(", ") },
                    dirs.join(", ")
                )
            }
            Self::Read { .. } => "check the path and its permissions".to_owned(),
        }
    }
}

/// 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    memchr::memchr_iter(b'\n', &text.as_bytes()[..end]).count() + 1
}

/// The key on a line (`key = value` → `key`), for errors whose span points at a value.
pub(super) fn key_on_line(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let (key, _) = l.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_owned())
}

/// The known key closest to a misspelt one (edit distance ≤ 3).
pub(super) fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (distance(word, k), *k))
        .filter(|(d, k)| *d <= 3.min(k.len() / 2 + 1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(cur) };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keys_and_suggestions() {
        let text = "a = 1\nport = \"x\"\n[env]\n";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 8), 2);
        assert_eq!(key_on_line(text, 2).as_deref(), Some("port"));
        assert_eq!(key_on_line(text, 3), None);
        assert_eq!(closest("tool_fromat", &["tool_format", "port"]), Some("tool_format"));
        assert_eq!(closest("zzz", &["tool_format", "port"]), None);
    }
}
