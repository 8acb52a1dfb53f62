//! `gatehouse bench-baseline` (hidden): a bare axum server answering every request with
//! fixed bytes — the baseline the benchmarks measure beside the real endpoints in the same
//! run (bench/tokens.sh, bench/flags.sh): same machine, same HTTP stack, no work.

use anyhow::{Context, Result};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::Router;
use std::net::SocketAddr;

pub async fn serve(
    addr: SocketAddr,
    body_bytes: usize,
    body_file: Option<std::path::PathBuf>,
) -> Result<()> {
    // The exact bytes of the measured answer, or a token-like body of its size.
    let body: &'static [u8] = match body_file {
        Some(path) => Box::leak(
            std::fs::read(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .into_boxed_slice(),
        ),
        None => Box::leak(
            format!(
                "{{\"access_token\":\"{}\",\"token_type\":\"Bearer\",\"expires_in\":3600}}",
                "x".repeat(body_bytes.saturating_sub(60))
            )
            .into_bytes()
            .into_boxed_slice(),
        ),
    };
    let app = Router::new().fallback(move || async move {
        (
            [
                (CONTENT_TYPE, "application/json"),
                (CACHE_CONTROL, "no-store"),
            ],
            body,
        )
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::startup::shutdown_signal())
        .await
        .context("serving")
}
