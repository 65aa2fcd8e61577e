//! The model of the config: the values of one Continue model entry for a profile's proxy
//! ([`ModelBlock`]); its shape (provider, roles, capabilities, …) is `templates/continue.yaml`.

use serde::Serialize;

use crate::profile::{MaxModelLen, Profile};

/// The longest context the generated block asks for (Continue's own budget; larger only
/// slows every request).
pub const MAX_CONTEXT: u32 = 131_072;
/// `defaultCompletionOptions.maxTokens`.
pub const MAX_TOKENS: u32 = 8192;
/// `defaultCompletionOptions.temperature`.
pub const TEMPERATURE: f64 = 0.1;
/// The key shown when none is known.
pub const KEY_PLACEHOLDER: &str = "<your podctl key>";

/// One model entry of a Continue `config.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBlock {
    /// `name`: what Continue shows, and what `merge` matches on.
    pub name: String,
    /// `model`: the name the proxy serves.
    pub model: String,
    pub api_base: String,
    pub api_key: String,
    pub context_length: u32,
    pub max_tokens: u32,
    pub temperature: f64,
}

/// The proxy's URL as a client reaches it: RunPod's public URL when `RUNPOD_POD_ID` is
/// set (the port must be exposed in the pod's settings), else loopback.
pub fn api_base(getenv: &dyn Fn(&str) -> Option<String>, port: u16) -> String {
    match getenv("RUNPOD_POD_ID").map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()) {
        Some(pod) => format!("https://{pod}-{port}.proxy.runpod.net/v1"),
        None => format!("http://127.0.0.1:{port}/v1"),
    }
}

impl ModelBlock {
    /// The block for `profile` behind its proxy, with `api_key`.
    pub fn for_profile(profile: &Profile, api_key: &str, getenv: &dyn Fn(&str) -> Option<String>) -> Self {
        let context_length = match profile.max_model_len {
            Some(MaxModelLen::Tokens(n)) => n.min(MAX_CONTEXT),
            Some(MaxModelLen::Auto) | None => MAX_CONTEXT,
        };
        Self {
            name: format!("{} (podctl)", profile.served_model_name),
            model: profile.served_model_name.clone(),
            api_base: api_base(getenv, profile.proxy.port),
            api_key: api_key.to_owned(),
            context_length,
            max_tokens: MAX_TOKENS,
            temperature: TEMPERATURE,
        }
    }
}

/// The settings a config made from nothing starts with (Continue's required keys).
#[derive(Debug, Serialize)]
pub(super) struct NewConfig {
    pub(super) name: &'static str,
    pub(super) version: &'static str,
    pub(super) schema: &'static str,
}

/// What an empty or missing `config.yaml` becomes before our entry is added.
pub(super) const NEW_CONFIG: NewConfig = NewConfig { name: "podctl", version: "1.0.0", schema: "v1" };
