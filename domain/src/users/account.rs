//! A person's own account (SPEC §3 `/account`): profile, password change (FR-AUTH-006,
//! CON-SEC-001), and their own sessions with revocation (FR-AUTH-005). Every operation
//! acts on the caller's own user id only; another user's session answers 404.

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::oauth::{revoke_session_tokens, SessionTokens};
use crate::passwords::verify_password;
use crate::passwords::Attempt;
use crate::sessions::{revoke_session, RevokeReason, Revoker};
use crate::types::DisplayName;
use crate::DomainError;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Profile {
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub tenant_name: Option<String>,
    pub tenant_domain: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
}

pub async fn profile(pool: &PgPool, user_id: Uuid) -> Result<Profile, DomainError> {
    sqlx::query_as(
        "SELECT u.email, u.name, u.role, t.name AS tenant_name, t.domain AS tenant_domain,
                u.created_at, u.last_login_at
         FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::NotFound("user"))
}

/// Sets (or clears) the person's display name.
pub async fn update_name(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    name: Option<DisplayName>,
) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let old: Option<(Option<String>, Option<Uuid>)> =
        sqlx::query_as("SELECT name, tenant_id FROM users WHERE id = $1 FOR UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (old, tenant_id) = old.ok_or(DomainError::NotFound("user"))?;
    let new = name.map(DisplayName::into_inner);
    if old == new {
        return Ok(());
    }
    sqlx::query("UPDATE users SET name = $2, updated_at = now() WHERE id = $1")
        .bind(user_id)
        .bind(&new)
        .execute(&mut *tx)
        .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("user.profile.update")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("field", "name")
            .meta("old", old)
            .meta("new", new),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the person's password after checking the current one, under their tenant's
/// policy; every other session of theirs ends (SPEC §3), the current one stays.
pub async fn change_password(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    current_session: Uuid,
    current: &SecretString,
    new: &SecretString,
) -> Result<u64, DomainError> {
    let stored: Option<(Option<String>, Option<Uuid>, String)> =
        sqlx::query_as("SELECT password_hash, tenant_id, email FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    let (stored, tenant_id, email) = stored.ok_or(DomainError::NotFound("user"))?;
    // A re-authentication is a sign-in attempt: the same account and IP throttle and lock,
    // or a stolen session would be an unthrottled password oracle.
    let failure = AuditEntry::new("auth.password.change")
        .failure()
        .tenant(tenant_id)
        .actor(ActorType::User, Some(user_id))
        .resource(format!("user:{user_id}"));
    let attempt = Attempt::reserve(pool, ctx, email.to_lowercase(), failure.clone()).await?;
    let delay = attempt.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let verdict = match verify_password(stored, current).await {
        Ok(verdict) => verdict,
        Err(e) => {
            attempt.abandon(pool).await?;
            return Err(e);
        }
    };
    if !verdict {
        attempt
            .failed(pool, ctx, failure.meta("reason", "wrong_current_password"))
            .await?;
        return Err(DomainError::validation(
            "current_password",
            "your current password is not correct",
        ));
    }
    attempt.succeeded(pool).await?;
    let mut tx = pool.begin().await?;
    crate::passwords::set_password(&mut tx, user_id, new).await?;
    let ended: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = 'password_change'
         WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL RETURNING id",
    )
    .bind(user_id)
    .bind(current_session)
    .fetch_all(&mut *tx)
    .await?;
    // The applications those sessions signed in to lose their tokens too; the current
    // session's own stay.
    let grants = revoke_session_tokens(
        &mut tx,
        SessionTokens::AllBut {
            user_id,
            keep: current_session,
        },
    )
    .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.password.change")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("sessions_revoked", ended.len())
            .meta("refresh_grants_revoked", grants),
    )
    .await?;
    tx.commit().await?;
    Ok(ended.len() as u64)
}

/// One of the person's live sessions, for the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SessionSummary {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub auth_methods: Vec<String>,
}

/// The person's live sessions (not revoked, not expired), newest first.
pub async fn list_sessions(
    pool: &PgPool,
    user_id: Uuid,
) -> Result<Vec<SessionSummary>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, created_at, last_seen_at, host(ip) AS ip, user_agent, auth_methods
         FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
           AND last_seen_at + make_interval(secs => idle_timeout_secs) > now()
         ORDER BY created_at DESC LIMIT 100",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

/// Ends one of the person's own sessions; another person's session is not found.
pub async fn revoke_own_session(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let owned: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL)",
    )
    .bind(session_id)
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    if !owned {
        return Err(DomainError::NotFound("session"));
    }
    revoke_session(
        &mut tx,
        ctx,
        Revoker {
            actor_type: ActorType::User,
            actor_id: Some(user_id),
        },
        session_id,
        RevokeReason::RevokedByUser,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the person but `keep` ("sign out everywhere else").
pub async fn revoke_other_sessions(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    keep: Uuid,
) -> Result<u64, DomainError> {
    let others: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM sessions WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(keep)
    .fetch_all(pool)
    .await?;
    let mut tx = pool.begin().await?;
    let by = Revoker {
        actor_type: ActorType::User,
        actor_id: Some(user_id),
    };
    let mut ended = 0;
    for id in others {
        if revoke_session(&mut tx, ctx, by, id, RevokeReason::RevokedByUser).await? {
            ended += 1;
        }
    }
    // Sessions already gone may have left tokens with applications: those end too.
    revoke_session_tokens(&mut tx, SessionTokens::AllBut { user_id, keep }).await?;
    tx.commit().await?;
    Ok(ended)
}
