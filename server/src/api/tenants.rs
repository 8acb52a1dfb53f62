//! Tenants for operators (SPEC §2; UC-PROV-001, UC-TENANT-SUSPEND, FR-OPS-001): list
//! (search, status and plan filters, cursor pages), get, provision, suspend, reactivate,
//! change plan — the same domain operations, rules and audit as the Operator Console.

use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::Bearer;
use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::tenants::{self, Provisioning, TenantQuery};
use gatehouse_domain::types::{Plan, TenantStatus};
use gatehouse_domain::{DomainError, FieldError};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/tenants", get(list).post(provision))
        .route("/v1/tenants/{id}", get(show))
        .route("/v1/tenants/{id}/suspend", post(suspend))
        .route("/v1/tenants/{id}/reactivate", post(reactivate))
        .route("/v1/tenants/{id}/plan", put(change_plan))
        .build()
}

fn provisioner(bearer: &Bearer, scope: &str) -> Result<Actor, ApiError> {
    bearer.require_user_with(scope, Permission::TenantsProvision)
}

fn id_of(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// SPEC §9: `limit` defaults to 25, at most 100.
pub fn page_limit(raw: Option<&str>) -> Result<i64, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(25),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(ApiError::validation(vec![FieldError::new(
                "limit",
                "must be a whole number from 1 to 100",
            )])),
        },
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    search: Option<String>,
    status: Option<String>,
    plan: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    bearer: Bearer,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = bearer.require_user_with("tenants:read", Permission::TenantsReadAll)?;
    let blank = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut errors = Vec::new();
    let status = blank(q.status).and_then(|s| {
        TenantStatus::parse(&s)
            .map_err(|e| collect(&mut errors, e))
            .ok()
    });
    let plan =
        blank(q.plan).and_then(|s| Plan::parse(&s).map_err(|e| collect(&mut errors, e)).ok());
    let limit = page_limit(q.limit.as_deref());
    if let Err(e) = &limit {
        errors.extend(e.details.clone());
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let page = tenants::list_tenants(
        &state.pool,
        Some(&actor),
        TenantQuery {
            search: blank(q.search),
            status,
            plan,
            cursor: blank(q.cursor),
            limit: limit?,
        },
    )
    .await?;
    Ok(Json(page))
}

fn collect(errors: &mut Vec<FieldError>, e: DomainError) {
    if let DomainError::Validation(details) = e {
        errors.extend(details);
    }
}

async fn show(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = bearer.require_user_with("tenants:read", Permission::TenantsReadAll)?;
    Ok(Json(
        tenants::get_tenant(&state.pool, Some(&actor), id_of(&id)?).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvisionBody {
    name: Option<String>,
    domain: Option<String>,
    plan: Option<String>,
    owner_email: Option<String>,
    #[serde(default)]
    applications: Vec<Uuid>,
}

/// UC-PROV-001: every field checked, every violation listed; nothing half-created.
async fn provision(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    ApiJson(body): ApiJson<ProvisionBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = provisioner(&bearer, "tenants:write")?;
    let input = Provisioning::parse(
        body.name.as_deref(),
        body.domain.as_deref(),
        body.plan.as_deref(),
        body.owner_email.as_deref(),
        body.applications,
    )?;
    let tenant = state
        .services
        .apply(
            tenants::provision_with_owner(
                &state.pool,
                &caller.ctx,
                Some(&actor),
                input,
                &state.settings.public_url(),
            )
            .await,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SuspendBody {
    reason: Option<String>,
}

async fn suspend(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    body: bytes::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let actor = provisioner(&bearer, "tenants:write")?;
    let id = id_of(&id)?;
    // The body is optional: `{"reason": "..."}` or nothing.
    let reason = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<SuspendBody>(&body)
            .map_err(|e| {
                ApiError::validation(vec![FieldError::new("body", format!("invalid JSON: {e}"))])
            })?
            .reason
    };
    let tenant = state
        .services
        .apply(
            tenants::suspend_tenant(
                &state.pool,
                &caller.ctx,
                Some(&actor),
                id,
                reason.as_deref(),
            )
            .await,
        )
        .await?;
    state.flags.changed(Some(id)).await;
    Ok(Json(tenant))
}

async fn reactivate(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = provisioner(&bearer, "tenants:write")?;
    let id = id_of(&id)?;
    let tenant = state
        .services
        .apply(tenants::reactivate_tenant(&state.pool, &caller.ctx, Some(&actor), id).await)
        .await?;
    state.flags.changed(Some(id)).await;
    Ok(Json(tenant))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanBody {
    plan: String,
}

async fn change_plan(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PlanBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = provisioner(&bearer, "tenants:write")?;
    let id = id_of(&id)?;
    let plan = Plan::parse(&body.plan)?;
    let tenant = state
        .services
        .apply(tenants::change_plan(&state.pool, &caller.ctx, Some(&actor), id, plan).await)
        .await?;
    state.flags.changed(Some(id)).await;
    Ok(Json(tenant))
}

/// Tenant settings on the caller's tenant; operators pass `?tenant=`.
pub fn settings_router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/settings", get(show_settings).patch(update_settings))
        .build()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantParam {
    tenant: Option<String>,
}

async fn show_settings(
    State(state): State<AppState>,
    bearer: Bearer,
    Query(q): Query<TenantParam>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = bearer.require_user_with("tenants:read", Permission::TenantRead)?;
    let tenant = crate::api::users::tenant_of(&state, &actor, q.tenant.as_deref()).await?;
    Ok(Json(
        gatehouse_domain::tenants::get_settings(&state.pool, &actor, tenant).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    password_policy: Option<serde_json::Value>,
    mfa_policy: Option<String>,
    session_idle_timeout_secs: Option<i64>,
}

async fn update_settings(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Query(q): Query<TenantParam>,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = bearer.require_user_with("tenants:write", Permission::TenantRead)?;
    let tenant = crate::api::users::tenant_of(&state, &actor, q.tenant.as_deref()).await?;
    let settings = state
        .services
        .apply(
            gatehouse_domain::tenants::update_settings(
                &state.pool,
                &caller.ctx,
                &actor,
                tenant,
                gatehouse_domain::tenants::SettingsChange {
                    password_policy: body.password_policy,
                    mfa_policy: body
                        .mfa_policy
                        .map(|m| m.trim().to_owned())
                        .filter(|m| !m.is_empty()),
                    session_idle_timeout_secs: body.session_idle_timeout_secs,
                },
            )
            .await,
        )
        .await?;
    Ok(Json(settings))
}
