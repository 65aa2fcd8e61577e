//! The control socket of a running `podctl serve` (`STATE/serve.sock`, the owner's only):
//! `podctl load MODEL` and `podctl unload MODEL` send one line (`load NAME`, `unload NAME`)
//! and read one JSON line back ([`Reply`]). Local only: nothing on the network can load or
//! unload a model.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use super::fleet::Fleet;

/// Where a running serve listens.
pub fn socket_path() -> PathBuf {
    crate::home::state_dir().join("serve.sock")
}

/// The answer to one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The model's state afterwards (`ready`, `stopped`, `failed`, …).
    pub state: String,
    /// Why the command did not do what it asked.
    pub error: Option<String>,
    /// The name is not one of the models served.
    #[serde(default)]
    pub unknown: bool,
}

/// Answers commands until `shutdown`; the socket file goes with it.
pub async fn listen(fleet: Arc<Fleet>, shutdown: CancellationToken) -> std::io::Result<()> {
    let path = socket_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A socket left by a serve that was killed: nothing answers on it any more.
    if std::os::unix::net::UnixStream::connect(&path).is_err() {
        let _ = std::fs::remove_file(&path);
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    let tasks = tokio_util::task::TaskTracker::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let fleet = Arc::clone(&fleet);
                    let stop = shutdown.clone();
                    tasks.spawn(async move {
                        tokio::select! {
                            () = answer(&fleet, stream) => {}
                            () = stop.cancelled() => {}
                        }
                    });
                }
            }
            () = shutdown.cancelled() => break,
        }
    }
    tasks.close();
    tasks.wait().await;
    let _ = std::fs::remove_file(&path);
    Ok(())
}

async fn answer(fleet: &Arc<Fleet>, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(1024));
    let read = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line)).await;
    if !matches!(read, Ok(Ok(n)) if n > 0) {
        return;
    }
    let reply = match line.trim().split_once(' ') {
        Some((verb @ ("load" | "unload"), name)) => command(fleet, verb, name.trim()).await,
        _ => Reply {
            state: String::new(),
            error: Some(format!("unknown command {:?}", line.trim())),
            unknown: false,
        },
    };
    let mut text = serde_json::to_string(&reply).unwrap_or_default();
    text.push('\n');
    let _ = write.write_all(text.as_bytes()).await;
}

async fn command(fleet: &Arc<Fleet>, verb: &str, name: &str) -> Reply {
    let Some(i) = fleet.find(name) else {
        let names: Vec<&str> = fleet.members().iter().map(super::Member::served_name).collect();
        return Reply {
            state: String::new(),
            error: Some(format!("`{name}` is not served here (served: {})", names.join(", "))),
            unknown: true,
        };
    };
    let error = if verb == "load" {
        fleet.load_now(i).await.err().map(|e| e.message)
    } else {
        fleet.unload(i).await;
        None
    };
    Reply { state: fleet.load_word(i), error, unknown: false }
}
