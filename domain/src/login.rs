//! Password sign-in (UC-LOGIN, FR-AUTH-001; SPEC §3) and brute-force throttling.
//!
//! Unknown email and wrong password give the same answer and cost the same: with no
//! account to check, a dummy hash is verified. When the address exists in several tenants
//! and no tenant hint is given, the password is checked against each and the caller lets
//! the person pick among the tenants where it matched.
//!
//! Throttling counts failures per account (address) and per client IP within a window:
//! after a few failures each attempt waits a growing delay, after more the key is locked
//! for a while. Every failure and every lock is audited.

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::passwords::verify_password;
use crate::types::{Email, Role, TenantDomain, TenantStatus, UserStatus};
use crate::DomainError;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::PgPool;
use std::time::Duration;
use uuid::Uuid;

/// Failures counted within this window.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Failures before the account key is locked.
pub const ACCOUNT_LOCK_AFTER: i32 = 10;
/// Failures before the IP key is locked (an office NAT holds many people).
pub const IP_LOCK_AFTER: i32 = 50;
/// How long a lock lasts.
pub const LOCK_SECS: i64 = 15 * 60;
/// Failures tolerated before the delay starts growing (1 s, 2 s, 4 s, capped at 8 s).
const FREE_FAILURES: i32 = 3;
const MAX_DELAY_SECS: u64 = 8;

const INVALID: &str = "the email address or password is not correct";

#[derive(Debug, Clone)]
pub struct PasswordLogin {
    pub email: Email,
    pub password: SecretString,
    pub tenant: Option<TenantDomain>,
}

/// A tenant the person can continue into after the password matched there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantChoice {
    pub user_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub tenant_name: Option<String>,
    pub tenant_domain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Exactly one account matched: continue with it (second factor, then session).
    Authenticated {
        user_id: Uuid,
        tenant_id: Option<Uuid>,
        role: Role,
    },
    /// The password matched accounts in several tenants: let the person choose.
    ChooseTenant(Vec<TenantChoice>),
}

#[derive(sqlx::FromRow)]
struct Candidate {
    id: Uuid,
    tenant_id: Option<Uuid>,
    role: String,
    status: String,
    password_hash: Option<String>,
    tenant_name: Option<String>,
    tenant_domain: Option<String>,
    tenant_status: Option<String>,
}

/// Checks an email and password. Records the failure, throttles and locks; the caller
/// records the success together with the session it creates.
pub async fn verify_password_login(
    pool: &PgPool,
    ctx: &RequestContext,
    login: PasswordLogin,
) -> Result<LoginOutcome, DomainError> {
    let account_key = login.email.as_str().to_lowercase();
    let ip_key = ctx.ip.map(|ip| ip.to_string());
    let throttle = throttle_state(pool, &account_key, ip_key.as_deref()).await?;
    if let Some(retry_after_secs) = throttle.locked_for {
        record_failure(pool, ctx, &login, None, "locked", false).await?;
        return Err(DomainError::Locked {
            message: format!(
                "too many failed sign-ins; try again in {} minutes",
                retry_after_secs.div_ceil(60)
            ),
            retry_after_secs,
        });
    }
    if throttle.delay > Duration::ZERO {
        tokio::time::sleep(throttle.delay).await;
    }

    let candidates: Vec<Candidate> = sqlx::query_as(
        "SELECT u.id, u.tenant_id, u.role, u.status, u.password_hash,
                t.name AS tenant_name, t.domain AS tenant_domain, t.status AS tenant_status
         FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
         WHERE lower(u.email) = lower($1) AND u.status <> 'archived'
           AND ($2::text IS NULL OR t.domain = $2)
         ORDER BY t.name NULLS FIRST",
    )
    .bind(login.email.as_str())
    .bind(login.tenant.as_ref().map(TenantDomain::as_str))
    .fetch_all(pool)
    .await?;

    let mut matched = Vec::new();
    if candidates.is_empty() {
        verify_password(None, &login.password).await?;
    }
    for c in candidates {
        if verify_password(c.password_hash.clone(), &login.password).await? {
            matched.push(c);
        }
    }
    if matched.is_empty() {
        record_failure(pool, ctx, &login, None, "invalid_credentials", true).await?;
        return Err(DomainError::Unauthenticated(INVALID.into()));
    }

    // The password is proven: the person may learn why their account cannot sign in.
    let mut usable = Vec::new();
    let mut refusal = None;
    for c in matched {
        let reason = match UserStatus::parse(&c.status)? {
            UserStatus::Invited => Some((
                "invitation_pending",
                "accept your invitation first; use the link in the invitation email",
            )),
            UserStatus::Disabled => Some((
                "user_disabled",
                "this account is disabled; ask an administrator of your organisation",
            )),
            UserStatus::Archived => Some(("user_archived", INVALID)),
            UserStatus::Active => None,
        }
        .or_else(
            || match c.tenant_status.as_deref().map(TenantStatus::parse) {
                Some(Ok(TenantStatus::Suspended)) => Some((
                    "tenant_suspended",
                    "your organisation's access is suspended; contact the service provider",
                )),
                _ => None,
            },
        );
        match reason {
            Some(r) => refusal = Some((c.id, c.tenant_id, r)),
            None => usable.push(c),
        }
    }
    if usable.is_empty() {
        let (user_id, tenant_id, (code, message)) =
            refusal.ok_or_else(|| anyhow::anyhow!("no refusal recorded"))?;
        let mut tx = pool.begin().await?;
        append_audit_entry(
            &mut tx,
            ctx,
            AuditEntry::new("auth.login.failure")
                .failure()
                .tenant(tenant_id)
                .actor(ActorType::User, Some(user_id))
                .resource(format!("user:{user_id}"))
                .meta("reason", code)
                .meta("method", "password"),
        )
        .await?;
        tx.commit().await?;
        return Err(DomainError::PermissionDenied(message.into()));
    }
    clear_throttle(pool, &account_key).await?;
    if usable.len() == 1 {
        let c = usable.remove(0);
        return Ok(LoginOutcome::Authenticated {
            user_id: c.id,
            tenant_id: c.tenant_id,
            role: Role::parse(&c.role)?,
        });
    }
    Ok(LoginOutcome::ChooseTenant(
        usable
            .into_iter()
            .map(|c| TenantChoice {
                user_id: c.id,
                tenant_id: c.tenant_id,
                tenant_name: c.tenant_name,
                tenant_domain: c.tenant_domain,
            })
            .collect(),
    ))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleState {
    /// Seconds until the lock ends, when locked.
    pub locked_for: Option<u64>,
    /// How long to wait before checking this attempt.
    pub delay: Duration,
}

/// The throttle for an account and an IP: the stricter of the two.
pub async fn throttle_state(
    pool: &PgPool,
    account: &str,
    ip: Option<&str>,
) -> Result<ThrottleState, DomainError> {
    let rows: Vec<(i32, Option<f64>)> = sqlx::query_as(
        "SELECT CASE WHEN window_start > now() - make_interval(secs => $3) THEN failures ELSE 0 END,
                extract(epoch FROM locked_until - now())::float8
         FROM auth_throttle
         WHERE (scope = 'account' AND key = $1) OR (scope = 'ip' AND key = $2)",
    )
    .bind(account)
    .bind(ip)
    .bind(WINDOW_SECS as f64)
    .fetch_all(pool)
    .await?;
    let locked_for = rows
        .iter()
        .filter_map(|(_, left)| *left)
        .filter(|left| *left > 0.0)
        .map(|left| left.ceil() as u64)
        .max();
    let failures = rows.iter().map(|(f, _)| *f).max().unwrap_or(0);
    let delay = if failures > FREE_FAILURES {
        let exp = u32::try_from(failures - FREE_FAILURES - 1)
            .unwrap_or(u32::MAX)
            .min(3);
        Duration::from_secs((1u64 << exp).min(MAX_DELAY_SECS))
    } else {
        Duration::ZERO
    };
    Ok(ThrottleState { locked_for, delay })
}

async fn clear_throttle(pool: &PgPool, account: &str) -> Result<(), DomainError> {
    sqlx::query("DELETE FROM auth_throttle WHERE scope = 'account' AND key = $1")
        .bind(account)
        .execute(pool)
        .await?;
    Ok(())
}

/// Audits a failed attempt and, when it counts, adds it to both throttles, locking a key
/// that reaches its limit (audited as `auth.lockout`).
async fn record_failure(
    pool: &PgPool,
    ctx: &RequestContext,
    login: &PasswordLogin,
    user_id: Option<Uuid>,
    reason: &str,
    counts: bool,
) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.login.failure")
            .failure()
            .actor(ActorType::User, user_id)
            .resource(format!("email:{}", login.email.as_str().to_lowercase()))
            .meta("reason", reason)
            .meta("method", "password")
            .meta(
                "tenant_hint",
                login.tenant.as_ref().map(|t| t.as_str().to_owned()),
            ),
    )
    .await?;
    if counts {
        let keys = [
            (
                "account",
                Some(login.email.as_str().to_lowercase()),
                ACCOUNT_LOCK_AFTER,
            ),
            ("ip", ctx.ip.map(|ip| ip.to_string()), IP_LOCK_AFTER),
        ];
        for (scope, key, limit) in keys {
            let Some(key) = key else { continue };
            let locked: bool = sqlx::query_scalar(
                "INSERT INTO auth_throttle AS t (scope, key, failures, window_start) VALUES ($1, $2, 1, now())
                 ON CONFLICT (scope, key) DO UPDATE SET
                     failures = CASE WHEN t.window_start > now() - make_interval(secs => $4) THEN t.failures + 1 ELSE 1 END,
                     window_start = CASE WHEN t.window_start > now() - make_interval(secs => $4) THEN t.window_start ELSE now() END
                 RETURNING failures >= $3",
            )
            .bind(scope)
            .bind(&key)
            .bind(limit)
            .bind(WINDOW_SECS as f64)
            .fetch_one(&mut *tx)
            .await?;
            if locked {
                sqlx::query(
                    "UPDATE auth_throttle SET locked_until = now() + make_interval(secs => $3), failures = 0, window_start = now()
                     WHERE scope = $1 AND key = $2",
                )
                .bind(scope)
                .bind(&key)
                .bind(LOCK_SECS as f64)
                .execute(&mut *tx)
                .await?;
                append_audit_entry(
                    &mut tx,
                    ctx,
                    AuditEntry::new("auth.lockout")
                        .failure()
                        .resource(format!("{scope}:{key}"))
                        .meta("scope", scope)
                        .meta("lock_secs", LOCK_SECS),
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// What the sign-in page tells a person whose password was right but whose account
/// cannot sign in (the refusals above), by a stable code.
pub fn refusal_code(message: &str) -> &'static str {
    if message.contains("invitation") {
        "invitation_pending"
    } else if message.contains("disabled") {
        "user_disabled"
    } else if message.contains("suspended") {
        "tenant_suspended"
    } else {
        "invalid"
    }
}

/// Finishes a sign-in: ends the session the browser had before (the session id rotates at
/// every sign-in), creates the new session, stamps `last_login_at` and records
/// `auth.login.success` — all in one transaction.
pub async fn complete_sign_in(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    methods: &[&str],
    mfa_verified: bool,
    previous_token: Option<&str>,
) -> Result<(crate::sessions::IssuedSession, Role), DomainError> {
    let mut tx = pool.begin().await?;
    if let Some(previous) = previous_token {
        sqlx::query(
            "UPDATE sessions SET revoked_at = now(), revoked_reason = 'privilege_change'
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(crate::token_hash(previous))
        .execute(&mut *tx)
        .await?;
    }
    let issued = crate::sessions::create_session(
        &mut tx,
        crate::sessions::NewSession {
            user_id,
            ip: ctx.ip,
            user_agent: ctx.user_agent.clone(),
            auth_methods: methods.iter().map(|m| (*m).to_owned()).collect(),
            mfa_verified,
        },
    )
    .await?;
    let (role, tenant_id): (String, Option<Uuid>) = sqlx::query_as(
        "UPDATE users SET last_login_at = now() WHERE id = $1 RETURNING role, tenant_id",
    )
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.login.success")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("methods", methods.join(","))
            .meta("session", issued.id.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok((issued, Role::parse(&role)?))
}

/// Signs out: ends the session behind `token` and records `auth.logout`. Returns whether
/// there was a live session.
pub async fn sign_out(
    pool: &PgPool,
    ctx: &RequestContext,
    token: &str,
) -> Result<bool, DomainError> {
    let mut tx = pool.begin().await?;
    let ended: Option<(Uuid, Uuid, Option<Uuid>)> = sqlx::query_as(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'
         WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id, user_id, tenant_id",
    )
    .bind(crate::token_hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((session_id, user_id, tenant_id)) = ended else {
        return Ok(false);
    };
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.logout")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("session:{session_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
