//! Operations endpoints: `/healthz` (the process runs), `/readyz` (the database answers
//! and every migration is applied; 503 otherwise) and `/metrics` (Prometheus), the last
//! on a listener of its own (`GATEHOUSE_METRICS_ADDR`), never on the public port.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use sqlx::PgPool;
use std::sync::OnceLock;
use std::time::Duration;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The metrics listener's router: `/metrics` only.
pub fn metrics_router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics_text))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(3), readiness(&state.pool)).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": "ok", "migrations": "applied"})),
        ),
        Ok(Err(reason)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not ready", "reason": reason})),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not ready", "reason": "database timed out"})),
        ),
    }
}

/// Ok when the database answers and every embedded migration is applied successfully.
pub async fn readiness(pool: &PgPool) -> Result<(), String> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(_) => "migrations have not been applied".to_owned(),
                _ => "database unreachable".to_owned(),
            })?;
    let missing = gatehouse_domain::MIGRATOR
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .count();
    if missing > 0 {
        return Err(format!("{missing} migration(s) not applied"));
    }
    Ok(())
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    let pool = &state.pool;
    let idle = pool.num_idle() as f64;
    metrics::gauge!("gatehouse_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("gatehouse_db_pool_connections", "state" => "in_use")
        .set(f64::from(pool.size()) - idle);
    metrics::gauge!("gatehouse_db_pool_max_connections")
        .set(f64::from(pool.options().get_max_connections()));
    crate::backup::publish_metrics(pool).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// Installs the process-wide Prometheus recorder once and returns its handle.
pub fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .map_err(|e| e.to_string())?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|e| e.to_string())?;
            Ok(handle)
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))
}
