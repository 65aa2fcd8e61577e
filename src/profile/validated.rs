//! A validated profile ([`Profile`]) and its parts: everything podctl needs to start vLLM
//! and its proxy, checked before anything runs.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::origin::Origin;
use crate::toolcall::Format;

/// vLLM's default share of GPU memory it takes.
pub const DEFAULT_GPU_MEMORY_UTILIZATION: f64 = 0.92;

/// A validated profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The name it is found by (the file stem).
    pub name: String,
    pub origin: Origin,
    pub description: Option<String>,
    /// Hugging Face id or local path.
    pub model: String,
    pub revision: Option<String>,
    /// The name clients use; defaults to `model`.
    pub served_model_name: String,
    pub tool_format: Format,
    /// vLLM's `--tool-call-parser` (with `--enable-auto-tool-choice`): set only with
    /// `tool_format = "vllm"`, where vLLM decodes the calls itself.
    pub tool_call_parser: Option<String>,
    /// vLLM's `--reasoning-parser`: vLLM splits reasoning out itself (any tool format).
    pub reasoning_parser: Option<String>,
    /// Whether the chat template opens `<think>` itself: `Some(true)` it does, `Some(false)`
    /// it does not (a family whose template opens it by default, served with thinking off),
    /// `None` the family's default ([`crate::toolcall::Format::template_opens_reasoning`]).
    pub think_opened: Option<bool>,
    /// Where vLLM listens.
    pub host: String,
    pub port: u16,
    /// The environment variable holding vLLM's API key (never the key itself).
    pub api_key_env: Option<String>,
    /// The `vllm` executable (`PODCTL_VLLM_BIN` overrides it).
    pub vllm_bin: String,
    pub parallel: Parallel,
    pub max_model_len: Option<MaxModelLen>,
    pub gpu_memory_utilization: Option<f64>,
    pub max_num_seqs: Option<u32>,
    pub kv_cache_dtype: Option<String>,
    pub enable_prefix_caching: Option<bool>,
    pub dtype: Option<String>,
    pub quantization: Option<String>,
    pub trust_remote_code: bool,
    pub chat_template: Option<String>,
    /// Seconds vLLM lets requests in flight finish on SIGTERM (vLLM's default 0 aborts them).
    pub shutdown_timeout: Option<u64>,
    /// Under `podctl serve`: stop the model after this long without a request.
    pub idle_unload: Option<Duration>,
    /// vLLM's sleep mode: under `podctl serve`, put to sleep instead of stopped.
    pub sleep: bool,
    /// How long `start` waits for ready.
    pub startup_timeout: Duration,
    /// Flags passed to `vllm serve` as they are.
    pub extra_args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub proxy: ProxySettings,
    pub restart: RestartSettings,
    /// Things that work but are probably not what the user wants.
    pub warnings: Vec<String>,
    /// The TOML text it was read from (kept with the running instance).
    pub source: String,
}

/// `max_model_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxModelLen {
    Tokens(u32),
    /// vLLM picks the longest that fits in memory.
    Auto,
}

/// How the model is spread over GPUs and machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parallel {
    pub tensor: u32,
    pub pipeline: u32,
    pub data: u32,
    pub expert: bool,
    pub backend: Option<Backend>,
    pub nodes: Option<Nodes>,
}

impl Parallel {
    /// GPUs this node's vLLM uses.
    pub fn gpus_per_node(&self) -> u32 {
        let per_node = self.tensor * self.pipeline * self.data;
        match &self.nodes {
            Some(n) if n.count > 1 && self.backend != Some(Backend::Ray) => per_node.div_ceil(n.count),
            _ => per_node,
        }
    }
}

/// `distributed_executor_backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Mp,
    Ray,
}

/// Multi-node without Ray: vLLM's `--nnodes/--node-rank/--master-addr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nodes {
    pub count: u32,
    pub rank: u32,
    pub master_addr: Option<String>,
    pub master_port: Option<u16>,
    /// Worker nodes run without the API server.
    pub headless: bool,
}

/// The proxy `start` can run beside vLLM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySettings {
    /// `start` runs it without `--proxy`.
    pub enabled: bool,
    pub host: IpAddr,
    pub port: u16,
    /// The variable holding the key clients must send (default `PODCTL_API_KEY`).
    pub api_key_env: String,
    pub insecure_no_auth: bool,
    /// A stream with nothing to say gets a keep-alive this often (a model loading, a long
    /// prefill).
    pub keepalive: std::time::Duration,
    /// Under `podctl serve`: a streaming request whose model is loading gets a reasoning
    /// line saying so, and its phase.
    pub loading_reasoning: bool,
}

/// When the supervisor stops restarting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartSettings {
    /// More failures than this within `window` → give up.
    pub max_restarts: u32,
    pub window: Duration,
    pub backoff_max: Duration,
}

impl Profile {
    /// The share of GPU memory vLLM will take.
    pub fn memory_utilization(&self) -> f64 {
        self.gpu_memory_utilization.unwrap_or(DEFAULT_GPU_MEMORY_UTILIZATION)
    }

    /// The `vllm` executable: `PODCTL_VLLM_BIN` when set, else the profile's.
    pub fn executable(&self) -> PathBuf {
        std::env::var_os("PODCTL_VLLM_BIN")
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(&self.vllm_bin), PathBuf::from)
    }
}

impl Profile {
    /// How the model's output starts, for the engine: as [`Profile::think_opened`] says.
    pub fn reasoning(&self) -> crate::toolcall::Reasoning {
        match self.think_opened {
            Some(true) => crate::toolcall::Reasoning::PromptOpened,
            Some(false) => crate::toolcall::Reasoning::PromptClosed,
            None => crate::toolcall::Reasoning::Auto,
        }
    }
}
