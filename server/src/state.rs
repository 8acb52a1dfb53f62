//! The one state every handler and server function reaches (`FromRef`/`expect_context`).

use crate::config::Settings;
use axum::extract::FromRef;
use gatehouse_domain::crypto::MasterKeys;
use leptos::config::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub keys: Arc<MasterKeys>,
    pub metrics: PrometheusHandle,
    /// The token service (started on first use).
    pub tokens: Arc<crate::tokens::Tokens>,
    /// The flag cache (started on first use).
    pub flags: Arc<crate::flags::Flags>,
}
