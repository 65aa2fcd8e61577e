//! Keeps replica health current: every `health_interval`, each replica's `/health` is
//! asked (200 up, 503 starting, anything else a failure), and the outcome fed to its
//! health. Also writes the status file `podctl status` reads, when one is configured.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::health::{Change, Outcome};
use super::replica::Replica;
use super::table::{ModelStatus, Table};
use super::transport::describe_reqwest;
use crate::proxy::app::App;

/// Probes until `stop` is cancelled: healthy replicas every `health_interval`, the others
/// every second (so a vLLM that comes up joins at once).
pub(crate) async fn run(app: Arc<App>, stop: tokio_util::sync::CancellationToken) {
    let mut last_full = None::<std::time::Instant>;
    loop {
        let table = app.table();
        let interval = table.router.health_interval;
        let full = last_full.is_none_or(|at| at.elapsed() >= interval);
        if full {
            last_full = Some(std::time::Instant::now());
        }
        probe_all(&app, &table, interval, full).await;
        drop(table);
        tokio::select! {
            () = tokio::time::sleep(interval.min(Duration::from_secs(1))) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Probes the replicas of `table` once, concurrently: all of them, or (`all` false) those
/// not up.
pub(crate) async fn probe_all(app: &App, table: &Table, interval: Duration, all: bool) {
    let policy = table.policy();
    let timeout = interval.clamp(Duration::from_millis(500), Duration::from_secs(3));
    let now = std::time::Instant::now();
    let due = table.replicas().into_iter().filter(|r| all || r.state(now) != super::health::State::Up);
    let probes = due.map(|replica| async move {
        let outcome = probe(replica, timeout).await;
        let change = replica.on_probe(outcome, policy);
        let label = table
            .models
            .iter()
            .find(|m| m.replicas.iter().any(|r| Arc::ptr_eq(r, replica)))
            .map_or("", |m| m.label.as_str());
        match change {
            Change::CooledDown => {
                app.metrics.cooldown(label, &replica.name);
                tracing::warn!(replica = %replica.name, model = label, "replica failed its health checks: in cooldown");
            }
            Change::Recovered => tracing::info!(replica = %replica.name, model = label, "replica healthy again"),
            Change::None => {}
        }
    });
    futures_util::future::join_all(probes).await;
}

/// One `/health` probe.
pub(crate) async fn probe(replica: &Replica, timeout: Duration) -> Outcome {
    let url = format!("{}/health", replica.root);
    match replica.request(reqwest::Method::GET, &url).timeout(timeout).send().await {
        Ok(r) if r.status().is_success() => Outcome::Ok,
        Ok(r) if r.status().as_u16() == 503 => Outcome::Starting,
        Ok(r) => Outcome::Failed(format!("/health answered HTTP {}", r.status().as_u16())),
        Err(e) if e.is_connect() => Outcome::Unreachable(describe_reqwest(&e)),
        Err(e) => Outcome::Failed(describe_reqwest(&e)),
    }
}

/// What the status file holds: who serves, and each replica's state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProxyStatus {
    pub pid: i32,
    /// The process's start time in clock ticks (a reused pid is not this proxy).
    pub start_ticks: u64,
    pub url: String,
    pub updated: u64,
    pub models: Vec<ModelStatus>,
}

/// Rewrites `path` every second while the proxy runs (only when something changed, and
/// at least every 10 s so readers can tell a live file from a stale one); removes it on
/// stop.
pub(crate) async fn write_status(
    app: Arc<App>,
    path: PathBuf,
    url: String,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut last: Option<(Vec<ModelStatus>, std::time::Instant)> = None;
    loop {
        let mut models = app.table().status();
        if let Some(gate) = &app.gate {
            let states = gate.states();
            for m in &mut models {
                m.load = states.iter().find(|s| s.name == m.name).map(|s| s.state.to_owned());
            }
        }
        let stale =
            last.as_ref().is_none_or(|(m, at)| *m != models || at.elapsed() >= Duration::from_secs(10));
        if stale {
            let pid = i32::try_from(std::process::id()).unwrap_or_default();
            let start_ticks = crate::procs::read(pid).map_or(0, |p| p.start_ticks);
            let status = ProxyStatus {
                pid,
                start_ticks,
                url: url.clone(),
                updated: crate::openai::unix_now(),
                models: models.clone(),
            };
            if let Err(e) = save(&path, &status) {
                tracing::warn!("cannot write the proxy status file {}: {e}", path.display());
            }
            last = Some((models, std::time::Instant::now()));
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = stop.cancelled() => break,
        }
    }
    let _ = std::fs::remove_file(&path);
}

fn save(path: &std::path::Path, status: &ProxyStatus) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let bytes = serde_json::to_vec_pretty(status).unwrap_or_default();
    crate::atomic_write::write(path, &bytes, crate::atomic_write::Mode::Default)
}

/// Reads the status files in `dir` (those of live processes only).
pub fn read_statuses(dir: &std::path::Path) -> Vec<ProxyStatus> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<ProxyStatus> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|bytes| serde_json::from_slice::<ProxyStatus>(&bytes).ok())
        .filter(|s| crate::procs::alive(s.pid, s.start_ticks))
        .collect();
    out.sort_by(|a, b| a.url.cmp(&b.url));
    out
}
