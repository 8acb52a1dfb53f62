//! Tenant user administration (SPEC §2, §9; FR-TENANT-002/004/006, UC-TENANT-USER-DELETE,
//! UC-TENANT-USER-UPDATE, UC-TENANT-USER-STATUS-UPDATE, UC-TENANT-SESSION-REVOKE).
//!
//! The rules of SPEC §2, checked here and never only in a console: an admin cannot act on
//! owners or grant owner; the last active owner of a tenant cannot be demoted, disabled or
//! deleted; role change, disable and delete revoke the person's sessions (and with them
//! their tokens) in the same transaction. Another tenant's user answers 404.

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::permissions::{Actor, Permission};
use crate::sessions::{revoke_user_sessions, RevokeReason, Revoker};
use crate::types::{DisplayName, Email, Role, UserStatus};
use crate::DomainError;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// A person, as the consoles and the Users API show them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    /// The person's tenant; `null` for platform staff.
    pub tenant_id: Option<Uuid>,
    #[schema(format = Email)]
    pub email: String,
    pub name: Option<String>,
    #[schema(value_type = Role)]
    pub role: String,
    #[schema(value_type = UserStatus)]
    pub status: String,
    /// Whether a second factor (authenticator app or passkey) is enrolled.
    pub mfa_enabled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the person was erased (their personal data is gone); `null` otherwise.
    #[serde(with = "time::serde::rfc3339::option")]
    pub erased_at: Option<OffsetDateTime>,
}

const SELECT_USER: &str = "
    SELECT u.id, u.tenant_id, u.email, u.name, u.role, u.status, u.last_login_at AS last_login,
           u.created_at, u.erased_at,
           (EXISTS (SELECT 1 FROM mfa_totp m WHERE m.user_id = u.id)
            OR EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id)) AS mfa_enabled
      FROM users u";

/// A page request over one tenant's users.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub search: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Archived users are hidden unless asked for (status = archived shows them too).
    pub include_archived: bool,
    pub cursor: Option<String>,
    pub limit: i64,
}

/// A page of people, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub data: Vec<UserView>,
    pub next_cursor: Option<String>,
}

/// One page of a tenant's users, newest first (SPEC §9 cursor pagination).
pub async fn list_users(
    pool: &PgPool,
    actor: &Actor,
    tenant_id: Uuid,
    query: UserQuery,
) -> Result<UserPage, DomainError> {
    actor.require_in_tenant(Permission::UsersRead, tenant_id, "tenant")?;
    let after = crate::cursor::page_start(query.limit, query.cursor.as_deref())?;
    let search = crate::contains_pattern(query.search.as_deref());
    let hide_archived = !query.include_archived && query.status != Some(UserStatus::Archived);
    // A term of 3 characters or more goes through the tenant's own trigram keys
    // (users_tenant_search_keys_idx, migration 20261206000031); the condition is left out of
    // the statement otherwise, so no generic plan has to cover both cases.
    let term = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| t.chars().count() >= 3);
    let keyed = if term.is_some() {
        "AND users_search_keys(u.tenant_id, lower(u.email), lower(coalesce(u.name, '')))
                @> users_search_keys($1, lower($9::text))"
    } else {
        "AND $9::text IS NULL"
    };
    // Written out (not `NOT $5 OR …`) so that a generic plan can use the index of the people
    // not archived (users_tenant_live_page_idx, migration 20261206000032).
    let archived = if hide_archived {
        "AND u.status <> 'archived' AND $5"
    } else {
        "AND NOT $5"
    };
    let rows: Vec<UserView> = sqlx::query_as(&format!(
        "{SELECT_USER}
          WHERE u.tenant_id = $1
            AND ($2::text IS NULL OR lower(u.email) LIKE $2 OR lower(coalesce(u.name, '')) LIKE $2)
            {keyed}
            AND ($3::text IS NULL OR u.role = $3)
            AND ($4::text IS NULL OR u.status = $4)
            {archived}
            AND ($6::timestamptz IS NULL OR (u.created_at, u.id) < ($6, $7))
          ORDER BY u.created_at DESC, u.id DESC
          LIMIT $8"
    ))
    .bind(tenant_id)
    .bind(search)
    .bind(query.role.map(Role::as_str))
    .bind(query.status.map(UserStatus::as_str))
    .bind(hide_archived)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(query.limit + 1)
    .bind(term)
    .fetch_all(pool)
    .await?;
    let mut data = rows;
    let next_cursor = if data.len() as i64 > query.limit {
        data.truncate(query.limit as usize);
        data.last()
            .map(|last| crate::cursor::encode(last.created_at, last.id))
    } else {
        None
    };
    Ok(UserPage { data, next_cursor })
}

async fn fetch(
    conn: &mut PgConnection,
    user_id: Uuid,
    lock: bool,
) -> Result<UserView, DomainError> {
    let sql = format!(
        "{SELECT_USER} WHERE u.id = $1 AND u.tenant_id IS NOT NULL{}",
        if lock { " FOR UPDATE OF u" } else { "" }
    );
    sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound("user"))
}

/// A tenant user the actor may read: another tenant's answers 404.
pub async fn get_user(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
) -> Result<UserView, DomainError> {
    let mut conn = pool.acquire().await?;
    let user = fetch(&mut conn, user_id, false).await?;
    let tenant = user.tenant_id.ok_or(DomainError::NotFound("user"))?;
    actor.require_in_tenant(Permission::UsersRead, tenant, "user")?;
    Ok(user)
}

/// Loads the target for a change, locked, with the checks every change shares.
async fn target(
    conn: &mut PgConnection,
    actor: &Actor,
    user_id: Uuid,
    new_role: Option<Role>,
) -> Result<(UserView, Uuid, Role), DomainError> {
    let user = fetch(conn, user_id, true).await?;
    let tenant = user.tenant_id.ok_or(DomainError::NotFound("user"))?;
    actor.require_in_tenant(Permission::UsersManage, tenant, "user")?;
    let role = Role::parse(&user.role)?;
    actor.may_manage_user(role, new_role)?;
    if user.status == UserStatus::Archived.as_str() {
        return Err(DomainError::Gone("this user has been deleted".into()));
    }
    Ok((user, tenant, role))
}

/// Refuses when `user` is the tenant's last active owner.
pub(super) async fn keep_an_owner(
    conn: &mut PgConnection,
    tenant: Uuid,
    role: &str,
    status: &str,
    user_id: Uuid,
) -> Result<(), DomainError> {
    if role != "owner" || status != "active" {
        return Ok(());
    }
    // Lock the tenant's owners so two admins cannot each remove "the other" last owner.
    let others: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT id FROM users
          WHERE tenant_id = $1 AND role = 'owner' AND status = 'active' AND id <> $2 FOR UPDATE) o",
    )
    .bind(tenant)
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    if others == 0 {
        return Err(DomainError::conflict(
            "role",
            "this is the tenant's last active owner: make someone else owner first",
        ));
    }
    Ok(())
}

fn revoker(actor: &Actor) -> Revoker {
    Revoker::of(Some(actor))
}

async fn audit(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: &Actor,
    tenant: Uuid,
    user: Uuid,
    entry: AuditEntry,
) -> Result<(), DomainError> {
    append_audit_entry(
        conn,
        ctx,
        entry
            .tenant(Some(tenant))
            .by(Some(actor))
            .resource(format!("user:{user}")),
    )
    .await
    .map(|_| ())
}

/// FR-TENANT-002 (UC-TENANT-USER-UPDATE): changes a user's role; their sessions end.
async fn change_role_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
    role: Role,
) -> Result<UserView, DomainError> {
    let (user, tenant, old) = target(conn, actor, user_id, Some(role)).await?;
    if old == role {
        return Ok(user);
    }
    if role != Role::Owner {
        keep_an_owner(conn, tenant, &user.role, &user.status, user.id).await?;
    }
    sqlx::query("UPDATE users SET role = $2, updated_at = now() WHERE id = $1")
        .bind(user_id)
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    revoke_user_sessions(conn, ctx, revoker(actor), user_id, RevokeReason::RoleChange).await?;
    audit(
        conn,
        ctx,
        actor,
        tenant,
        user_id,
        AuditEntry::new("user.role.change")
            .meta("old", old.as_str())
            .meta("new", role.as_str()),
    )
    .await?;
    fetch(conn, user_id, false).await
}

/// FR-TENANT-006 (UC-TENANT-USER-STATUS-UPDATE): disables (sessions end at once) or
/// enables a user. Invited users are enabled by accepting their invitation.
async fn set_enabled_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
    enabled: bool,
) -> Result<UserView, DomainError> {
    let (user, tenant, _) = target(conn, actor, user_id, None).await?;
    let (from, to) = if enabled {
        ("disabled", "active")
    } else {
        ("active", "disabled")
    };
    if user.status == to {
        return Ok(user);
    }
    if user.status != from {
        return Err(DomainError::conflict(
            "status",
            format!(
                "a user who is {} cannot be {}",
                user.status,
                if enabled { "enabled" } else { "disabled" }
            ),
        ));
    }
    if !enabled {
        keep_an_owner(conn, tenant, &user.role, &user.status, user.id).await?;
    }
    sqlx::query("UPDATE users SET status = $2, updated_at = now() WHERE id = $1")
        .bind(user_id)
        .bind(to)
        .execute(&mut *conn)
        .await?;
    if !enabled {
        revoke_user_sessions(
            conn,
            ctx,
            revoker(actor),
            user_id,
            RevokeReason::UserDisabled,
        )
        .await?;
    }
    audit(
        conn,
        ctx,
        actor,
        tenant,
        user_id,
        AuditEntry::new(if enabled {
            "user.enable"
        } else {
            "user.disable"
        }),
    )
    .await?;
    fetch(conn, user_id, false).await
}

/// FR-TENANT-004 (UC-TENANT-USER-DELETE): archives a user — they can never sign in again,
/// their sessions end, pending invitations are revoked. A second delete is ERR_GONE.
pub async fn archive_user(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
) -> Result<Done<()>, DomainError> {
    commit(pool, Effects::TOKENS, async |conn| {
        let (user, tenant, _) = target(conn, actor, user_id, None).await?;
        keep_an_owner(conn, tenant, &user.role, &user.status, user.id).await?;
        sqlx::query(
            "UPDATE users SET status = 'archived', archived_at = now(), updated_at = now() WHERE id = $1",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE invitations SET revoked_at = now()
              WHERE user_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        revoke_user_sessions(
            conn,
            ctx,
            revoker(actor),
            user_id,
            RevokeReason::UserArchived,
        )
        .await?;
        audit(
            conn,
            ctx,
            actor,
            tenant,
            user_id,
            AuditEntry::new("user.archive").meta("email", user.email.clone()),
        )
        .await
    })
    .await
}

/// UC-TENANT-SESSION-REVOKE: ends every session (and token) of a user. Returns how many.
pub async fn revoke_sessions(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
) -> Result<Done<u64>, DomainError> {
    commit(pool, Effects::TOKENS, async |conn| {
        let user = fetch(conn, user_id, true).await?;
        let tenant = user.tenant_id.ok_or(DomainError::NotFound("user"))?;
        actor.require_in_tenant(Permission::SessionsRevoke, tenant, "user")?;
        actor
            .may_manage_user(Role::parse(&user.role)?, None)
            .or_else(|e| {
                // Revoking one's own sessions is always allowed.
                if actor.user_id == user_id {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
        revoke_user_sessions(
            conn,
            ctx,
            revoker(actor),
            user_id,
            RevokeReason::RevokedByAdmin,
        )
        .await
    })
    .await
}

/// Resets a user's second factors (lost phone): TOTP, passkeys and recovery codes are
/// removed; their sessions end; they enrol again at next sign-in when policy requires.
pub async fn reset_mfa(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
) -> Result<Done<()>, DomainError> {
    commit(pool, Effects::TOKENS, async |conn| {
        let (_, tenant, _) = target(conn, actor, user_id, None).await?;
        let mut removed = 0;
        for table in [
            "mfa_totp",
            "webauthn_credentials",
            "recovery_codes",
            "trusted_devices",
        ] {
            // The table is one of four fixed names, never input.
            removed += sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind(user_id)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
        revoke_user_sessions(
            conn,
            ctx,
            revoker(actor),
            user_id,
            RevokeReason::PrivilegeChange,
        )
        .await?;
        audit(
            conn,
            ctx,
            actor,
            tenant,
            user_id,
            AuditEntry::new("auth.mfa.reset").meta("factors_removed", removed),
        )
        .await
    })
    .await
}

/// UC-TENANT-USER-UPDATE: the profile fields an administrator may change (merge semantics;
/// `Some(None)` clears the name).
async fn update_profile_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
    name: Option<Option<DisplayName>>,
) -> Result<UserView, DomainError> {
    let (user, tenant, _) = target(conn, actor, user_id, None).await?;
    if let Some(name) = name {
        let new = name.as_ref().map(DisplayName::as_str);
        if user.name.as_deref() != new {
            sqlx::query("UPDATE users SET name = $2, updated_at = now() WHERE id = $1")
                .bind(user_id)
                .bind(new)
                .execute(&mut *conn)
                .await?;
            audit(
                conn,
                ctx,
                actor,
                tenant,
                user_id,
                AuditEntry::new("user.update")
                    .meta("changed", vec!["name"])
                    .meta("old_name", user.name.clone())
                    .meta("new_name", new.map(str::to_owned)),
            )
            .await?;
        }
    }
    fetch(conn, user_id, false).await
}

/// The view of a user the caller's transaction has just created (no permission check:
/// creating them was the check).
pub async fn get_user_in(conn: &mut PgConnection, user_id: Uuid) -> Result<UserView, DomainError> {
    fetch(conn, user_id, false).await
}
/// FR-TENANT-001 with a name: invites a person and names them at once, all or nothing;
/// answers the person as admins see them.
pub async fn invite_person(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    new: crate::users::NewInvitation,
    name: Option<DisplayName>,
    base_url: &str,
) -> Result<Done<UserView>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
        let user = crate::users::invite_user_in(conn, ctx, Some(actor), new, base_url).await?;
        match name {
            Some(name) => update_profile_in(conn, ctx, actor, user.id, Some(Some(name))).await,
            None => get_user_in(conn, user.id).await,
        }
    })
    .await
}

/// What a change of a person sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    /// `Some(None)` clears the name.
    pub name: Option<Option<DisplayName>>,
    pub role: Option<Role>,
    pub enabled: Option<bool>,
    /// A new address: it takes effect when the link mailed to it is followed.
    pub email: Option<Email>,
}

/// FR-TENANT-002/004/006: changes a person's name, role, status and address together, all
/// or nothing, each audited as its own operation would be.
pub async fn update_user(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
    change: UserChange,
    base_url: &str,
) -> Result<Done<UserView>, DomainError> {
    let effects = if change.role.is_some() || change.enabled.is_some() {
        Effects::TOKENS
    } else {
        Effects::NONE
    };
    commit(pool, effects, async |conn| {
        let mut view = update_profile_in(conn, ctx, actor, user_id, change.name).await?;
        if let Some(role) = change.role {
            view = change_role_in(conn, ctx, actor, user_id, role).await?;
        }
        if let Some(enabled) = change.enabled {
            view = set_enabled_in(conn, ctx, actor, user_id, enabled).await?;
        }
        if let Some(email) = &change.email {
            crate::users::request_email_change_in(conn, ctx, actor, user_id, email, base_url)
                .await?;
        }
        Ok(view)
    })
    .await
}
