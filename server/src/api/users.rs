//! The Users API (SPEC §9; FR-TENANT-001/002/004/006, UC-TENANT-INVITE,
//! UC-TENANT-USER-DELETE/UPDATE/STATUS-UPDATE, UC-TENANT-SESSION-REVOKE): on the caller's
//! tenant — operators name one with `?tenant=domain` to list or invite. A user token is
//! needed (the caller's role decides, in the domain); another tenant's user is 404.

use crate::api::error::{ErrorBody, Refusals};
use crate::api::openapi::PendingInvitationPage;

use crate::api::tenants::page_limit;
use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::Bearer;
use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use gatehouse_domain::audit;
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::types::{DisplayName, Email, Role, UserStatus};
use gatehouse_domain::users::{self, PendingInvitation, UserPage, UserQuery, UserView};
use gatehouse_domain::users::{NewInvitation, DEFAULT_LIFETIME};
use gatehouse_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    ApiRoutes::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(revoke_sessions))
        .routes(routes!(reset_mfa))
        .routes(routes!(export_person))
        .routes(routes!(erase))
        .routes(routes!(invitations))
        .routes(routes!(revoke_invitation))
        .routes(routes!(resend_invitation))
        .build()
}

/// The roles a tenant's person can have.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum TenantRole {
    Owner,
    Admin,
    User,
}

/// The statuses a person can be set to (deleting archives).
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum SettableStatus {
    Active,
    Disabled,
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Operators: the tenant's domain (others see their own tenant).
    tenant: Option<String>,
    /// Part of a name or an email address.
    search: Option<String>,
    #[param(value_type = Option<TenantRole>)]
    role: Option<String>,
    #[param(value_type = Option<UserStatus>)]
    status: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1-100 (25).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// List a tenant's people.
///
/// Newest first, in cursor pages; archived people only with `status=archived`. The read is
/// itself audited (`user.list`, naming the ids listed).
#[utoipa::path(
    get,
    path = "/v1/users",
    operation_id = "list_users",
    tag = "users",
    params(ListQuery),
    responses(
        Refusals,
        (status = 200, description = "A page of people", body = UserPage),
        (status = 403, description = "The token lacks `users:read`, or the role may not list people", body = ErrorBody),
        (status = 404, description = "No such tenant (or not the caller's)", body = ErrorBody),
        (status = 422, description = "Every invalid parameter named", body = ErrorBody),
    ),
    security(("oauth2" = ["users:read"]))
)]
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

/// Path parameter of one person.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct UserId {
    /// The person's id.
    id: Uuid,
}

/// One person.
///
/// The read is audited (`user.read`). Another tenant's person is 404.
#[utoipa::path(
    get,
    path = "/v1/users/{id}",
    operation_id = "get_user",
    tag = "users",
    params(UserId),
    responses(
        Refusals,
        (status = 200, description = "The person", body = UserView),
        (status = 403, description = "The token lacks `users:read`", body = ErrorBody),
        (status = 404, description = "No such person in the caller's tenant", body = ErrorBody),
    ),
    security(("oauth2" = ["users:read"]))
)]
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

/// A person to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InviteUser)]
struct CreateBody {
    #[schema(max_length = 200)]
    name: Option<String>,
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// `user` when absent.
    #[schema(value_type = Option<TenantRole>)]
    role: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TenantParam {
    /// Operators: the tenant's domain (others act on their own tenant).
    tenant: Option<String>,
}

/// Invite a person.
///
/// The person is created with status `invited` and the invitation is mailed; they choose
/// their password from the link. An address already in the tenant is 409; only owners grant
/// `owner`.
#[utoipa::path(
    post,
    path = "/v1/users",
    operation_id = "invite_user",
    tag = "users",
    params(TenantParam),
    request_body = CreateBody,
    responses(
        Refusals,
        (status = 201, description = "The invited person", body = UserView,
            links(
                ("GetUser" = (operation_id = "get_user", parameters(("id" = "$response.body#/id")))),
                ("UpdateUser" = (operation_id = "update_user", parameters(("id" = "$response.body#/id")))),
                ("DeleteUser" = (operation_id = "delete_user", parameters(("id" = "$response.body#/id")))),
                ("RevokeUserSessions" = (operation_id = "revoke_user_sessions", parameters(("id" = "$response.body#/id")))),
                ("ResetUserMfa" = (operation_id = "reset_user_mfa", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 403, description = "The token lacks `users:write`, or the role may not invite (or grant that role)", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "The address is already a person of the tenant", body = ErrorBody),
        (status = 422, description = "Every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["users:write"]))
)]
async fn create(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Query(q): Query<TenantParam>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = bearer.require_user_with("users:write", Permission::UsersInvite)?;
    let mut errors = Vec::new();
    let email = match text(Some(body.email)) {
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

/// A change to a person: only the fields present change (`null` clears the name).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UserChanges)]
struct UpdateBody {
    #[serde(default, deserialize_with = "crate::api::patch")]
    #[schema(value_type = Option<String>, max_length = 200)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::api::patch")]
    #[schema(value_type = TenantRole)]
    role: Option<Option<String>>,
    /// `disabled` ends their sessions; delete a person to archive them.
    #[serde(default, deserialize_with = "crate::api::patch")]
    #[schema(value_type = SettableStatus)]
    status: Option<Option<String>>,
    /// Not set at once: a confirmation link goes to the new address (the answer carries
    /// `pending_email`), and the address changes when it is followed.
    #[serde(default, deserialize_with = "crate::api::patch")]
    #[schema(value_type = String, format = Email, max_length = 254)]
    email: Option<Option<String>>,
}

/// A person, with the address waiting for confirmation after an email change.
#[derive(Serialize, ToSchema)]
struct UpdatedUser {
    #[serde(flatten)]
    user: UserView,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Email)]
    pending_email: Option<String>,
}

/// Change a person.
///
/// Merge semantics over name, role, status (`active` / `disabled`) and email. Each change is
/// audited with its old and new value.
#[utoipa::path(
    patch,
    path = "/v1/users/{id}",
    operation_id = "update_user",
    tag = "users",
    params(UserId),
    request_body = UpdateBody,
    responses(
        Refusals,
        (status = 200, description = "The person as changed", body = UpdatedUser),
        (status = 403, description = "The token lacks `users:write`, or the role may not make this change", body = ErrorBody),
        (status = 404, description = "No such person in the caller's tenant", body = ErrorBody),
        (status = 409, description = "The new address belongs to another person", body = ErrorBody),
        (status = 410, description = "The person is archived", body = ErrorBody),
        (status = 422, description = "Every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["users:write"]))
)]
async fn update(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:write")?;
    let id = id_of(&id)?;
    let mut errors = Vec::new();
    let name = match body.name {
        None => None,
        Some(None) => Some(None),
        Some(Some(n)) => DisplayName::parse(&n)
            .map_err(|e| collect(&mut errors, e))
            .ok()
            .map(Some),
    };
    // The schema refuses a null role, status or email; these are the handler's own words.
    let mut present = |field: &str, v: Option<Option<String>>| match v {
        Some(None) => {
            errors.push(FieldError::new(field, "cannot be empty"));
            None
        }
        v => v.flatten(),
    };
    let (role, status, email) = (
        present("role", body.role),
        present("status", body.status),
        present("email", body.email),
    );
    let role = role.and_then(|r| Role::parse(&r).map_err(|e| collect(&mut errors, e)).ok());
    let enabled = match status.map(|s| s.to_ascii_lowercase()).as_deref() {
        None => None,
        Some("active") => Some(true),
        Some("disabled") => Some(false),
        Some(_) => {
            errors.push(FieldError::new(
                "status",
                "must be active or disabled (delete a user to archive them)",
            ));
            None
        }
    };
    let email = email.and_then(|e| match Email::parse(&e) {
        Ok(e) => Some(e),
        Err(_) => {
            errors.push(FieldError::new(
                "email",
                format!("'{e}' is not a valid email address"),
            ));
            None
        }
    });
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
    Ok(Json(UpdatedUser {
        user: view,
        pending_email: email.map(Email::into_inner),
    }))
}

/// Delete (archive) a person.
///
/// Their sessions and tokens end; the record stays for the audit trail. A second delete
/// answers 410.
#[utoipa::path(
    delete,
    path = "/v1/users/{id}",
    operation_id = "delete_user",
    tag = "users",
    params(UserId),
    responses(
        Refusals,
        (status = 204, description = "Archived"),
        (status = 403, description = "The token lacks `users:write`, or the role may not delete this person", body = ErrorBody),
        (status = 404, description = "No such person in the caller's tenant", body = ErrorBody),
        (status = 410, description = "Already archived", body = ErrorBody),
    ),
    security(("oauth2" = ["users:write"]))
)]
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

/// How many sessions ended.
#[derive(Serialize, ToSchema)]
struct SessionsRevoked {
    sessions_revoked: u64,
}

/// End a person's sessions.
///
/// Every browser session and refresh token of the person ends at once.
#[utoipa::path(
    post,
    path = "/v1/users/{id}/sessions/revoke",
    operation_id = "revoke_user_sessions",
    tag = "users",
    params(UserId),
    responses(
        Refusals,
        (status = 200, description = "The sessions ended", body = SessionsRevoked),
        (status = 403, description = "The token lacks `users:write`, or the role may not", body = ErrorBody),
        (status = 404, description = "No such person in the caller's tenant", body = ErrorBody),
        (status = 410, description = "The person is archived", body = ErrorBody),
    ),
    security(("oauth2" = ["users:write"]))
)]
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
    Ok(Json(SessionsRevoked {
        sessions_revoked: n,
    }))
}

/// Reset a person's second factors.
///
/// Their authenticator app, passkeys and recovery codes are removed; they enrol again at
/// their next sign-in where the tenant requires it.
#[utoipa::path(
    post,
    path = "/v1/users/{id}/mfa/reset",
    operation_id = "reset_user_mfa",
    tag = "users",
    params(UserId),
    responses(
        Refusals,
        (status = 204, description = "Reset"),
        (status = 403, description = "The token lacks `users:write`, or the role may not", body = ErrorBody),
        (status = 404, description = "No such person in the caller's tenant", body = ErrorBody),
        (status = 410, description = "The person is archived", body = ErrorBody),
    ),
    security(("oauth2" = ["users:write"]))
)]
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

/// Download everything held about a person.
///
/// The right of access and portability: profile, sessions, second factors (described, never
/// their secrets), known networks, applications used and the scopes granted, SSO links,
/// erasure requests, and the audit entries about the person (up to 10,000, newest first),
/// their personal values in clear. Every download is audited in the person's tenant.
#[utoipa::path(
    get,
    path = "/v1/users/{id}/export",
    operation_id = "export_user_data",
    tag = "users",
    params(UserId),
    responses(
        Refusals,
        (status = 200, description = "The person's data (format `gatehouse.person-data/1`)", body = serde_json::Value),
        (status = 403, description = "The token lacks `users:read`, or the role may not", body = ErrorBody),
        (status = 404, description = "No such person in the caller's tenant", body = ErrorBody),
    ),
    security(("oauth2" = ["users:read"]))
)]
async fn export_person(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:read")?;
    let data = users::person_data(&state.pool, &caller.ctx, &actor, id_of(&id)?).await?;
    Ok(Json(data))
}

/// Erase a person.
///
/// The right to erasure: their sessions, tokens and second factors end; their personal data
/// leaves every table (the record stays, pseudonymised); their data keys are destroyed, so
/// every audit entry about them reads `[erased]` in its personal fields while the trail's
/// proofs still verify. Nobody, operators included, can recover it. A waiting request of
/// theirs is approved by it. Owners and admins, never on themselves nor (admins) on owners.
#[utoipa::path(
    post,
    path = "/v1/users/{id}/erase",
    operation_id = "erase_user",
    tag = "users",
    params(UserId),
    responses(
        Refusals,
        (status = 200, description = "Erased", body = users::Erasure),
        (status = 403, description = "The token lacks `users:write`, the role may not, or it is the caller", body = ErrorBody),
        (status = 404, description = "No such person in the caller's tenant", body = ErrorBody),
        (status = 409, description = "The tenant's last active owner", body = ErrorBody),
        (status = 410, description = "Already erased", body = ErrorBody),
    ),
    security(("oauth2" = ["users:write"]))
)]
async fn erase(
    State(state): State<AppState>,
    caller: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = person(&bearer, "users:write")?;
    let erasure = state
        .services
        .apply(users::erase_user(&state.pool, &caller.ctx, &actor, id_of(&id)?).await)
        .await?;
    Ok(Json(erasure))
}

/// List pending invitations.
///
/// The tenant's invitations not yet accepted nor revoked; expired ones are marked. One page.
#[utoipa::path(
    get,
    path = "/v1/invitations",
    operation_id = "list_invitations",
    tag = "users",
    params(TenantParam),
    responses(
        Refusals,
        (status = 200, description = "The pending invitations (`next_cursor` is always null)", body = PendingInvitationPage),
        (status = 403, description = "The token lacks `users:read`", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "Platform callers must name the tenant", body = ErrorBody),
    ),
    security(("oauth2" = ["users:read"]))
)]
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

/// Path parameter of one invitation.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct InvitationId {
    /// The invitation's id.
    id: Uuid,
}

/// Resend an invitation.
///
/// A new link and expiry are mailed; the old link stops working.
#[utoipa::path(
    post,
    path = "/v1/invitations/{id}/resend",
    operation_id = "resend_invitation",
    tag = "users",
    params(InvitationId),
    responses(
        Refusals,
        (status = 200, description = "The invitation, renewed", body = PendingInvitation),
        (status = 403, description = "The token lacks `users:write`, or the role may not", body = ErrorBody),
        (status = 404, description = "No such invitation in the caller's tenant", body = ErrorBody),
        (status = 410, description = "Accepted or revoked already", body = ErrorBody),
    ),
    security(("oauth2" = ["users:write"]))
)]
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

/// Revoke an invitation.
///
/// Its link stops working. A second revoke answers 410.
#[utoipa::path(
    delete,
    path = "/v1/invitations/{id}",
    operation_id = "revoke_invitation",
    tag = "users",
    params(InvitationId),
    responses(
        Refusals,
        (status = 204, description = "Revoked"),
        (status = 403, description = "The token lacks `users:write`, or the role may not", body = ErrorBody),
        (status = 404, description = "No such invitation in the caller's tenant", body = ErrorBody),
        (status = 410, description = "Accepted or revoked already", body = ErrorBody),
    ),
    security(("oauth2" = ["users:write"]))
)]
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
