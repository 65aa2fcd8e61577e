//! What can be wrong with the proxy's settings, one variant per problem, each carrying what
//! its message and its hint need.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::proxy::tls::TlsError;

/// A setting that cannot be used, with what to do about it ([`ConfigError::hint`]).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// The file is not TOML (or YAML, for a LiteLLM file) of the expected shape.
    #[error("{path}: {message}")]
    Toml { path: PathBuf, message: String },
    /// `[models.NAME] tool_format` names no format.
    #[error("[models.{model}] tool_format: {reason}")]
    ToolFormat { model: String, reason: String },
    /// `api_key_env` (of the model or of one replica: `setting`) names an unset variable.
    #[error(
        "[models.{model}] {setting} names ${var}, which is not set: export {var}=… (the key vLLM was started with)"
    )]
    KeyVarUnset { model: String, setting: String, var: String },
    #[error("[models.{model}] replicas[{replica}].weight must be at least 1")]
    ZeroWeight { model: String, replica: usize },
    #[error("model name `{name}` is used twice; each name and alias must be unique")]
    NameTwice { name: String },
    /// `model` is the model's name, or "the model" for the one without a name.
    #[error("model `{model}` lists itself as a fallback")]
    OwnFallback { model: String },
    #[error("model `{model}` falls back to `{fallback}`, which is not configured (models: {})", known.join(", "))]
    UnknownFallback { model: String, fallback: String, known: Vec<String> },
    #[error("model `{model}` has no replica")]
    NoReplica { model: String },
    #[error("{} holds no API key", path.display())]
    NoKeyInFile { path: PathBuf },
    #[error("upstream `{url}` must start with http:// or https://")]
    UpstreamScheme { url: String },
    #[error("upstream `{url}` has no host")]
    UpstreamHost { url: String },
    /// Listening beyond loopback with no key (and no `--insecure-no-auth`).
    #[error(
        "refusing to listen on {host} without an API key: anyone who can reach this port could use the model"
    )]
    OpenWithoutKey { host: IpAddr },
    #[error("a TLS certificate without its key: give --tls-key (tls_key) too")]
    CertWithoutKey,
    #[error("a TLS key without its certificate: give --tls-cert (tls_cert) too")]
    KeyWithoutCert,
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A LiteLLM config (`--litellm-config`) podctl cannot map: what is wrong, in its words.
    #[error("{}: {message}", path.display())]
    LiteLlm { path: PathBuf, message: String },
}

impl ConfigError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Read { .. } => "check the path and its permissions",
            Self::Toml { .. } => "fix the named key or line; see `podctl proxy --help` for the settings",
            Self::OpenWithoutKey { .. } => {
                "give a key (--api-key KEY, --api-key-file FILE or PODCTL_API_KEY), or pass --insecure-no-auth if the network is private"
            }
            Self::Tls(e) => e.hint(),
            Self::ToolFormat { .. }
            | Self::KeyVarUnset { .. }
            | Self::ZeroWeight { .. }
            | Self::NameTwice { .. }
            | Self::OwnFallback { .. }
            | Self::UnknownFallback { .. }
            | Self::NoReplica { .. }
            | Self::NoKeyInFile { .. }
            | Self::UpstreamScheme { .. }
            | Self::UpstreamHost { .. }
            | Self::CertWithoutKey
            | Self::KeyWithoutCert
            | Self::LiteLlm { .. } => "see `podctl proxy --help`",
        }
    }
}
