//! The REST API under `/api/` (SPEC §9). Each product area adds `pub fn router()` here;
//! they are merged in `router`. Everything under `/api/` answers errors in the SPEC §9
//! body, including the ones axum produces itself (unknown route, wrong method, body
//! limits, timeouts).

pub mod apps;
pub mod audit;
pub mod billing;
pub mod error;
pub mod flags;
pub(crate) mod ndjson;
pub mod openapi;
pub mod status;
pub mod tenants;
pub mod users;
pub mod webhooks;

pub use error::{ApiError, ApiJson};

use crate::middleware::RequestId;
use crate::state::AppState;
use axum::extract::{OriginalUri, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use error::PendingError;
use serde::{Deserialize, Deserializer};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

/// The `/api` routes, registered only through [`ApiRoutes::routes`] with `utoipa_axum::routes!`:
/// a handler is mounted together with its `#[utoipa::path]` documentation, so a route
/// cannot exist without it, and every path is known to [`registered_paths`] (the
/// tenant-isolation walk requests them all).
pub struct ApiRoutes(OpenApiRouter<AppState>);

static PATHS: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

impl ApiRoutes {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(OpenApiRouter::new())
    }

    /// The handlers of one path (`routes!(list, create)`), with their documentation.
    pub fn routes(self, handlers: UtoipaMethodRouter<AppState>) -> Self {
        if let Ok(mut paths) = PATHS.lock() {
            paths.extend(handlers.1.paths.keys().cloned());
        }
        Self(self.0.routes(handlers))
    }

    pub fn build(self) -> OpenApiRouter<AppState> {
        self.0
    }
}

/// Every path under `/api` (relative, e.g. `/v1/users/{id}`), as registered.
pub fn registered_paths() -> Vec<String> {
    let _ = routes();
    let _ = bulk_routes();
    PATHS
        .lock()
        .map(|p| p.iter().cloned().collect())
        .unwrap_or_default()
}

/// A PATCH field with merge semantics (RFC 7396): absent → `None`, `null` → `Some(None)`,
/// a value → `Some(Some(v))`. Use with `#[serde(default, deserialize_with = "api::patch")]`.
pub fn patch<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The bulk (NDJSON) routes, which the server mounts outside the body limit and the
/// request timeout (`ndjson`).
pub(crate) fn bulk_routes() -> OpenApiRouter<AppState> {
    audit::bulk_router().merge(billing::bulk_router())
}

pub fn bulk_router() -> Router<AppState> {
    bulk_routes()
        .split_for_parts()
        .0
        .layer(axum::middleware::from_fn(refuse_nul))
}

/// Every documented `/api` route but the bulk ones.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    openapi::router()
        .merge(apps::router())
        .merge(audit::router())
        .merge(billing::router())
        .merge(flags::router())
        .merge(tenants::router())
        .merge(users::router())
        .merge(tenants::settings_router())
        .merge(webhooks::router())
        .merge(status::router())
}

pub fn router() -> Router<AppState> {
    routes()
        .split_for_parts()
        .0
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::middleware::from_fn(refuse_nul))
}

/// A NUL character can be stored nowhere (PostgreSQL refuses it in text): a path or query
/// parameter that carries one (`%00`) is refused as 422 naming it, before any handler.
/// JSON bodies are checked by [`ApiJson`].
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let mut details = Vec::new();
    if uri.path().contains("%00") {
        details.push(gatehouse_domain::FieldError::new(
            "path",
            "must not contain a NUL character",
        ));
    }
    if let Some(query) = uri.query().filter(|q| q.contains("%00")) {
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if name.contains('\0') || value.contains('\0') {
                let name = name.replace('\0', "");
                details.push(gatehouse_domain::FieldError::new(
                    name,
                    "must not contain a NUL character",
                ));
            }
        }
    }
    if details.is_empty() {
        next.run(req).await
    } else {
        ApiError::validation(details).into_response()
    }
}

/// Rewrites every error response under `/api/` into the SPEC §9 body carrying the request
/// id: our own errors are rendered again with the id, anything else (axum's plain-text
/// rejections, empty 405s) becomes the body for its status. `Allow`, `Retry-After`,
/// `WWW-Authenticate` and the rate-limit headers are kept.
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
    let kept = [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE]
        .into_iter()
        .chain(crate::rate_limit::HEADERS.iter().cloned());
    for name in kept {
        if name == header::ALLOW && status != StatusCode::METHOD_NOT_ALLOWED {
            continue;
        }
        if let Some(value) = response.headers().get(&name) {
            fresh.headers_mut().insert(name, value.clone());
        }
    }
    fresh
}
