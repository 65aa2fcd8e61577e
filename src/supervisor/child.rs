//! Starting vLLM: the leader of a new process group (so the whole tree can be signalled at
//! once and a terminal's Ctrl-C does not reach it), stdin closed, both output streams read
//! into one channel of [`Output`] segments.

use std::process::Stdio;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::lines::{LineSplitter, Segment};
use crate::vllm::argv::Launch;

/// One segment of output, and from which stream.
#[derive(Debug, Clone)]
pub struct Output {
    pub stderr: bool,
    pub segment: Segment,
}

/// A started vLLM.
#[derive(Debug)]
pub struct Running {
    pub child: Child,
    pub pid: i32,
    pub output: mpsc::Receiver<Output>,
}

/// Starts the launch.
pub fn spawn(launch: &Launch) -> std::io::Result<Running> {
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(false);
    let mut child = cmd.spawn()?;
    let pid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
    let (tx, output) = mpsc::channel(1024);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(pump(out, false, tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pump(err, true, tx));
    }
    Ok(Running { child, pid, output })
}

async fn pump(mut stream: impl AsyncReadExt + Unpin, stderr: bool, tx: mpsc::Sender<Output>) {
    let mut splitter = LineSplitter::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut segments = Vec::new();
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        splitter.push(&buf[..n], &mut segments);
        for segment in segments.drain(..) {
            if tx.send(Output { stderr, segment }).await.is_err() {
                return;
            }
        }
    }
    if let Some(segment) = splitter.finish() {
        let _ = tx.send(Output { stderr, segment }).await;
    }
}
