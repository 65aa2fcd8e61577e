//! `--trace-dir`: per request, the raw upstream text and what the client was sent, so a
//! user can see why a call did or did not parse. Written off the request path; a failure
//! to write (a full disk) is logged once and never fails a request.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

#[derive(Debug)]
pub(crate) struct Tracer {
    dir: PathBuf,
    warned: AtomicBool,
}

impl Tracer {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir, warned: AtomicBool::new(false) }
    }

    /// Writes `<dir>/<id>.json` in the background.
    pub(crate) fn write(self: &std::sync::Arc<Self>, id: &str, record: Value) {
        let path = self.dir.join(format!("{id}.json"));
        let this = std::sync::Arc::clone(self);
        tokio::spawn(async move {
            let text = serde_json::to_string_pretty(&record).unwrap_or_default();
            let result = async {
                tokio::fs::create_dir_all(&this.dir).await?;
                tokio::fs::write(&path, text).await
            }
            .await;
            if result.is_err() {
                // A half-written trace would mislead: none is better.
                let _ = tokio::fs::remove_file(&path).await;
            }
            if let Err(e) = result
                && !this.warned.swap(true, Ordering::Relaxed)
            {
                tracing::warn!(
                    "cannot write traces to {}: {e} (requests go on without traces)",
                    this.dir.display()
                );
            }
        });
    }
}
