//! The Users API (SPEC §9; FR-TENANT-001/002/004/006, UC-TENANT-INVITE,
//! UC-TENANT-USER-DELETE/UPDATE/STATUS-UPDATE, UC-TENANT-SESSION-REVOKE): on the caller's
//! tenant — operators name one with `?tenant=domain` to list or invite. A user token is
//! needed (the caller's role decides, in the domain); another tenant's user is 404.

use crate::api::tenants::page_limit;
use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::Bearer;
use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_domain::audit;
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::types::{DisplayName, Email, Role, UserStatus};
use gatehouse_domain::users::{self, UserQuery};
use gatehouse_domain::users::{NewInvitation, DEFAULT_LIFETIME};
use gatehouse_domain::{DomainError, FieldError};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/users", get(list).post(create))
        .route("/v1/users/{id}", get(show).patch(update).delete(remove))
        .route("/v1/users/{id}/sessions/revoke", post(revoke_sessions))
        .route("/v1/users/{id}/mfa/reset", post(reset_mfa))
        .route("/v1/invitations", get(invitations))
        .route(
            "/v1/invitations/{id}",
            axum::routing::delete(revoke_invitation),
        )
        .route("/v1/invitations/{id}/resend", post(resend_invitation))
        .build()
}

fn person(bearer: &Bearer, scope: &str) -> Result<Actor, ApiError> {
    bearer.require_user_with(scope, Permission::UsersRead)
}

/// The tenant a list or an invitation is for: the caller's own, or (operators) `?tenant=`.
pub(crate) async fn tenant_of(
    state: &AppState,
    actor: &Actor,
    asked: Option<&str>,
) -> Result<Uuid, ApiError> {
    let asked = asked.map(str::trim).filter(|s| !s.is_empty());
    match (actor.tenant_id, asked) {
        (Some(own), None) => Ok(own),
        (own, Some(domain)) => {
            let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM tenants WHERE domain = $1")
                .bind(domain.to_ascii_lowercase())
                .fetch_optional(&state.pool)
                .await?;
            match (own, id) {
                (Some(own), Some(id)) if own == id => Ok(id),
                (None, Some(id)) => Ok(id),
                _ => Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "ERR_NOT_FOUND",
                    "tenant not found",
                )),
            }
        }
        (None, None) => Err(ApiError::validation(vec![FieldError::new(
            "tenant",
            "platform users name the tenant (?tenant=domain)",
        )])),
    }
}

fn id_of(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

fn collect(errors: &mut Vec<FieldError>, e: DomainError) {
    if let DomainError::Validation(details) = e {
        errors.extend(details);
    }
}

/// SPEC §9: strings trimmed, empty = null.
fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    tenant: Option<String>,
    search: Option<String>,
    role: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    bearer: Bearer,
    meta: RequestMeta,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:read")?;
    let mut errors = Vec::new();
    let role = text(q.role).and_then(|r| Role::parse(&r).map_err(|e| collect(&mut errors, e)).ok());
    let status = text(q.status).and_then(|s| {
        UserStatus::parse(&s)
            .map_err(|e| collect(&mut errors, e))
            .ok()
    });
    let limit = page_limit(q.limit.as_deref());
    if let Err(e) = &limit {
        errors.extend(e.details.clone());
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let tenant = tenant_of(&state, &actor, q.tenant.as_deref()).await?;
    let page = users::list_users(
        &state.pool,
        &actor,
        tenant,
        UserQuery {
            search: text(q.search),
            role,
            status,
            include_archived: false,
            cursor: text(q.cursor),
            limit: limit?,
        },
    )
    .await?;
    // CON-SEC-002: who listed whom, one entry per request.
    let read = audit::read_ids(page.data.iter().map(|u| u.id));
    let tenant = Some(tenant);
    audit::record_read_in(
        &state.pool,
        &meta.ctx,
        &actor,
        tenant,
        "user.list",
        None,
        read,
    )
    .await?;
    Ok(Json(page))
}

async fn show(
    State(state): State<AppState>,
    bearer: Bearer,
    meta: RequestMeta,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:read")?;
    let user = users::get_user(&state.pool, &actor, id_of(&id)?).await?;
    let resource = Some(format!("user:{}", user.id));
    let tenant = user.tenant_id;
    let ctx = &meta.ctx;
    audit::record_read_in(
        &state.pool,
        ctx,
        &actor,
        tenant,
        "user.read",
        resource,
        json!({}),
    )
    .await?;
    Ok(Json(user))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: Option<String>,
    email: Option<String>,
    role: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantParam {
    tenant: Option<String>,
}

/// `POST /users`: invites the person (status `invited`, the invitation mailed).
async fn create(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Query(q): Query<TenantParam>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = bearer.require_user_with("users:write", Permission::UsersInvite)?;
    let mut errors = Vec::new();
    let email = match text(body.email) {
        None => {
            errors.push(FieldError::new("email", "is required"));
            None
        }
        Some(e) => Email::parse(&e)
            .map_err(|err| collect(&mut errors, err))
            .ok(),
    };
    let name = text(body.name).and_then(|n| {
        DisplayName::parse(&n)
            .map_err(|e| collect(&mut errors, e))
            .ok()
    });
    let role = match text(body.role) {
        None => Some(Role::User),
        Some(r) => Role::parse(&r).map_err(|e| collect(&mut errors, e)).ok(),
    };
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let tenant = tenant_of(&state, &actor, q.tenant.as_deref()).await?;
    let view = state
        .services
        .apply(
            users::invite_person(
                &state.pool,
                &caller.ctx,
                &actor,
                NewInvitation {
                    tenant_id: tenant,
                    email,
                    role,
                    lifetime: DEFAULT_LIFETIME,
                },
                name,
                &state.settings.public_url(),
            )
            .await,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `PATCH /users/{id}`: merge semantics over name, role and status (`active`/`disabled`).
/// An `email` is not set at once: a confirmation link goes to the new address (the answer
/// carries `pending_email`), and the address changes when it is followed.
async fn update(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:write")?;
    let id = id_of(&id)?;
    let mut errors = Vec::new();
    let mut name: Option<Option<DisplayName>> = None;
    let mut role = None;
    let mut enabled = None;
    let mut email = None;
    for (field, value) in &body {
        let as_text = || match value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(text(Some(s.clone()))),
            _ => Err(FieldError::new(field.clone(), "must be a string or null")),
        };
        match field.as_str() {
            "name" => match as_text() {
                Ok(None) => name = Some(None),
                Ok(Some(n)) => match DisplayName::parse(&n) {
                    Ok(n) => name = Some(Some(n)),
                    Err(e) => collect(&mut errors, e),
                },
                Err(e) => errors.push(e),
            },
            "role" => match as_text() {
                Ok(Some(r)) => match Role::parse(&r) {
                    Ok(r) => role = Some(r),
                    Err(e) => collect(&mut errors, e),
                },
                Ok(None) => errors.push(FieldError::new("role", "cannot be empty")),
                Err(e) => errors.push(e),
            },
            "status" => match as_text().map(|s| s.map(|s| s.to_ascii_lowercase())) {
                Ok(Some(s)) if s == "active" => enabled = Some(true),
                Ok(Some(s)) if s == "disabled" => enabled = Some(false),
                Ok(_) => errors.push(FieldError::new(
                    "status",
                    "must be active or disabled (delete a user to archive them)",
                )),
                Err(e) => errors.push(e),
            },
            "email" => match as_text() {
                Ok(Some(e)) => match Email::parse(&e) {
                    Ok(e) => email = Some(e),
                    Err(_) => errors.push(FieldError::new(
                        "email",
                        format!("'{e}' is not a valid email address"),
                    )),
                },
                Ok(None) => errors.push(FieldError::new("email", "cannot be empty")),
                Err(e) => errors.push(e),
            },
            other => errors.push(FieldError::new(other, "unknown field")),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let change = users::UserChange {
        name,
        role,
        enabled,
        email: email.clone(),
    };
    let public_url = state.settings.public_url();
    let view = state
        .services
        .apply(users::update_user(&state.pool, &caller.ctx, &actor, id, change, &public_url).await)
        .await?;
    let mut body = serde_json::to_value(&view)
        .map_err(|e| gatehouse_domain::DomainError::Unexpected(anyhow::anyhow!(e)))?;
    if let (Some(email), Some(map)) = (email, body.as_object_mut()) {
        map.insert("pending_email".into(), json!(email.as_str()));
    }
    Ok(Json(body))
}

/// `DELETE /users/{id}`: archives; a second delete answers 410 ERR_GONE.
async fn remove(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:write")?;
    state
        .services
        .apply(users::archive_user(&state.pool, &caller.ctx, &actor, id_of(&id)?).await)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_sessions(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:write")?;
    let n = state
        .services
        .apply(users::revoke_sessions(&state.pool, &caller.ctx, &actor, id_of(&id)?).await)
        .await?;
    Ok(Json(json!({"sessions_revoked": n})))
}

async fn reset_mfa(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:write")?;
    state
        .services
        .apply(users::reset_mfa(&state.pool, &caller.ctx, &actor, id_of(&id)?).await)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /invitations`: the tenant's invitations not yet accepted (expired ones marked).
async fn invitations(
    State(state): State<AppState>,
    bearer: Bearer,
    Query(q): Query<TenantParam>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:read")?;
    let tenant = tenant_of(&state, &actor, q.tenant.as_deref()).await?;
    let data = gatehouse_domain::users::pending_invitations(&state.pool, &actor, tenant).await?;
    Ok(Json(json!({"data": data, "next_cursor": null})))
}

/// `POST /invitations/{id}/resend`: a new link and expiry; the old link stops working.
async fn resend_invitation(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:write")?;
    let invitation = state
        .services
        .apply(
            gatehouse_domain::users::resend_invitation(
                &state.pool,
                &caller.ctx,
                &actor,
                id_of(&id)?,
                &state.settings.public_url(),
            )
            .await,
        )
        .await?;
    Ok(Json(invitation))
}

/// `DELETE /invitations/{id}`: revokes it (a second time: 410 ERR_GONE).
async fn revoke_invitation(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:write")?;
    state
        .services
        .apply(
            gatehouse_domain::users::revoke_invitation(
                &state.pool,
                &caller.ctx,
                &actor,
                id_of(&id)?,
            )
            .await,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
