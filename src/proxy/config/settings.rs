//! [`ProxyConfig`], everything `podctl proxy` runs with, and its [`Default`]: the one place
//! the defaults are written. The file and the flags are layered over it
//! (`layer.rs`); `--help` and the file's documentation show these values (tests
//! hold them to it).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::model::ModelConfig;
use super::router::RouterConfig;
use crate::proxy::limits::{DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_IN_FLIGHT_PER_KEY};
use crate::proxy::tls::{self, TlsFiles};

pub const DEFAULT_PORT: u16 = 4000;

/// Everything `podctl proxy` needs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    pub host: IpAddr,
    pub port: u16,
    pub models: Vec<ModelConfig>,
    pub keys: Vec<String>,
    pub max_body: usize,
    pub keepalive: Duration,
    /// A stream whose upstream sends nothing for this long ends with an error.
    pub max_silence: Duration,
    /// A request body must arrive whole within this long (a stalled upload gets 408 rather
    /// than holding its connection and task forever).
    pub body_timeout: Duration,
    /// A request's head must arrive whole within this long (slow-loris), else the
    /// connection is closed.
    pub header_timeout: Duration,
    /// The most bytes of request headers (431 over it).
    pub max_header_bytes: usize,
    pub grace: Duration,
    pub trace_dir: Option<PathBuf>,
    pub log_json: bool,
    pub router: RouterConfig,
    /// `/metrics` answers without a key.
    pub metrics_public: bool,
    /// Stream a call's arguments as the model writes them, instead of holding each call
    /// until it is complete (so that a call cut off by the token limit is never sent): for
    /// clients that check the finish reason before running a call.
    pub stream_tool_arguments: bool,
    /// Behind `podctl serve`: a streaming request whose model is loading is told so in its
    /// reasoning (`Loading model … (phase)`), line by line as the phase changes.
    pub loading_reasoning: bool,
    /// Serve HTTPS with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// Connections held open at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Requests one API key may have in flight; more get 429.
    pub max_in_flight_per_key: usize,
}

impl Default for ProxyConfig {
    /// `podctl proxy` with no file and no flag: loopback, port 4000, the one model at
    /// vLLM's default address, no keys.
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            models: vec![ModelConfig::default()],
            keys: Vec::new(),
            max_body: 32 << 20,
            keepalive: Duration::from_secs(15),
            max_silence: Duration::from_mins(10),
            body_timeout: Duration::from_mins(1),
            header_timeout: Duration::from_secs(30),
            max_header_bytes: 64 << 10,
            grace: Duration::from_secs(30),
            trace_dir: None,
            log_json: false,
            router: RouterConfig::default(),
            metrics_public: false,
            stream_tool_arguments: false,
            loading_reasoning: false,
            tls: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_in_flight_per_key: DEFAULT_MAX_IN_FLIGHT_PER_KEY,
        }
    }
}

/// The TLS files from a certificate and a key setting: both or neither.
pub fn tls_files(cert: Option<&PathBuf>, key: Option<&PathBuf>) -> Result<Option<TlsFiles>, ConfigError> {
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => {
            let files = TlsFiles { cert: cert.clone(), key: key.clone() };
            // Read now, so a bad file stops the start with its reason, not the first client.
            tls::load(&files)?;
            Ok(Some(files))
        }
        (Some(_), None) => Err(ConfigError::CertWithoutKey),
        (None, Some(_)) => Err(ConfigError::KeyWithoutCert),
    }
}
