//! Invitations (DAT-INVITE, FR-TENANT-001, UC-TENANT-INVITE): an invited user exists with
//! status `invited` and no password; the invitation carries a single-use token (stored as
//! SHA-256, 7 days by default) mailed through the outbox in the same transaction. Accepting
//! sets the name and a password under the tenant's policy (CON-SEC-001) and activates the
//! account; the person then signs in (and enrols MFA when the tenant requires it).

//!
//! Pending invitations (FR-TENANT-001, UC-TENANT-INVITE): a tenant's owners and admins see
//! the invitations not yet accepted, send one again (a new link; the old one stops working;
//! the expiry starts over) or revoke it (the link stops working and the invited account is
//! deleted, which frees the address). An admin never acts on an owner's invitation
//! (SPEC §2); another tenant's invitation is "not found". Audited in the same transaction.

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::email::{enqueue_mail, Mail};
use crate::permissions::{Actor, Permission};
use crate::types::{DisplayName, Email, Role, UserStatus};
use crate::users::{create_user_in, NewUser, User};
use crate::{random_token, token_hash, DomainError};
use secrecy::SecretString;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// How long an invitation stays valid unless the inviter says otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::days(7);

const GONE: &str =
    "this invitation has expired or was already used; ask your administrator for a new one";

#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub tenant_id: Uuid,
    pub email: Email,
    pub role: Role,
    pub lifetime: Duration,
}

/// Invites a person into a tenant, inside the caller's transaction: the invited user, the
/// invitation and its email. `actor` is the inviting person (None: the CLI / system); the
/// permission rules of SPEC §2 apply through `create_user`.
pub async fn invite_user(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    new: NewInvitation,
    base_url: &str,
) -> Result<Done<User>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
        invite_user_in(conn, ctx, actor, new, base_url).await
    })
    .await
}

/// [`invite_user`] inside the caller's transaction.
pub(crate) async fn invite_user_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    new: NewInvitation,
    base_url: &str,
) -> Result<User, DomainError> {
    let user = create_user_in(
        conn,
        ctx,
        actor,
        NewUser {
            tenant_id: Some(new.tenant_id),
            email: new.email.clone(),
            name: None,
            role: new.role,
            status: UserStatus::Invited,
            password: None,
        },
    )
    .await?;
    let token = random_token();
    let (tenant_name, inviter, expires_at): (String, Option<String>, OffsetDateTime) =
        sqlx::query_as(
            "WITH inv AS (
                 INSERT INTO invitations (tenant_id, user_id, email, role, token_hash, invited_by, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
                 RETURNING expires_at)
             SELECT t.name, (SELECT coalesce(name, email) FROM users WHERE id = $6), inv.expires_at
             FROM tenants t, inv WHERE t.id = $1",
        )
        .bind(new.tenant_id)
        .bind(user.id)
        .bind(new.email.as_str())
        .bind(new.role.as_str())
        .bind(token_hash(&token))
        .bind(actor.map(|a| a.user_id))
        .bind(new.lifetime.whole_seconds() as f64)
        .fetch_one(&mut *conn)
        .await?;
    enqueue_mail(
        conn,
        Some(new.tenant_id),
        &new.email,
        Mail::Invitation {
            tenant_name,
            inviter,
            role: new.role.as_str().to_owned(),
            accept_url: format!("{}/invite/{token}", base_url.trim_end_matches('/')),
            expires_at,
        },
    )
    .await?;
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("user.invite")
            .tenant(Some(new.tenant_id))
            .by(actor)
            .resource(format!("user:{}", user.id))
            .meta("email", new.email.as_str())
            .meta("role", new.role.as_str())
            .meta("expires_at", expires_at.unix_timestamp()),
    )
    .await?;
    Ok(user)
}

/// What the invitation page shows before the person accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct InvitationSummary {
    #[serde(skip)]
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
    pub tenant_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// The open invitation behind a token, or ERR_GONE (unknown, expired, used or revoked all
/// look the same).
pub async fn invitation_by_token(
    pool: &PgPool,
    token: &str,
) -> Result<InvitationSummary, DomainError> {
    sqlx::query_as(
        "SELECT i.user_id, i.email, i.role, t.name AS tenant_name, i.expires_at
         FROM invitations i JOIN tenants t ON t.id = i.tenant_id JOIN users u ON u.id = i.user_id
         WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL
           AND i.expires_at > now() AND u.status = 'invited'",
    )
    .bind(token_hash(token))
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| DomainError::Gone(GONE.into()))
}

/// Accepts an invitation: name and password (tenant policy), the account becomes active
/// and its address verified. Returns the user id. A refused password leaves the
/// invitation open; a suspended tenant cannot accept.
pub async fn accept_invitation(
    pool: &PgPool,
    ctx: &RequestContext,
    token: &str,
    name: Option<DisplayName>,
    password: &SecretString,
) -> Result<Uuid, DomainError> {
    let mut tx = pool.begin().await?;
    let found: Option<(Uuid, Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT i.id, i.user_id, i.tenant_id, t.status FROM invitations i
         JOIN tenants t ON t.id = i.tenant_id JOIN users u ON u.id = i.user_id
         WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL
           AND i.expires_at > now() AND u.status = 'invited'
         FOR UPDATE OF i",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let (invitation_id, user_id, tenant_id, tenant_status) =
        found.ok_or_else(|| DomainError::Gone(GONE.into()))?;
    if tenant_status != "active" {
        return Err(DomainError::PermissionDenied(
            "your organisation's access is suspended; contact the service provider".into(),
        ));
    }
    crate::passwords::set_password(&mut tx, user_id, password).await?;
    sqlx::query(
        "UPDATE users SET status = 'active', name = coalesce($2, name), email_verified_at = now(),
                          updated_at = now()
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(name.map(DisplayName::into_inner))
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE invitations SET accepted_at = now() WHERE id = $1")
        .bind(invitation_id)
        .execute(&mut *tx)
        .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("user.invitation.accepted")
            .tenant(Some(tenant_id))
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("invitation", invitation_id.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(user_id)
}

/// An invitation not yet accepted nor revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PendingInvitation {
    pub id: Uuid,
    /// The invited person (status `invited`).
    pub user_id: Uuid,
    #[schema(format = Email)]
    pub email: String,
    #[schema(value_type = Role)]
    pub role: String,
    /// The name (or email) of whoever invited them.
    pub invited_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The link's expiry has passed; resending makes a new one.
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
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    id: Uuid,
    base_url: &str,
) -> Result<Done<PendingInvitation>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
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
            .bind(crate::users::DEFAULT_LIFETIME.whole_seconds() as f64)
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
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("user.invitation.resent")
                .tenant(Some(tenant))
                .by(Some(actor))
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
    })
    .await
}

/// Revokes the invitation: its link stops working and the invited (never active) account
/// is deleted, so the address can be invited again.
pub async fn revoke_invitation(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    id: Uuid,
) -> Result<Done<PendingInvitation>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
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
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("user.invitation.revoked")
                .tenant(Some(tenant))
                .by(Some(actor))
                .resource(format!("user:{}", invitation.user_id))
                .meta("invitation", id.to_string())
                .meta("email", invitation.email.as_str()),
        )
        .await?;
        Ok(invitation)
    })
    .await
}
