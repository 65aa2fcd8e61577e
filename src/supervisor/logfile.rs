//! vLLM's output on disk: `vllm.log` capped in size and rotated (`vllm.log.1` … `.N`). A
//! write error (a full disk) never stops the service: the log degrades with one warning
//! and retries on the next rotation.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Rotation settings.
pub const MAX_BYTES: u64 = 16 << 20;
pub const KEEP: usize = 3;

/// An append-only, size-capped log.
#[derive(Debug)]
pub struct RotatingLog {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    max_bytes: u64,
    keep: usize,
    failed: bool,
}

impl RotatingLog {
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata().map_or(0, |m| m.len());
        Ok(Self { path: path.to_owned(), file: Some(file), size, max_bytes, keep, failed: false })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line (a newline is added).
    pub fn line(&mut self, text: &str) {
        let len = text.len() as u64 + 1;
        if self.size + len > self.max_bytes && self.size > 0 {
            self.rotate();
        }
        let Some(file) = self.file.as_mut() else { return };
        let result = file.write_all(text.as_bytes()).and_then(|()| file.write_all(b"\n"));
        match result {
            Ok(()) => {
                self.size += len;
                self.failed = false;
            }
            Err(e) if !self.failed => {
                self.failed = true;
                tracing::warn!(
                    "cannot write {}: {e}; vLLM's output is not being logged until this clears",
                    self.path.display()
                );
            }
            Err(_) => {}
        }
    }

    /// A line from podctl itself, marked so it stands out among vLLM's.
    pub fn note(&mut self, text: &str) {
        self.line(&format!("──── podctl: {text} ────"));
    }

    fn rotate(&mut self) {
        self.file = None;
        for i in (1..self.keep).rev() {
            let _ = std::fs::rename(numbered(&self.path, i), numbered(&self.path, i + 1));
        }
        if self.keep > 0 {
            let _ = std::fs::rename(&self.path, numbered(&self.path, 1));
        } else {
            let _ = std::fs::remove_file(&self.path);
        }
        match OpenOptions::new().create(true).append(true).open(&self.path) {
            Ok(f) => {
                self.file = Some(f);
                self.size = 0;
            }
            Err(e) => tracing::warn!("cannot reopen {}: {e}", self.path.display()),
        }
    }
}

/// `vllm.log` → `vllm.log.N`.
pub fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_at_the_cap_and_keeps_n() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("vllm.log");
        let mut log = RotatingLog::open(&path, 100, 2).expect("open");
        for i in 0..30 {
            log.line(&format!("line {i:02} ........"));
        }
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        assert!(size(&path) <= 100 && size(&path) > 0);
        assert!(size(&numbered(&path, 1)) > 0 && size(&numbered(&path, 2)) > 0);
        assert!(!numbered(&path, 3).exists());
        let last = std::fs::read_to_string(&path).expect("read");
        assert!(last.ends_with("line 29 ........\n"), "{last}");
    }
}
