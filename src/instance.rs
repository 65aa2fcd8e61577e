//! The on-disk record of one running (or last run) instance of a profile:
//! `STATE_DIR/PROFILE/instance.json`, written atomically ([`crate::atomic_write`]) by the
//! supervisor as its state changes and read by `start`, `status`, `stop` and `logs`. A record
//! names its processes by pid *and* start time, so a reused pid is never mistaken for ours.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::atomic_write::{self, Mode};
use crate::vllm::failure::{Failure, FailureKind};
use crate::vllm::logline::Phase;

/// The record's schema version (`status --json` carries it too).
pub const SCHEMA: u32 = 1;

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Starting,
    Ready,
    /// Exited unexpectedly; waiting out the backoff before the next start.
    Restarting,
    /// Gave up: a fatal cause, a crash loop or a start-up timeout. `failure` says why.
    Failed,
    Stopping,
    Stopped,
}

impl State {
    /// The supervisor is (or should be) still around.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Starting | Self::Ready | Self::Restarting | Self::Stopping)
    }
}

/// A process identified across pid reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcRef {
    pub pid: i32,
    pub start_ticks: u64,
}

impl ProcRef {
    /// The process with this pid, when it exists.
    pub fn of(pid: i32) -> Option<Self> {
        crate::procs::read(pid).map(|p| Self { pid, start_ticks: p.start_ticks })
    }

    pub fn alive(self) -> bool {
        crate::procs::alive(self.pid, self.start_ticks)
    }
}

/// One exit of vLLM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitRecord {
    /// Unix seconds.
    pub at: u64,
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub uptime_secs: u64,
    /// One line for people.
    pub reason: String,
    pub failure: Option<Failure>,
}

/// Why an instance failed, for people: what happened and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A stable word for scripts (see [`ProblemKind`]).
    pub kind: ProblemKind,
    pub summary: String,
    pub hint: String,
    /// The log line it was recognised from.
    pub line: Option<String>,
}

/// What kind of problem it is, written as one word (`"gpu_memory_held"`, `"crash_loop"`)
/// in `instance.json` and `status --json`: scripts match on these words, so they never
/// change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProblemKind {
    /// A fatal cause recognised in vLLM's log.
    Vllm(FailureKind),
    /// Something the supervisor found itself.
    Supervisor(SupervisorKind),
    /// A word this podctl does not know (a record written by a newer one): kept as written,
    /// so the record still reads and `status` and `stop` still work on its instance.
    Other(String),
}

/// The problems the supervisor names itself (their words differ from every [`FailureKind`]'s,
/// so the untagged [`ProblemKind`] reads back what it wrote).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisorKind {
    /// vLLM was not ready within the start-up limit.
    StartupTimeout,
    /// vLLM kept exiting; the restart policy gave up.
    CrashLoop,
    /// The vLLM executable could not be run.
    SpawnFailed,
    /// The proxy beside vLLM could not listen.
    ProxyFailed,
}

impl From<SupervisorKind> for ProblemKind {
    fn from(kind: SupervisorKind) -> Self {
        Self::Supervisor(kind)
    }
}

impl From<&Failure> for Problem {
    fn from(f: &Failure) -> Self {
        Self {
            kind: ProblemKind::Vllm(f.kind),
            summary: f.summary.clone(),
            hint: f.hint.clone(),
            line: Some(f.line.clone()),
        }
    }
}

/// The proxy the supervisor runs beside vLLM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyRecord {
    pub host: String,
    pub port: u16,
}

/// KV cache figures vLLM logged at start-up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KvCache {
    pub memory_gib: Option<f64>,
    pub tokens: Option<u64>,
    pub context: Option<u64>,
    pub max_concurrency: Option<f64>,
}

/// The record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub schema: u32,
    pub profile: String,
    pub model: String,
    pub served_model_name: String,
    pub run_id: String,
    pub state: State,
    pub phase: Phase,
    /// Detail of the phase (`2/4 shards`, `40%`).
    pub progress: Option<String>,
    pub supervisor: ProcRef,
    /// The vLLM process (leader of its own process group) of the current attempt.
    pub vllm: Option<ProcRef>,
    pub host: String,
    pub port: u16,
    pub proxy: Option<ProxyRecord>,
    /// Unix seconds.
    pub started_at: u64,
    pub state_since: u64,
    pub attempt_started_at: u64,
    pub ready_at: Option<u64>,
    pub restarts: u32,
    /// The most recent exits, oldest first (at most 20).
    pub exits: Vec<ExitRecord>,
    /// Why the instance failed.
    pub failure: Option<Problem>,
    pub kv_cache: KvCache,
    pub log: PathBuf,
    pub foreground: bool,
    /// What the last stop took (from the stop recipe).
    #[serde(default)]
    pub stop_note: Option<String>,
}

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Instance {
    /// The first record of a run of `profile` by this process (state `starting`).
    pub fn starting(
        profile: &crate::profile::Profile,
        run_id: &str,
        proxy: Option<ProxyRecord>,
        log: PathBuf,
        foreground: bool,
    ) -> Self {
        let me = i32::try_from(std::process::id()).unwrap_or(0);
        let t = now();
        Self {
            schema: SCHEMA,
            profile: profile.name.clone(),
            model: profile.model.clone(),
            served_model_name: profile.served_model_name.clone(),
            run_id: run_id.to_owned(),
            state: State::Starting,
            phase: crate::vllm::logline::Phase::Launching,
            progress: None,
            supervisor: ProcRef::of(me).unwrap_or(ProcRef { pid: me, start_ticks: 0 }),
            vllm: None,
            host: profile.host.clone(),
            port: profile.port,
            proxy,
            started_at: t,
            state_since: t,
            attempt_started_at: t,
            ready_at: None,
            restarts: 0,
            exits: Vec::new(),
            failure: None,
            kv_cache: KvCache::default(),
            log,
            foreground,
            stop_note: None,
        }
    }

    /// Changes the state, stamping when.
    pub fn set_state(&mut self, state: State) {
        if self.state != state {
            self.state = state;
            self.state_since = now();
        }
    }

    /// The supervisor is gone but the record says it should be running.
    pub fn is_stale(&self) -> bool {
        self.state.is_active() && !self.supervisor.alive()
    }

    pub fn record_exit(&mut self, exit: ExitRecord) {
        self.exits.push(exit);
        if self.exits.len() > 20 {
            self.exits.remove(0);
        }
    }
}

/// The state dir: one folder per profile.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The store for this process's environment (`PODCTL_STATE_DIR`, …).
    pub fn from_env() -> Self {
        Self::new(crate::home::state_dir())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `STATE/PROFILE/`.
    pub fn dir(&self, profile: &str) -> PathBuf {
        self.root.join(profile)
    }

    pub fn log_path(&self, profile: &str) -> PathBuf {
        self.dir(profile).join("vllm.log")
    }

    pub fn load(&self, profile: &str) -> std::io::Result<Option<Instance>> {
        match std::fs::read(self.dir(profile).join("instance.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the record atomically (a reader sees the old record or the new one).
    pub fn save(&self, instance: &Instance) -> std::io::Result<()> {
        let dir = self.dir(&instance.profile);
        std::fs::create_dir_all(&dir)?;
        let bytes = serde_json::to_vec_pretty(instance).map_err(std::io::Error::other)?;
        atomic_write::write(&dir.join("instance.json"), &bytes, Mode::Default)
    }

    /// Every record, by profile name.
    pub fn list(&self) -> Vec<Instance> {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return Vec::new() };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("instance.json").is_file())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .collect();
        names.sort();
        names.iter().filter_map(|n| self.load(n).ok().flatten()).collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn problem_kinds_are_written_as_the_words_scripts_match() {
        let rows = [
            (ProblemKind::Supervisor(SupervisorKind::StartupTimeout), "startup_timeout"),
            (ProblemKind::Supervisor(SupervisorKind::CrashLoop), "crash_loop"),
            (ProblemKind::Supervisor(SupervisorKind::SpawnFailed), "spawn_failed"),
            (ProblemKind::Supervisor(SupervisorKind::ProxyFailed), "proxy_failed"),
            (ProblemKind::Vllm(FailureKind::GpuMemoryHeld), "gpu_memory_held"),
            (ProblemKind::Vllm(FailureKind::EngineInitFailed), "engine_init_failed"),
        ];
        for (kind, word) in rows {
            assert_eq!(serde_json::to_value(&kind).expect("serialises"), json!(word));
            assert_eq!(serde_json::from_value::<ProblemKind>(json!(word)).expect(word), kind);
            if let ProblemKind::Supervisor(_) = kind {
                // Were it also a vLLM word, it would read back as the vLLM kind.
                assert!(serde_json::from_value::<FailureKind>(json!(word)).is_err(), "{word}");
            }
        }
    }

    #[test]
    fn a_record_from_a_newer_podctl_still_reads() {
        let newer = json!({"kind": "kv_cache_melted", "summary": "s", "hint": "h", "line": null});
        let problem: Problem = serde_json::from_value(newer.clone()).expect("an unknown kind still reads");
        assert_eq!(problem.kind, ProblemKind::Other("kv_cache_melted".to_owned()));
        assert_eq!(serde_json::to_value(&problem).expect("writes"), newer);
    }

    #[test]
    fn a_problem_reads_back_from_the_json_an_older_record_holds() {
        let old = json!({"kind": "crash_loop", "summary": "s", "hint": "h", "line": null});
        let problem: Problem = serde_json::from_value(old.clone()).expect("reads");
        assert_eq!(problem.kind, SupervisorKind::CrashLoop.into());
        assert_eq!(serde_json::to_value(&problem).expect("writes"), old);
        let failure = Failure {
            kind: FailureKind::NoGpu,
            summary: "no GPU".into(),
            hint: "h".into(),
            line: "RuntimeError: Failed to infer device type".into(),
        };
        let written = serde_json::to_value(Problem::from(&failure)).expect("writes");
        assert_eq!(written["kind"], "no_gpu");
        assert_eq!(written["line"], "RuntimeError: Failed to infer device type");
    }
}
