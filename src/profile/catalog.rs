//! Finding profiles by name: `./models/NAME.toml`, then `HOME/models/NAME.toml` (the podctl
//! home), then the profiles built into the binary. A name with a `/` or ending in `.toml`
//! is a path.

use std::path::{Path, PathBuf};

use super::error::ProfileError;
pub use super::origin::Origin;
use super::validated::Profile;

/// The profiles shipped in `models/`.
pub const BUILTIN: &[(&str, &str)] = &[
    ("qwen", include_str!("../../models/qwen.toml")),
    ("qwen-bf16", include_str!("../../models/qwen-bf16.toml")),
    ("qwen-tp2", include_str!("../../models/qwen-tp2.toml")),
    ("qwen3", include_str!("../../models/qwen3.toml")),
    ("llama3", include_str!("../../models/llama3.toml")),
    ("devstral", include_str!("../../models/devstral.toml")),
    ("deepseek-v31", include_str!("../../models/deepseek-v31.toml")),
    ("glm45-air", include_str!("../../models/glm45-air.toml")),
    ("kimi-k2", include_str!("../../models/kimi-k2.toml")),
    ("gpt-oss", include_str!("../../models/gpt-oss.toml")),
    ("gpt-oss-20b", include_str!("../../models/gpt-oss-20b.toml")),
    ("qwen36", include_str!("../../models/qwen36.toml")),
    ("qwen36-27b", include_str!("../../models/qwen36-27b.toml")),
    ("glm47", include_str!("../../models/glm47.toml")),
    ("minimax-m25", include_str!("../../models/minimax-m25.toml")),
    ("gemma4", include_str!("../../models/gemma4.toml")),
    ("deepseek-v4-flash", include_str!("../../models/deepseek-v4-flash.toml")),
    ("seed-oss", include_str!("../../models/seed-oss.toml")),
];

/// One profile a listing shows.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub origin: Origin,
    /// A profile of the same name earlier in the search order hides this one.
    pub shadowed: bool,
    /// Parsed, or why not.
    pub profile: Result<Box<Profile>, String>,
}

/// The folders searched before the built-in set, in order.
pub fn search_dirs() -> Vec<Origin> {
    vec![Origin::Local(PathBuf::from("models")), Origin::Home(crate::home::home().join("models"))]
}

/// Finds and parses the profile `name`.
pub fn find(name: &str) -> Result<Profile, ProfileError> {
    find_in(name, &search_dirs())
}

/// [`find`] over given folders.
pub fn find_in(name: &str, dirs: &[Origin]) -> Result<Profile, ProfileError> {
    if name.contains('/') || Path::new(name).extension().is_some_and(|e| e == "toml") {
        let path = PathBuf::from(name);
        let text = read(&path)?;
        let stem = path.file_stem().map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned());
        return Profile::parse(&stem, Origin::File(path), &text);
    }
    if name.is_empty() || name.starts_with('.') {
        return Err(not_found(name, dirs));
    }
    for dir in dirs {
        let (Origin::Local(d) | Origin::Home(d)) = dir else { continue };
        let path = d.join(format!("{name}.toml"));
        if path.is_file() {
            let text = read(&path)?;
            let origin = match dir {
                Origin::Local(_) => Origin::Local(path),
                _ => Origin::Home(path),
            };
            return Profile::parse(name, origin, &text);
        }
    }
    match BUILTIN.iter().find(|(n, _)| *n == name) {
        Some((n, text)) => Profile::parse(n, Origin::Builtin, text),
        None => Err(not_found(name, dirs)),
    }
}

fn read(path: &Path) -> Result<String, ProfileError> {
    std::fs::read_to_string(path).map_err(|source| ProfileError::Read { path: path.to_owned(), source })
}

fn not_found(name: &str, dirs: &[Origin]) -> ProfileError {
    let mut available: Vec<String> =
        list_in(dirs).into_iter().filter(|e| !e.shadowed).map(|e| e.name).collect();
    available.dedup();
    let searched = dirs
        .iter()
        .filter_map(|d| match d {
            Origin::Local(p) | Origin::Home(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    ProfileError::NotFound { name: name.to_owned(), searched, available }
}

/// Every profile in search order, shadowed ones marked.
pub fn list() -> Vec<Entry> {
    list_in(&search_dirs())
}

/// [`list`] over given folders.
pub fn list_in(dirs: &[Origin]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut push = |name: String, origin: Origin, text: Result<String, String>| {
        let shadowed = entries.iter().any(|e| e.name == name);
        let profile = text
            .and_then(|t| Profile::parse(&name, origin.clone(), &t).map(Box::new).map_err(|e| e.to_string()));
        entries.push(Entry { name, origin, shadowed, profile });
    };
    for dir in dirs {
        let (Origin::Local(d) | Origin::Home(d)) = dir else { continue };
        let Ok(read_dir) = std::fs::read_dir(d) else { continue };
        let mut files: Vec<PathBuf> = read_dir
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
            .collect();
        files.sort();
        for path in files {
            let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else { continue };
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string());
            let origin = match dir {
                Origin::Local(_) => Origin::Local(path),
                _ => Origin::Home(path),
            };
            push(name, origin, text);
        }
    }
    for (name, text) in BUILTIN {
        push((*name).to_owned(), Origin::Builtin, Ok((*text).to_owned()));
    }
    entries
}
