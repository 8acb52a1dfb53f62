//! The flag routes of `/api/v1`: delivery (`/v1/flags`, `/v1/flags/stream`, served by
//! `crate::flags::delivery`) and management for operators (FR-FLAG-001): definitions, plan
//! defaults, per-tenant overrides, history, stale flags.

use crate::api::error::{ErrorBody, Refusals};
use crate::api::openapi::{EffectiveFlagPage, FlagChangePage, FlagDefinitionPage};

use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::Bearer;
use crate::extract::RequestMeta;
use crate::flags::delivery;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use gatehouse_domain::flags::{self, FlagDefinition, FlagInput};
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::types::{FlagKey, Plan};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    ApiRoutes::new()
        .routes(routes!(delivery::flag_api))
        .routes(routes!(delivery::stream))
        .routes(routes!(list_definitions, create_definition))
        .routes(routes!(stale_definitions))
        .routes(routes!(get_definition, update_definition))
        .routes(routes!(history))
        .routes(routes!(set_plan_default, clear_plan_default))
        .routes(routes!(tenant_flags))
        .routes(routes!(set_override, clear_override))
        .build()
}

fn flag_manager(bearer: &Bearer, scope: &str) -> Result<Actor, ApiError> {
    bearer.require_user_with(scope, Permission::FlagsManage)
}

/// Every flag definition (operators).
///
/// The live definitions, ordered by key (at most 1000, on one page).
#[utoipa::path(
    get,
    path = "/v1/flag-definitions",
    operation_id = "list_flag_definitions",
    tag = "flags",
    responses(
        Refusals,
        (status = 200, description = "Every definition, on one page (`next_cursor` is null)", body = FlagDefinitionPage),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn list_definitions(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    Ok(Json(
        json!({"data": flags::list_flags(&state.pool, Some(&actor)).await?, "next_cursor": null}),
    ))
}

/// Stale flags (operators).
///
/// The definitions no tenant has been served in the last 30 days, or ever: candidates for
/// removal from the code and then here.
#[utoipa::path(
    get,
    path = "/v1/flag-definitions/stale",
    operation_id = "list_stale_flag_definitions",
    tag = "flags",
    responses(
        Refusals,
        (status = 200, description = "The stale definitions, on one page (`next_cursor` is null)", body = FlagDefinitionPage),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn stale_definitions(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    Ok(Json(
        json!({"data": flags::stale_flags(&state.pool, Some(&actor), 30).await?, "next_cursor": null}),
    ))
}

/// One flag definition (operators).
#[utoipa::path(
    get,
    path = "/v1/flag-definitions/{key}",
    operation_id = "get_flag_definition",
    tag = "flags",
    params(("key" = String, Path, description = "The flag's key")),
    responses(
        Refusals,
        (status = 200, description = "The definition", body = FlagDefinition),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
        (status = 404, description = "No flag has this key", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn get_definition(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(key): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    Ok(Json(
        flags::get_flag(&state.pool, Some(&actor), &key).await?,
    ))
}

/// A new flag definition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewFlagDefinition {
    /// The flag's key: a-z, then up to 63 of a-z, 0-9 and `_`. It cannot change later.
    #[schema(value_type = FlagKey)]
    key: String,
    /// What the flag is for (empty when absent).
    #[schema(max_length = 1000)]
    description: Option<String>,
    /// The value where no override, plan default or rollout decides (false when absent).
    default_value: Option<bool>,
    /// A sticky percentage rollout: the share of targeting keys (users, else tenants) that
    /// get `true` where no override or plan default decides. Absent or null: none.
    #[schema(minimum = 0, maximum = 100)]
    rollout_percentage: Option<i16>,
}

impl From<NewFlagDefinition> for FlagInput {
    fn from(b: NewFlagDefinition) -> Self {
        FlagInput {
            key: Some(b.key.trim().to_owned()),
            description: b.description,
            default_value: b.default_value,
            rollout_percentage: b.rollout_percentage.map(Some),
        }
    }
}

/// Changes to a flag definition: the fields given change, the others stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct FlagDefinitionChanges {
    /// A flag's key cannot change: any value here is refused.
    key: Option<String>,
    /// What the flag is for.
    #[schema(max_length = 1000)]
    description: Option<String>,
    /// The value where no override, plan default or rollout decides.
    default_value: Option<bool>,
    /// A sticky percentage rollout (0-100); null removes it.
    #[serde(default, deserialize_with = "crate::api::patch")]
    #[schema(value_type = Option<i16>, minimum = 0, maximum = 100)]
    rollout_percentage: Option<Option<i16>>,
}

impl From<FlagDefinitionChanges> for FlagInput {
    fn from(b: FlagDefinitionChanges) -> Self {
        FlagInput {
            key: b.key.map(|k| k.trim().to_owned()),
            description: b.description,
            default_value: b.default_value,
            rollout_percentage: b.rollout_percentage,
        }
    }
}

/// Define a flag (operators).
///
/// The flag is served to every tenant at once (its default, or its rollout), until plan
/// defaults and overrides say otherwise. Audited; every server's flag cache hears of it.
#[utoipa::path(
    post,
    path = "/v1/flag-definitions",
    operation_id = "create_flag_definition",
    tag = "flags",
    request_body = NewFlagDefinition,
    responses(
        Refusals,
        (status = 201, description = "The new definition", body = FlagDefinition,
            links(
                ("GetFlagDefinition" = (operation_id = "get_flag_definition", parameters(("key" = "$response.body#/key")))),
                ("UpdateFlagDefinition" = (operation_id = "update_flag_definition", parameters(("key" = "$response.body#/key")))),
                ("GetFlagHistory" = (operation_id = "get_flag_history", parameters(("key" = "$response.body#/key"))))
            )),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
        (status = 409, description = "A flag with this key already exists", body = ErrorBody),
        (status = 422, description = "Every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn create_definition(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    ApiJson(body): ApiJson<NewFlagDefinition>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    let flag = state
        .services
        .apply(flags::create_flag(&state.pool, &caller.ctx, Some(&actor), body.into()).await)
        .await?;
    Ok((StatusCode::CREATED, Json(flag)))
}

/// Change a flag's description, default or rollout (operators).
///
/// Only the fields given change; `"rollout_percentage": null` removes the rollout. The key
/// cannot change. The old and new values are audited.
#[utoipa::path(
    patch,
    path = "/v1/flag-definitions/{key}",
    operation_id = "update_flag_definition",
    tag = "flags",
    params(("key" = String, Path, description = "The flag's key")),
    request_body = FlagDefinitionChanges,
    responses(
        Refusals,
        (status = 200, description = "The definition as changed", body = FlagDefinition),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
        (status = 404, description = "No flag has this key", body = ErrorBody),
        (status = 422, description = "Every invalid field named (a `key` is refused)", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn update_definition(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<FlagDefinitionChanges>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    let flag = state
        .services
        .apply(flags::update_flag(&state.pool, &caller.ctx, Some(&actor), &key, body.into()).await)
        .await?;
    Ok(Json(flag))
}

/// A flag's history (operators).
///
/// Every change to the flag — its definition, plan defaults and tenants' overrides — with
/// who made it and the old and new values, newest first (the last 100).
#[utoipa::path(
    get,
    path = "/v1/flag-definitions/{key}/history",
    operation_id = "get_flag_history",
    tag = "flags",
    params(("key" = String, Path, description = "The flag's key")),
    responses(
        Refusals,
        (status = 200, description = "The changes, newest first, on one page (`next_cursor` is null)", body = FlagChangePage),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
        (status = 404, description = "No flag has this key", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn history(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(key): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    flags::get_flag(&state.pool, Some(&actor), &key).await?;
    Ok(Json(
        json!({"data": flags::flag_history(&state.pool, Some(&actor), &key, 100).await?, "next_cursor": null}),
    ))
}

/// A flag's value, for a plan or a tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct FlagValue {
    /// The value.
    value: bool,
}

async fn plan_default(
    state: AppState,
    caller: RequestMeta,
    bearer: Bearer,
    key: String,
    plan: String,
    value: Option<bool>,
) -> Result<Json<FlagDefinition>, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    let plan = Plan::parse(&plan)?;
    let flag = state
        .services
        .apply(
            flags::set_plan_default(&state.pool, &caller.ctx, Some(&actor), &key, plan, value)
                .await,
        )
        .await?;
    Ok(Json(flag))
}

/// Set a plan's default for a flag (operators).
///
/// Every tenant on the plan gets this value unless it has its own override. Audited.
#[utoipa::path(
    put,
    path = "/v1/flag-definitions/{key}/plans/{plan}",
    operation_id = "set_flag_plan_default",
    tag = "flags",
    params(
        ("key" = String, Path, description = "The flag's key"),
        ("plan" = inline(Plan), Path, description = "The plan"),
    ),
    request_body = FlagValue,
    responses(
        Refusals,
        (status = 200, description = "The definition with its plan defaults", body = FlagDefinition),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
        (status = 404, description = "No flag has this key", body = ErrorBody),
        (status = 422, description = "An unknown plan, or every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn set_plan_default(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path((key, plan)): Path<(String, String)>,
    ApiJson(body): ApiJson<FlagValue>,
) -> Result<impl IntoResponse, ApiError> {
    plan_default(state, caller, bearer, key, plan, Some(body.value)).await
}

/// Clear a plan's default for a flag (operators).
///
/// The plan's tenants fall back to the rollout or the flag's default (overrides stay).
/// Audited when there was one.
#[utoipa::path(
    delete,
    path = "/v1/flag-definitions/{key}/plans/{plan}",
    operation_id = "clear_flag_plan_default",
    tag = "flags",
    params(
        ("key" = String, Path, description = "The flag's key"),
        ("plan" = inline(Plan), Path, description = "The plan"),
    ),
    responses(
        Refusals,
        (status = 200, description = "The definition with its plan defaults", body = FlagDefinition),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
        (status = 404, description = "No flag has this key", body = ErrorBody),
        (status = 422, description = "An unknown plan", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn clear_plan_default(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path((key, plan)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    plan_default(state, caller, bearer, key, plan, None).await
}

fn tenant_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// A tenant's effective flags (operators).
///
/// Every flag's value for the tenant (tenant-level evaluation, as the Flag API serves it
/// without `user_id`) and the rule that decided it: `override`, `plan`, `rollout` or
/// `default`.
#[utoipa::path(
    get,
    path = "/v1/tenants/{id}/flags",
    operation_id = "list_tenant_flags",
    tag = "flags",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    responses(
        Refusals,
        (status = 200, description = "Every flag's value and source, on one page (`next_cursor` is null)", body = EffectiveFlagPage),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn tenant_flags(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    let id = tenant_id(&id)?;
    gatehouse_domain::tenants::get_tenant(&state.pool, Some(&actor), id).await?;
    let tenant = state
        .flags
        .get()
        .await
        .tenant(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(
        json!({"data": tenant.flags.evaluate(None), "next_cursor": null}),
    ))
}

/// A tenant's override of a flag, as set or cleared.
#[derive(Debug, Serialize, ToSchema)]
struct FlagOverride {
    /// The tenant.
    tenant_id: Uuid,
    /// The flag's key.
    key: String,
    /// The override; null once cleared (the plan's default, the rollout or the flag's
    /// default decides again).
    #[serde(rename = "override")]
    value: Option<bool>,
}

async fn override_value(
    state: AppState,
    caller: RequestMeta,
    bearer: Bearer,
    id: String,
    key: String,
    value: Option<bool>,
) -> Result<Json<FlagOverride>, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    let id = tenant_id(&id)?;
    state
        .services
        .apply(flags::set_override(&state.pool, &caller.ctx, Some(&actor), id, &key, value).await)
        .await?;
    state.flags.changed(Some(id)).await;
    Ok(Json(FlagOverride {
        tenant_id: id,
        key,
        value,
    }))
}

/// Override a flag for a tenant (operators).
///
/// The override beats the plan's default, the rollout and the flag's default. Audited;
/// served by every server within a second.
#[utoipa::path(
    put,
    path = "/v1/tenants/{id}/flags/{key}",
    operation_id = "set_flag_override",
    tag = "flags",
    params(
        ("id" = Uuid, Path, description = "The tenant's id"),
        ("key" = String, Path, description = "The flag's key"),
    ),
    request_body = FlagValue,
    responses(
        Refusals,
        (status = 200, description = "The override as set", body = FlagOverride),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
        (status = 404, description = "No such tenant, or no flag has this key", body = ErrorBody),
        (status = 422, description = "Every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn set_override(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path((id, key)): Path<(String, String)>,
    ApiJson(body): ApiJson<FlagValue>,
) -> Result<impl IntoResponse, ApiError> {
    override_value(state, caller, bearer, id, key, Some(body.value)).await
}

/// Clear a tenant's override of a flag (operators).
///
/// The plan's default, the rollout or the flag's default decides again. Audited when there
/// was one.
#[utoipa::path(
    delete,
    path = "/v1/tenants/{id}/flags/{key}",
    operation_id = "clear_flag_override",
    tag = "flags",
    params(
        ("id" = Uuid, Path, description = "The tenant's id"),
        ("key" = String, Path, description = "The flag's key"),
    ),
    responses(
        Refusals,
        (status = 200, description = "The override, now null", body = FlagOverride),
        (status = 403, description = "Not an operator's token with the `admin` scope", body = ErrorBody),
        (status = 404, description = "No such tenant, or no flag has this key", body = ErrorBody),
    ),
    security(("oauth2" = ["admin"]))
)]
async fn clear_override(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path((id, key)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    override_value(state, caller, bearer, id, key, None).await
}
