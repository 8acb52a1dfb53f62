//! `gatehouse bench-baseline` (hidden): a bare axum server answering every POST with fixed
//! bytes — the baseline the token benchmark measures beside the token endpoint in the same
//! run (bench/tokens.sh): same machine, same HTTP stack, no work.

use anyhow::{Context, Result};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::routing::post;
use axum::Router;
use std::net::SocketAddr;

pub async fn serve(addr: SocketAddr, body_bytes: usize) -> Result<()> {
    // A body the size of a token response, so both move the same bytes.
    let body: &'static str = Box::leak(
        format!(
            "{{\"access_token\":\"{}\",\"token_type\":\"Bearer\",\"expires_in\":3600}}",
            "x".repeat(body_bytes.saturating_sub(60))
        )
        .into_boxed_str(),
    );
    let app = Router::new().fallback(post(move || async move {
        (
            [
                (CONTENT_TYPE, "application/json"),
                (CACHE_CONTROL, "no-store"),
            ],
            body,
        )
    }));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::startup::shutdown_signal())
        .await
        .context("serving")
}
