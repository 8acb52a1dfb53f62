//! Pending invitations (FR-TENANT-001, UC-TENANT-INVITE): a tenant's owners and admins see
//! the invitations not yet accepted, send one again (a new link; the old one stops working;
//! the expiry starts over) or revoke it (the link stops working and the invited account is
//! deleted, which frees the address). An admin never acts on an owner's invitation
//! (SPEC §2); another tenant's invitation is "not found". Audited in the same transaction.

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::email::{enqueue_mail, Mail};
use crate::permissions::{Actor, Permission};
use crate::tenants::audit_actor;
use crate::types::{Email, Role};
use crate::{random_token, token_hash, DomainError};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PendingInvitation {
    pub id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
    pub invited_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub expired: bool,
}

const SELECT: &str = "
    SELECT i.id, i.user_id, i.email, i.role, coalesce(b.name, b.email) AS invited_by,
           i.expires_at, i.created_at, i.expires_at <= now() AS expired
      FROM invitations i
      JOIN users u ON u.id = i.user_id
      LEFT JOIN users b ON b.id = i.invited_by
     WHERE i.accepted_at IS NULL AND i.revoked_at IS NULL AND u.status = 'invited'";

/// The tenant's open invitations (expired ones included, marked), newest first.
pub async fn pending_invitations(
    pool: &PgPool,
    actor: &Actor,
    tenant_id: Uuid,
) -> Result<Vec<PendingInvitation>, DomainError> {
    actor.require_in_tenant(Permission::UsersRead, tenant_id, "tenant")?;
    Ok(sqlx::query_as(&format!(
        "{SELECT} AND i.tenant_id = $1 ORDER BY i.created_at DESC, i.id DESC LIMIT 200"
    ))
    .bind(tenant_id)
    .fetch_all(pool)
    .await?)
}

/// The open invitation, locked, after the checks every action shares.
async fn open_invitation(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<(PendingInvitation, Uuid), DomainError> {
    let row: Option<(Uuid, Option<OffsetDateTime>, Option<OffsetDateTime>)> = sqlx::query_as(
        "SELECT tenant_id, accepted_at, revoked_at FROM invitations WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let (tenant, accepted, revoked) = row.ok_or(DomainError::NotFound("invitation"))?;
    actor.require_in_tenant(Permission::UsersInvite, tenant, "invitation")?;
    let invitation: Option<PendingInvitation> = sqlx::query_as(&format!("{SELECT} AND i.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let invitation = match (invitation, accepted, revoked) {
        (Some(i), None, None) => i,
        _ => {
            return Err(DomainError::Gone(
                "this invitation was already accepted or revoked".into(),
            ))
        }
    };
    if invitation.role == Role::Owner.as_str() && actor.role == Role::Admin {
        return Err(DomainError::PermissionDenied(
            "only an owner can act on an owner's invitation".into(),
        ));
    }
    Ok((invitation, tenant))
}

/// Sends the invitation again with a new link and a new expiry; the old link stops working.
pub async fn resend_invitation(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: &Actor,
    id: Uuid,
    base_url: &str,
) -> Result<PendingInvitation, DomainError> {
    let (invitation, tenant) = open_invitation(conn, actor, id).await?;
    let token = random_token();
    let (expires_at, tenant_name, inviter): (OffsetDateTime, String, Option<String>) =
        sqlx::query_as(
            "WITH upd AS (
                 UPDATE invitations SET token_hash = $2,
                        expires_at = now() + make_interval(secs => $3)
                  WHERE id = $1 RETURNING expires_at)
             SELECT upd.expires_at, t.name, (SELECT coalesce(name, email) FROM users WHERE id = $5)
               FROM upd, tenants t WHERE t.id = $4",
        )
        .bind(id)
        .bind(token_hash(&token))
        .bind(crate::invitations::DEFAULT_LIFETIME.whole_seconds() as f64)
        .bind(tenant)
        .bind(actor.user_id)
        .fetch_one(&mut *conn)
        .await?;
    let email = Email::parse(&invitation.email)?;
    enqueue_mail(
        conn,
        Some(tenant),
        &email,
        Mail::Invitation {
            tenant_name,
            inviter,
            role: invitation.role.clone(),
            accept_url: format!("{}/invite/{token}", base_url.trim_end_matches('/')),
            expires_at,
        },
    )
    .await?;
    let (actor_type, actor_id) = audit_actor(Some(actor));
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("user.invitation.resent")
            .tenant(Some(tenant))
            .actor(actor_type, actor_id)
            .resource(format!("user:{}", invitation.user_id))
            .meta("invitation", id.to_string())
            .meta("expires_at", expires_at.unix_timestamp()),
    )
    .await?;
    Ok(PendingInvitation {
        expires_at,
        expired: false,
        ..invitation
    })
}

/// Revokes the invitation: its link stops working and the invited (never active) account
/// is deleted, so the address can be invited again.
pub async fn revoke_invitation(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: &Actor,
    id: Uuid,
) -> Result<PendingInvitation, DomainError> {
    let (invitation, tenant) = open_invitation(conn, actor, id).await?;
    sqlx::query("UPDATE invitations SET revoked_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE users SET status = 'archived', archived_at = now(), updated_at = now()
          WHERE id = $1 AND status = 'invited'",
    )
    .bind(invitation.user_id)
    .execute(&mut *conn)
    .await?;
    let (actor_type, actor_id) = audit_actor(Some(actor));
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("user.invitation.revoked")
            .tenant(Some(tenant))
            .actor(actor_type, actor_id)
            .resource(format!("user:{}", invitation.user_id))
            .meta("invitation", id.to_string())
            .meta("email", invitation.email.as_str()),
    )
    .await?;
    Ok(invitation)
}
