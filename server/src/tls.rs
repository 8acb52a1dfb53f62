//! HTTPS served by Gatehouse itself (CON-SEC-003) when `GATEHOUSE_TLS_CERT` and
//! `GATEHOUSE_TLS_KEY` name a PEM certificate chain and its private key: TLS 1.3 and 1.2
//! only, over rustls with the *ring* provider that sqlx and lettre already use.
//!
//! Handshakes run in tasks of their own, so a slow or silent client holds up nobody else;
//! one that fails or times out is dropped with a debug line and the server carries on.
//! Finished handshakes are handed to `axum::serve`, which gives handlers
//! `ConnectInfo<SocketAddr>` and the same graceful shutdown as plain HTTP.

use anyhow::{bail, Context, Result};
use axum::serve::{Listener, ListenerExt};
use axum::Router;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; past this, new connections wait in the kernel's
/// backlog instead of costing memory and CPU here.
const MAX_PENDING_HANDSHAKES: usize = 1024;
/// How long requests in flight may run on after shutdown was asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The server's TLS configuration from a PEM certificate chain (leaf first) and a PEM
/// private key (PKCS#8, PKCS#1 or SEC1).
pub fn load_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading the TLS certificate file {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading the PEM certificates in {}", cert.display()))?;
    if chain.is_empty() {
        bail!(
            "the TLS certificate file {} holds no CERTIFICATE section",
            cert.display()
        );
    }
    let private_key = match PrivateKeyDer::from_pem_file(key) {
        Ok(private_key) => private_key,
        Err(rustls::pki_types::pem::Error::NoItemsFound) => bail!(
            "the TLS key file {} holds no private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY section)",
            key.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| format!("reading the TLS key file {}", key.display()))
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("setting up TLS 1.2 and 1.3")?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .with_context(|| {
            format!(
                "the TLS certificate {} and key {} cannot be used together",
                cert.display(),
                key.display()
            )
        })?;
    // The server speaks HTTP/1.1 (axum is built without HTTP/2).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `app` over TLS on `listener` until `shutdown` completes; then stops accepting
/// and lets the requests in flight finish, for [`SHUTDOWN_GRACE`] at most.
pub async fn serve_tls(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let listener = TlsListener {
        tcp: listener,
        acceptor: TlsAcceptor::from(config),
        handshakes: JoinSet::new(),
    }
    // Changes nothing on the stream: axum derives `ConnectInfo<SocketAddr>` from the
    // address of a tapped listener, while its untapped impl covers `TcpListener` only.
    .tap_io(|_tls_stream| {});
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    };
    let serving = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .into_future();
    let grace_over = async move {
        if stopping_rx.await.is_err() {
            // The signal went away without firing: only `serving` ends this.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = serving => served.context("serving HTTPS"),
        () = grace_over => {
            tracing::warn!(
                grace_secs = SHUTDOWN_GRACE.as_secs(),
                "requests still running after the shutdown grace period; leaving them"
            );
            Ok(())
        }
    }
}

/// Accepts TCP connections and hands over those whose TLS handshake succeeded.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    // Cancel-safe, as `axum::serve` needs: a TCP accept and a `join_next` lose nothing
    // when dropped, and handshakes go on in their tasks meanwhile.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                // axum's accept for `TcpListener` retries and backs off on errors.
                (tcp, peer) = Listener::accept(&mut self.tcp),
                    if self.handshakes.len() < MAX_PENDING_HANDSHAKES =>
                {
                    // TLS records are small writes; don't let Nagle hold them back.
                    let _ = tcp.set_nodelay(true);
                    let acceptor = self.acceptor.clone();
                    self.handshakes.spawn(async move {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                            Ok(Ok(stream)) => Some((stream, peer)),
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                None
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                None
                            }
                        }
                    });
                }
                Some(done) = self.handshakes.join_next() => {
                    if let Ok(Some(connection)) = done {
                        return connection;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_empty_files_are_named() {
        let dir = std::env::temp_dir().join(format!("gatehouse-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let missing = dir.join("missing.pem");

        let err = format!("{:#}", load_config(&missing, &empty).unwrap_err());
        assert!(err.contains("missing.pem"), "{err}");
        let err = format!("{:#}", load_config(&empty, &empty).unwrap_err());
        assert!(err.contains("no CERTIFICATE"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
