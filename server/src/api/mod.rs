//! The REST API under `/api/` (SPEC §9). Each product area adds `pub fn router()` here;
//! they are merged in `router`. Everything under `/api/` answers errors in the SPEC §9
//! body, including the ones axum produces itself (unknown route, wrong method, body
//! limits, timeouts).

pub mod apps;
pub mod auth;
pub mod error;

pub use error::{ApiError, ApiJson};

use crate::middleware::RequestId;
use crate::state::AppState;
use axum::extract::{OriginalUri, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use error::PendingError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/openapi.json", get(openapi))
        .merge(apps::router())
        .fallback(|| async { ApiError::not_found() })
}

/// Rewrites every error response under `/api/` into the SPEC §9 body carrying the request
/// id: our own errors are rendered again with the id, anything else (axum's plain-text
/// rejections, empty 405s) becomes the body for its status. `Allow`, `Retry-After` and
/// `WWW-Authenticate` headers are kept.
/// Applied to the whole application, outside the body-limit and timeout layers, so their
/// refusals are rewritten too; pages keep their own error pages.
pub async fn error_bodies(req: Request, next: Next) -> Response {
    // Inside a nested router the URI has lost its prefix; the original one has not.
    let original = req
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.path().to_owned());
    if !original
        .as_deref()
        .unwrap_or(req.uri().path())
        .starts_with("/api/")
    {
        return next.run(req).await;
    }
    let request_id = req.extensions().get::<RequestId>().cloned();
    let response = next.run(req).await;
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return response;
    }
    let pending = response
        .extensions()
        .get::<PendingError>()
        .and_then(|p| p.0.lock().ok().and_then(|mut slot| slot.take()));
    let error = match pending {
        Some(error) => error,
        None => ApiError::for_status(status),
    };
    let mut fresh = error.into_response_with(request_id.as_ref());
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if name == header::ALLOW && status != StatusCode::METHOD_NOT_ALLOWED {
            continue;
        }
        if let Some(value) = response.headers().get(&name) {
            fresh.headers_mut().insert(name, value.clone());
        }
    }
    fresh
}

/// The API contract (OpenAPI 3.1). Later issues add their operations to it.
async fn openapi() -> impl IntoResponse {
    Json(serde_json::json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gatehouse API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "REST API of the Gatehouse control plane. Errors use the Error schema; every response carries X-Request-Id."
        },
        "paths": {},
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "message", "request_id", "details"],
                    "properties": {
                        "code": {"type": "string", "enum": [
                            "ERR_AUTH", "ERR_PERMISSION_DENIED", "ERR_NOT_FOUND", "ERR_GONE", "ERR_CONFLICT",
                            "ERR_VALIDATION", "ERR_RESOURCE_LOCKED", "ERR_RATE_LIMIT", "ERR_INTERNAL",
                            "ERR_UNAVAILABLE", "ERR_METHOD_NOT_ALLOWED", "ERR_PAYLOAD_TOO_LARGE"]},
                        "message": {"type": "string"},
                        "request_id": {"type": ["string", "null"]},
                        "details": {"type": "array", "items": {
                            "type": "object",
                            "required": ["field", "message"],
                            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}
                        }}
                    }
                }
            }
        }
    }))
}
