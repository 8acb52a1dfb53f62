//! Changing a person's email address through verification of the new address (SPEC §9
//! Users API: "email only through verification"; FR-TENANT-002). A change is requested by
//! the person or by someone who may manage them; the link goes to the new address; the
//! address changes only when the link is followed, within 24 hours, once. Audited in the
//! same transaction as each step.

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::email::{enqueue_mail, Mail};
use crate::permissions::{Actor, Permission};
use crate::types::Email;
use crate::{random_token, token_hash, DomainError};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// How long the confirmation link works.
pub const LIFETIME_HOURS: i64 = 24;

/// Asks the new address to confirm itself. The person's own request, or one by an owner or
/// admin of their tenant under the SPEC §2 rules (an admin never changes an owner). The
/// address must be free in the tenant. Returns the address the link went to.
pub async fn request_email_change(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
    new_email: &Email,
    base_url: &str,
) -> Result<Done<()>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
        request_email_change_in(conn, ctx, actor, user_id, new_email, base_url).await
    })
    .await
}

/// [`request_email_change`] inside the caller's transaction.
pub(crate) async fn request_email_change_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
    new_email: &Email,
    base_url: &str,
) -> Result<(), DomainError> {
    let row: Option<(Option<Uuid>, String, String)> = sqlx::query_as(
        "SELECT tenant_id, role, status FROM users WHERE id = $1 AND status <> 'archived' FOR UPDATE",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (tenant, role, _) = row.ok_or(DomainError::NotFound("user"))?;
    if actor.user_id != user_id {
        let tenant = tenant.ok_or(DomainError::NotFound("user"))?;
        actor.require_in_tenant(Permission::UsersManage, tenant, "user")?;
        if role == "owner" && actor.role != crate::types::Role::Owner {
            return Err(DomainError::PermissionDenied(
                "only an owner can change an owner".into(),
            ));
        }
    }
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id IS NOT DISTINCT FROM $1
                          AND lower(email) = lower($2) AND status <> 'archived')",
    )
    .bind(tenant)
    .bind(new_email.as_str())
    .fetch_one(&mut *conn)
    .await?;
    if taken {
        return Err(DomainError::conflict(
            "email",
            format!(
                "'{}' is already used in this organisation",
                new_email.as_str()
            ),
        ));
    }
    let token = random_token();
    sqlx::query(
        "INSERT INTO email_changes (user_id, new_email, token_hash, requested_by, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5::int))",
    )
    .bind(user_id)
    .bind(new_email.as_str())
    .bind(token_hash(&token))
    .bind(actor.user_id)
    .bind(LIFETIME_HOURS as i32)
    .execute(&mut *conn)
    .await?;
    enqueue_mail(
        conn,
        tenant,
        new_email,
        Mail::EmailVerification {
            confirm_url: format!("{}/verify-email/{token}", base_url.trim_end_matches('/')),
            expires_hours: LIFETIME_HOURS,
        },
    )
    .await?;
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("user.email_change.requested")
            .tenant(tenant)
            .by(Some(actor))
            .resource(format!("user:{user_id}"))
            .meta("new_email", new_email.as_str()),
    )
    .await?;
    Ok(())
}

/// Follows a confirmation link: the address changes (verified now), the link is used up.
/// Unknown, used or expired links are "gone"; an address taken in the meantime is a
/// conflict. Returns the new address.
pub async fn confirm_email_change(
    pool: &PgPool,
    ctx: &RequestContext,
    token: &str,
) -> Result<String, DomainError> {
    let mut tx = pool.begin().await?;
    let row: Option<(Uuid, Uuid, String, Option<Uuid>, String)> = sqlx::query_as(
        "SELECT c.id, c.user_id, c.new_email, u.tenant_id, u.email FROM email_changes c
           JOIN users u ON u.id = c.user_id
          WHERE c.token_hash = $1 AND c.used_at IS NULL AND c.expires_at > now()
            AND u.status <> 'archived'
          FOR UPDATE OF c, u",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let (id, user_id, new_email, tenant, old_email) = row.ok_or_else(|| {
        DomainError::Gone("this link is no longer valid; ask for a new one".into())
    })?;
    sqlx::query("UPDATE email_changes SET used_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE users SET email = $2, email_verified_at = now(), updated_at = now() WHERE id = $1",
    )
    .bind(user_id)
    .bind(&new_email)
    .execute(&mut *tx)
    .await
    .map_err(|e| match crate::error::unique_violation(&e) {
        Some(_) => DomainError::conflict("email", "this address is already used"),
        None => e.into(),
    })?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("user.email.change")
            .tenant(tenant)
            .actor(crate::audit::ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("old", old_email)
            .meta("new", new_email.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(new_email)
}
