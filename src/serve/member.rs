//! One model of a `podctl serve`: its profile (with the port it was given), where it runs
//! (GPUs, memory share) and its limits, plus [`Load`], the state requests see, and the
//! words for what went wrong.

use std::time::Duration;

use crate::instance::{Instance, Problem, SupervisorKind};
use crate::openai::{ApiError, ErrorKind};
use crate::profile::Profile;
use crate::vllm::argv::Launch;

/// Where a model is, as `/v1/models` and `podctl status` say it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Load {
    #[default]
    Stopped,
    /// With the phase or what it waits for.
    Starting(String),
    Ready,
    /// Being swapped out or unloaded.
    Stopping,
    /// vLLM's sleep mode: the process runs, its weights are in CPU memory.
    Sleeping,
    /// Its start failed (or it gave up restarting): not started again by requests.
    Failed(Problem),
}

impl Load {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::Starting(_) => "starting",
            Self::Ready => "ready",
            Self::Stopping => "stopping",
            Self::Sleeping => "sleeping",
            Self::Failed(_) => "failed",
        }
    }

    /// `starting: loading weights`, `ready`.
    pub fn word(&self) -> String {
        match self {
            Self::Starting(p) => format!("starting: {p}"),
            other => other.name().to_owned(),
        }
    }
}

/// The phase text of a starting record (`loading weights (2/4 shards)`).
pub fn phase_word(r: &Instance) -> String {
    match &r.progress {
        Some(p) => format!("{} ({p})", r.phase.label()),
        None => r.phase.label().to_owned(),
    }
}

/// One servable model.
#[derive(Debug, Clone)]
pub struct Member {
    pub profile: Profile,
    /// The GPU indices it runs on.
    pub gpus: Vec<u32>,
    /// Its `gpu_memory_utilization`.
    pub memory: f64,
    /// Unloaded after this long without a request.
    pub idle_unload: Option<Duration>,
    /// The start timeout (the profile's, or `--timeout`).
    pub timeout: Duration,
}

/// How long vLLM gets to move its weights to CPU memory or back.
const SLEEP_TIMEOUT: Duration = Duration::from_mins(5);

impl Member {
    pub fn new(profile: Profile, idle_unload: Option<Duration>) -> Self {
        let visible = profile
            .env
            .get("CUDA_VISIBLE_DEVICES")
            .cloned()
            .or_else(|| std::env::var("CUDA_VISIBLE_DEVICES").ok());
        let gpus = super::policy::gpus(visible.as_deref(), profile.parallel.gpus_per_node());
        Self {
            gpus,
            memory: profile.memory_utilization(),
            idle_unload,
            timeout: profile.startup_timeout,
            profile,
        }
    }

    /// vLLM's root URL (sleep-mode endpoints live there, not under `/v1`).
    fn root(&self) -> String {
        format!("http://{}:{}", crate::procs::connect_host(&self.profile.host), self.profile.port)
    }

    /// `POST /sleep?level=1` (weights to CPU memory, KV cache dropped), or why it failed.
    pub async fn sleep(&self) -> Result<(), String> {
        self.post("/sleep?level=1").await
    }

    /// `POST /wake_up`, or why it failed.
    pub async fn wake(&self) -> Result<(), String> {
        self.post("/wake_up").await
    }

    async fn post(&self, path: &str) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(SLEEP_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let url = format!("{}{path}", self.root());
        match client.post(&url).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("{url} answered {}", r.status())),
            Err(e) => Err(format!("{url}: {e}")),
        }
    }

    pub fn served_name(&self) -> &str {
        &self.profile.served_model_name
    }

    /// The served name, or the profile's name.
    pub fn answers_to(&self, name: &str) -> bool {
        self.profile.served_model_name == name || self.profile.name == name
    }

    /// How long a request waits for this model: its start, and a swap before it.
    pub fn wait_limit(&self) -> Duration {
        self.timeout + Duration::from_secs(30)
    }

    /// vLLM's command line for one run.
    pub fn launch(&self, run_id: &str) -> Result<Launch, Problem> {
        let workspace = std::path::Path::new(crate::home::WORKSPACE).is_dir();
        let mut launch =
            crate::vllm::argv::launch(&self.profile, run_id, &|k| std::env::var(k).ok(), workspace).map_err(
                |e| Problem {
                    kind: SupervisorKind::SpawnFailed.into(),
                    summary: e.to_string(),
                    hint: format!("export {}=… (the key vLLM should require), or remove api_key_env", e.0),
                    line: None,
                },
            )?;
        if let Some(exe) = crate::vllm::locate::find_vllm(&self.profile.vllm_bin) {
            launch.program = exe;
        }
        Ok(launch)
    }

    /// The answer to a request for this model when it failed: the supervisor's diagnosis.
    pub fn diagnosis(&self, p: &Problem) -> ApiError {
        let mut message = format!(
            "model `{}` (profile {}) failed to start: {}",
            self.served_name(),
            self.profile.name,
            p.summary
        );
        if let Some(line) = &p.line {
            message.push_str(&format!("; vLLM said: {}", line.trim()));
        }
        message.push_str(&format!(
            "; hint: {}; it is not started again until `podctl serve` restarts (full output: podctl logs {})",
            p.hint, self.profile.name
        ));
        ApiError::new(ErrorKind::Unavailable, message)
    }

    pub fn no_room(&self, e: &super::policy::NoRoom) -> Problem {
        Problem {
            kind: SupervisorKind::SpawnFailed.into(),
            summary: format!("`{}` cannot be started: {e}", self.profile.name),
            hint: "lower gpu_memory_utilization in the profile to at most 1.0".into(),
            line: None,
        }
    }

    pub fn unwritable(&self, path: &std::path::Path, e: &std::io::Error) -> Problem {
        Problem {
            kind: SupervisorKind::SpawnFailed.into(),
            summary: format!("cannot write the log {}: {e}", path.display()),
            hint: "set PODCTL_STATE_DIR to a writable folder, or free space on that disk".into(),
            line: None,
        }
    }

    pub fn gave_up(&self) -> Problem {
        Problem {
            kind: SupervisorKind::CrashLoop.into(),
            summary: format!("the supervisor of `{}` gave up", self.profile.name),
            hint: format!("see `podctl logs {}`", self.profile.name),
            line: None,
        }
    }
}
