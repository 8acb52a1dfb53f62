//! The right to erasure (CON-COMP-001; GDPR art. 17, APPI art. 35).
//!
//! A tenant owner or admin erases one of the tenant's people, at once or by approving the
//! person's own request. In one transaction:
//!
//! - their sessions end and their tokens are revoked; their second factors, trusted devices,
//!   known networks, password history, reset and email-change links, invitations, SSO links
//!   and saved views are deleted; the addresses of their sessions are cleared;
//! - mail to any of their addresses leaves the outbox;
//! - their row is pseudonymised (`erased-<id>@erased.invalid`, no name, no password,
//!   archived), so what refers to it still joins;
//! - their data keys (their person's, and each of their addresses') are destroyed, so every
//!   audit entry about them reads `[erased]` in its personal fields while the chain, the
//!   checkpoints and earlier exports still verify;
//! - `user.erase` is audited, with counts and no personal data.
//!
//! Nothing keeps a copy: the data keys existed only sealed in `subject_keys` and in the
//! instances' caches, which the erasure empties (NOTIFY), so operators cannot recover them
//! either. Backups taken before the erasure still hold the old key; they age out with the
//! backup retention (README: "Privacy").

use super::admin::keep_an_owner;
use crate::audit::{append_audit_entry, personal, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::permissions::{Actor, Permission};
use crate::sessions::{revoke_user_sessions, RevokeReason, Revoker};
use crate::types::Role;
use crate::DomainError;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// What an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    pub user_id: Uuid,
    pub sessions_revoked: u64,
    /// TOTP authenticators, passkeys, recovery codes and trusted devices.
    pub factors_removed: u64,
    /// Mail to the person that had not gone out, or had, and was still in the outbox.
    pub mails_purged: u64,
    /// Data keys destroyed: the person's and their addresses'.
    pub keys_destroyed: u64,
}

/// A person's request to be erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ErasureRequest {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The person's address while the request waits; the pseudonym once approved.
    pub email: String,
    pub name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// `pending`, `approved` or `declined`.
    pub status: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    pub reason: Option<String>,
}

struct Target {
    tenant: Uuid,
    email: String,
    role: String,
    status: String,
}

/// The person to erase, locked; refused unless the actor manages the tenant's people and
/// may act on this one. Another tenant's person is "not found"; an erased one is gone.
async fn target(
    conn: &mut PgConnection,
    actor: &Actor,
    user_id: Uuid,
) -> Result<Target, DomainError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        tenant_id: Option<Uuid>,
        email: String,
        role: String,
        status: String,
        erased_at: Option<OffsetDateTime>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT tenant_id, email, role, status, erased_at FROM users WHERE id = $1 FOR UPDATE",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.ok_or(DomainError::NotFound("user"))?;
    let (Some(tenant), email, role, status, erased_at) = (
        row.tenant_id,
        row.email,
        row.role,
        row.status,
        row.erased_at,
    ) else {
        return Err(DomainError::NotFound("user"));
    };
    actor.require_in_tenant(Permission::UsersManage, tenant, "user")?;
    actor.may_manage_user(Role::parse(&role)?, None)?;
    if erased_at.is_some() {
        return Err(DomainError::Gone("this person has been erased".into()));
    }
    if actor.user_id == user_id {
        return Err(DomainError::PermissionDenied(
            "another owner or admin must approve your own erasure".into(),
        ));
    }
    Ok(Target {
        tenant,
        email,
        role,
        status,
    })
}

/// Erases `user_id` (see the module). A waiting request of theirs is approved by it.
pub async fn erase_user(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
) -> Result<Done<Erasure>, DomainError> {
    let done = commit(pool, Effects::TOKENS, async |conn| {
        let t = target(conn, actor, user_id).await?;
        keep_an_owner(conn, t.tenant, &t.role, &t.status, user_id).await?;
        let sessions_revoked = revoke_user_sessions(
            conn,
            ctx,
            Revoker::of(Some(actor)),
            user_id,
            RevokeReason::UserArchived,
        )
        .await?;
        let mut factors_removed = 0;
        // Fixed table names, never input.
        for table in [
            "mfa_totp",
            "webauthn_credentials",
            "recovery_codes",
            "trusted_devices",
        ] {
            factors_removed += sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind(user_id)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
        let emails: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT lower(e) FROM (
                 SELECT $2::text AS e
                 UNION ALL SELECT new_email FROM email_changes WHERE user_id = $1
                 UNION ALL SELECT email FROM invitations WHERE user_id = $1) a",
        )
        .bind(user_id)
        .bind(&t.email)
        .fetch_all(&mut *conn)
        .await?;
        for table in [
            "known_networks",
            "password_history",
            "password_reset_tokens",
            "email_changes",
            "invitations",
            "sso_identities",
            "audit_saved_views",
            "webauthn_challenges",
            "oauth_authorization_codes",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query(
            "UPDATE oauth_refresh_tokens SET revoked_at = coalesce(revoked_at, now())
              WHERE user_id = $1",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE sessions SET ip = NULL, user_agent = NULL WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        let mails_purged = sqlx::query("DELETE FROM email_outbox WHERE lower(to_address) = ANY($1)")
            .bind(&emails)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        // Events about the person (for webhooks and the event stream) keep their shape; their
        // personal values read as the trail's do.
        sqlx::query(
            "UPDATE webhook_events SET body = jsonb_set(body, '{data}', (
                 SELECT coalesce(jsonb_object_agg(k, CASE WHEN k = ANY($3) THEN to_jsonb('[erased]'::text) ELSE v END), '{}')
                   FROM jsonb_each(body->'data') AS d(k, v)))
              WHERE jsonb_typeof(body->'data') = 'object'
                AND (body::text LIKE '%' || $1::text || '%'
                     OR EXISTS (SELECT 1 FROM unnest($2::text[]) e WHERE lower(body::text) LIKE '%' || e || '%'))",
        )
        .bind(user_id)
        .bind(&emails)
        .bind(personal::personal_keys())
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE users SET email = 'erased-' || id || '@erased.invalid', name = NULL,
                    password_hash = NULL, email_verified_at = NULL, last_login_at = NULL,
                    status = 'archived', archived_at = coalesce(archived_at, now()),
                    erased_at = now(), updated_at = now()
              WHERE id = $1",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        let subjects = personal::subjects_of_person(conn, user_id, &emails).await?;
        personal::destroy(conn, &subjects).await?;
        sqlx::query(
            "UPDATE erasure_requests SET status = 'approved', decided_at = now(), decided_by = $2
              WHERE user_id = $1 AND status = 'pending'",
        )
        .bind(user_id)
        .bind(actor.user_id)
        .execute(&mut *conn)
        .await?;
        let erasure = Erasure {
            user_id,
            sessions_revoked,
            factors_removed,
            mails_purged,
            keys_destroyed: subjects.len() as u64,
        };
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("user.erase")
                .by(Some(actor))
                .tenant(Some(t.tenant))
                .resource(format!("user:{user_id}"))
                .meta("sessions_revoked", erasure.sessions_revoked)
                .meta("factors_removed", erasure.factors_removed)
                .meta("mails_purged", erasure.mails_purged)
                .meta("keys_destroyed", erasure.keys_destroyed),
        )
        .await?;
        Ok((erasure, subjects))
    })
    .await?;
    let (erasure, subjects) = done.value;
    personal::forget(&subjects);
    Ok(Done {
        value: erasure,
        effects: done.effects,
    })
}

const SELECT_REQUEST: &str = "
    SELECT r.id, r.user_id, u.email, u.name, r.requested_at, r.status, r.decided_at, r.reason
      FROM erasure_requests r JOIN users u ON u.id = r.user_id";

/// A person asks to be erased; their tenant's owners and admins decide. One open request
/// at a time (a second answers the first). Platform staff have no tenant to ask.
pub async fn request_erasure(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
) -> Result<ErasureRequest, DomainError> {
    actor.require(Permission::AccountManageSelf)?;
    let tenant = actor.tenant_id.ok_or_else(|| {
        DomainError::PermissionDenied("platform staff are erased by an operator".into())
    })?;
    if let Some(waiting) = own_erasure_request(pool, actor)
        .await?
        .filter(|r| r.status == "pending")
    {
        return Ok(waiting);
    }
    let mut tx = pool.begin().await?;
    // Two clicks at once: the unique index keeps one, and the second answers it.
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO erasure_requests (id, user_id, tenant_id) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) WHERE status = 'pending' DO UPDATE SET status = 'pending'
         RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(actor.user_id)
    .bind(tenant)
    .fetch_one(&mut *tx)
    .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("user.erasure.requested")
            .by(Some(actor))
            .tenant(Some(tenant))
            .resource(format!("user:{}", actor.user_id)),
    )
    .await?;
    let request = sqlx::query_as(&format!("{SELECT_REQUEST} WHERE r.id = $1"))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(request)
}

/// The person's own latest request, if any.
pub async fn own_erasure_request(
    pool: &PgPool,
    actor: &Actor,
) -> Result<Option<ErasureRequest>, DomainError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT_REQUEST} WHERE r.user_id = $1 ORDER BY r.requested_at DESC LIMIT 1"
    ))
    .bind(actor.user_id)
    .fetch_optional(pool)
    .await?)
}

/// A tenant's requests, waiting ones first, then the 50 latest decided.
pub async fn erasure_requests(
    pool: &PgPool,
    actor: &Actor,
    tenant_id: Uuid,
) -> Result<Vec<ErasureRequest>, DomainError> {
    actor.require_in_tenant(Permission::UsersManage, tenant_id, "tenant")?;
    Ok(sqlx::query_as(&format!(
        "{SELECT_REQUEST} WHERE r.tenant_id = $1
          ORDER BY r.status <> 'pending', r.requested_at DESC LIMIT 50"
    ))
    .bind(tenant_id)
    .fetch_all(pool)
    .await?)
}

/// Declines a waiting request, with the reason the person will read.
pub async fn decline_erasure(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    request_id: Uuid,
    reason: &str,
) -> Result<ErasureRequest, DomainError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(DomainError::validation(
            "reason",
            "must be between 1 and 500 characters",
        ));
    }
    let mut tx = pool.begin().await?;
    let found: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT tenant_id, user_id, status FROM erasure_requests WHERE id = $1 FOR UPDATE",
    )
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (tenant, user_id, status) = found.ok_or(DomainError::NotFound("erasure request"))?;
    actor.require_in_tenant(Permission::UsersManage, tenant, "erasure request")?;
    if status != "pending" {
        return Err(DomainError::conflict(
            "status",
            "this request has already been decided",
        ));
    }
    sqlx::query(
        "UPDATE erasure_requests SET status = 'declined', decided_at = now(), decided_by = $2,
                reason = $3 WHERE id = $1",
    )
    .bind(request_id)
    .bind(actor.user_id)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("user.erasure.declined")
            .by(Some(actor))
            .tenant(Some(tenant))
            .resource(format!("user:{user_id}"))
            .meta("request", request_id.to_string()),
    )
    .await?;
    let request = sqlx::query_as(&format!("{SELECT_REQUEST} WHERE r.id = $1"))
        .bind(request_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(request)
}
