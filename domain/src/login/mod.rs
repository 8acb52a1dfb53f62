//! Password sign-in (UC-LOGIN, FR-AUTH-001; SPEC §3) and brute-force throttling.
//!
//! Unknown email and wrong password give the same answer and cost the same: with no
//! account to check, a dummy hash is verified. When the address exists in several tenants
//! and no tenant hint is given, the password is checked against each and the caller lets
//! the person pick among the tenants where it matched.
//!
//! Throttling is `passwords::throttle`: every failure and every lock is audited.

mod adaptive;
mod geo;
mod password_reset;
mod sso;
pub use adaptive::*;
pub use geo::*;
pub use password_reset::*;
pub use sso::*;

use crate::audit::{append_audit_entry, ActorType, AuditArgs, AuditEntry, RequestContext};
use crate::passwords::throttle::reserve_attempt;
use crate::passwords::{bind_reservation, verify_password, Attempt, Reserved, PASSWORD_ATTEMPTS};
use crate::sessions::{create_session, session_insert, IssuedSession, NewSession, SessionDraft};
use crate::types::{Email, Role, TenantDomain, TenantStatus, UserStatus};
use crate::users::SignInRefusal;
use crate::DomainError;
use anyhow::Context as _;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Row};
use std::time::Duration;
use uuid::Uuid;

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
        /// Failed attempts on this address within the window before this success: an
        /// adaptive-authentication signal (NFR-SEC-006).
        recent_failures: i32,
        /// An owner signing in with a password while the organisation requires SSO: a
        /// second factor is always asked for, and the other owners are told (SPEC §3).
        break_glass: bool,
    },
    /// The password matched accounts in several tenants: let the person choose.
    ChooseTenant(Vec<TenantChoice>),
    /// The password was right, but the account cannot sign in (audited).
    Refused(SignInRefusal),
}

struct Candidate {
    id: Uuid,
    last_login_at: Option<time::OffsetDateTime>,
    tenant_id: Option<Uuid>,
    role: String,
    status: String,
    password_hash: Option<String>,
    tenant_name: Option<String>,
    tenant_domain: Option<String>,
    tenant_status: Option<String>,
    sso_enforced: bool,
    has_factor: bool,
}

/// One row of the sign-in lookup: the attempt's reservation and one account with that
/// address (none when the address is unknown).
#[derive(sqlx::FromRow)]
struct LookupRow {
    #[sqlx(flatten)]
    reserved: Reserved,
    id: Option<Uuid>,
    last_login_at: Option<time::OffsetDateTime>,
    tenant_id: Option<Uuid>,
    role: Option<String>,
    status: Option<String>,
    password_hash: Option<String>,
    tenant_name: Option<String>,
    tenant_domain: Option<String>,
    tenant_status: Option<String>,
    sso_enforced: Option<bool>,
    has_factor: Option<bool>,
}

impl LookupRow {
    fn candidate(self) -> Option<Candidate> {
        Some(Candidate {
            id: self.id?,
            last_login_at: self.last_login_at,
            tenant_id: self.tenant_id,
            role: self.role?,
            status: self.status?,
            password_hash: self.password_hash,
            tenant_name: self.tenant_name,
            tenant_domain: self.tenant_domain,
            tenant_status: self.tenant_status,
            sso_enforced: self.sso_enforced.unwrap_or(false),
            has_factor: self.has_factor.unwrap_or(false),
        })
    }
}

/// Without a tenant hint, every sign-in verifies this many password hashes, whatever the
/// address: the accounts with that address and, for the rest, a dummy hash. So the time
/// an answer takes tells nothing about how many organisations an address belongs to, or
/// whether it exists (SPEC §3). An address in more organisations than this signs in to
/// the others through their own login page (`/t/{domain}/login`); the most recently used
/// accounts are the ones checked. The checks run side by side on the hashing threads.
pub const HINTLESS_VERIFICATIONS: usize = 3;

/// The candidates whose hash `login`'s password matches, after exactly one verification
/// with a tenant hint and [`HINTLESS_VERIFICATIONS`] without.
async fn verify_candidates(
    mut candidates: Vec<Candidate>,
    login: &PasswordLogin,
) -> Result<Vec<Candidate>, DomainError> {
    let rounds = if login.tenant.is_some() {
        1
    } else {
        HINTLESS_VERIFICATIONS
    };
    candidates.sort_by_key(|c| std::cmp::Reverse(c.last_login_at));
    candidates.truncate(rounds);
    let mut hashes: Vec<Option<String>> =
        candidates.iter().map(|c| c.password_hash.clone()).collect();
    // An account without a password costs a dummy verification like an unknown one.
    hashes.resize(rounds, None);
    let checks = hashes
        .into_iter()
        .map(|hash| verify_password(hash, &login.password));
    let verdicts = futures_util::future::try_join_all(checks).await?;
    let mut matched: Vec<Candidate> = candidates
        .into_iter()
        .zip(verdicts)
        .filter_map(|(c, ok)| ok.then_some(c))
        .collect();
    matched.sort_by(|a, b| a.tenant_name.cmp(&b.tenant_name));
    Ok(matched)
}

/// The audit entry of a failed password sign-in for `login`.
fn login_failure(login: &PasswordLogin) -> AuditEntry {
    AuditEntry::new("auth.login.failure")
        .failure()
        .actor(ActorType::User, None)
        .resource(format!("email:{}", login.email.as_str().to_lowercase()))
        .meta("method", "password")
        .meta(
            "tenant_hint",
            login.tenant.as_ref().map(|t| t.as_str().to_owned()),
        )
}

/// Checks an email and password. The attempt is counted against the account's and the
/// IP's throttle before any hashing ([`Attempt`]); a wrong password keeps it counted and is
/// audited, a right one takes it back. The caller records the success together with the
/// session it creates.
pub async fn verify_password_login(
    pool: &PgPool,
    ctx: &RequestContext,
    login: PasswordLogin,
) -> Result<LoginOutcome, DomainError> {
    let account_key = login.email.as_str().to_lowercase();
    let ip_key = ctx.ip.map(|ip| ip.to_string());
    // The reservation and the accounts in one round trip; both are read whatever they
    // hold, so an unknown address costs what a known one does.
    let lookup = sqlx::query_as(concat!(
        reserve_attempt!(),
        " SELECT r.*, c.* FROM r LEFT JOIN LATERAL (
             SELECT u.id, u.tenant_id, u.role, u.status, u.password_hash, u.last_login_at,
                    t.name AS tenant_name, t.domain AS tenant_domain, t.status AS tenant_status,
                    coalesce(t.sso_enforced, false) AS sso_enforced,
                    CASE WHEN t.sso_enforced THEN
                        EXISTS (SELECT 1 FROM mfa_totp m WHERE m.user_id = u.id AND m.confirmed_at IS NOT NULL)
                        OR EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id)
                    ELSE false END AS has_factor
             FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
             WHERE lower(u.email) = lower($8) AND u.status <> 'archived'
               AND ($9::text IS NULL OR t.domain = $9)
         ) c ON r.account_reserved IS NOT NULL
         ORDER BY c.tenant_name NULLS FIRST",
    ));
    let rows: Vec<LookupRow> =
        bind_reservation(lookup, &PASSWORD_ATTEMPTS, &account_key, ip_key.as_deref())
            .bind(login.email.as_str())
            .bind(login.tenant.as_ref().map(TenantDomain::as_str))
            .fetch_all(pool)
            .await?;
    let reserved = rows.first().map(|r| r.reserved).unwrap_or_default();
    let attempt = Attempt {
        account_key,
        ip_key,
        reserved,
    };
    if !reserved.admitted() {
        return Err(attempt
            .refuse_locked(pool, ctx, login_failure(&login))
            .await?);
    }
    let delay = attempt.delay();
    if delay > Duration::ZERO {
        tokio::time::sleep(delay).await;
    }
    let candidates: Vec<Candidate> = rows.into_iter().filter_map(LookupRow::candidate).collect();

    let matched = match verify_candidates(candidates, &login).await {
        Ok(matched) => matched,
        Err(e) => {
            // Nothing was checked (the hashing queue is full, say): no guess to count.
            attempt.abandon(pool).await?;
            return Err(e);
        }
    };
    if matched.is_empty() {
        attempt
            .failed(
                pool,
                ctx,
                login_failure(&login).meta("reason", "invalid_credentials"),
            )
            .await?;
        return Err(DomainError::Unauthenticated(INVALID.into()));
    }
    // The password is proven: the attempt was no guess, and the person may learn why
    // their account cannot sign in.
    attempt.succeeded(pool).await?;
    let mut usable = Vec::new();
    let mut refusal = None;
    for c in matched {
        let tenant = c
            .tenant_status
            .as_deref()
            .map(TenantStatus::parse)
            .transpose()?;
        let mut reason = SignInRefusal::of(UserStatus::parse(&c.status)?, tenant);
        // "Require SSO": the organisation's people sign in through its provider; owners
        // keep a password, but only together with a second factor (break-glass).
        if reason.is_none() && c.sso_enforced && (c.role != "owner" || !c.has_factor) {
            reason = Some(SignInRefusal::SsoEnforced);
        }
        match reason {
            Some(r) => refusal = Some((c.id, c.tenant_id, r)),
            None => usable.push(c),
        }
    }
    if usable.is_empty() {
        let (user_id, tenant_id, refused) =
            refusal.ok_or_else(|| anyhow::anyhow!("no refusal recorded"))?;
        return refuse_sign_in(pool, ctx, user_id, tenant_id, refused).await;
    }
    if usable.len() == 1 {
        let c = usable.remove(0);
        return Ok(LoginOutcome::Authenticated {
            user_id: c.id,
            tenant_id: c.tenant_id,
            role: Role::parse(&c.role)?,
            recent_failures: attempt.failures_before(),
            break_glass: c.sso_enforced,
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

/// Refuses a sign-in whose password was proven but whose account may not use it, audited
/// as `auth.login.failure` with the reason (also the door's refusal of platform staff
/// when the platform's provider is their way in).
pub async fn refuse_sign_in(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    refused: SignInRefusal,
) -> Result<LoginOutcome, DomainError> {
    let mut conn = pool.acquire().await?;
    append_audit_entry(
        &mut conn,
        ctx,
        AuditEntry::new("auth.login.failure")
            .failure()
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("reason", refused.code())
            .meta("method", "password"),
    )
    .await?;
    Ok(LoginOutcome::Refused(refused))
}

/// What a sign-in needs next after the first factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Signed in.
    Done,
    /// The session is pending until a second factor is given (`/login/mfa`).
    SecondFactor,
    /// MFA is required and the account has no factor yet: enrol one now.
    EnrolSecondFactor,
}

/// A started sign-in: the session (pending unless `next` is `Done`) and where to go.
#[derive(Debug)]
pub struct SignIn {
    pub issued: IssuedSession,
    pub role: Role,
    pub next: NextStep,
    /// Why the second factor is asked for (policy, or adaptive signals).
    pub reasons: Vec<&'static str>,
    /// A device token for the browser's device cookie, when a sign-in completed from a
    /// new device: the next sign-in from this browser is not "a new device".
    pub device: Option<SecretString>,
}

/// What the browser brings to a sign-in besides the first factor.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignInSignals<'a> {
    /// The trusted-device cookie, if any.
    pub device_token: Option<&'a str>,
    /// Failed attempts on the account before this success.
    pub recent_failures: i32,
    /// The session cookie the browser had; it ends here (the id rotates at sign-in).
    pub previous_token: Option<&'a str>,
    /// The organisation's provider checked a second factor and the connection trusts it
    /// (the ID token's `amr`): Gatehouse does not ask for its own.
    pub idp_second_factor: bool,
    /// A break-glass owner (see [`LoginOutcome::Authenticated`]): the second factor is
    /// asked for whatever the device.
    pub break_glass: bool,
}

#[derive(sqlx::FromRow)]
struct MfaStanding {
    role: String,
    tenant_id: Option<Uuid>,
    email: String,
    mfa_policy: Option<String>,
    enrolled: bool,
    signed_in_before: bool,
    /// The browser's device token: unknown, known (false) or trusted (true).
    device: Option<bool>,
    known_network: bool,
    /// The location signals the person's tenant has on (all for platform staff).
    location_signals: Vec<String>,
}

/// Starts a session after the first factor (`method`: "pwd", "sso", ...), deciding whether
/// a second factor is needed (CON-SEC-005, NFR-SEC-006): an account with a factor is asked
/// for it on a new device, from a new network or after recent failures; an account that
/// must use MFA (operators and auditors always, tenant users by the tenant's policy) and
/// has none must enrol now. Without a second step the sign-in is complete and audited as
/// `auth.login.success`; otherwise the session is pending and `auth.mfa.challenge.issued`
/// records why. An account without a factor signing in from a new device or network is
/// sent a notice by email (`account_url` links to where sessions can be revoked).
pub async fn begin_sign_in(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    method: &str,
    signals: SignInSignals<'_>,
    account_url: &str,
) -> Result<SignIn, DomainError> {
    let standing: MfaStanding = sqlx::query_as(
        "SELECT u.role, u.tenant_id, u.email, t.mfa_policy, u.last_login_at IS NOT NULL AS signed_in_before,
                EXISTS (SELECT 1 FROM mfa_totp m WHERE m.user_id = u.id AND m.confirmed_at IS NOT NULL)
                OR EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id) AS enrolled,
                (SELECT d.second_factor FROM trusted_devices d
                  WHERE d.token_hash = $2 AND d.user_id = u.id AND d.expires_at > now()) AS device,
                $3::cidr IS NULL OR EXISTS (
                    SELECT 1 FROM known_networks n WHERE n.user_id = u.id AND n.network = $3::cidr
                ) AS known_network,
                coalesce(t.location_signals,
                         ARRAY['new_country', 'impossible_travel', 'unusual_hour']) AS location_signals
         FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1",
    )
    .bind(user_id)
    .bind(signals.device_token.map(crate::token_hash))
    .bind(ctx.ip.map(crate::login::network_of))
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| DomainError::Unauthenticated(INVALID.into()))?;
    let role = Role::parse(&standing.role)?;
    let required = crate::mfa::mfa_required_stored(&standing.role, standing.mfa_policy.as_deref())?;
    // No round trip unless the address is placed (the usual sign-in of bench/login is not).
    let location = location_risk(pool, user_id, ctx.ip, &standing.location_signals).await?;
    let mut risk = risk_signals(
        standing.device,
        standing.known_network,
        signals.recent_failures,
    );
    risk.extend(location.signals.iter().copied());
    // Without a factor there is nothing a device could be trusted with.
    let risk: Vec<RiskSignal> = risk
        .into_iter()
        .filter(|r| standing.enrolled || *r != RiskSignal::UntrustedDevice)
        .collect();
    let mut reasons: Vec<&'static str> = risk.iter().map(|r| r.as_str()).collect();
    // Operators and auditors give their second factor at every sign-in: a trusted device
    // never skips it for them (SPEC §3).
    let platform = matches!(role, Role::Operator | Role::Auditor);
    if standing.enrolled && platform && reasons.is_empty() {
        reasons.push("platform_role");
    }
    if signals.break_glass && reasons.is_empty() {
        reasons.push("break_glass");
    }
    let next = if signals.idp_second_factor {
        reasons.clear();
        NextStep::Done
    } else if standing.enrolled {
        if risk.is_empty() && !platform && !signals.break_glass {
            NextStep::Done
        } else {
            NextStep::SecondFactor
        }
    } else if required {
        reasons = vec!["policy"];
        NextStep::EnrolSecondFactor
    } else {
        NextStep::Done
    };

    let both = [method, "idp_mfa"];
    let methods: &[&str] = if signals.idp_second_factor {
        &both
    } else {
        &both[..1]
    };
    let done = next == NextStep::Done;
    let new_device = done && risk.contains(&RiskSignal::NewDevice);
    let unfamiliar = risk.iter().any(|r| {
        matches!(
            r,
            RiskSignal::NewDevice
                | RiskSignal::NewNetwork
                | RiskSignal::NewCountry
                | RiskSignal::ImpossibleTravel
        )
    });
    let notice = done && unfamiliar && standing.signed_in_before;
    if done && signals.previous_token.is_none() && !new_device && !notice {
        // Nothing else to write: the sign-in statement is atomic on its own.
        let mut conn = pool.acquire().await?;
        let (issued, _) = signed_in(&mut conn, ctx, user_id, methods, true, &reasons).await?;
        return Ok(SignIn {
            issued,
            role,
            next,
            reasons,
            device: None,
        });
    }

    let mut tx = pool.begin().await?;
    if let Some(previous) = signals.previous_token {
        end_previous_session(&mut tx, previous).await?;
    }
    let mut device = None;
    let issued = if done {
        let (issued, _) = signed_in(&mut tx, ctx, user_id, methods, true, &reasons).await?;
        if new_device {
            device = Some(remember_device(&mut tx, user_id, ctx.user_agent.as_deref()).await?);
        }
        if notice {
            let to = crate::types::Email::parse(&standing.email)?;
            crate::email::enqueue_mail(
                &mut tx,
                standing.tenant_id,
                &to,
                crate::email::Mail::NewDeviceSignIn {
                    at: time::OffsetDateTime::now_utc(),
                    ip: ctx.ip.map(|ip| ip.to_string()),
                    user_agent: ctx.user_agent.clone(),
                    account_url: account_url.to_owned(),
                },
            )
            .await?;
        }
        issued
    } else {
        let issued = create_session(
            &mut tx,
            NewSession::for_request(ctx, user_id, methods, false),
        )
        .await?;
        // What the second-factor page tells the person (NFR-SEC-006).
        let mut shown: Vec<String> = reasons
            .iter()
            .filter(|r| !location.signals.iter().any(|s| s.as_str() == **r))
            .map(|r| (*r).to_owned())
            .collect();
        shown.extend(location.reasons());
        sqlx::query("UPDATE sessions SET challenge_reasons = $2 WHERE id = $1")
            .bind(issued.id)
            .bind(&shown)
            .execute(&mut *tx)
            .await?;
        let mut entry = AuditEntry::new("auth.mfa.challenge.issued")
            .tenant(standing.tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("reasons", reasons.join(","))
            .meta("enrolment_required", next == NextStep::EnrolSecondFactor)
            .meta("first_factor", method);
        if let Some(country) = location.country {
            entry = entry.meta("country", country.as_str());
        }
        if let Some(from) = location.from {
            entry = entry.meta("previous_country", from.as_str());
        }
        append_audit_entry(&mut tx, ctx, entry).await?;
        if signals.break_glass {
            break_glass_notice(&mut tx, ctx, user_id, standing.tenant_id, &standing.email).await?;
        }
        issued
    };
    tx.commit().await?;
    Ok(SignIn {
        issued,
        role,
        next,
        reasons,
        device,
    })
}

/// A break-glass sign-in (SPEC §3): audited, and mailed to the tenant's other owners.
async fn break_glass_notice(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    email: &str,
) -> Result<(), DomainError> {
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("auth.sso.break_glass")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}")),
    )
    .await?;
    let others: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.email, t.name FROM users u JOIN tenants t ON t.id = u.tenant_id
         WHERE u.tenant_id = $1 AND u.role = 'owner' AND u.status = 'active' AND u.id <> $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    for (to, tenant_name) in others {
        let Ok(to) = Email::parse(&to) else { continue };
        crate::email::enqueue_mail(
            conn,
            tenant_id,
            &to,
            crate::email::Mail::BreakGlassSignIn {
                owner: email.to_owned(),
                tenant_name,
                at: time::OffsetDateTime::now_utc(),
                ip: ctx.ip.map(|ip| ip.to_string()),
            },
        )
        .await?;
    }
    Ok(())
}

/// Completes a pending sign-in with its second factor (`method`: "otp", "hwk", "rec"),
/// already verified by the caller: the pending session ends and a full one replaces it
/// (the id rotates at this privilege change), and `auth.login.success` is recorded. With
/// `trust_device` the browser gets a trusted-device token for its cookie.
pub async fn complete_mfa_sign_in(
    pool: &PgPool,
    ctx: &RequestContext,
    pending_token: &str,
    method: &str,
    trust_device: bool,
) -> Result<(IssuedSession, Role, Option<SecretString>), DomainError> {
    let mut tx = pool.begin().await?;
    let pending: Option<(Uuid, Vec<String>)> = sqlx::query_as(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = 'privilege_change'
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now() AND mfa_verified_at IS NULL
         RETURNING user_id, auth_methods",
    )
    .bind(crate::token_hash(pending_token))
    .fetch_optional(&mut *tx)
    .await?;
    let (user_id, mut methods) = pending.ok_or_else(|| {
        DomainError::Unauthenticated("this sign-in has expired; please sign in again".into())
    })?;
    methods.push(method.to_owned());
    let methods: Vec<&str> = methods.iter().map(String::as_str).collect();
    let (issued, role) = signed_in(&mut tx, ctx, user_id, &methods, true, &[]).await?;
    let device = if trust_device {
        Some(crate::login::trust_device(&mut tx, user_id, ctx.user_agent.as_deref()).await?)
    } else {
        None
    };
    tx.commit().await?;
    Ok((issued, role, device))
}

/// Finishes a sign-in whose factors are all proven (a passkey alone, or tests): ends the
/// browser's previous session, creates the full session, stamps `last_login_at` and
/// records `auth.login.success` — all in one transaction.
pub async fn complete_sign_in(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    methods: &[&str],
    mfa_verified: bool,
    previous_token: Option<&str>,
) -> Result<(IssuedSession, Role), DomainError> {
    let mut tx = pool.begin().await?;
    if let Some(previous) = previous_token {
        end_previous_session(&mut tx, previous).await?;
    }
    let signed = signed_in(&mut tx, ctx, user_id, methods, mfa_verified, &[]).await?;
    tx.commit().await?;
    Ok(signed)
}

async fn end_previous_session(conn: &mut PgConnection, token: &str) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = 'privilege_change'
         WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(crate::token_hash(token))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A completed sign-in as one statement, atomic on its own: the full session, the
/// user's `last_login_at`, the known network (NFR-SEC-006; its `last_seen` moves at most
/// hourly) and the `auth.login.success` entry (FR-LOG-003). One round trip, so a sign-in
/// without anything else to write needs no explicit transaction (bench/login).
/// Refused, with nothing written, when the user is no longer active. Returns the session
/// and the user's role.
async fn signed_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    user_id: Uuid,
    methods: &[&str],
    mfa_verified: bool,
    risk: &[&str],
) -> Result<(IssuedSession, Role), DomainError> {
    let draft = SessionDraft::new(NewSession::for_request(ctx, user_id, methods, mfa_verified));
    // The entry's tenant is the session's ($13 is NULL here), known only inside.
    let mut entry = AuditEntry::new("auth.login.success")
        .actor(ActorType::User, Some(user_id))
        .resource(format!("user:{user_id}"))
        .meta("methods", methods.join(","))
        .meta("risk", risk.join(","))
        .meta("session", draft.id.to_string());
    if let Some(country) = ctx.ip.and_then(locate) {
        entry = entry.meta("country", country.as_str());
    }
    let audit = AuditArgs::sealed(conn, ctx, entry).await?;
    let query = sqlx::query(concat!(
        "WITH s AS (",
        session_insert!(),
        " RETURNING user_id, tenant_id, expires_at
         ), u AS (
             UPDATE users SET last_login_at = now() FROM s WHERE users.id = s.user_id
             RETURNING users.role
         ), n AS (
             INSERT INTO known_networks (user_id, network)
             SELECT s.user_id, $10::cidr FROM s WHERE $10::cidr IS NOT NULL
             ON CONFLICT (user_id, network) DO UPDATE SET last_seen = now()
                 WHERE known_networks.last_seen < now() - interval '1 hour'
         )
         SELECT s.expires_at, u.role
         FROM s, u, audit_append($11, $12, coalesce($13, s.tenant_id), $14, $15, $16, $17, $18, $19, $20, $21, $22)",
    ));
    let query = draft.bind(query).bind(ctx.ip.map(crate::login::network_of));
    let row = audit
        .bind(query)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| DomainError::Unauthenticated("this account cannot sign in".into()))?;
    let expires_at = row.try_get("expires_at").context("session expiry")?;
    let role: String = row.try_get("role").context("user role")?;
    Ok((draft.issued(expires_at), Role::parse(&role)?))
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
    // The applications this session signed in to lose its tokens.
    let grants =
        crate::oauth::revoke_session_tokens(&mut tx, crate::oauth::SessionTokens::Of(session_id))
            .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.logout")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("session:{session_id}"))
            .meta("refresh_grants_revoked", grants),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Why this pending session was asked for its second factor, in the person's words
/// ("New country: France"; NFR-SEC-006).
pub async fn challenge_reasons(
    pool: &PgPool,
    session_id: Uuid,
) -> Result<Vec<String>, DomainError> {
    let stored: Option<Option<Vec<String>>> =
        sqlx::query_scalar("SELECT challenge_reasons FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(pool)
            .await?;
    Ok(stored
        .flatten()
        .unwrap_or_default()
        .iter()
        .filter_map(|r| describe_reason(r))
        .collect())
}
