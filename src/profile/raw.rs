//! The profile file as written: serde structs mirroring the TOML, unknown keys rejected.
//! Values that need checking carry their span so an error can name the line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// `max_model_len`: a token count or `"auto"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum RawLen {
    Tokens(i64),
    Word(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    pub(super) description: Option<String>,
    pub(super) model: Spanned<String>,
    pub(super) revision: Option<String>,
    pub(super) served_model_name: Option<Spanned<String>>,
    pub(super) tool_format: Option<Spanned<String>>,
    pub(super) tool_call_parser: Option<Spanned<String>>,
    pub(super) reasoning_parser: Option<Spanned<String>>,
    pub(super) think_opened: Option<bool>,
    pub(super) host: Option<Spanned<String>>,
    pub(super) port: Option<Spanned<u16>>,
    pub(super) api_key_env: Option<Spanned<String>>,
    pub(super) vllm_bin: Option<Spanned<String>>,
    pub(super) tensor_parallel_size: Option<Spanned<u32>>,
    pub(super) pipeline_parallel_size: Option<Spanned<u32>>,
    pub(super) data_parallel_size: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) enable_expert_parallel: bool,
    pub(super) distributed_executor_backend: Option<Spanned<String>>,
    pub(super) nnodes: Option<Spanned<u32>>,
    pub(super) node_rank: Option<Spanned<u32>>,
    pub(super) master_addr: Option<String>,
    pub(super) master_port: Option<u16>,
    #[serde(default)]
    pub(super) headless: bool,
    pub(super) max_model_len: Option<Spanned<RawLen>>,
    pub(super) gpu_memory_utilization: Option<Spanned<f64>>,
    pub(super) max_num_seqs: Option<Spanned<u32>>,
    pub(super) kv_cache_dtype: Option<String>,
    pub(super) enable_prefix_caching: Option<bool>,
    pub(super) dtype: Option<String>,
    pub(super) quantization: Option<String>,
    #[serde(default)]
    pub(super) trust_remote_code: bool,
    pub(super) chat_template: Option<String>,
    pub(super) shutdown_timeout: Option<u64>,
    pub(super) idle_unload_secs: Option<u64>,
    #[serde(default)]
    pub(super) sleep: bool,
    pub(super) startup_timeout: Option<Spanned<u64>>,
    pub(super) extra_args: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub(super) env: BTreeMap<String, Spanned<String>>,
    pub(super) proxy: Option<RawProxy>,
    pub(super) restart: Option<RawRestart>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProxy {
    #[serde(default)]
    pub(super) enabled: bool,
    pub(super) host: Option<Spanned<String>>,
    pub(super) port: Option<Spanned<u16>>,
    pub(super) api_key_env: Option<String>,
    #[serde(default)]
    pub(super) insecure_no_auth: bool,
    pub(super) keepalive_secs: Option<Spanned<u64>>,
    #[serde(default)]
    pub(super) loading_reasoning: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRestart {
    pub(super) max_restarts: Option<u32>,
    pub(super) window_secs: Option<u64>,
    pub(super) backoff_max_secs: Option<Spanned<u64>>,
}
