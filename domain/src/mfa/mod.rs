//! Multi-factor authentication with authenticator apps and recovery codes (NFR-SEC-003,
//! CON-SEC-005; SPEC §3 "MFA"). Passkeys, the other second factor, live in
//! [`crate::mfa`]; this module decides who must use MFA and lists both kinds.
//!
//! - Policy: operators and auditors always need a second factor; a tenant asks it of its
//!   owners and admins (`admins`) or of everyone (`everyone`).
//! - TOTP (RFC 6238 through totp-rs): SHA-1, 6 digits, 30-second steps, one step of clock
//!   skew either way. The 160-bit seed is encrypted at rest under the master key
//!   (SPEC §10), bound to its row. A code is never accepted twice: the row remembers the
//!   last accepted time step and only a later step passes, claimed by a conditional
//!   `UPDATE` so two requests racing with the same code cannot both win.
//! - Recovery codes: ten single-use codes of ten characters from an alphabet without
//!   look-alike characters (`xxxxx-xxxxx`), shown once and stored as SHA-256. A code has
//!   about 49 bits of entropy; the hash is salted with the user id so one table of
//!   precomputed hashes cannot serve every account.
//! - The sign-in challenge is throttled per account: five wrong codes within 15 minutes
//!   lock the second factor for 15 minutes. Every failure is audited without the code.

mod passkeys;
pub use passkeys::*;

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::crypto::MasterKeys;
/// Whether the person has a factor is asked by sessions too (a pending sign-in may enrol
/// only without one), so the query lives there, below this module.
pub use crate::sessions::has_confirmed_factor;
use crate::types::Role;
use crate::DomainError;
use anyhow::Context as _;
use rand::Rng as _;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use std::fmt;
use time::OffsetDateTime;
use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;

pub use crate::mfa::PasskeySummary;
pub use crate::types::MfaPolicy;

/// RFC 6238 parameters every authenticator app understands (SPEC §3).
const TOTP_STEP_SECS: u64 = 30;
const TOTP_DIGITS: usize = 6;
/// Steps of clock drift tolerated either way.
const TOTP_SKEW_STEPS: u64 = 1;
/// 160 bits, the size RFC 4226 recommends (totp-rs refuses less than 128).
const TOTP_SEED_BYTES: usize = 20;
/// An enrolment not confirmed within this time must be started again.
const ENROLMENT_TTL_SECS: i64 = 60 * 60;
const DEFAULT_TOTP_LABEL: &str = "Authenticator app";

/// Recovery codes per generation (SPEC §3).
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Lower-case letters and digits without 0/o, 1/l/i: nothing to confuse when copied by hand.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const RECOVERY_CODE_CHARS: usize = 10;

/// Wrong second-factor codes tolerated per account within [`MFA_WINDOW_SECS`].
pub const MFA_LOCK_AFTER: i32 = 5;
pub const MFA_WINDOW_SECS: i64 = 15 * 60;
/// How long the second factor stays locked after too many wrong codes.
pub const MFA_LOCK_SECS: i64 = 15 * 60;

const WRONG_CODE: &str = "that code is not right";
const WRONG_ENROLMENT_CODE: &str =
    "that code is not right; check the time on your device and try the newest code";

// --- policy -------------------------------------------------------------------------------

/// Whether someone with `role` must use a second factor (CON-SEC-005). Platform users
/// have no tenant policy and always must; tenant users follow their tenant's policy.
pub fn mfa_required(role: Role, tenant_policy: Option<MfaPolicy>) -> bool {
    if role.is_platform() {
        return true;
    }
    match tenant_policy {
        None | Some(MfaPolicy::Off) => false,
        Some(MfaPolicy::Admins) => matches!(role, Role::Owner | Role::Admin),
        Some(MfaPolicy::Everyone) => true,
    }
}

/// [`mfa_required`] from stored columns: `users.role` and the tenant's `mfa_policy`.
pub fn mfa_required_stored(role: &str, tenant_policy: Option<&str>) -> Result<bool, DomainError> {
    Ok(mfa_required(
        Role::parse(role)?,
        tenant_policy.map(MfaPolicy::parse).transpose()?,
    ))
}

/// Refuses removing a factor when the account must use MFA and it is the last one
/// (`what` names the factor in the message, e.g. "this passkey").
pub(crate) fn ensure_factor_kept(
    role: &str,
    tenant_policy: Option<&str>,
    another_factor: bool,
    field: &str,
    what: &str,
) -> Result<(), DomainError> {
    if !another_factor && mfa_required_stored(role, tenant_policy)? {
        return Err(DomainError::conflict(
            field,
            format!(
                "your account must keep a second factor; add another one before removing {what}"
            ),
        ));
    }
    Ok(())
}

/// [`mfa_required`] for a stored user (their role and their tenant's policy).
pub async fn mfa_requirement<'e>(
    db: impl sqlx::PgExecutor<'e>,
    user_id: Uuid,
) -> Result<bool, DomainError> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT u.role, t.mfa_policy FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
         WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    let (role, policy) = row.ok_or(DomainError::NotFound("user"))?;
    mfa_required_stored(&role, policy.as_deref())
}

// --- listing ------------------------------------------------------------------------------

/// A confirmed authenticator app, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotpDevice {
    pub id: Uuid,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The start of the time step of the last accepted code (confirmation included).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// A person's second factors, for the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MfaFactors {
    pub totp: Vec<TotpDevice>,
    pub passkeys: Vec<PasskeySummary>,
    pub recovery_codes_left: i64,
}

pub async fn mfa_factors(pool: &PgPool, user_id: Uuid) -> Result<MfaFactors, DomainError> {
    let rows: Vec<(Uuid, String, OffsetDateTime, Option<i64>)> = sqlx::query_as(
        "SELECT id, label, created_at, last_used_step FROM mfa_totp
         WHERE user_id = $1 AND confirmed_at IS NOT NULL ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    let totp = rows
        .into_iter()
        .map(|(id, label, created_at, step)| TotpDevice {
            id,
            label,
            created_at,
            last_used_at: step.and_then(step_start),
        })
        .collect();
    Ok(MfaFactors {
        totp,
        passkeys: crate::mfa::list_passkeys(pool, user_id).await?,
        recovery_codes_left: recovery_codes_left(pool, user_id).await?,
    })
}

fn step_start(step: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(step.checked_mul(TOTP_STEP_SECS as i64)?).ok()
}

// --- TOTP enrolment -----------------------------------------------------------------------

/// A started authenticator-app enrolment, shown once to its owner. Deliberately not
/// `Serialize`, and its `Debug` hides the QR code, which encodes the seed.
pub struct TotpEnrolment {
    pub id: Uuid,
    /// The seed in base32, for typing into an app that cannot scan.
    pub secret_base32: SecretString,
    /// `otpauth://totp/...` with the seed.
    pub otpauth_uri: SecretString,
    /// The otpauth URI as a QR code: a standalone `<svg>` element (no XML prolog, no
    /// external references), dark modules on white, at least 200 px square.
    pub qr_svg: String,
}

impl fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrolment")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Starts enrolling an authenticator app: a fresh seed, stored encrypted in an
/// unconfirmed row (replacing the person's earlier unconfirmed ones), and the QR code to
/// scan. `account_label` (the email) and `issuer` ("Gatehouse" or the tenant's name) are
/// what the app displays. The row is inert until [`confirm_totp_enrolment`], which is
/// where the enrolment is audited.
#[tracing::instrument(skip(pool, keys, account_label, issuer))]
pub async fn begin_totp_enrolment(
    pool: &PgPool,
    keys: &MasterKeys,
    user_id: Uuid,
    account_label: &str,
    issuer: &str,
) -> Result<TotpEnrolment, DomainError> {
    let mut seed = vec![0u8; TOTP_SEED_BYTES];
    rand::rngs::OsRng.fill(seed.as_mut_slice());
    let issuer = otpauth_text(issuer);
    let issuer = if issuer.is_empty() {
        "Gatehouse".to_owned()
    } else {
        issuer
    };
    let id = Uuid::now_v7();
    let ciphertext = keys.encrypt(&seed, &seed_aad(id))?;
    let totp = totp_for(seed, Some(issuer), otpauth_text(account_label))?;
    let otpauth_uri = totp.get_url();
    let qr_svg = qr_svg(&otpauth_uri)?;

    let mut tx = pool.begin().await?;
    let exists: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM users WHERE id = $1 AND status <> 'archived' FOR NO KEY UPDATE",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    exists.ok_or(DomainError::NotFound("user"))?;
    sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NULL")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO mfa_totp (id, user_id, secret_ciphertext) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(user_id)
        .bind(&ciphertext)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    Ok(TotpEnrolment {
        id,
        secret_base32: SecretString::from(totp.get_secret_base32()),
        otpauth_uri: SecretString::from(otpauth_uri),
        qr_svg,
    })
}

/// Confirms an enrolment with a code from the app, proving it holds the seed. The app then
/// counts as a second factor (`auth.mfa.enrolled`). The first enrolment of someone without
/// unused recovery codes also issues ten, returned here to be shown once.
#[tracing::instrument(skip(pool, ctx, keys, code, label))]
pub async fn confirm_totp_enrolment(
    pool: &PgPool,
    ctx: &RequestContext,
    keys: &MasterKeys,
    user_id: Uuid,
    enrolment_id: Uuid,
    code: &str,
    label: Option<&str>,
) -> Result<Option<Vec<SecretString>>, DomainError> {
    let label = totp_label(label)?;
    let mut tx = pool.begin().await?;
    // Serialises this person's factor changes (see `remove_totp`, `remove_passkey`).
    let tenant_id: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let tenant_id = tenant_id.ok_or(DomainError::NotFound("enrolment"))?;
    let row: Option<(Vec<u8>, bool)> = sqlx::query_as(
        "SELECT secret_ciphertext, created_at < now() - make_interval(secs => $3) FROM mfa_totp
         WHERE id = $1 AND user_id = $2 AND confirmed_at IS NULL FOR UPDATE",
    )
    .bind(enrolment_id)
    .bind(user_id)
    .bind(ENROLMENT_TTL_SECS as f64)
    .fetch_optional(&mut *tx)
    .await?;
    let (ciphertext, expired) = row.ok_or(DomainError::NotFound("enrolment"))?;
    if expired {
        return Err(DomainError::Gone(
            "this enrolment has expired; start again".into(),
        ));
    }
    let totp = decrypt_totp(keys, enrolment_id, &ciphertext)?;
    let step = normalize_totp_code(code)
        .and_then(|code| matching_step(&totp, &code, current_step()?, None))
        .ok_or_else(|| DomainError::validation("code", WRONG_ENROLMENT_CODE))?;
    sqlx::query(
        "UPDATE mfa_totp SET confirmed_at = now(), last_used_step = $2, label = $3 WHERE id = $1",
    )
    .bind(enrolment_id)
    .bind(step_i64(step)?)
    .bind(&label)
    .execute(&mut *tx)
    .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.mfa.enrolled")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("mfa_totp:{enrolment_id}"))
            .meta("factor", "totp")
            .meta("label", label.as_str()),
    )
    .await?;
    let codes = first_recovery_codes(&mut tx, ctx, user_id, tenant_id).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Removes one of the person's authenticator apps (another's answers ERR_NOT_FOUND);
/// audited as `auth.mfa.removed`. Someone who must use MFA (CON-SEC-005) cannot remove
/// their last second factor. Only self-service: `actor_user_id` must be `user_id` (the
/// actor is recorded); removing someone else's factor is not offered.
#[tracing::instrument(skip(pool, ctx))]
pub async fn remove_totp(
    pool: &PgPool,
    ctx: &RequestContext,
    actor_user_id: Uuid,
    user_id: Uuid,
    totp_id: Uuid,
) -> Result<(), DomainError> {
    const WHAT: &str = "authenticator app";
    if actor_user_id != user_id {
        return Err(DomainError::NotFound(WHAT));
    }
    let mut tx = pool.begin().await?;
    // Locks the account: two removals at once cannot both think a factor remains.
    let owner: Option<(String, Option<Uuid>, Option<String>)> = sqlx::query_as(
        "SELECT u.role, u.tenant_id, t.mfa_policy FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
         WHERE u.id = $1 FOR NO KEY UPDATE OF u",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (role, tenant_id, policy) = owner.ok_or(DomainError::NotFound(WHAT))?;
    let row: Option<(String, bool)> = sqlx::query_as(
        "SELECT label, confirmed_at IS NOT NULL FROM mfa_totp WHERE id = $1 AND user_id = $2",
    )
    .bind(totp_id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (label, confirmed) = row.ok_or(DomainError::NotFound(WHAT))?;
    if confirmed {
        let another_factor: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL AND id <> $2)
                 OR EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = $1)",
        )
        .bind(user_id)
        .bind(totp_id)
        .fetch_one(&mut *tx)
        .await?;
        ensure_factor_kept(
            &role,
            policy.as_deref(),
            another_factor,
            "totp",
            "this authenticator app",
        )?;
    }
    sqlx::query("DELETE FROM mfa_totp WHERE id = $1")
        .bind(totp_id)
        .execute(&mut *tx)
        .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.mfa.removed")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(actor_user_id))
            .resource(format!("mfa_totp:{totp_id}"))
            .meta("factor", "totp")
            .meta("label", label)
            .meta("confirmed", confirmed),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// --- recovery codes -----------------------------------------------------------------------

/// Replaces the person's unused recovery codes with ten new ones, returned to be shown
/// once; audited as `auth.mfa.recovery_codes.regenerated`. Needs a second factor first:
/// recovery codes stand in for one.
#[tracing::instrument(skip(pool, ctx))]
pub async fn regenerate_recovery_codes(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
) -> Result<Vec<SecretString>, DomainError> {
    let mut tx = pool.begin().await?;
    let tenant_id: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let tenant_id = tenant_id.ok_or(DomainError::NotFound("user"))?;
    if !has_confirmed_factor(&mut *tx, user_id).await? {
        return Err(DomainError::conflict(
            "recovery_codes",
            "add an authenticator app or a passkey before creating recovery codes",
        ));
    }
    let replaced = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let codes = insert_recovery_codes(&mut tx, user_id).await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.mfa.recovery_codes.regenerated")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("count", codes.len())
            .meta("replaced_unused", replaced),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Issues the first ten recovery codes inside the caller's transaction when the person
/// has no unused ones (audited as `auth.mfa.recovery_codes.generated`); `None` otherwise.
/// Called by TOTP confirmation; a passkey registration may call it too.
pub async fn first_recovery_codes(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
) -> Result<Option<Vec<SecretString>>, DomainError> {
    let unused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    if unused > 0 {
        return Ok(None);
    }
    let codes = insert_recovery_codes(conn, user_id).await?;
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("auth.mfa.recovery_codes.generated")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("count", codes.len()),
    )
    .await?;
    Ok(Some(codes))
}

/// Unused recovery codes the person has left.
pub async fn recovery_codes_left<'e>(
    db: impl sqlx::PgExecutor<'e>,
    user_id: Uuid,
) -> Result<i64, DomainError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?)
}

async fn insert_recovery_codes(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<SecretString>, DomainError> {
    let codes: Vec<String> = (0..RECOVERY_CODE_COUNT)
        .map(|_| new_recovery_code())
        .collect();
    let hashes: Vec<Vec<u8>> = codes
        .iter()
        .map(|c| recovery_code_hash(user_id, c))
        .collect();
    sqlx::query(
        "INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, h FROM unnest($2::bytea[]) AS h",
    )
    .bind(user_id)
    .bind(&hashes)
    .execute(&mut *conn)
    .await?;
    Ok(codes.into_iter().map(SecretString::from).collect())
}

/// `xxxxx-xxxxx` from [`RECOVERY_ALPHABET`], drawn uniformly from the OS generator.
fn new_recovery_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let mut code = String::with_capacity(RECOVERY_CODE_CHARS + 1);
    for i in 0..RECOVERY_CODE_CHARS {
        if i == RECOVERY_CODE_CHARS / 2 {
            code.push('-');
        }
        let pick = rng.gen_range(0..RECOVERY_ALPHABET.len());
        code.push(char::from(RECOVERY_ALPHABET[pick]));
    }
    code
}

/// Lower case, without the dash and any spaces people type or paste.
fn normalize_recovery_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn recovery_code_hash(user_id: Uuid, code: &str) -> Vec<u8> {
    crate::token_hash(&format!(
        "recovery_code:{user_id}:{}",
        normalize_recovery_code(code)
    ))
}

// --- the sign-in challenge ----------------------------------------------------------------

/// Which second factor a sign-in was completed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecondFactor {
    Totp,
    RecoveryCode { remaining: i64 },
}

/// Checks the second factor of `user_id`'s pending sign-in: six digits are an
/// authenticator-app code (any of the person's confirmed apps), anything else a recovery
/// code (used up here, `auth.mfa.recovery_code.used`). The caller then completes the
/// sign-in (`login::complete_mfa_sign_in` with "otp" or "rec").
///
/// Attempts for one account run one at a time (they lock its throttle row). A wrong code
/// is `auth.mfa.challenge.failure` and answers ERR_UNAUTHENTICATED; the fifth within 15
/// minutes locks the second factor for 15 minutes (`auth.lockout`, ERR_LOCKED), during
/// which even a right code is refused.
#[tracing::instrument(skip(pool, ctx, keys, code))]
pub async fn verify_second_factor(
    pool: &PgPool,
    ctx: &RequestContext,
    keys: &MasterKeys,
    user_id: Uuid,
    code: &str,
) -> Result<SecondFactor, DomainError> {
    if code.trim().is_empty() {
        return Err(DomainError::validation(
            "code",
            "enter the code from your authenticator app or one of your recovery codes",
        ));
    }
    let tenant_id: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    let tenant_id = tenant_id.ok_or_else(|| DomainError::Unauthenticated(WRONG_CODE.into()))?;
    let throttle_key = format!("mfa:{user_id}");
    let totp_code = normalize_totp_code(code);
    let method = if totp_code.is_some() {
        "totp"
    } else {
        "recovery_code"
    };
    let failure = |reason: &'static str| Failure {
        tenant_id,
        user_id,
        throttle_key: &throttle_key,
        method,
        reason,
    };

    let mut tx = pool.begin().await?;
    // Creates or locks the account's throttle row: attempts are serialised from here on.
    let locked_for: Option<f64> = sqlx::query_scalar(
        "INSERT INTO auth_throttle AS t (scope, key, failures, window_start) VALUES ('account', $1, 0, now())
         ON CONFLICT (scope, key) DO UPDATE SET failures = t.failures
         RETURNING extract(epoch FROM t.locked_until - now())::float8",
    )
    .bind(&throttle_key)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(left) = locked_for.filter(|left| *left > 0.0) {
        let retry_after_secs = left.ceil() as u64;
        record_failure(&mut tx, ctx, failure("locked"), false).await?;
        tx.commit().await?;
        return Err(locked(retry_after_secs));
    }

    let outcome = match totp_code {
        Some(code) => verify_totp(&mut tx, keys, user_id, &code).await?,
        None => verify_recovery_code(&mut tx, user_id, code).await?,
    };
    match outcome {
        Ok(factor) => {
            sqlx::query("DELETE FROM auth_throttle WHERE scope = 'account' AND key = $1")
                .bind(&throttle_key)
                .execute(&mut *tx)
                .await?;
            if let SecondFactor::RecoveryCode { remaining } = factor {
                append_audit_entry(
                    &mut tx,
                    ctx,
                    AuditEntry::new("auth.mfa.recovery_code.used")
                        .tenant(tenant_id)
                        .actor(ActorType::User, Some(user_id))
                        .resource(format!("user:{user_id}"))
                        .meta("remaining", remaining),
                )
                .await?;
            }
            tx.commit().await?;
            Ok(factor)
        }
        Err(reason) => {
            let now_locked = record_failure(&mut tx, ctx, failure(reason), true).await?;
            tx.commit().await?;
            if now_locked {
                Err(locked(MFA_LOCK_SECS as u64))
            } else {
                Err(DomainError::Unauthenticated(WRONG_CODE.into()))
            }
        }
    }
}

fn locked(retry_after_secs: u64) -> DomainError {
    DomainError::Locked {
        message: format!(
            "too many wrong codes; try again in {} minutes",
            retry_after_secs.div_ceil(60)
        ),
        retry_after_secs,
    }
}

/// Checks a six-digit code against the person's confirmed apps and claims its time step.
/// The inner `Err` is the audited reason of a refusal.
async fn verify_totp(
    conn: &mut PgConnection,
    keys: &MasterKeys,
    user_id: Uuid,
    code: &str,
) -> Result<Result<SecondFactor, &'static str>, DomainError> {
    let devices: Vec<(Uuid, Vec<u8>, Option<i64>)> = sqlx::query_as(
        "SELECT id, secret_ciphertext, last_used_step FROM mfa_totp
         WHERE user_id = $1 AND confirmed_at IS NOT NULL ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    if devices.is_empty() {
        return Ok(Err("no_authenticator_app"));
    }
    let now = current_step().ok_or_else(|| anyhow::anyhow!("the system clock is before 1970"))?;
    let mut reason = "wrong_code";
    for (id, ciphertext, last_used) in devices {
        let totp = decrypt_totp(keys, id, &ciphertext)?;
        let last_used = last_used.and_then(|s| u64::try_from(s).ok());
        let Some(step) = matching_step(&totp, code, now, last_used) else {
            if matching_step(&totp, code, now, None).is_some() {
                reason = "code_reused";
            }
            continue;
        };
        // The claim: only one request can move the step past this one.
        let claimed = sqlx::query(
            "UPDATE mfa_totp SET last_used_step = $2
             WHERE id = $1 AND (last_used_step IS NULL OR last_used_step < $2)",
        )
        .bind(id)
        .bind(step_i64(step)?)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if claimed == 1 {
            return Ok(Ok(SecondFactor::Totp));
        }
        reason = "code_reused";
    }
    Ok(Err(reason))
}

/// Uses up a recovery code. The inner `Err` is the audited reason of a refusal.
async fn verify_recovery_code(
    conn: &mut PgConnection,
    user_id: Uuid,
    code: &str,
) -> Result<Result<SecondFactor, &'static str>, DomainError> {
    let normalized = normalize_recovery_code(code);
    if normalized.chars().count() != RECOVERY_CODE_CHARS {
        return Ok(Err("malformed_code"));
    }
    let hash = recovery_code_hash(user_id, &normalized);
    // Single use even under concurrency: the row is claimed by this conditional update.
    let used = sqlx::query(
        "UPDATE recovery_codes SET used_at = now()
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(&hash)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if used == 1 {
        let remaining = recovery_codes_left(&mut *conn, user_id).await?;
        return Ok(Ok(SecondFactor::RecoveryCode { remaining }));
    }
    let spent: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM recovery_codes WHERE user_id = $1 AND code_hash = $2)",
    )
    .bind(user_id)
    .bind(&hash)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Err(if spent {
        "recovery_code_used"
    } else {
        "wrong_recovery_code"
    }))
}

struct Failure<'a> {
    tenant_id: Option<Uuid>,
    user_id: Uuid,
    throttle_key: &'a str,
    method: &'static str,
    reason: &'static str,
}

/// Audits a refused second factor and, when it counts, adds it to the account's throttle,
/// locking it at the limit (`auth.lockout`). Returns whether it locked now.
async fn record_failure(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    failure: Failure<'_>,
    counts: bool,
) -> Result<bool, DomainError> {
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("auth.mfa.challenge.failure")
            .failure()
            .tenant(failure.tenant_id)
            .actor(ActorType::User, Some(failure.user_id))
            .resource(format!("user:{}", failure.user_id))
            .meta("reason", failure.reason)
            .meta("method", failure.method),
    )
    .await?;
    if !counts {
        return Ok(false);
    }
    let locked: bool = sqlx::query_scalar(
        "UPDATE auth_throttle AS t SET
             failures = CASE WHEN t.window_start > now() - make_interval(secs => $3) THEN t.failures + 1 ELSE 1 END,
             window_start = CASE WHEN t.window_start > now() - make_interval(secs => $3) THEN t.window_start ELSE now() END
         WHERE scope = 'account' AND key = $1
         RETURNING failures >= $2",
    )
    .bind(failure.throttle_key)
    .bind(MFA_LOCK_AFTER)
    .bind(MFA_WINDOW_SECS as f64)
    .fetch_one(&mut *conn)
    .await?;
    if locked {
        sqlx::query(
            "UPDATE auth_throttle SET locked_until = now() + make_interval(secs => $2), failures = 0, window_start = now()
             WHERE scope = 'account' AND key = $1",
        )
        .bind(failure.throttle_key)
        .bind(MFA_LOCK_SECS as f64)
        .execute(&mut *conn)
        .await?;
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("auth.lockout")
                .failure()
                .tenant(failure.tenant_id)
                .actor(ActorType::User, Some(failure.user_id))
                .resource(format!("account:{}", failure.throttle_key))
                .meta("scope", "account")
                .meta("factor", "second")
                .meta("lock_secs", MFA_LOCK_SECS),
        )
        .await?;
    }
    Ok(locked)
}

// --- TOTP mechanics -----------------------------------------------------------------------

/// Associated data binding an encrypted seed to its row.
fn seed_aad(totp_id: Uuid) -> String {
    format!("mfa_totp:{totp_id}")
}

fn totp_for(seed: Vec<u8>, issuer: Option<String>, account: String) -> Result<TOTP, DomainError> {
    // The error is not passed on: some of its variants quote the secret.
    TOTP::new(
        Algorithm::SHA1,
        TOTP_DIGITS,
        TOTP_SKEW_STEPS as u8,
        TOTP_STEP_SECS,
        seed,
        issuer,
        account,
    )
    .map_err(|_| DomainError::from(anyhow::anyhow!("building the TOTP parameters failed")))
}

fn decrypt_totp(keys: &MasterKeys, totp_id: Uuid, ciphertext: &[u8]) -> Result<TOTP, DomainError> {
    let seed = keys
        .decrypt(ciphertext, &seed_aad(totp_id))
        .context("decrypting a TOTP seed")?;
    totp_for(seed, None, String::new())
}

/// The otpauth label parts may not contain ':' (it separates issuer and account).
fn otpauth_text(text: &str) -> String {
    text.replace(':', " ").trim().to_owned()
}

fn totp_label(label: Option<&str>) -> Result<String, DomainError> {
    let label = label.map(str::trim).unwrap_or_default();
    if label.is_empty() {
        return Ok(DEFAULT_TOTP_LABEL.to_owned());
    }
    if label.chars().count() > 100 {
        return Err(DomainError::validation(
            "label",
            "a name has at most 100 characters",
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(DomainError::validation(
            "label",
            "a name cannot contain control characters",
        ));
    }
    Ok(label.to_owned())
}

/// Six ASCII digits, ignoring spaces (apps show "123 456").
fn normalize_totp_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == TOTP_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

fn current_step() -> Option<u64> {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp())
        .ok()
        .map(|secs| secs / TOTP_STEP_SECS)
}

fn step_i64(step: u64) -> Result<i64, DomainError> {
    Ok(i64::try_from(step).context("TOTP step out of range")?)
}

/// The earliest time step within the skew window around `now_step`, later than
/// `last_used`, whose code is `code`. Every candidate is compared, in constant time, so
/// the answer's timing does not tell which step matched.
fn matching_step(totp: &TOTP, code: &str, now_step: u64, last_used: Option<u64>) -> Option<u64> {
    let mut found = None;
    for step in now_step.saturating_sub(TOTP_SKEW_STEPS)..=now_step + TOTP_SKEW_STEPS {
        let expected = totp.generate(step * TOTP_STEP_SECS);
        let matches = constant_time_eq(expected.as_bytes(), code.as_bytes());
        let fresh = last_used.is_none_or(|last| step > last);
        if matches && fresh && found.is_none() {
            found = Some(step);
        }
    }
    found
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The QR code of `uri` as an inline SVG element.
fn qr_svg(uri: &str) -> Result<String, DomainError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| {
            DomainError::from(anyhow::anyhow!("the otpauth URI does not fit a QR code"))
        })?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // No XML prolog: the element is placed inside an HTML page.
    let start = image.find("<svg").unwrap_or(0);
    Ok(image[start..].replacen(
        "<svg ",
        r#"<svg role="img" aria-label="QR code for your authenticator app" "#,
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfa_is_required_by_role_and_tenant_policy() {
        // CON-SEC-005: operators and auditors always, whatever is passed as policy.
        for role in [Role::Operator, Role::Auditor] {
            assert!(mfa_required(role, None));
            assert!(mfa_required(role, Some(MfaPolicy::Off)));
        }
        for role in [Role::Owner, Role::Admin, Role::User] {
            assert!(!mfa_required(role, None));
            assert!(!mfa_required(role, Some(MfaPolicy::Off)));
            assert!(mfa_required(role, Some(MfaPolicy::Everyone)));
        }
        assert!(mfa_required(Role::Owner, Some(MfaPolicy::Admins)));
        assert!(mfa_required(Role::Admin, Some(MfaPolicy::Admins)));
        assert!(!mfa_required(Role::User, Some(MfaPolicy::Admins)));
    }

    #[test]
    fn policy_parses_from_the_tenant_column() {
        assert_eq!(MfaPolicy::parse("admins").ok(), Some(MfaPolicy::Admins));
        assert_eq!(MfaPolicy::parse("everyone").ok(), Some(MfaPolicy::Everyone));
        assert_eq!(MfaPolicy::parse("off").ok(), Some(MfaPolicy::Off));
        assert!(MfaPolicy::parse("sometimes").is_err());
    }

    fn rfc_totp() -> TOTP {
        // RFC 6238 Appendix B, SHA-1 seed ("12345678901234567890").
        totp_for(b"12345678901234567890".to_vec(), None, String::new()).unwrap()
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let totp = rfc_totp();
        // 8-digit vectors 94287082 and 07081804, truncated to 6 digits.
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(totp.generate(1_111_111_109), "081804");
    }

    #[test]
    fn one_step_of_skew_either_way_and_never_a_used_step() {
        let totp = rfc_totp();
        let now = 1_000_000u64;
        let code_at = |step: u64| totp.generate(step * TOTP_STEP_SECS);
        assert_eq!(matching_step(&totp, &code_at(now), now, None), Some(now));
        assert_eq!(
            matching_step(&totp, &code_at(now - 1), now, None),
            Some(now - 1)
        );
        assert_eq!(
            matching_step(&totp, &code_at(now + 1), now, None),
            Some(now + 1)
        );
        assert_eq!(matching_step(&totp, &code_at(now - 2), now, None), None);
        assert_eq!(matching_step(&totp, &code_at(now + 2), now, None), None);
        // Steps up to the last used one are spent, even inside the window.
        assert_eq!(matching_step(&totp, &code_at(now), now, Some(now)), None);
        assert_eq!(
            matching_step(&totp, &code_at(now - 1), now, Some(now - 1)),
            None
        );
        assert_eq!(
            matching_step(&totp, &code_at(now + 1), now, Some(now)),
            Some(now + 1)
        );
    }

    #[test]
    fn totp_codes_are_six_digits_spaces_ignored() {
        assert_eq!(normalize_totp_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalize_totp_code("12345"), None);
        assert_eq!(normalize_totp_code("1234567"), None);
        assert_eq!(normalize_totp_code("12345a"), None);
        assert_eq!(normalize_totp_code("１２３４５６"), None);
    }

    #[test]
    fn recovery_codes_are_unambiguous_and_normalised() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(code.as_bytes()[5], b'-');
        assert!(code
            .bytes()
            .filter(|b| *b != b'-')
            .all(|b| RECOVERY_ALPHABET.contains(&b)));
        for ambiguous in [b'0', b'o', b'1', b'l', b'i'] {
            assert!(!RECOVERY_ALPHABET.contains(&ambiguous));
        }
        assert_ne!(new_recovery_code(), new_recovery_code());
        assert_eq!(normalize_recovery_code(" AbCde-fGhjk "), "abcdefghjk");
        let user = Uuid::now_v7();
        assert_eq!(
            recovery_code_hash(user, "abcde-fghjk"),
            recovery_code_hash(user, "ABCDE FGHJK")
        );
        // Salted per user: the same code hashes differently for someone else.
        assert_ne!(
            recovery_code_hash(user, "abcde-fghjk"),
            recovery_code_hash(Uuid::now_v7(), "abcde-fghjk")
        );
        assert_eq!(recovery_code_hash(user, "abcde-fghjk").len(), 32);
    }

    #[test]
    fn the_qr_code_is_a_self_contained_svg() {
        let svg = qr_svg("otpauth://totp/Gatehouse:ada%40example.com?secret=ABC&issuer=Gatehouse")
            .unwrap();
        assert!(svg.starts_with("<svg "), "{svg:.60}");
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<?xml"));
        assert!(!svg.contains("href"), "no external references");
        assert!(svg.contains(r##"fill="#ffffff""##) && svg.contains(r##"fill="#000000""##));
        let width: u32 = svg
            .split("width=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|w| w.parse().ok())
            .unwrap();
        assert!(width >= 200, "{width}");
    }

    #[test]
    fn otpauth_labels_lose_colons() {
        assert_eq!(otpauth_text(" Acme: Inc "), "Acme  Inc");
        let totp = totp_for(
            vec![7u8; TOTP_SEED_BYTES],
            Some(otpauth_text("Acme: Inc")),
            otpauth_text("ada@example.com"),
        )
        .unwrap();
        let url = totp.get_url();
        assert!(url.starts_with("otpauth://totp/Acme%20%20Inc:ada%40example.com?secret="));
    }

    #[test]
    fn labels_default_and_are_bounded() {
        assert_eq!(totp_label(None).unwrap(), DEFAULT_TOTP_LABEL);
        assert_eq!(totp_label(Some("  ")).unwrap(), DEFAULT_TOTP_LABEL);
        assert_eq!(totp_label(Some(" Phone ")).unwrap(), "Phone");
        assert!(totp_label(Some(&"x".repeat(101))).is_err());
        assert!(totp_label(Some("a\u{7}b")).is_err());
    }
}
