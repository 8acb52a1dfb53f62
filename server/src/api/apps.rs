//! `/api/v1/me` and the managed-applications API for operators (SPEC §5, FR-SYS-001..003,
//! UC-DEV-REGISTER, UC-DEV-UPDATE): the same domain operations, rules and audit as the CLI
//! and the Operator Console.

use crate::api::error::{parse_body, ErrorBody, Refusals};
use crate::api::openapi::{ApiKeyPage, ApplicationPage};

use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::Bearer;
use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use gatehouse_domain::apps::{self, ApiKey, Application, ApplicationInput, KeyInput};
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::types::{DisplayName, Role, TenantDomain};
use gatehouse_domain::FieldError;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    ApiRoutes::new()
        .routes(routes!(me))
        .routes(routes!(list, register))
        .routes(routes!(show, update))
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(keys, issue_key))
        .routes(routes!(revoke_key))
        .build()
}

/// What holds a token.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum CallerType {
    User,
    Application,
}

/// Who a token belongs to.
#[derive(Serialize, ToSchema)]
struct Me {
    /// `user` for a person's token, `application` for an application's own (client
    /// credentials).
    #[serde(rename = "type")]
    kind: CallerType,
    /// The token's subject: the person's id, or the key's client_id.
    sub: String,
    /// The person; `null` for an application's token.
    user_id: Option<Uuid>,
    /// The tenant the token acts for, if one.
    tenant_id: Option<Uuid>,
    /// The person's roles; empty for an application's token.
    #[schema(value_type = Vec<Role>)]
    roles: Vec<String>,
    /// The scopes granted.
    scopes: Vec<String>,
    /// The key (OAuth client) the token was issued to.
    client_id: String,
    /// The key's application.
    application_id: Uuid,
    /// When the token expires, in seconds since 1970-01-01T00:00:00Z.
    expires_at: i64,
}

/// Who the token belongs to.
///
/// Any valid access token: a person's, with their roles, or an application's own.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "me",
    operation_id = "me",
    responses(
        Refusals,
        (status = 200, description = "The token's holder", body = Me),
        (status = 503, description = "Tokens cannot be checked right now", body = ErrorBody),
    ),
    security(("oauth2" = []), ("bearer" = []))
)]
async fn me(bearer: Bearer) -> Json<Me> {
    let c = &bearer.0;
    let kind = if c.user_id().is_some() {
        CallerType::User
    } else {
        CallerType::Application
    };
    Json(Me {
        kind,
        sub: c.sub.clone(),
        user_id: c.user_id(),
        tenant_id: c.tenant_id,
        roles: c.roles.clone(),
        scopes: c.scopes().map(str::to_owned).collect(),
        client_id: c.client_id.clone(),
        application_id: c.application_id,
        expires_at: c.exp,
    })
}

fn app_manager(bearer: &Bearer, scope: &str) -> Result<Actor, ApiError> {
    bearer.require_user_with(scope, Permission::ApplicationsManage)
}

fn app_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// The environments an application is registered for.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum AppEnvironment {
    Development,
    Staging,
    Production,
}

/// The OAuth grant types an application may use.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum AppGrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
}

/// The scopes a key may be granted.
#[derive(ToSchema)]
#[allow(dead_code)]
enum KeyScope {
    #[serde(rename = "flag:read")]
    FlagRead,
    #[serde(rename = "bill:write")]
    BillWrite,
    #[serde(rename = "bill:read")]
    BillRead,
    #[serde(rename = "log:write")]
    LogWrite,
    #[serde(rename = "log:read")]
    LogRead,
    #[serde(rename = "users:read")]
    UsersRead,
    #[serde(rename = "users:write")]
    UsersWrite,
    #[serde(rename = "tenants:read")]
    TenantsRead,
    #[serde(rename = "tenants:write")]
    TenantsWrite,
    #[serde(rename = "apps:read")]
    AppsRead,
    #[serde(rename = "apps:write")]
    AppsWrite,
    #[serde(rename = "webhooks:read")]
    WebhooksRead,
    #[serde(rename = "webhooks:write")]
    WebhooksWrite,
    #[serde(rename = "admin")]
    Admin,
    #[serde(rename = "openid")]
    Openid,
    #[serde(rename = "profile")]
    Profile,
    #[serde(rename = "email")]
    Email,
    #[serde(rename = "offline_access")]
    OfflineAccess,
}

/// A new application. Strings are trimmed and a blank or `null` field counts as absent;
/// `environment`, `grant_types` and `tenants` are case-insensitive.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RegisterApplication {
    /// The display name: no control characters.
    #[schema(value_type = DisplayName)]
    name: Option<String>,
    /// `production` when absent.
    #[schema(value_type = Option<AppEnvironment>)]
    environment: Option<String>,
    /// Where the authorization code flow may send people back: absolute `https` URLs
    /// (plain `http` only to localhost, 127.0.0.1 or [::1]) without a fragment.
    #[schema(max_items = 20, format = "uri", max_length = 2000)]
    redirect_uris: Option<Vec<String>>,
    /// Where signing out may send people back; the same rules as `redirect_uris`.
    #[schema(max_items = 20, format = "uri", max_length = 2000)]
    post_logout_redirect_uris: Option<Vec<String>>,
    /// `client_credentials` when absent.
    #[schema(value_type = Option<Vec<AppGrantType>>, min_items = 1, max_items = 3)]
    grant_types: Option<Vec<String>>,
    /// Domains of the tenants it may act for.
    #[schema(value_type = Option<Vec<TenantDomain>>, max_items = 100)]
    tenants: Option<Vec<String>>,
    /// Acts for every tenant (platform tooling); `false` when absent.
    all_tenants: Option<bool>,
}

/// A change to an application: only the fields present change. Strings are trimmed and a
/// blank or `null` field counts as absent; `environment`, `grant_types` and `tenants` are
/// case-insensitive.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangeApplication {
    /// The display name: no control characters.
    #[schema(value_type = Option<DisplayName>)]
    name: Option<String>,
    #[schema(value_type = Option<AppEnvironment>)]
    environment: Option<String>,
    /// Replaces the list: absolute `https` URLs (plain `http` only to localhost, 127.0.0.1
    /// or [::1]) without a fragment.
    #[schema(max_items = 20, format = "uri", max_length = 2000)]
    redirect_uris: Option<Vec<String>>,
    /// Replaces the list; the same rules as `redirect_uris`.
    #[schema(max_items = 20, format = "uri", max_length = 2000)]
    post_logout_redirect_uris: Option<Vec<String>>,
    /// Replaces the list.
    #[schema(value_type = Option<Vec<AppGrantType>>, min_items = 1, max_items = 3)]
    grant_types: Option<Vec<String>>,
    /// Replaces the list of tenants it may act for. Keys bound to a tenant taken off are
    /// revoked, and its tokens for that tenant refused.
    #[schema(value_type = Option<Vec<TenantDomain>>, max_items = 100)]
    tenants: Option<Vec<String>>,
    /// Acts for every tenant (platform tooling).
    all_tenants: Option<bool>,
}

/// SPEC §9: strings trimmed, empty = null.
fn text(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl From<RegisterApplication> for ApplicationInput {
    fn from(b: RegisterApplication) -> Self {
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

impl From<ChangeApplication> for ApplicationInput {
    fn from(b: ChangeApplication) -> Self {
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

/// List applications.
///
/// Every managed application, newest first (at most 500, in one page). Operators only.
#[utoipa::path(
    get,
    path = "/v1/apps",
    tag = "apps",
    operation_id = "list_apps",
    responses(
        Refusals,
        (status = 200, description = "The applications (`next_cursor` is always null)", body = ApplicationPage),
        (status = 403, description = "Not a person's token, the token lacks `apps:read`, or the role may not manage applications", body = ErrorBody),
    ),
    security(("oauth2" = ["apps:read"]))
)]
async fn list(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:read")?;
    let apps = apps::list_applications(&state.pool, Some(&actor)).await?;
    Ok(Json(json!({"data": apps, "next_cursor": null})))
}

/// Register an application.
///
/// A name is required; the environment defaults to `production` and the grant types to
/// `client_credentials`. Unknown tenant domains are refused. Audited
/// (`application.register`). Issue a key to let it sign in.
#[utoipa::path(
    post,
    path = "/v1/apps",
    tag = "apps",
    operation_id = "register_app",
    request_body = RegisterApplication,
    responses(
        Refusals,
        (status = 201, description = "The application", body = Application,
            links(
                ("GetApp" = (operation_id = "get_app", parameters(("id" = "$response.body#/id")))),
                ("UpdateApp" = (operation_id = "update_app", parameters(("id" = "$response.body#/id")))),
                ("DisableApp" = (operation_id = "disable_app", parameters(("id" = "$response.body#/id")))),
                ("EnableApp" = (operation_id = "enable_app", parameters(("id" = "$response.body#/id")))),
                ("ListAppKeys" = (operation_id = "list_app_keys", parameters(("id" = "$response.body#/id")))),
                ("IssueAppKey" = (operation_id = "issue_app_key", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 403, description = "Not a person's token, the token lacks `apps:write`, or the role may not manage applications", body = ErrorBody),
        (status = 422, description = "Every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["apps:write"]))
)]
async fn register(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:write")?;
    let body: RegisterApplication = parse_body(body)?;
    let app = state
        .services
        .apply(
            apps::register_application(&state.pool, &caller.ctx, Some(&actor), body.into()).await,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(app)))
}

/// One application.
#[utoipa::path(
    get,
    path = "/v1/apps/{id}",
    tag = "apps",
    operation_id = "get_app",
    params(("id" = Uuid, Path, description = "The application's id")),
    responses(
        Refusals,
        (status = 200, description = "The application", body = Application),
        (status = 403, description = "Not a person's token, the token lacks `apps:read`, or the role may not manage applications", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
    ),
    security(("oauth2" = ["apps:read"]))
)]
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

/// Change an application.
///
/// Merge semantics: only the fields present change. Taking tenants off (or turning off
/// `all_tenants`) ends what the application held for them at once: keys bound to them
/// are revoked, and its refresh and access tokens for them refused. Audited
/// (`application.update`, naming the fields changed).
#[utoipa::path(
    patch,
    path = "/v1/apps/{id}",
    tag = "apps",
    operation_id = "update_app",
    params(("id" = Uuid, Path, description = "The application's id")),
    request_body = ChangeApplication,
    responses(
        Refusals,
        (status = 200, description = "The application as changed", body = Application),
        (status = 403, description = "Not a person's token, the token lacks `apps:write`, or the role may not manage applications", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
        (status = 422, description = "Every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["apps:write"]))
)]
async fn update(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:write")?;
    let body: ChangeApplication = parse_body(body)?;
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
) -> Result<Json<Application>, ApiError> {
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

/// Disable an application.
///
/// Its keys stop authenticating and its tokens are refused from the next request on; its
/// refresh tokens are revoked. Disabling a disabled application changes nothing. Audited
/// (`application.disable`).
#[utoipa::path(
    post,
    path = "/v1/apps/{id}/disable",
    tag = "apps",
    operation_id = "disable_app",
    params(("id" = Uuid, Path, description = "The application's id")),
    responses(
        Refusals,
        (status = 200, description = "The application, `disabled`", body = Application),
        (status = 403, description = "Not a person's token, the token lacks `apps:write`, or the role may not manage applications", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
    ),
    security(("oauth2" = ["apps:write"]))
)]
async fn disable(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    set_status(state, caller, bearer, id, false).await
}

/// Enable an application.
///
/// Its keys authenticate again (revoked refresh tokens stay revoked). Enabling an active
/// application changes nothing. Audited (`application.enable`).
#[utoipa::path(
    post,
    path = "/v1/apps/{id}/enable",
    tag = "apps",
    operation_id = "enable_app",
    params(("id" = Uuid, Path, description = "The application's id")),
    responses(
        Refusals,
        (status = 200, description = "The application, `active`", body = Application),
        (status = 403, description = "Not a person's token, the token lacks `apps:write`, or the role may not manage applications", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
    ),
    security(("oauth2" = ["apps:write"]))
)]
async fn enable(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    set_status(state, caller, bearer, id, true).await
}

/// List an application's keys.
///
/// Every key, newest first, revoked and expired ones too — never a secret.
#[utoipa::path(
    get,
    path = "/v1/apps/{id}/keys",
    tag = "apps",
    operation_id = "list_app_keys",
    params(("id" = Uuid, Path, description = "The application's id")),
    responses(
        Refusals,
        (status = 200, description = "The keys (`next_cursor` is always null)", body = ApiKeyPage),
        (status = 403, description = "Not a person's token, the token lacks `apps:read`, or the role may not manage applications", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
    ),
    security(("oauth2" = ["apps:read"]))
)]
async fn keys(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:read")?;
    let keys = apps::list_keys(&state.pool, Some(&actor), app_id(&id)?).await?;
    Ok(Json(json!({"data": keys, "next_cursor": null})))
}

/// A new key. Strings are trimmed and a blank or `null` field counts as absent; `scopes`
/// and `tenant` are case-insensitive.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct IssueKey {
    /// A label for people.
    #[schema(max_length = 200)]
    name: Option<String>,
    /// The scopes its tokens may be granted; none when absent.
    #[serde(default)]
    #[schema(value_type = Vec<KeyScope>, max_items = 18)]
    scopes: Vec<String>,
    /// When it stops authenticating, in the future: ISO 8601 in UTC (`Z` or `+00:00`), e.g.
    /// `2027-01-31T00:00:00Z`. Never when absent.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// Binds the key to one of the application's tenants (its domain).
    #[schema(value_type = Option<TenantDomain>)]
    tenant: Option<String>,
}

/// SPEC §9: timestamps are ISO 8601 in UTC (`Z` or `+00:00`), read as every API reads them.
pub fn parse_timestamp(field: &str, raw: &str) -> Result<OffsetDateTime, ApiError> {
    gatehouse_domain::audit::parse_utc(raw.trim()).ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            field,
            gatehouse_domain::audit::UTC_TIME,
        )])
    })
}

/// A new key with its secret, which this answer carries once: only its SHA-256 is stored.
#[derive(Serialize, ToSchema)]
struct IssuedKey {
    #[serde(flatten)]
    key: ApiKey,
    /// The OAuth client_id (the key's `id`).
    client_id: String,
    /// The OAuth client secret: shown this once, never again.
    client_secret: String,
}

/// Issue a key.
///
/// The key's id and secret are an OAuth client_id and client secret of the application,
/// for the grant types it may use. The secret is in this answer only. Audited
/// (`api_key.issue`).
#[utoipa::path(
    post,
    path = "/v1/apps/{id}/keys",
    tag = "apps",
    operation_id = "issue_app_key",
    params(("id" = Uuid, Path, description = "The application's id")),
    request_body = IssueKey,
    responses(
        Refusals,
        (status = 201, description = "The key, with its secret", body = IssuedKey,
            links(
                ("RevokeAppKey" = (operation_id = "revoke_app_key", parameters(("id" = "$request.path.id"), ("key_id" = "$response.body#/id"))))
            )),
        (status = 403, description = "Not a person's token, the token lacks `apps:write`, or the role may not manage applications", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
        (status = 422, description = "Every invalid field named (an expiry must be in the future, in UTC; the tenant must be one of the application's)", body = ErrorBody),
    ),
    security(("oauth2" = ["apps:write"]))
)]
async fn issue_key(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = app_manager(&bearer, "apps:write")?;
    let body: IssueKey = parse_body(body)?;
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
    let client_id = issued.key.id.clone();
    // Shown this once; only its SHA-256 is stored.
    let client_secret = issued.secret.expose_secret().to_owned();
    Ok((
        StatusCode::CREATED,
        Json(IssuedKey {
            key: issued.key,
            client_id,
            client_secret,
        }),
    ))
}

/// Revoke a key.
///
/// It authenticates no more: its refresh tokens are revoked and its access tokens refused
/// from the next request on. Revoking a revoked key changes nothing. Audited
/// (`api_key.revoke`).
#[utoipa::path(
    delete,
    path = "/v1/apps/{id}/keys/{key_id}",
    tag = "apps",
    operation_id = "revoke_app_key",
    params(
        ("id" = Uuid, Path, description = "The application's id"),
        ("key_id" = String, Path, description = "The key's id (its client_id)"),
    ),
    responses(
        Refusals,
        (status = 200, description = "The key, revoked", body = ApiKey),
        (status = 403, description = "Not a person's token, the token lacks `apps:write`, or the role may not manage applications", body = ErrorBody),
        (status = 404, description = "No such application, or no such key of it", body = ErrorBody),
    ),
    security(("oauth2" = ["apps:write"]))
)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_domain::apps::{ENVIRONMENTS, GRANT_TYPES, SCOPES};
    use utoipa::PartialSchema;

    fn schema_of<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    fn values_of<T: PartialSchema>() -> Vec<String> {
        schema_of::<T>()["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    /// The documented values are exactly the domain's.
    #[test]
    fn enums_name_the_values_the_domain_accepts() {
        assert_eq!(values_of::<AppEnvironment>(), ENVIRONMENTS);
        assert_eq!(values_of::<AppGrantType>(), GRANT_TYPES);
        assert_eq!(values_of::<KeyScope>(), SCOPES);
        let key = schema_of::<IssueKey>();
        assert_eq!(key["properties"]["scopes"]["maxItems"], SCOPES.len());
        let app = schema_of::<RegisterApplication>();
        assert_eq!(
            app["properties"]["grant_types"]["maxItems"],
            GRANT_TYPES.len()
        );
        assert_eq!(
            app["properties"]["redirect_uris"]["maxItems"],
            apps::MAX_URIS
        );
        assert_eq!(app["additionalProperties"], false);
    }

    #[test]
    fn a_registration_names_every_violation_in_field_order() {
        let body = json!({"name": " ", "environment": "PROD", "grant_types": ["implicit"], "color": "red"});
        let err = parse_body::<RegisterApplication>(body).unwrap_err();
        let fields: Vec<&str> = err.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["name", "environment", "grant_types[0]", "color"]);
        let ok: RegisterApplication = parse_body(
            json!({"name": " Billing sync ", "environment": "Staging", "tenants": ["acme"]}),
        )
        .unwrap();
        assert_eq!(ok.environment.as_deref(), Some("staging"));
        assert_eq!(ok.name.as_deref(), Some("Billing sync"));
        assert_eq!(ok.tenants, Some(vec!["acme".to_owned()]));
    }

    #[test]
    fn a_key_body_refuses_unknown_scopes_and_fields() {
        let body = json!({"scopes": ["Flag:Read", "root"], "tenant": "ACME", "bogus": 1});
        let err = parse_body::<IssueKey>(body).unwrap_err();
        let fields: Vec<&str> = err.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["scopes[1]", "bogus"]);
        let ok: IssueKey = parse_body(json!({"scopes": ["Flag:Read"], "tenant": "ACME", "expires_at": "2030-01-01T00:00:00+02:00"})).unwrap();
        assert_eq!(ok.scopes, ["flag:read"]);
        // A domain's case is the domain type's to lower.
        assert_eq!(ok.tenant.as_deref(), Some("ACME"));
        // The offset is the handler's to refuse, in its own words.
        assert!(parse_timestamp("expires_at", ok.expires_at.as_deref().unwrap()).is_err());
    }
}
