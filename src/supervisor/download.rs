//! vLLM prints nothing while it downloads weights; the Hugging Face cache shows it. A model
//! `Org/Name` downloads into `HUB/models--Org--Name/blobs/`, and files still arriving end in
//! `.incomplete`. The supervisor looks while vLLM is loading and no shard has loaded yet.

use std::path::{Path, PathBuf};

/// The hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hub_dir(getenv: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(hub) = getenv("HF_HUB_CACHE").filter(|v| !v.is_empty()) {
        return PathBuf::from(hub);
    }
    if let Some(home) = getenv("HF_HOME").filter(|v| !v.is_empty()) {
        return Path::new(&home).join("hub");
    }
    let base = getenv("XDG_CACHE_HOME").filter(|v| !v.is_empty()).map_or_else(
        || Path::new(&getenv("HOME").unwrap_or_else(|| "/root".into())).join(".cache"),
        PathBuf::from,
    );
    base.join("huggingface").join("hub")
}

/// A download in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Download {
    /// Bytes in the model's blobs so far (finished and partial).
    pub bytes: u64,
}

/// `Some` while files of `model` are still arriving (a local path never downloads).
pub fn in_progress(hub: &Path, model: &str) -> Option<Download> {
    if model.starts_with('/') || model.starts_with('.') || !model.contains('/') {
        return None;
    }
    let blobs = hub.join(format!("models--{}", model.replace('/', "--"))).join("blobs");
    let mut bytes = 0;
    let mut partial = false;
    for entry in std::fs::read_dir(blobs).ok()?.filter_map(Result::ok) {
        bytes += entry.metadata().map_or(0, |m| m.len());
        partial |= entry.file_name().to_string_lossy().ends_with(".incomplete");
    }
    partial.then_some(Download { bytes })
}

/// `12.3 GiB`, `640 MiB`.
pub fn size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss, reason = "a display figure")]
    let b = bytes as f64;
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", b / f64::from(1u32 << 30))
    } else {
        format!("{:.0} MiB", b / f64::from(1u32 << 20))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_dir_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(hub_dir(&env(&[("HF_HUB_CACHE", "/h"), ("HF_HOME", "/x")])), PathBuf::from("/h"));
        assert_eq!(hub_dir(&env(&[("HF_HOME", "/workspace/hf")])), PathBuf::from("/workspace/hf/hub"));
        assert_eq!(hub_dir(&env(&[("HOME", "/root")])), PathBuf::from("/root/.cache/huggingface/hub"));
    }

    #[test]
    fn partial_blobs_mean_downloading() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let hub = tmp.path().to_path_buf();
        let blobs = hub.join("models--Org--Model").join("blobs");
        std::fs::create_dir_all(&blobs).expect("dir");
        std::fs::write(blobs.join("aaa"), vec![0u8; 1000]).expect("write");
        assert_eq!(in_progress(&hub, "Org/Model"), None, "complete files only: not downloading");
        std::fs::write(blobs.join("bbb.incomplete"), vec![0u8; 500]).expect("write");
        assert_eq!(in_progress(&hub, "Org/Model"), Some(Download { bytes: 1500 }));
        assert_eq!(in_progress(&hub, "Org/Other"), None);
        assert_eq!(in_progress(&hub, "/models/local"), None);
        assert_eq!(size(3 << 29), "1.5 GiB");
        assert_eq!(size(640 << 20), "640 MiB");
    }
}
