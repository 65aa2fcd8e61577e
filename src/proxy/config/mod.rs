//! Proxy settings: [`ProxyConfig::default`], an optional TOML file over it and command-line
//! flags over that ([`Layer`]), validated into one [`ProxyConfig`] before anything binds a
//! socket.
//!
//! The file, every key optional (the values shown are the defaults, except where a comment
//! says otherwise):
//!
//! ```toml
//! host = "127.0.0.1"           # 0.0.0.0 on a pod (then an API key is required)
//! port = 4000
//! api_keys = ["sk-…"]          # example; clients must send one as `Authorization: Bearer …`
//! api_key_file = "/workspace/podctl/api-key"   # example; one key per line, `#` comments
//! max_body_mb = 32
//! keepalive_secs = 15
//! max_silence_secs = 600      # a stream whose vLLM sends nothing this long ends with an error
//! body_timeout_secs = 60      # a request body not fully received in this long gets 408
//! header_timeout_secs = 30    # a request head not fully received in this long: closed
//! max_header_kb = 64          # bigger request headers get 431
//! grace_secs = 30
//! max_connections = 4096       # connections held open at once; more wait to be accepted
//! max_in_flight_per_key = 512  # requests one key may have in flight; more get 429
//! trace_dir = "/workspace/podctl/traces"       # example; none by default
//! log_format = "text"          # or "json"
//!
//! metrics_public = false       # /metrics without a key
//! stream_tool_arguments = false  # true: a call's arguments stream as written (see below)
//!
//! [router]                     # routing over replicas (README: "Routing")
//! num_retries = 2              # retries on another replica, before the first byte only
//! timeout_secs = 600           # per-request deadline for those attempts
//! allowed_fails = 3            # consecutive failures before a cooldown
//! cooldown_secs = 30
//! health_interval_secs = 5     # /health probe period per replica
//! affinity = true              # same conversation prefix → same replica
//!
//! [models.qwen3-coder-30b]     # example: the name clients use
//! upstream = "http://127.0.0.1:8000/v1"   # one replica, or several:
//! # replicas = [{ url = "http://10.0.0.2:8000/v1", api_key_env = "POD2_KEY", weight = 2 }]
//! tool_format = "qwen3_coder"
//! aliases = ["qwen", "coder"]  # more names clients may use; `claude-*` or `*`: patterns,
//!                              # tried after every exact name
//! fallbacks = ["qwen3-small"]  # models that serve when every replica is down
//! upstream_model = "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8"  # else learned from /v1/models
//! api_key_env = "VLLM_API_KEY" # the upstream's key, by env var name (never the key)
//! think_opened = true          # example; the chat template opens <think> (QwQ); false: it
//!                              # does not, even for families whose templates do; unset: the family's
//! ```
//!
//! One file per job: `settings` (the validated whole and its defaults), `file` (the TOML as
//! written), `layer` (file and flags over the defaults), `model` (models and replicas),
//! `router`, `keys`, `error`. This module only gathers them.

mod error;
mod file;
mod keys;
mod layer;
mod model;
mod router;
mod settings;
#[cfg(test)]
mod tests;

pub use error::ConfigError;
pub use file::{FileConfig, FileModel, FileReplica, FileRouter, LogFormat};
pub use keys::{check_exposure, exposure_warning, read_key_file};
pub use layer::Layer;
pub use model::{DEFAULT_UPSTREAM, ModelConfig, ReplicaConfig, check_models, normalise_upstream};
pub use router::RouterConfig;
pub use settings::{DEFAULT_PORT, ProxyConfig, tls_files};
