//! Password reset by email (FR-AUTH-004, UC-AUTH-RESET; SPEC §3): a single-use token,
//! stored only as SHA-256, valid for one hour, mailed through the outbox in the same
//! transaction that creates it. Asking never reveals whether an account exists: the
//! answer is the same either way. Completing a reset applies the tenant's password policy
//! (CON-SEC-001), ends every session and forgets trusted devices.

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::email::{enqueue_mail, Mail};
use crate::sessions::{revoke_user_sessions, RevokeReason, Revoker};
use crate::types::{Email, TenantDomain};
use crate::{random_token, token_hash, DomainError};
use secrecy::SecretString;
use sqlx::PgPool;
use time::Duration;
use uuid::Uuid;

/// How long a reset link works.
pub const RESET_LIFETIME: Duration = Duration::hours(1);
/// At most this many reset mails per account and hour; more requests are answered the
/// same way but send nothing (mail bombing).
pub const RESETS_PER_HOUR: i64 = 3;

/// Reset requests per address and hour that are acted on (and audited); beyond them
/// requests are answered alike and do nothing.
pub const REQUESTS_PER_ACCOUNT: i32 = 10;
/// Reset requests per client IP and hour that are acted on.
pub const REQUESTS_PER_IP: i32 = 30;

/// Reset requests counted per address and per IP over the hour (never refused by the
/// counter itself: past the limits they are answered alike and do nothing).
const RESET_REQUESTS: crate::passwords::Throttle = crate::passwords::Throttle {
    scopes: ("reset_account", "reset_ip"),
    window_secs: 3600,
    limits: (None, None),
};

const GONE: &str = "this reset link has expired or was already used; ask for a new one";

/// Sends a reset link to every active account with this address (in the hinted tenant
/// only, when given). Always succeeds the same way for unknown addresses.
pub async fn request_password_reset(
    pool: &PgPool,
    ctx: &RequestContext,
    email: &Email,
    tenant: Option<&TenantDomain>,
    base_url: &str,
) -> Result<(), DomainError> {
    // Requests per address and per IP within the hour, counted before anything else.
    let counted = crate::passwords::count_attempt(
        pool,
        &RESET_REQUESTS,
        &email.as_str().to_lowercase(),
        ctx.ip,
    )
    .await?;
    let (per_account, per_ip) = (counted.account_reserved.unwrap_or(1), counted.ip_reserved);
    let excess = (per_account - REQUESTS_PER_ACCOUNT).max(per_ip.unwrap_or(0) - REQUESTS_PER_IP);
    if excess > 0 {
        // Answered like any other request; audited at the 1st, 10th, 100th... only.
        if crate::passwords::is_sampled(excess) {
            let mut tx = pool.begin().await?;
            append_audit_entry(
                &mut tx,
                ctx,
                AuditEntry::new("auth.password.reset.requested")
                    .failure()
                    .resource(format!("email:{}", email.as_str().to_lowercase()))
                    .meta("reason", "throttled")
                    .meta("refusals", excess),
            )
            .await?;
            tx.commit().await?;
        }
        return Ok(());
    }
    let accounts: Vec<(Uuid, Option<Uuid>, String, i64)> = sqlx::query_as(
        "SELECT u.id, u.tenant_id, u.email,
                (SELECT count(*) FROM password_reset_tokens r
                 WHERE r.user_id = u.id AND r.created_at > now() - interval '1 hour')
         FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
         WHERE lower(u.email) = lower($1) AND u.status = 'active'
           AND (t.id IS NULL OR t.status = 'active')
           AND ($2::text IS NULL OR t.domain = $2)
           -- People who sign in only through their organisation's provider have no
           -- password here to reset (SPEC §3).
           AND NOT ((coalesce(t.sso_enforced, false) AND u.role <> 'owner')
                    OR (u.password_hash IS NULL
                        AND EXISTS (SELECT 1 FROM sso_identities i WHERE i.user_id = u.id)))",
    )
    .bind(email.as_str())
    .bind(tenant.map(TenantDomain::as_str))
    .fetch_all(pool)
    .await?;
    let mut tx = pool.begin().await?;
    if accounts.is_empty() {
        append_audit_entry(
            &mut tx,
            ctx,
            AuditEntry::new("auth.password.reset.requested")
                .failure()
                .resource(format!("email:{}", email.as_str().to_lowercase()))
                .meta("reason", "no_active_account"),
        )
        .await?;
    }
    for (user_id, tenant_id, address, recent) in accounts {
        let mut entry = AuditEntry::new("auth.password.reset.requested")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"));
        if recent >= RESETS_PER_HOUR {
            entry = entry.failure().meta("reason", "rate_limited");
        } else {
            let token = random_token();
            sqlx::query(
                "INSERT INTO password_reset_tokens (user_id, token_hash, expires_at)
                 VALUES ($1, $2, now() + make_interval(secs => $3))",
            )
            .bind(user_id)
            .bind(token_hash(&token))
            .bind(RESET_LIFETIME.whole_seconds() as f64)
            .execute(&mut *tx)
            .await?;
            enqueue_mail(
                &mut tx,
                tenant_id,
                &Email::parse(&address)?,
                Mail::PasswordReset {
                    reset_url: format!("{}/reset-password/{token}", base_url.trim_end_matches('/')),
                    expires_minutes: RESET_LIFETIME.whole_minutes(),
                },
            )
            .await?;
        }
        append_audit_entry(&mut tx, ctx, entry).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whose password a live reset link would set (user id and address, for the page), or
/// ERR_GONE.
pub async fn reset_link_user(pool: &PgPool, token: &str) -> Result<(Uuid, String), DomainError> {
    sqlx::query_as(
        "SELECT u.id, u.email FROM password_reset_tokens r JOIN users u ON u.id = r.user_id
         WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now() AND u.status = 'active'",
    )
    .bind(token_hash(token))
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| DomainError::Gone(GONE.into()))
}

/// Sets a new password through a reset link. A password the policy refuses leaves the
/// link usable; success uses it up (with every other open link of the account), ends all
/// sessions, forgets trusted devices and lifts a sign-in lock on the account.
pub async fn reset_password(
    pool: &PgPool,
    ctx: &RequestContext,
    token: &str,
    password: &SecretString,
) -> Result<Uuid, DomainError> {
    let mut tx = pool.begin().await?;
    let found: Option<(Uuid, Uuid, Option<Uuid>, String)> = sqlx::query_as(
        "SELECT r.id, u.id, u.tenant_id, u.email FROM password_reset_tokens r JOIN users u ON u.id = r.user_id
         WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now() AND u.status = 'active'
         FOR UPDATE OF r",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let (_, user_id, tenant_id, email) = found.ok_or_else(|| DomainError::Gone(GONE.into()))?;
    crate::passwords::set_password(&mut tx, user_id, password).await?;
    sqlx::query(
        "UPDATE password_reset_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    let ended = revoke_user_sessions(
        &mut tx,
        ctx,
        Revoker {
            actor_type: ActorType::User,
            actor_id: Some(user_id),
        },
        user_id,
        RevokeReason::PasswordReset,
    )
    .await?;
    crate::login::forget_devices(&mut tx, user_id).await?;
    sqlx::query("DELETE FROM auth_throttle WHERE scope = 'account' AND key = lower($1)")
        .bind(&email)
        .execute(&mut *tx)
        .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.password.reset")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("sessions_revoked", ended),
    )
    .await?;
    tx.commit().await?;
    Ok(user_id)
}
