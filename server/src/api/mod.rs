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
pub mod tenants;
pub mod users;

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

/// The `/api` router, built only through [`ApiRoutes`], so that every route is known to
/// [`registered_paths`] (the tenant-isolation walk requests them all).
pub struct ApiRoutes(Router<AppState>);

static PATHS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

impl ApiRoutes {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(Router::new())
    }

    pub fn route(
        self,
        path: &'static str,
        method_router: axum::routing::MethodRouter<AppState>,
    ) -> Self {
        if let Ok(mut paths) = PATHS.lock() {
            paths.insert(path);
        }
        Self(self.0.route(path, method_router))
    }

    pub fn build(self) -> Router<AppState> {
        self.0
    }
}

/// Every path under `/api` (relative, e.g. `/v1/users/{id}`), as registered.
pub fn registered_paths() -> Vec<&'static str> {
    let _ = router();
    let _ = bulk_router();
    PATHS
        .lock()
        .map(|p| p.iter().copied().collect())
        .unwrap_or_default()
}

/// The bulk (NDJSON) routes, which the server mounts outside the body limit and the
/// request timeout (`ndjson`).
pub fn bulk_router() -> Router<AppState> {
    audit::bulk_router().merge(billing::bulk_router())
}

pub fn router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/openapi.json", get(openapi))
        .build()
        .merge(apps::router())
        .merge(audit::router())
        .merge(billing::router())
        .merge(flags::router())
        .merge(tenants::router())
        .merge(users::router())
        .merge(tenants::settings_router())
        .fallback(|| async { ApiError::not_found() })
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

/// The API contract (OpenAPI 3.1). Later issues add their operations to it.
async fn openapi() -> impl IntoResponse {
    let mut doc = serde_json::json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gatehouse API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "REST API of the Gatehouse control plane. Errors use the Error schema; every response carries X-Request-Id."
        },
        "paths": {
            "/api/v1/me": {"get": {"summary": "Who the bearer token belongs to", "security": [{"bearer": []}],
                "responses": {"200": {"description": "The caller"}, "401": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/apps": {
                "get": {"summary": "List managed applications (operators)", "security": [{"bearer": []}],
                    "responses": {"200": {"description": "{data, next_cursor}"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}},
                "post": {"summary": "Register an application", "security": [{"bearer": []}],
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApplicationInput"}}}},
                    "responses": {"201": {"description": "The application"}, "422": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/apps/{id}": {
                "get": {"summary": "One application", "security": [{"bearer": []}], "responses": {"200": {"description": "The application"}, "404": {"$ref": "#/components/responses/Error"}}},
                "patch": {"summary": "Change an application (merge semantics)", "security": [{"bearer": []}],
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApplicationInput"}}}},
                    "responses": {"200": {"description": "The application"}, "422": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/apps/{id}/disable": {"post": {"summary": "Disable: its keys and tokens stop at once", "security": [{"bearer": []}], "responses": {"200": {"description": "The application"}}}},
            "/api/v1/apps/{id}/enable": {"post": {"summary": "Enable again", "security": [{"bearer": []}], "responses": {"200": {"description": "The application"}}}},
            "/api/v1/apps/{id}/keys": {
                "get": {"summary": "The application's keys (never their secrets)", "security": [{"bearer": []}], "responses": {"200": {"description": "{data, next_cursor}"}}},
                "post": {"summary": "Issue a key; the secret is in this response only", "security": [{"bearer": []}],
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
                        "name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}},
                        "expires_at": {"type": "string", "format": "date-time"}, "tenant": {"type": "string"}}}}}},
                    "responses": {"201": {"description": "The key with client_id and client_secret"}, "422": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/flags": {"get": {"summary": "Every effective flag of the tenant; strong ETag, 304 on If-None-Match", "security": [{"bearer": []}],
                "parameters": [{"name": "tenant", "in": "query", "schema": {"type": "string"}}, {"name": "user_id", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "{tenant_id, plan, flags: {key: bool}, details: [{key, value, source}]}"}, "304": {"description": "Not modified"},
                              "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/flags/stream": {"get": {"summary": "Server-sent events: `flags` now and after every change", "security": [{"bearer": []}], "responses": {"200": {"description": "text/event-stream"}}}},
            "/api/v1/flag-definitions": {
                "get": {"summary": "Flag definitions with plan defaults (operators)", "security": [{"bearer": []}], "responses": {"200": {"description": "{data, next_cursor}"}}},
                "post": {"summary": "Define a flag", "security": [{"bearer": []}], "responses": {"201": {"description": "The definition"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/flag-definitions/stale": {"get": {"summary": "Flags never evaluated or not in 30 days", "security": [{"bearer": []}], "responses": {"200": {"description": "{data, next_cursor}"}}}},
            "/api/v1/flag-definitions/{key}": {
                "get": {"summary": "One definition", "security": [{"bearer": []}], "responses": {"200": {"description": "The definition"}, "404": {"$ref": "#/components/responses/Error"}}},
                "patch": {"summary": "Change description, default or rollout_percentage (null clears)", "security": [{"bearer": []}], "responses": {"200": {"description": "The definition"}}}},
            "/api/v1/flag-definitions/{key}/history": {"get": {"summary": "Every change, old → new, who, when", "security": [{"bearer": []}], "responses": {"200": {"description": "{data, next_cursor}"}}}},
            "/api/v1/flag-definitions/{key}/plans/{plan}": {
                "put": {"summary": "Set the plan's default ({value})", "security": [{"bearer": []}], "responses": {"200": {"description": "The definition"}}},
                "delete": {"summary": "Clear the plan's default", "security": [{"bearer": []}], "responses": {"200": {"description": "The definition"}}}},
            "/api/v1/tenants": {
                "get": {"summary": "Tenants (search, status, plan, cursor, limit ≤ 100)", "security": [{"bearer": []}], "responses": {"200": {"description": "{data, next_cursor}"}, "422": {"$ref": "#/components/responses/Error"}}},
                "post": {"summary": "Provision a tenant with its owner invited", "security": [{"bearer": []}], "responses": {"201": {"description": "The tenant"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/tenants/{id}": {"get": {"summary": "One tenant", "security": [{"bearer": []}], "responses": {"200": {"description": "The tenant"}, "404": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/tenants/{id}/suspend": {"post": {"summary": "Suspend ({reason} optional): sessions, tokens end at once", "security": [{"bearer": []}], "responses": {"200": {"description": "The tenant"}}}},
            "/api/v1/tenants/{id}/reactivate": {"post": {"summary": "Reactivate: login works again", "security": [{"bearer": []}], "responses": {"200": {"description": "The tenant"}}}},
            "/api/v1/tenants/{id}/plan": {"put": {"summary": "Change the plan ({plan})", "security": [{"bearer": []}], "responses": {"200": {"description": "The tenant"}}}},
            "/api/v1/tenants/{id}/flags": {"get": {"summary": "Effective flags with their source", "security": [{"bearer": []}], "responses": {"200": {"description": "{data, next_cursor}"}}}},
            "/api/v1/tenants/{id}/flags/{key}": {
                "put": {"summary": "Set the tenant's override ({value})", "security": [{"bearer": []}], "responses": {"200": {"description": "The override"}, "404": {"$ref": "#/components/responses/Error"}}},
                "delete": {"summary": "Clear the override", "security": [{"bearer": []}], "responses": {"200": {"description": "The override"}}}},
            "/api/v1/apps/{id}/keys/{key}": {"delete": {"summary": "Revoke a key: its tokens stop at once", "security": [{"bearer": []}], "responses": {"200": {"description": "The key"}, "404": {"$ref": "#/components/responses/Error"}}}}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "An access token from /auth/token (client_credentials or authorization_code)."}},
            "responses": {"Error": {"description": "An error: code, message, request id and one detail per field", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "ApplicationInput": {"type": "object", "additionalProperties": false, "properties": {
                    "name": {"type": "string", "maxLength": 200},
                    "environment": {"type": "string", "enum": ["development", "staging", "production"]},
                    "redirect_uris": {"type": "array", "maxItems": 20, "items": {"type": "string", "format": "uri"}},
                    "post_logout_redirect_uris": {"type": "array", "maxItems": 20, "items": {"type": "string", "format": "uri"}},
                    "grant_types": {"type": "array", "items": {"type": "string", "enum": ["authorization_code", "client_credentials", "refresh_token"]}},
                    "tenants": {"type": "array", "items": {"type": "string"}}}},
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
    });
    audit::document(&mut doc);
    billing::document(&mut doc);
    Json(doc)
}
