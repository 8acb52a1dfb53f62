//! Tenants for operators (SPEC §2; UC-PROV-001, UC-TENANT-SUSPEND, FR-OPS-001): list
//! (search, status and plan filters, cursor pages), get, provision, suspend, reactivate,
//! change plan — the same domain operations, rules and audit as the Operator Console.

use crate::api::error::parse_body;
use crate::api::error::{ErrorBody, Refusals};
use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::Bearer;
use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::tenants::{self, Provisioning, Tenant, TenantPage, TenantQuery};
use gatehouse_domain::types::{DisplayName, Email, MfaPolicy, Plan, TenantDomain, TenantStatus};
use gatehouse_domain::{DomainError, FieldError};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    ApiRoutes::new()
        .routes(routes!(list, provision))
        .routes(routes!(show))
        .routes(routes!(suspend))
        .routes(routes!(reactivate))
        .routes(routes!(change_plan))
        .build()
}

fn provisioner(bearer: &Bearer, scope: &str) -> Result<Actor, ApiError> {
    bearer.require_user_with(scope, Permission::TenantsProvision)
}

pub(crate) fn id_of(raw: &str) -> Result<Uuid, ApiError> {
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Part of a name or a domain (case-insensitive).
    search: Option<String>,
    /// Only the tenants of this status (case-insensitive).
    #[param(value_type = Option<TenantStatus>)]
    status: Option<String>,
    /// Only the tenants on this plan (case-insensitive).
    #[param(value_type = Option<Plan>)]
    plan: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1-100 (25).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// List tenants.
///
/// Newest first, in cursor pages, filtered by a search over names and domains, by status
/// and by plan. Operators only.
#[utoipa::path(
    get,
    path = "/v1/tenants",
    tag = "tenants",
    operation_id = "list_tenants",
    params(ListQuery),
    responses(
        Refusals,
        (status = 200, description = "A page of tenants", body = TenantPage),
        (status = 403, description = "Not a person's token, the token lacks `tenants:read`, or the role may not read every tenant", body = ErrorBody),
        (status = 422, description = "Every invalid parameter named (an unknown parameter, status, plan, limit or cursor)", body = ErrorBody),
    ),
    security(("oauth2" = ["tenants:read"]))
)]
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

/// One tenant.
#[utoipa::path(
    get,
    path = "/v1/tenants/{id}",
    tag = "tenants",
    operation_id = "get_tenant",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    responses(
        Refusals,
        (status = 200, description = "The tenant", body = Tenant),
        (status = 403, description = "Not a person's token, the token lacks `tenants:read`, or the role may not read every tenant", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ),
    security(("oauth2" = ["tenants:read"]))
)]
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

/// A new tenant and its owner. Strings are trimmed and a blank or `null` field counts as
/// absent; `domain` and `plan` are case-insensitive.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProvisionTenant {
    /// The display name: no control characters.
    #[schema(value_type = DisplayName)]
    name: Option<String>,
    /// The tenant's unique slug.
    #[schema(value_type = TenantDomain)]
    domain: Option<String>,
    /// `free` when absent.
    #[schema(value_type = Option<Plan>)]
    plan: Option<String>,
    /// The owner, invited by email to choose a password.
    #[schema(value_type = Email)]
    owner_email: Option<String>,
    /// Applications to enable for the tenant.
    #[serde(default)]
    applications: Vec<Uuid>,
}

/// Provision a tenant.
///
/// In one step: the tenant, its owner invited (the invitation is mailed), the applications
/// enabled, the plan's flags in effect. Every field is checked and every violation listed;
/// nothing is half-created. Audited (`tenant.create`, and the invitation's entry).
// UC-PROV-001.
#[utoipa::path(
    post,
    path = "/v1/tenants",
    tag = "tenants",
    operation_id = "provision_tenant",
    request_body = ProvisionTenant,
    responses(
        Refusals,
        (status = 201, description = "The tenant", body = Tenant,
            links(
                ("GetTenant" = (operation_id = "get_tenant", parameters(("id" = "$response.body#/id")))),
                ("SuspendTenant" = (operation_id = "suspend_tenant", parameters(("id" = "$response.body#/id")))),
                ("ReactivateTenant" = (operation_id = "reactivate_tenant", parameters(("id" = "$response.body#/id")))),
                ("ChangeTenantPlan" = (operation_id = "change_tenant_plan", parameters(("id" = "$response.body#/id")))),
                ("ListTenantFlags" = (operation_id = "list_tenant_flags", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 403, description = "Not a person's token, the token lacks `tenants:write`, or the role may not provision tenants", body = ErrorBody),
        (status = 409, description = "The domain is taken", body = ErrorBody),
        (status = 422, description = "Every invalid field named (an unknown application too)", body = ErrorBody),
    ),
    security(("oauth2" = ["tenants:write"]))
)]
async fn provision(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = provisioner(&bearer, "tenants:write")?;
    let body: ProvisionTenant = parse_body(body)?;
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

/// Why a tenant is suspended (optional: the body may be left out). Blank counts as absent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SuspendTenant {
    /// Kept in the audit trail.
    #[schema(max_length = 500)]
    reason: Option<String>,
}

/// Suspend a tenant.
///
/// At once: nobody of the tenant signs in, their sessions and refresh tokens are revoked,
/// and access tokens for the tenant are refused from the next request on. Suspending a
/// suspended tenant changes nothing. Audited (`tenant.suspend`).
#[utoipa::path(
    post,
    path = "/v1/tenants/{id}/suspend",
    tag = "tenants",
    operation_id = "suspend_tenant",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    request_body = Option<SuspendTenant>,
    responses(
        Refusals,
        (status = 200, description = "The tenant, `suspended`", body = Tenant),
        (status = 403, description = "Not a person's token, the token lacks `tenants:write`, or the role may not provision tenants", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "The body is not JSON, or every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["tenants:write"]))
)]
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
        let value: Value = serde_json::from_slice(&body).map_err(|_| {
            ApiError::validation(vec![FieldError::new(
                "body",
                "the request body is not valid JSON",
            )])
        })?;
        parse_body::<SuspendTenant>(value)?.reason
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

/// Reactivate a tenant.
///
/// Its people sign in again; sessions and tokens revoked by the suspension stay revoked.
/// Reactivating an active tenant changes nothing. Audited (`tenant.reactivate`).
#[utoipa::path(
    post,
    path = "/v1/tenants/{id}/reactivate",
    tag = "tenants",
    operation_id = "reactivate_tenant",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    responses(
        Refusals,
        (status = 200, description = "The tenant, `active`", body = Tenant),
        (status = 403, description = "Not a person's token, the token lacks `tenants:write`, or the role may not provision tenants", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ),
    security(("oauth2" = ["tenants:write"]))
)]
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

/// A tenant's new plan (case-insensitive).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangePlan {
    #[schema(value_type = Plan)]
    plan: String,
}

/// Change a tenant's plan.
///
/// The plan's flag defaults apply from the next evaluation on; the tenant's own overrides
/// are kept. Audited (`tenant.plan.change`, with the old and new plan) when it changes.
#[utoipa::path(
    put,
    path = "/v1/tenants/{id}/plan",
    tag = "tenants",
    operation_id = "change_tenant_plan",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    request_body = ChangePlan,
    responses(
        Refusals,
        (status = 200, description = "The tenant on its new plan", body = Tenant),
        (status = 403, description = "Not a person's token, the token lacks `tenants:write`, or the role may not provision tenants", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "Every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["tenants:write"]))
)]
async fn change_plan(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = provisioner(&bearer, "tenants:write")?;
    let body: ChangePlan = parse_body(body)?;
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
pub fn settings_router() -> OpenApiRouter<AppState> {
    ApiRoutes::new()
        .routes(routes!(show_settings, update_settings))
        .build()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TenantParam {
    /// Operators: the tenant's domain (others act on their own tenant).
    tenant: Option<String>,
}

/// A tenant's sign-in policies.
// The shape `gatehouse_domain::tenants::TenantSettings` serializes to (its password policy
// has no schema of its own); the test below keeps the two together.
#[derive(ToSchema)]
#[schema(as = TenantSettings)]
#[allow(dead_code)]
struct SettingsView {
    password_policy: PasswordPolicyView,
    /// Who must use a second factor: nobody, the owners and admins, or everyone.
    mfa_policy: MfaPolicy,
    /// A session ends after this many seconds without activity (60 to 86400).
    session_idle_timeout_secs: i32,
    /// The location signals that ask a person with a second factor for it: a country never
    /// seen for them, impossible travel, an hour outside their usual ones.
    location_signals: Vec<LocationSignal>,
}

/// A location signal of adaptive authentication.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum LocationSignal {
    NewCountry,
    ImpossibleTravel,
    UnusualHour,
}

/// A tenant's password rules. Passwords in a list of common passwords are always refused.
#[derive(ToSchema)]
#[schema(as = PasswordPolicy)]
#[allow(dead_code)]
struct PasswordPolicyView {
    /// Minimum number of characters (8-128).
    min_length: u32,
    /// An upper case letter is required.
    require_upper: bool,
    /// A lower case letter is required.
    require_lower: bool,
    /// A digit is required.
    require_digit: bool,
    /// A character that is neither a letter nor a digit is required (a space counts).
    require_symbol: bool,
    /// Minimum strength score of the zxcvbn estimate (0-4); 0 turns the estimate off.
    min_strength: u8,
    /// How many previous passwords may not be reused (0-24).
    history: u32,
}

/// A tenant's password rules as set: every key left out takes its default (not its
/// current value).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct PasswordPolicyChange {
    /// Minimum number of characters: 8-128 (12).
    #[schema(minimum = 8, maximum = 128)]
    min_length: Option<u32>,
    /// Require an upper case letter (false).
    require_upper: Option<bool>,
    /// Require a lower case letter (false).
    require_lower: Option<bool>,
    /// Require a digit (false).
    require_digit: Option<bool>,
    /// Require a character that is neither a letter nor a digit, a space included (false).
    require_symbol: Option<bool>,
    /// Minimum strength score of the zxcvbn estimate: 0-4 (3); 0 turns the estimate off.
    #[schema(maximum = 4)]
    min_strength: Option<u8>,
    /// How many previous passwords may not be reused: 0-24 (5).
    #[schema(maximum = 24)]
    history: Option<u32>,
}

/// The tenant's settings.
///
/// The password policy, the MFA policy, the session idle timeout and the location signals
/// of adaptive authentication. Operators name the tenant with `?tenant=`.
#[utoipa::path(
    get,
    path = "/v1/settings",
    tag = "tenants",
    operation_id = "get_settings",
    params(TenantParam),
    responses(
        Refusals,
        (status = 200, description = "The settings", body = SettingsView),
        (status = 403, description = "Not a person's token, the token lacks `tenants:read`, or the role may not read the tenant", body = ErrorBody),
        (status = 404, description = "No such tenant (or not the caller's)", body = ErrorBody),
        (status = 422, description = "Platform callers must name the tenant; an unknown parameter", body = ErrorBody),
    ),
    security(("oauth2" = ["tenants:read"]))
)]
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

/// A change to the tenant's settings: only the fields present change. Strings are trimmed
/// and a blank or `null` field counts as absent; `mfa_policy` is case-insensitive.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangeSettings {
    /// Replaces the whole policy: keys left out take their defaults.
    #[schema(value_type = Option<PasswordPolicyChange>)]
    password_policy: Option<Value>,
    /// Who must use a second factor: nobody, the owners and admins, or everyone.
    #[schema(value_type = Option<MfaPolicy>)]
    mfa_policy: Option<String>,
    /// A session ends after this many seconds without activity: 60 (1 minute) to 86400
    /// (24 hours).
    #[schema(minimum = 60, maximum = 86400)]
    session_idle_timeout_secs: Option<i64>,
    /// The whole set of location signals that are on (`[]` turns them all off).
    #[schema(value_type = Option<Vec<LocationSignal>>)]
    location_signals: Option<Vec<String>>,
}

/// Change the tenant's settings.
///
/// Owners and admins of the tenant, and operators (`?tenant=`). Every field is checked and
/// every violation listed; nothing changes unless all are valid. Audited
/// (`tenant.settings.update`, with the old and new values) when something changes.
#[utoipa::path(
    patch,
    path = "/v1/settings",
    tag = "tenants",
    operation_id = "update_settings",
    params(TenantParam),
    request_body = ChangeSettings,
    responses(
        Refusals,
        (status = 200, description = "The settings as changed", body = SettingsView),
        (status = 403, description = "Not a person's token, the token lacks `tenants:write`, or the role may not set the tenant's policies", body = ErrorBody),
        (status = 404, description = "No such tenant (or not the caller's)", body = ErrorBody),
        (status = 422, description = "Every invalid field named; platform callers must name the tenant", body = ErrorBody),
    ),
    security(("oauth2" = ["tenants:write"]))
)]
async fn update_settings(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Query(q): Query<TenantParam>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = bearer.require_user_with("tenants:write", Permission::TenantRead)?;
    let body: ChangeSettings = parse_body(body)?;
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
                    location_signals: body.location_signals,
                },
            )
            .await,
        )
        .await?;
    Ok(Json(settings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use utoipa::PartialSchema;

    fn schema_of<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    fn keys(v: &Value) -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The documented settings are the keys the domain sends and takes.
    #[test]
    fn the_settings_schemas_name_every_key_of_the_domain() {
        let sent = serde_json::to_value(gatehouse_domain::tenants::TenantSettings {
            password_policy: Default::default(),
            mfa_policy: MfaPolicy::Off,
            session_idle_timeout_secs: 1800,
            location_signals: vec![],
        })
        .unwrap();
        let view = schema_of::<SettingsView>();
        assert_eq!(keys(&view["properties"]), keys(&sent));
        let policy = keys(&sent["password_policy"]);
        assert_eq!(
            keys(&schema_of::<PasswordPolicyView>()["properties"]),
            policy
        );
        let change = schema_of::<PasswordPolicyChange>();
        assert_eq!(keys(&change["properties"]), policy);
        assert_eq!(change["additionalProperties"], false);
    }

    /// Every violation, in the order of the body's fields; a capitalised value is fine.
    #[test]
    fn a_settings_change_lists_every_violation_in_field_order() {
        let body = json!({
            "password_policy": {"min_length": 4},
            "mfa_policy": "sometimes",
            "session_idle_timeout_secs": 5,
        });
        let err = parse_body::<ChangeSettings>(body).unwrap_err();
        let fields: Vec<&str> = err.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "password_policy.min_length",
                "mfa_policy",
                "session_idle_timeout_secs"
            ]
        );
        let typo = json!({"password_policy": {"min_lenght": 14}, "colour": "red"});
        let err = parse_body::<ChangeSettings>(typo).unwrap_err();
        let fields: Vec<&str> = err.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["password_policy.min_lenght", "colour"]);
        let ok: ChangeSettings =
            parse_body(json!({"mfa_policy": " Everyone ", "password_policy": {"min_length": 14}}))
                .unwrap();
        assert_eq!(ok.mfa_policy.as_deref(), Some("everyone"));
    }

    #[test]
    fn a_provisioning_names_every_missing_and_invalid_field() {
        let body =
            json!({"name": " ", "domain": "Bad_Domain", "owner_email": "nope", "plan": "Gold"});
        let err = parse_body::<ProvisionTenant>(body).unwrap_err();
        let named: Vec<&str> = err.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(named, ["name", "domain", "plan", "owner_email"]);
        let ok: ProvisionTenant = parse_body(json!({"name": "Walker", "domain": "Walker", "owner_email": "w@walker.test", "plan": "Pro"})).unwrap();
        assert_eq!(
            (ok.domain.as_deref(), ok.plan.as_deref()),
            (Some("Walker"), Some("pro"))
        );
    }
}
