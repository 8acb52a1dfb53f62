//! `/api/v1/me` and the managed-applications API for operators (SPEC §5, FR-SYS-001..003,
//! UC-DEV-REGISTER, UC-DEV-UPDATE): the same domain operations, rules and audit as the CLI
//! and the Operator Console.

use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::Bearer;
use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use gatehouse_domain::apps::{self, ApplicationInput, KeyInput};
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::FieldError;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/me", get(me))
        .route("/v1/apps", get(list).post(register))
        .route("/v1/apps/{id}", get(show).patch(update))
        .route("/v1/apps/{id}/disable", post(disable))
        .route("/v1/apps/{id}/enable", post(enable))
        .route("/v1/apps/{id}/keys", get(keys).post(issue_key))
        .route("/v1/apps/{id}/keys/{key_id}", delete(revoke_key))
        .build()
}

/// Who the token belongs to (SPEC §9).
async fn me(bearer: Bearer) -> impl IntoResponse {
    let c = &bearer.0;
    let kind = if c.user_id().is_some() {
        "user"
    } else {
        "application"
    };
    Json(json!({
        "type": kind,
        "sub": c.sub,
        "user_id": c.user_id(),
        "tenant_id": c.tenant_id,
        "roles": c.roles,
        "scopes": c.scopes().collect::<Vec<_>>(),
        "client_id": c.client_id,
        "application_id": c.application_id,
        "expires_at": c.exp,
    }))
}

fn app_manager(bearer: &Bearer, scope: &str) -> Result<Actor, ApiError> {
    bearer.require_user_with(scope, Permission::ApplicationsManage)
}

fn app_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

async fn list(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:read")?;
    let apps = apps::list_applications(&state.pool, Some(&actor)).await?;
    Ok(Json(json!({"data": apps, "next_cursor": null})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppBody {
    name: Option<String>,
    environment: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    tenants: Option<Vec<String>>,
    all_tenants: Option<bool>,
}

impl From<AppBody> for ApplicationInput {
    fn from(b: AppBody) -> Self {
        // SPEC §9: strings trimmed, empty = null.
        let text = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        ApplicationInput {
            name: text(b.name),
            environment: text(b.environment),
            redirect_uris: b.redirect_uris,
            post_logout_redirect_uris: b.post_logout_redirect_uris,
            grant_types: b.grant_types,
            tenants: b.tenants,
            all_tenants: b.all_tenants,
        }
    }
}

async fn register(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    ApiJson(body): ApiJson<AppBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:write")?;
    let app = state
        .services
        .apply(
            apps::register_application(&state.pool, &caller.ctx, Some(&actor), body.into()).await,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(app)))
}

async fn show(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:read")?;
    Ok(Json(
        apps::get_application(&state.pool, Some(&actor), app_id(&id)?).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AppBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:write")?;
    let id = app_id(&id)?;
    let app = state
        .services
        .apply(
            apps::update_application(&state.pool, &caller.ctx, Some(&actor), id, body.into()).await,
        )
        .await?;
    Ok(Json(app))
}

async fn set_status(
    state: AppState,
    caller: RequestMeta,
    bearer: Bearer,
    id: String,
    active: bool,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:write")?;
    let id = app_id(&id)?;
    let app = state
        .services
        .apply(
            apps::set_application_status(&state.pool, &caller.ctx, Some(&actor), id, active).await,
        )
        .await?;
    Ok(Json(app))
}

async fn disable(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    set_status(state, caller, bearer, id, false).await
}

async fn enable(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    set_status(state, caller, bearer, id, true).await
}

async fn keys(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:read")?;
    let keys = apps::list_keys(&state.pool, Some(&actor), app_id(&id)?).await?;
    Ok(Json(json!({"data": keys, "next_cursor": null})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    name: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    expires_at: Option<String>,
    tenant: Option<String>,
}

/// SPEC §9: timestamps are ISO 8601 in UTC with `Z`.
pub fn parse_timestamp(field: &str, raw: &str) -> Result<OffsetDateTime, ApiError> {
    let raw = raw.trim();
    let parsed = raw
        .ends_with('Z')
        .then(|| OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).ok())
        .flatten();
    parsed.ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            field,
            "must be an ISO 8601 timestamp in UTC ending in Z, e.g. 2027-01-31T00:00:00Z",
        )])
    })
}

async fn issue_key(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<KeyBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:write")?;
    let id = app_id(&id)?;
    let expires_at = match body
        .expires_at
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => Some(parse_timestamp("expires_at", raw)?),
        None => None,
    };
    let input = KeyInput {
        name: body.name,
        scopes: body.scopes,
        expires_at,
        tenant: body.tenant,
    };
    let issued = state
        .services
        .apply(apps::issue_key(&state.pool, &caller.ctx, Some(&actor), id, input).await)
        .await?;
    let mut body = serde_json::to_value(&issued.key).unwrap_or_default();
    body["client_id"] = json!(issued.key.id);
    // Shown this once; only its SHA-256 is stored.
    body["client_secret"] = json!(issued.secret.expose_secret());
    Ok((StatusCode::CREATED, Json(body)))
}

async fn revoke_key(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:write")?;
    let id = app_id(&id)?;
    let key = state
        .services
        .apply(apps::revoke_key(&state.pool, &caller.ctx, Some(&actor), Some(id), &key_id).await)
        .await?;
    Ok(Json(key))
}
