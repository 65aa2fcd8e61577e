//! The shape of the source tree, checked: no file under `src/` longer than 600 lines (a
//! `tests.rs` aside), and no two files that import each other, directly or in a circle
//! (a format's own folder under `src/toolcall/` aside: its files are one machine).
//!
//! Imports are read from the text: `use` trees and paths in code (`crate::`, `super::`,
//! `self::` or a child module's name), resolved to the file of the deepest module they name. Comments and `#[cfg(test)]`
//! modules are left out: tests may use the public API from anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

type ModPath = Vec<String>;

/// Every module file under `src/` (the binary's `main.rs` aside), by module path.
fn modules(src: &Path) -> BTreeMap<ModPath, PathBuf> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src").with_extension("");
            let mut segs: ModPath = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
            match segs.last().map(String::as_str) {
                Some("main") if segs.len() == 1 => continue,
                Some("lib") if segs.len() == 1 => segs.clear(),
                Some("mod") => {
                    segs.pop();
                }
                _ => {}
            }
            out.insert(segs, path);
        }
    }
    out
}

/// The code of a file without comments and `#[cfg(test)]` modules.
fn code(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim();
        let next_is_mod = lines.get(i + 1).is_some_and(|l| {
            let l = l.trim_start();
            (l.starts_with("mod ") || l.starts_with("pub(crate) mod ")) && l.ends_with('{')
        });
        if trimmed == "#[cfg(test)]" && next_is_mod {
            let (mut opened, mut closed) = (0, 0);
            i += 1;
            while i < lines.len() {
                opened += lines[i].matches('{').count();
                closed += lines[i].matches('}').count();
                i += 1;
                if closed >= opened {
                    break;
                }
            }
            continue;
        }
        if !trimmed.starts_with("//") {
            let line = lines[i];
            out.push_str(line.find("//").map_or(line, |at| &line[..at]));
            out.push('\n');
        }
        i += 1;
    }
    out
}

/// The paths a `use` tree (the text between `use` and `;`) names.
fn use_paths(tree: &str, prefix: &[String], out: &mut Vec<ModPath>) {
    let tree = tree.trim();
    if tree.is_empty() {
        return;
    }
    if let Some(open) = tree.find('{') {
        let head: ModPath =
            tree[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let inner = &tree[open + 1..tree.rfind('}').expect("a closed use tree")];
        let mut prefix = prefix.to_vec();
        prefix.extend(head);
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    use_paths(&inner[start..i], &prefix, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        use_paths(&inner[start..], &prefix, out);
        return;
    }
    let tree = tree.split(" as ").next().unwrap_or(tree);
    let mut path = prefix.to_vec();
    path.extend(tree.split("::").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned));
    out.push(path);
}

/// The module a path used in module `at` lands in (the deepest one it names), if it is one
/// of this crate's.
fn resolve(mods: &BTreeMap<ModPath, PathBuf>, at: &[String], path: &[String]) -> Option<ModPath> {
    let (mut module, rest): (ModPath, &[String]) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("self") => (at.to_vec(), &path[1..]),
        Some("super") => {
            let supers = path.iter().take_while(|s| *s == "super").count();
            (at[..at.len().checked_sub(supers)?].to_vec(), &path[supers..])
        }
        Some(first) => {
            let mut child = at.to_vec();
            child.push(first.to_owned());
            if !mods.contains_key(&child) {
                return None;
            }
            (at.to_vec(), path)
        }
        None => return None,
    };
    for seg in rest {
        module.push(seg.clone());
        if !mods.contains_key(&module) {
            module.pop();
            break;
        }
    }
    Some(module)
}

/// Which modules each module's file imports.
fn imports(mods: &BTreeMap<ModPath, PathBuf>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut edges = BTreeMap::new();
    for (module, file) in mods {
        let text = code(&std::fs::read_to_string(file).expect("a readable source file"));
        let mut paths = Vec::new();
        // `use` items start a line (after visibility); their tree runs to the `;`.
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let item = line.trim_start();
            let item = item.strip_prefix("pub ").or_else(|| item.strip_prefix("pub(crate) ")).unwrap_or(item);
            if let Some(tree) = item.strip_prefix("use ") {
                let start = offset + (line.len() - tree.len());
                if let Some(end) = text[start..].find(';') {
                    use_paths(&text[start..start + end], &[], &mut paths);
                }
            }
            offset += line.len();
        }
        for (i, _) in text.match_indices("::") {
            let start = text[..i]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(0, |p| p + 1);
            let word = &text[start..];
            let end =
                word.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(word.len());
            let raw = &word[..end];
            if raw.ends_with("::") {
                // The head of a `use` tree (`super::{a, b}`): the use parser reads those.
                continue;
            }
            let path: ModPath = raw.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect();
            // `crate::`, `super::`, `self::` or a child module's name (`resolve` tells).
            paths.push(path);
        }
        let targets: BTreeSet<ModPath> =
            paths.iter().filter_map(|p| resolve(mods, module, p)).filter(|t| t != module).collect();
        edges.insert(module.clone(), targets);
    }
    edges
}

/// The groups of modules that import each other in a circle (Tarjan's strongly connected
/// components of more than one module).
fn circles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        found: Vec<Vec<ModPath>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a ModPath) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    group.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk =
        Walk { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// A format's own folder under `src/toolcall/` (`qwen/`): its files are one machine and may
/// share its state freely.
fn inside_one_format_folder(group: &[ModPath]) -> bool {
    let folder = |m: &ModPath| (m.len() >= 2 && m[0] == "toolcall").then(|| m[1].clone());
    let Some(first) = folder(&group[0]) else { return false };
    let is_folder = src().join("toolcall").join(&first).is_dir();
    is_folder && group.iter().all(|m| folder(m).as_ref() == Some(&first))
}

#[test]
fn no_two_files_import_each_other() {
    let mods = modules(&src());
    let edges = imports(&mods);
    let name = |m: &ModPath| if m.is_empty() { "lib".to_owned() } else { m.join("/") };
    let bad: Vec<String> = circles(&edges)
        .into_iter()
        .filter(|group| !inside_one_format_folder(group))
        .map(|group| group.iter().map(name).collect::<Vec<_>>().join(" → "))
        .collect();
    assert!(bad.is_empty(), "files that import each other, directly or in a circle:\n{}", bad.join("\n"));
}

#[test]
fn the_checker_sees_a_circle() {
    let a: ModPath = vec!["a".to_owned()];
    let b: ModPath = vec!["a".to_owned(), "b".to_owned()];
    let edges =
        BTreeMap::from([(a.clone(), BTreeSet::from([b.clone()])), (b.clone(), BTreeSet::from([a.clone()]))]);
    assert_eq!(circles(&edges), vec![vec![a, b]]);
    let mut paths = Vec::new();
    use_paths("super::{event::{Event, Sink}, format::Format as F}", &[], &mut paths);
    let want: Vec<ModPath> =
        [["super", "event", "Event"], ["super", "event", "Sink"], ["super", "format", "Format"]]
            .iter()
            .map(|p| p.iter().map(|s| (*s).to_owned()).collect())
            .collect();
    assert_eq!(paths, want);
}

#[test]
fn no_source_file_is_over_600_lines() {
    let long: Vec<String> = modules(&src())
        .into_values()
        .filter(|file| file.file_name().is_none_or(|n| n != "tests.rs"))
        .filter_map(|file| {
            let lines = std::fs::read_to_string(&file).expect("readable").lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by job (at most {MAX_LINES} lines each):\n{}", long.join("\n"));
}
