//! One layer of settings, as the file or the flags give them: every setting optional, laid
//! over the one below (the flags over the file over [`ProxyConfig::default`]). The
//! conversions and bounds (MiB to bytes, at least one second, …) are applied here once,
//! whichever layer a value came from.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::file::{FileConfig, FileRouter, LogFormat};
use super::settings::{ProxyConfig, tls_files};
use crate::proxy::tls::TlsFiles;

/// Settings one layer sets; `None` leaves the value of the layer below. Keys, models and
/// `insecure_no_auth` are not here: they are merged by rules of their own (see
/// `podctl proxy`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layer {
    pub host: Option<IpAddr>,
    pub port: Option<u16>,
    pub max_body_mb: Option<usize>,
    pub keepalive_secs: Option<u64>,
    pub max_silence_secs: Option<u64>,
    pub body_timeout_secs: Option<u64>,
    pub header_timeout_secs: Option<u64>,
    pub max_header_kb: Option<u64>,
    pub grace_secs: Option<u64>,
    pub trace_dir: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub metrics_public: Option<bool>,
    pub stream_tool_arguments: Option<bool>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub max_connections: Option<usize>,
    pub max_in_flight_per_key: Option<usize>,
    pub router: FileRouter,
}

impl Layer {
    /// The settings a TOML file sets.
    pub fn from_file(file: &FileConfig) -> Self {
        Self {
            host: file.host,
            port: file.port,
            max_body_mb: file.max_body_mb,
            keepalive_secs: file.keepalive_secs,
            max_silence_secs: file.max_silence_secs,
            body_timeout_secs: file.body_timeout_secs,
            header_timeout_secs: file.header_timeout_secs,
            max_header_kb: file.max_header_kb,
            grace_secs: file.grace_secs,
            trace_dir: file.trace_dir.clone(),
            log_format: file.log_format,
            metrics_public: file.metrics_public,
            stream_tool_arguments: file.stream_tool_arguments,
            tls_cert: file.tls_cert.clone(),
            tls_key: file.tls_key.clone(),
            max_connections: file.max_connections,
            max_in_flight_per_key: file.max_in_flight_per_key,
            router: file.router,
        }
    }

    /// This layer over `below`: each setting from here where this layer sets it.
    #[must_use]
    pub fn or(self, below: Self) -> Self {
        Self {
            host: self.host.or(below.host),
            port: self.port.or(below.port),
            max_body_mb: self.max_body_mb.or(below.max_body_mb),
            keepalive_secs: self.keepalive_secs.or(below.keepalive_secs),
            max_silence_secs: self.max_silence_secs.or(below.max_silence_secs),
            body_timeout_secs: self.body_timeout_secs.or(below.body_timeout_secs),
            header_timeout_secs: self.header_timeout_secs.or(below.header_timeout_secs),
            max_header_kb: self.max_header_kb.or(below.max_header_kb),
            grace_secs: self.grace_secs.or(below.grace_secs),
            trace_dir: self.trace_dir.or(below.trace_dir),
            log_format: self.log_format.or(below.log_format),
            metrics_public: self.metrics_public.or(below.metrics_public),
            stream_tool_arguments: self.stream_tool_arguments.or(below.stream_tool_arguments),
            tls_cert: self.tls_cert.or(below.tls_cert),
            tls_key: self.tls_key.or(below.tls_key),
            max_connections: self.max_connections.or(below.max_connections),
            max_in_flight_per_key: self.max_in_flight_per_key.or(below.max_in_flight_per_key),
            router: self.router.or(below.router),
        }
    }

    /// Writes the settings this layer sets into `config`, bounded as documented (timeouts
    /// at least 1 s, headers 1–1024 KiB, limits at least 1). TLS files are checked apart
    /// ([`Layer::tls`]), as they must be read.
    pub fn apply(&self, config: &mut ProxyConfig) {
        let secs = |s: u64| Duration::from_secs(s.max(1));
        let Self {
            host,
            port,
            max_body_mb,
            keepalive_secs,
            max_silence_secs,
            body_timeout_secs,
            header_timeout_secs,
            max_header_kb,
            grace_secs,
            trace_dir,
            log_format,
            metrics_public,
            stream_tool_arguments,
            tls_cert: _,
            tls_key: _,
            max_connections,
            max_in_flight_per_key,
            router,
        } = self;
        if let Some(host) = *host {
            config.host = host;
        }
        if let Some(port) = *port {
            config.port = port;
        }
        if let Some(mb) = *max_body_mb {
            config.max_body = mb << 20;
        }
        if let Some(s) = *keepalive_secs {
            config.keepalive = secs(s);
        }
        if let Some(s) = *max_silence_secs {
            config.max_silence = secs(s);
        }
        if let Some(s) = *body_timeout_secs {
            config.body_timeout = secs(s);
        }
        if let Some(s) = *header_timeout_secs {
            config.header_timeout = secs(s);
        }
        if let Some(kb) = max_header_kb.and_then(|kb| usize::try_from(kb.clamp(1, 1024)).ok()) {
            config.max_header_bytes = kb << 10;
        }
        if let Some(s) = *grace_secs {
            config.grace = Duration::from_secs(s);
        }
        if let Some(dir) = trace_dir {
            config.trace_dir = Some(dir.clone());
        }
        if let Some(format) = *log_format {
            config.log_json = format == LogFormat::Json;
        }
        if let Some(public) = *metrics_public {
            config.metrics_public = public;
        }
        if let Some(stream) = *stream_tool_arguments {
            config.stream_tool_arguments = stream;
        }
        if let Some(n) = *max_connections {
            config.max_connections = n.max(1);
        }
        if let Some(n) = *max_in_flight_per_key {
            config.max_in_flight_per_key = n.max(1);
        }
        router.apply(&mut config.router);
    }

    /// The TLS files this layer names, read to check them: both or neither.
    pub fn tls(&self) -> Result<Option<TlsFiles>, ConfigError> {
        tls_files(self.tls_cert.as_ref(), self.tls_key.as_ref())
    }
}
