//! `GET /api/v1/status` (NFR-OPS-002): the public status of the service — `maintenance`
//! while a maintenance window is in progress, else `ok` — and every window in progress or
//! to come, so the vendor's customers and their tooling can plan around it. No token: it
//! says nothing about any tenant, person or operator (the times and the message only).
//! Cacheable for 30 seconds, so a status page polling it costs the database little.

use crate::api::error::ErrorBody;
use crate::api::{ApiError, ApiRoutes};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::Json;
use gatehouse_domain::tenants::{self, ServiceStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How long a client or a proxy may keep the answer: short, so a window scheduled or
/// cancelled shows within half a minute.
const CACHE: &str = "public, max-age=30";

pub fn router() -> OpenApiRouter<AppState> {
    ApiRoutes::new().routes(routes!(status)).build()
}

/// The service's status and its maintenance windows.
///
/// `status` is `maintenance` while a window is in progress, else `ok`. `maintenance` lists
/// every window in progress or to come, soonest first (times in UTC). A cancelled window
/// is not listed. No token needed.
#[utoipa::path(
    get,
    path = "/v1/status",
    tag = "meta",
    operation_id = "get_status",
    responses(
        (status = 200, description = "The status and the maintenance windows", body = ServiceStatus,
            headers(("Cache-Control" = String, description = "`public, max-age=30`")),
            example = json!({
                "status": "ok",
                "maintenance": [{
                    "starts_at": "2026-12-12T22:00:00Z",
                    "ends_at": "2026-12-13T00:00:00Z",
                    "message": "Database upgrade: sign-in and the APIs are unavailable for up to 20 minutes."
                }]
            })),
        (status = 429, description = "Too many requests from this address", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database is not reachable right now", body = ErrorBody),
    ),
)]
async fn status(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let status = tenants::service_status(&state.pool).await?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static(CACHE))],
        Json(status),
    ))
}
