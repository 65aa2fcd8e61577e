//! HTTPS for the proxy (`--tls-cert`/`--tls-key`): rustls, so a pod exposed on a plain TCP
//! port does not carry keys in clear text. (RunPod's HTTP proxy already ends TLS at
//! `https://POD-PORT.proxy.runpod.net`; this is for direct TCP ports and other hosts.)
//!
//! Handshakes run on their own tasks, with a deadline, so a client that connects and
//! never speaks holds neither the accept loop nor other clients.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client has to complete the TLS handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// Why the certificate and key cannot serve HTTPS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file cannot be read at all.
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{} is not a PEM certificate chain ({reason})", path.display())]
    NotPem { path: PathBuf, reason: rustls_pki_types::pem::Error },
    #[error("{} holds no certificate (expected -----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificate { path: PathBuf },
    #[error(
        "no usable private key in {} ({reason}); give the PEM key (PKCS#8, PKCS#1 or SEC1) that matches the certificate",
        path.display()
    )]
    Key { path: PathBuf, reason: rustls_pki_types::pem::Error },
    #[error("TLS setup: {0}")]
    Setup(rustls::Error),
    #[error(
        "{} and {} do not make a usable certificate and key ({reason}); check that the key belongs to the certificate",
        cert.display(),
        key.display()
    )]
    Mismatch { cert: PathBuf, key: PathBuf, reason: rustls::Error },
}

impl TlsError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Read { .. } => "check the path and its permissions",
            _ => "see `podctl proxy --help`",
        }
    }
}

/// The certificate chain and private key files, PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Reads the certificate chain and key into a server configuration (HTTP/1.1 over TLS 1.2+).
pub fn load(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = read_certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|reason| TlsError::Key { path: files.key.clone(), reason })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Setup)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|reason| TlsError::Mismatch { cert: files.cert.clone(), key: files.key.clone(), reason })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    if let Err(source) = std::fs::metadata(path) {
        return Err(TlsError::Read { path: path.into(), source });
    }
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|reason| TlsError::NotPem { path: path.into(), reason })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.into() });
    }
    Ok(certs)
}

/// A listener whose connections are TLS streams, handshaken off the accept loop.
pub(crate) struct TlsListener {
    incoming: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub(crate) fn new(listener: TcpListener, config: Arc<ServerConfig>) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, incoming) = mpsc::channel(128);
        let tls = TlsAcceptor::from(config);
        let acceptor = tokio::spawn(async move {
            loop {
                let (tcp, addr) = match listener.accept().await {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let (tls, tx) = (tls.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_DEADLINE, tls.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let _ = tx.send((stream, addr)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%addr, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { incoming, local, acceptor })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.incoming.recv().await {
            Some(pair) => pair,
            // The accept loop ended (it only ends when dropped): nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
