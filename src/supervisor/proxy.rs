//! The proxy settings a profile implies: the served name mapped to this vLLM, the tool
//! format, and the keys clients must send (from the variable the profile names, else the
//! `api_keys` of the config `podctl setup` writes in the podctl home, `HOME/config.toml`).

use std::net::SocketAddr;
use std::time::Duration;

use crate::profile::Profile;
use crate::proxy::ProxyConfig;
use crate::proxy::config::{self, ModelConfig};

/// The podctl config in the home (`podctl setup` writes it, mode 0600; the same format as
/// `podctl proxy --config`).
pub fn config_file() -> std::path::PathBuf {
    crate::home::home().join("config.toml")
}

/// Builds the proxy config, or says why it cannot run.
pub fn config(profile: &Profile) -> Result<ProxyConfig, String> {
    let settings = &profile.proxy;
    let mut keys: Vec<String> = std::env::var(&settings.api_key_env)
        .ok()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .into_iter()
        .collect();
    let file = config_file();
    let mut tls = None;
    if file.is_file() {
        let settings = config::FileConfig::load(&file).map_err(|e| e.to_string())?;
        tls = config::tls_files(settings.tls_cert.as_ref(), settings.tls_key.as_ref())
            .map_err(|e| format!("{}: {e}", file.display()))?;
    }
    if keys.is_empty() && file.is_file() {
        let settings = config::FileConfig::load(&file).map_err(|e| e.to_string())?;
        keys = settings.api_keys;
        if keys.is_empty()
            && let Some(key_file) = &settings.api_key_file
        {
            keys = config::read_key_file(key_file).map_err(|e| e.to_string())?;
        }
    }
    config::check_exposure(settings.host, &keys, settings.insecure_no_auth).map_err(|e| {
        format!(
            "{e}; set ${} or `api_keys` in {} (`podctl setup` writes one), or set `insecure_no_auth = true` in [proxy]",
            settings.api_key_env,
            file.display()
        )
    })?;
    let vllm_host = crate::procs::connect_host(&profile.host);
    let upstream_key = match &profile.api_key_env {
        Some(var) => std::env::var(var).ok(),
        None => None,
    };
    Ok(ProxyConfig {
        host: settings.host,
        port: settings.port,
        models: vec![ModelConfig {
            reasoning: profile.reasoning(),
            ..ModelConfig::single(
                Some(profile.served_model_name.clone()),
                format!("http://{vllm_host}:{}/v1", profile.port),
                upstream_key,
                profile.tool_format,
            )
        }],
        keys,
        // Short: on stop, requests in flight get this long before their connections to
        // vLLM are dropped, which vLLM's own shutdown waits for.
        grace: Duration::from_secs(2),
        keepalive: settings.keepalive,
        loading_reasoning: settings.loading_reasoning,
        tls,
        ..ProxyConfig::default()
    })
}

/// The address the proxy listens on.
pub fn addr(config: &ProxyConfig) -> SocketAddr {
    SocketAddr::new(config.host, config.port)
}
