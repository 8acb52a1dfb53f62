//! The flag routes of `/api/v1`: delivery (`/v1/flags`, `/v1/flags/stream`, served by
//! `crate::flags::delivery`) and management for operators (FR-FLAG-001): definitions, plan
//! defaults, per-tenant overrides, history, stale flags.

use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::Bearer;
use crate::extract::RequestMeta;
use crate::flags::delivery;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use gatehouse_domain::flags::{self, FlagInput};
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::types::Plan;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/flags", get(delivery::flag_api))
        .route("/v1/flags/stream", get(delivery::stream))
        .route(
            "/v1/flag-definitions",
            get(list_definitions).post(create_definition),
        )
        .route("/v1/flag-definitions/stale", get(stale_definitions))
        .route(
            "/v1/flag-definitions/{key}",
            get(get_definition).patch(update_definition),
        )
        .route("/v1/flag-definitions/{key}/history", get(history))
        .route(
            "/v1/flag-definitions/{key}/plans/{plan}",
            put(set_plan_default).delete(clear_plan_default),
        )
        .route("/v1/tenants/{id}/flags", get(tenant_flags))
        .route(
            "/v1/tenants/{id}/flags/{key}",
            put(set_override).delete(clear_override),
        )
        .build()
}

fn flag_manager(bearer: &Bearer, scope: &str) -> Result<Actor, ApiError> {
    bearer.require_user_with(scope, Permission::FlagsManage)
}

async fn list_definitions(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    Ok(Json(
        json!({"data": flags::list_flags(&state.pool, Some(&actor)).await?, "next_cursor": null}),
    ))
}

async fn stale_definitions(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    Ok(Json(
        json!({"data": flags::stale_flags(&state.pool, Some(&actor), 30).await?, "next_cursor": null}),
    ))
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefinitionBody {
    key: Option<String>,
    description: Option<String>,
    default_value: Option<bool>,
    #[serde(default, deserialize_with = "some_nullable")]
    rollout_percentage: Option<Option<i16>>,
}

/// `Some(None)` for an explicit null (clear), `None` when absent (keep).
fn some_nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i16>>, D::Error> {
    Option::<i16>::deserialize(d).map(Some)
}

impl From<DefinitionBody> for FlagInput {
    fn from(b: DefinitionBody) -> Self {
        FlagInput {
            key: b.key.map(|k| k.trim().to_owned()),
            description: b.description,
            default_value: b.default_value,
            rollout_percentage: b.rollout_percentage,
        }
    }
}

async fn create_definition(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    ApiJson(body): ApiJson<DefinitionBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    let flag = state
        .services
        .apply(flags::create_flag(&state.pool, &caller.ctx, Some(&actor), body.into()).await)
        .await?;
    Ok((StatusCode::CREATED, Json(flag)))
}

async fn update_definition(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<DefinitionBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    let flag = state
        .services
        .apply(flags::update_flag(&state.pool, &caller.ctx, Some(&actor), &key, body.into()).await)
        .await?;
    Ok(Json(flag))
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueBody {
    value: bool,
}

async fn plan_default(
    state: AppState,
    caller: RequestMeta,
    bearer: Bearer,
    key: String,
    plan: String,
    value: Option<bool>,
) -> Result<Json<flags::FlagDefinition>, ApiError> {
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

async fn set_plan_default(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path((key, plan)): Path<(String, String)>,
    ApiJson(body): ApiJson<ValueBody>,
) -> Result<impl IntoResponse, ApiError> {
    plan_default(state, caller, bearer, key, plan, Some(body.value)).await
}

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

/// A tenant's effective flags with where each value comes from (operators).
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

async fn override_value(
    state: AppState,
    caller: RequestMeta,
    bearer: Bearer,
    id: String,
    key: String,
    value: Option<bool>,
) -> Result<Json<Value>, ApiError> {
    let actor = flag_manager(&bearer, "admin")?;
    let id = tenant_id(&id)?;
    state
        .services
        .apply(flags::set_override(&state.pool, &caller.ctx, Some(&actor), id, &key, value).await)
        .await?;
    state.flags.changed(Some(id)).await;
    Ok(Json(
        json!({"tenant_id": id, "key": key, "override": value}),
    ))
}

async fn set_override(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path((id, key)): Path<(String, String)>,
    ApiJson(body): ApiJson<ValueBody>,
) -> Result<impl IntoResponse, ApiError> {
    override_value(state, caller, bearer, id, key, Some(body.value)).await
}

async fn clear_override(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path((id, key)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    override_value(state, caller, bearer, id, key, None).await
}
