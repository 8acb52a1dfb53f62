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

mod challenge;
mod passkeys;
mod recovery_codes;
mod totp;
pub use challenge::*;
pub use passkeys::*;
pub use recovery_codes::*;
pub use totp::*;

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
