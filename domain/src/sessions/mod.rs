//! Server-side sessions (DAT-SESSION, FR-AUTH-005; SPEC §3).
//!
//! The browser cookie holds only a random 256-bit token; the database keeps its SHA-256.
//! A session has an absolute lifetime of 24 hours and an idle timeout taken from its
//! tenant (default 30 minutes). A revoked, expired or idle session, a session whose user
//! is no longer active, or whose tenant is suspended, is refused on the very next request.

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::types::{Role, TenantStatus, UserStatus};
use crate::{random_token, token_hash, DomainError};
use anyhow::Context as _;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Row};
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Absolute lifetime of every session.
pub const ABSOLUTE_LIFETIME: Duration = Duration::hours(24);
/// Lifetime of a pending session: password proven, second factor (or its enrolment)
/// still to come. It reaches only the second-factor pages.
pub const PENDING_LIFETIME: Duration = Duration::minutes(10);
/// Idle timeout for platform users (operators, auditors), who have no tenant policy.
pub const PLATFORM_IDLE_TIMEOUT_SECS: i32 = 1800;
/// `last_seen_at` is written at most this often, so reading a session is not a write
/// on every request; the idle timeout is measured from it.
const TOUCH_INTERVAL: Duration = Duration::seconds(30);

/// Why sessions end; stored in `sessions.revoked_reason` and in the audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    Logout,
    PasswordChange,
    PasswordReset,
    RoleChange,
    UserDisabled,
    UserArchived,
    TenantSuspended,
    RevokedByAdmin,
    RevokedByUser,
    PrivilegeChange,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::PasswordChange => "password_change",
            RevokeReason::PasswordReset => "password_reset",
            RevokeReason::RoleChange => "role_change",
            RevokeReason::UserDisabled => "user_disabled",
            RevokeReason::UserArchived => "user_archived",
            RevokeReason::TenantSuspended => "tenant_suspended",
            RevokeReason::RevokedByAdmin => "revoked_by_admin",
            RevokeReason::RevokedByUser => "revoked_by_user",
            RevokeReason::PrivilegeChange => "privilege_change",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub user_id: Uuid,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// e.g. `["pwd"]`, `["pwd", "otp"]`, `["hwk"]` (RFC 8176 method references).
    pub auth_methods: Vec<String>,
    pub mfa_verified: bool,
}

impl NewSession {
    /// A session for `user_id` from this request's client.
    pub fn for_request(
        ctx: &RequestContext,
        user_id: Uuid,
        auth_methods: &[&str],
        mfa_verified: bool,
    ) -> Self {
        Self {
            user_id,
            ip: ctx.ip,
            user_agent: ctx.user_agent.clone(),
            auth_methods: auth_methods.iter().map(|m| (*m).to_owned()).collect(),
            mfa_verified,
        }
    }
}

/// A new session: the token goes into the cookie and is never stored.
#[derive(Debug)]
pub struct IssuedSession {
    pub id: Uuid,
    pub token: SecretString,
    pub expires_at: OffsetDateTime,
}

/// Why a session is pending: the password is proven and the second factor is still to
/// come (CON-SEC-005).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingPurpose {
    /// Give the account's second factor. Nothing else: above all, not enrol a new one,
    /// or a password alone would beat the factor.
    SecondFactor,
    /// The account must use MFA and has no factor yet: enrol the first one.
    Enrolment,
}

/// Who a valid session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrentSession {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub role: Role,
    pub email: String,
    pub mfa_verified: bool,
    /// Why the session is pending; `None` once it is full.
    pub pending: Option<PendingPurpose>,
    /// When the person authenticated (the session began; OIDC `auth_time`).
    #[serde(with = "time::serde::rfc3339")]
    pub authenticated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl CurrentSession {
    /// Whether this session may change the person's second factors (enrol an
    /// authenticator app or a passkey, issue recovery codes): a full session, or a pending
    /// one issued for enrolment while the account still has no confirmed factor. A
    /// sign-in waiting for its second factor may not (CON-SEC-005).
    pub async fn may_change_factors(&self, pool: &PgPool) -> Result<(), DomainError> {
        if self.mfa_verified {
            return Ok(());
        }
        let refused = || {
            DomainError::PermissionDenied("finish signing in with your second factor first".into())
        };
        if self.pending != Some(PendingPurpose::Enrolment) {
            return Err(refused());
        }
        if has_confirmed_factor(pool, self.user_id).await? {
            return Err(refused());
        }
        Ok(())
    }
}

/// The INSERT of a new session, for an active user only (a pending one records its
/// [`PendingPurpose`]: enrolment exactly when the account has no confirmed factor), with its parameters `$1..$9`
/// bound by [`SessionDraft::bind`]. A statement may embed it as a CTE (the one-statement
/// sign-in in `login`).
macro_rules! session_insert {
    () => {
        "INSERT INTO sessions (id, token_hash, user_id, tenant_id, expires_at, idle_timeout_secs,
                               mfa_verified_at, pending_purpose, auth_methods, ip, user_agent)
         SELECT $1, $2, u.id, u.tenant_id, now() + make_interval(secs => $3),
                coalesce(t.session_idle_timeout_secs, $4),
                CASE WHEN $5 THEN now() END,
                CASE WHEN $5 THEN NULL
                     WHEN EXISTS (SELECT 1 FROM mfa_totp m WHERE m.user_id = u.id AND m.confirmed_at IS NOT NULL)
                       OR EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id)
                     THEN 'second_factor' ELSE 'enrolment' END,
                $6, $7::inet, $8
         FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
         WHERE u.id = $9 AND u.status = 'active'"
    };
}
pub(crate) use session_insert;

/// Creates a session for an active user inside the caller's transaction (the caller
/// records the authentication event that led to it). Without `mfa_verified` it is a
/// pending session of [`PENDING_LIFETIME`].
pub async fn create_session(
    conn: &mut PgConnection,
    new: NewSession,
) -> Result<IssuedSession, DomainError> {
    let draft = SessionDraft::new(new);
    let row = draft
        .bind(sqlx::query(concat!(
            session_insert!(),
            " RETURNING expires_at"
        )))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| DomainError::Unauthenticated("this account cannot sign in".into()))?;
    let expires_at = row.try_get("expires_at").context("session expiry")?;
    Ok(draft.issued(expires_at))
}

/// A session about to be inserted: its id and token are chosen here; only the token's
/// hash reaches the database.
pub(crate) struct SessionDraft {
    pub(crate) id: Uuid,
    token: String,
    new: NewSession,
}

impl SessionDraft {
    pub(crate) fn new(mut new: NewSession) -> Self {
        new.user_agent = new
            .user_agent
            .map(|ua| ua.chars().take(512).collect::<String>());
        Self {
            id: Uuid::now_v7(),
            token: random_token(),
            new,
        }
    }

    /// Binds `$1..$9` of [`session_insert!`].
    pub(crate) fn bind<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        let lifetime = if self.new.mfa_verified {
            ABSOLUTE_LIFETIME
        } else {
            PENDING_LIFETIME
        };
        query
            .bind(self.id)
            .bind(token_hash(&self.token))
            .bind(lifetime.whole_seconds() as f64)
            .bind(PLATFORM_IDLE_TIMEOUT_SECS)
            .bind(self.new.mfa_verified)
            .bind(self.new.auth_methods.clone())
            .bind(self.new.ip.map(|ip| ip.to_string()))
            .bind(self.new.user_agent.clone())
            .bind(self.new.user_id)
    }

    pub(crate) fn issued(self, expires_at: OffsetDateTime) -> IssuedSession {
        IssuedSession {
            id: self.id,
            token: SecretString::from(self.token),
            expires_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    role: String,
    email: String,
    user_status: String,
    tenant_status: Option<String>,
    mfa_verified: bool,
    pending_purpose: Option<String>,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    revoked: bool,
    idle: bool,
    needs_touch: bool,
}

/// The session a cookie token stands for, or ERR_AUTH. Refuses revoked, expired and idle
/// sessions, users who are no longer active and suspended tenants.
pub async fn authenticate_session(
    pool: &PgPool,
    token: &str,
) -> Result<CurrentSession, DomainError> {
    let refused =
        || DomainError::Unauthenticated("your session has ended; please sign in again".into());
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT s.id, s.user_id, s.tenant_id, u.role, u.email, u.status AS user_status,
                t.status AS tenant_status, s.mfa_verified_at IS NOT NULL AS mfa_verified, s.pending_purpose, s.created_at, s.expires_at,
                s.revoked_at IS NOT NULL OR s.expires_at <= now() AS revoked,
                s.last_seen_at + make_interval(secs => s.idle_timeout_secs) <= now() AS idle,
                s.last_seen_at <= now() - make_interval(secs => $2) AS needs_touch
         FROM sessions s
         JOIN users u ON u.id = s.user_id
         LEFT JOIN tenants t ON t.id = s.tenant_id
         WHERE s.token_hash = $1",
    )
    .bind(token_hash(token))
    .bind(TOUCH_INTERVAL.whole_seconds() as f64)
    .fetch_optional(pool)
    .await?;
    let row = row.ok_or_else(refused)?;
    let active_user = UserStatus::parse(&row.user_status)? == UserStatus::Active;
    let active_tenant = match &row.tenant_status {
        Some(status) => TenantStatus::parse(status)? == TenantStatus::Active,
        None => true,
    };
    if row.revoked || row.idle || !active_user || !active_tenant {
        return Err(refused());
    }
    if row.needs_touch {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = now() WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(row.id)
        .execute(pool)
        .await?;
    }
    Ok(CurrentSession {
        session_id: row.id,
        user_id: row.user_id,
        tenant_id: row.tenant_id,
        role: Role::parse(&row.role)?,
        email: row.email,
        mfa_verified: row.mfa_verified,
        // An unknown or missing purpose is the stricter one.
        pending: (!row.mfa_verified).then_some(match row.pending_purpose.as_deref() {
            Some("enrolment") => PendingPurpose::Enrolment,
            _ => PendingPurpose::SecondFactor,
        }),
        authenticated_at: row.created_at,
        expires_at: row.expires_at,
    })
}

/// Who ends sessions, for the audit entry.
#[derive(Debug, Clone, Copy)]
pub struct Revoker {
    pub actor_type: ActorType,
    pub actor_id: Option<Uuid>,
}

impl Revoker {
    /// The operation's actor, or the system (`None`).
    pub fn of(actor: Option<&crate::permissions::Actor>) -> Self {
        let (actor_type, actor_id) = crate::audit::actor_of(actor);
        Self {
            actor_type,
            actor_id,
        }
    }

    pub const SYSTEM: Revoker = Revoker {
        actor_type: ActorType::System,
        actor_id: None,
    };
}

async fn revoke_where(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    by: Revoker,
    reason: RevokeReason,
    scope: RevokeScope,
) -> Result<u64, DomainError> {
    // The column is one of three fixed names, never input.
    let (column, id, tenant, resource) = match scope {
        RevokeScope::Session(id) => ("id", id, None, format!("session:{id}")),
        RevokeScope::User(id) => ("user_id", id, None, format!("user:{id}")),
        RevokeScope::Tenant(id) => ("tenant_id", id, Some(id), format!("tenant:{id}")),
    };
    let sql = format!(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2
         WHERE {column} = $1 AND revoked_at IS NULL RETURNING tenant_id"
    );
    let tenants: Vec<Option<Uuid>> = sqlx::query_scalar(&sql)
        .bind(id)
        .bind(reason.as_str())
        .fetch_all(&mut *conn)
        .await?;
    let count = tenants.len() as u64;
    // Whatever ends all of a user's or a tenant's sessions ends their tokens too (SPEC §2).
    let refresh_tokens = match scope {
        RevokeScope::User(user) => crate::oauth::revoke_user_tokens(conn, user).await?,
        RevokeScope::Tenant(tenant) => crate::oauth::revoke_tenant_tokens(conn, tenant).await?,
        RevokeScope::Session(session) => {
            crate::oauth::revoke_session_tokens(conn, crate::oauth::SessionTokens::Of(session))
                .await?
        }
    };
    if count > 0 || refresh_tokens > 0 {
        let tenant_id = tenant.or_else(|| tenants.first().copied().flatten());
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("session.revoked")
                .tenant(tenant_id)
                .actor(by.actor_type, by.actor_id)
                .resource(resource)
                .meta("reason", reason.as_str())
                .meta("sessions", count)
                .meta("refresh_grants", refresh_tokens),
        )
        .await?;
    }
    Ok(count)
}

enum RevokeScope {
    Session(Uuid),
    User(Uuid),
    Tenant(Uuid),
}

/// Ends one session (logout, or an explicit revocation). Returns whether it was live.
pub async fn revoke_session(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    by: Revoker,
    session_id: Uuid,
    reason: RevokeReason,
) -> Result<bool, DomainError> {
    Ok(revoke_where(conn, ctx, by, reason, RevokeScope::Session(session_id)).await? > 0)
}

/// Ends every live session of a user (password change or reset, role change, disable,
/// delete, explicit revocation). Returns how many ended.
pub async fn revoke_user_sessions(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    by: Revoker,
    user_id: Uuid,
    reason: RevokeReason,
) -> Result<u64, DomainError> {
    revoke_where(conn, ctx, by, reason, RevokeScope::User(user_id)).await
}

/// Ends every live session in a tenant (suspension). Returns how many ended.
pub async fn revoke_tenant_sessions(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    by: Revoker,
    tenant_id: Uuid,
    reason: RevokeReason,
) -> Result<u64, DomainError> {
    revoke_where(conn, ctx, by, reason, RevokeScope::Tenant(tenant_id)).await
}

/// Whether the person has a second factor: a confirmed authenticator app or a passkey.
pub async fn has_confirmed_factor<'e>(
    db: impl sqlx::PgExecutor<'e>,
    user_id: Uuid,
) -> Result<bool, DomainError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL)
             OR EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = $1)",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?)
}
