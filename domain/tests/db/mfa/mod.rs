//! Authenticator apps and recovery codes (NFR-SEC-003, CON-SEC-005; SPEC §3 "MFA"):
//! enrolment, the sign-in challenge with its replay refusal, clock skew and throttle,
//! recovery codes, removal and the listing. Codes are computed here with totp-rs from the
//! base32 key the enrolment shows; the browser test checks them independently (pyotp).

mod passkeys;

use super::*;
use gatehouse_domain::mfa::{
    begin_totp_enrolment, confirm_totp_enrolment, has_confirmed_factor, mfa_factors,
    mfa_requirement, recovery_codes_left, regenerate_recovery_codes, remove_totp,
    verify_second_factor, MfaPolicy, SecondFactor, TotpEnrolment, MFA_LOCK_AFTER,
};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use totp_rs::{Algorithm, Secret, TOTP};

pub(super) fn keys() -> MasterKeys {
    MasterKeys::parse(&MasterKeys::generate_text("k1")).unwrap()
}

fn ctx() -> RequestContext {
    RequestContext {
        request_id: Some("req-mfa".into()),
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("test".into()),
    }
}

/// The authenticator app of the test: what a phone would compute from the shown key.
fn app(enrolment: &TotpEnrolment) -> TOTP {
    let seed = Secret::Encoded(enrolment.secret_base32.expose_secret().to_owned())
        .to_bytes()
        .unwrap();
    TOTP::new(Algorithm::SHA1, 6, 1, 30, seed, None, String::new()).unwrap()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code `steps` time steps from now (negative: in the past).
fn code(app: &TOTP, steps: i64) -> String {
    app.generate((now_secs() as i64 + steps * 30) as u64)
}

/// Waits out the end of a 30-second step, so a code computed next is still in the same
/// step when the server checks it.
async fn settle() {
    let into_step = now_secs() % 30;
    if into_step >= 27 {
        tokio::time::sleep(Duration::from_secs(30 - into_step + 1)).await;
    }
}

/// The `action` entries, oldest first, their personal values opened as a reader sees them.
pub(super) async fn audit_entries(pool: &PgPool, action: &str) -> Vec<Value> {
    let mut entries: Vec<Value> = sqlx::query_scalar(
        "SELECT jsonb_build_object('outcome', outcome, 'resource', resource, 'actor_id', actor_id,
                                   'tenant_id', tenant_id, 'metadata', metadata)
         FROM audit_log WHERE action = $1 ORDER BY seq",
    )
    .bind(action)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut metadata: Vec<&mut Value> = entries.iter_mut().map(|e| &mut e["metadata"]).collect();
    gatehouse_domain::audit::personal::open_all(pool, &mut metadata)
        .await
        .unwrap();
    entries
}

pub(super) async fn set_policy(pool: &PgPool, tenant_id: Uuid, policy: &str) {
    sqlx::query("UPDATE tenants SET mfa_policy = $2 WHERE id = $1")
        .bind(tenant_id)
        .bind(policy)
        .execute(pool)
        .await
        .unwrap();
}

/// Pretends the app was last used long ago, so the whole skew window is fresh again.
async fn forget_last_use(pool: &PgPool, totp_id: Uuid) {
    sqlx::query("UPDATE mfa_totp SET last_used_step = last_used_step - 10 WHERE id = $1")
        .bind(totp_id)
        .execute(pool)
        .await
        .unwrap();
}

/// Enrols and confirms an authenticator app; returns its id, the app and the recovery codes.
pub(super) async fn enrolled(
    pool: &PgPool,
    keys: &MasterKeys,
    u: &User,
) -> (Uuid, TOTP, Option<Vec<SecretString>>) {
    let enrolment = begin(pool, keys, u, "Gatehouse").await;
    let app = app(&enrolment);
    settle().await;
    let codes = confirm(pool, keys, u.id, &enrolment, &code(&app, 0), Some("Phone"))
        .await
        .unwrap();
    (enrolment.id, app, codes)
}

/// Starts enrolling an authenticator app of `u`, shown under `issuer`.
async fn begin(pool: &PgPool, keys: &MasterKeys, u: &User, issuer: &str) -> TotpEnrolment {
    begin_totp_enrolment(pool, keys, u.id, &u.email, issuer)
        .await
        .unwrap()
}

/// Confirms `enrolment` as `user_id` with `code`, naming the app `label`.
async fn confirm(
    pool: &PgPool,
    keys: &MasterKeys,
    user_id: Uuid,
    enrolment: &TotpEnrolment,
    code: &str,
    label: Option<&str>,
) -> Result<Option<Vec<SecretString>>, DomainError> {
    let id = enrolment.id;
    confirm_totp_enrolment(pool, &ctx(), keys, user_id, id, code, label).await
}

/// `code` checked as `user_id`'s second factor.
async fn second_factor(
    pool: &PgPool,
    keys: &MasterKeys,
    user_id: Uuid,
    code: &str,
) -> Result<SecondFactor, DomainError> {
    verify_second_factor(pool, &ctx(), keys, user_id, code).await
}

fn is_wrong_code(err: &DomainError) -> bool {
    matches!(err, DomainError::Unauthenticated(m) if m == "that code is not right")
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn enrolling_an_app_needs_a_right_code_and_issues_recovery_codes_once(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@example.com", Role::User).await;
    let keys = keys();

    let enrolment = begin(&pool, &keys, &ada, "Acme: Inc").await;
    let uri = enrolment.otpauth_uri.expose_secret();
    assert!(
        uri.starts_with("otpauth://totp/Acme%20%20Inc:ada%40example.com?secret="),
        "{uri}"
    );
    assert!(uri.contains(enrolment.secret_base32.expose_secret()));
    // 20 random bytes are 32 base32 characters.
    assert_eq!(enrolment.secret_base32.expose_secret().len(), 32);
    assert!(enrolment.qr_svg.starts_with("<svg ") && enrolment.qr_svg.ends_with("</svg>"));
    assert!(!format!("{enrolment:?}").contains(enrolment.secret_base32.expose_secret()));
    assert!(!format!("{enrolment:?}").contains("<svg"));
    let app = app(&enrolment);

    // A wrong code is refused and leaves the enrolment unconfirmed.
    settle().await;
    let wrong = format!(
        "{:06}",
        (code(&app, 0).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    for bad in [wrong.as_str(), "12345", "abcdef", &code(&app, -3)] {
        let err = confirm(&pool, &keys, ada.id, &enrolment, bad, None)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DomainError::Validation(f) if f[0].field == "code"
                && f[0].message == "that code is not right; check the time on your device and try the newest code"),
            "{err:?}"
        );
    }
    assert!(!has_confirmed_factor(&pool, ada.id).await.unwrap());
    assert_eq!(audit_count(&pool, "auth.mfa.enrolled").await, 0);
    assert!(mfa_factors(&pool, ada.id).await.unwrap().totp.is_empty());

    // Someone else cannot confirm Ada's enrolment.
    let bob = member(&pool, Some(acme.id), "bob@example.com", Role::User).await;
    settle().await;
    let err = confirm(&pool, &keys, bob.id, &enrolment, &code(&app, 0), None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");

    // The right code confirms it (spaces as the app shows them are fine).
    let right = code(&app, 0);
    let spaced = format!("{} {}", &right[..3], &right[3..]);
    let codes = confirm(
        &pool,
        &keys,
        ada.id,
        &enrolment,
        &spaced,
        Some(" Work phone "),
    )
    .await
    .unwrap()
    .expect("the first enrolment issues recovery codes");
    assert_eq!(codes.len(), 10);
    for c in &codes {
        let c = c.expose_secret();
        assert_eq!(c.len(), 11, "{c}");
        assert_eq!(&c[5..6], "-");
    }
    assert!(has_confirmed_factor(&pool, ada.id).await.unwrap());
    assert_eq!(recovery_codes_left(&pool, ada.id).await.unwrap(), 10);

    let factors = mfa_factors(&pool, ada.id).await.unwrap();
    assert_eq!(factors.totp.len(), 1);
    assert_eq!(factors.totp[0].id, enrolment.id);
    assert_eq!(factors.totp[0].label, "Work phone");
    assert!(factors.totp[0].last_used_at.is_some());
    assert!(factors.passkeys.is_empty());
    assert_eq!(factors.recovery_codes_left, 10);
    // The listing serialises for the account page, with no secret in it.
    let json = serde_json::to_string(&factors).unwrap();
    assert!(!json.contains(enrolment.secret_base32.expose_secret()));

    let entries = audit_entries(&pool, "auth.mfa.enrolled").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["metadata"]["factor"], "totp");
    assert_eq!(entries[0]["actor_id"], ada.id.to_string());
    assert_eq!(entries[0]["tenant_id"], acme.id.to_string());
    let text = entries[0].to_string();
    assert!(!text.contains(enrolment.secret_base32.expose_secret()));
    assert!(!text.contains(&right));
    assert_eq!(
        audit_count(&pool, "auth.mfa.recovery_codes.generated").await,
        1
    );

    // A confirmed enrolment cannot be confirmed again.
    settle().await;
    let err = confirm(&pool, &keys, ada.id, &enrolment, &code(&app, 1), None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");

    // A second app: the recovery codes Ada already has stay, none are shown again.
    let (_, _, again) = enrolled(&pool, &keys, &ada).await;
    assert!(again.is_none());
    assert_eq!(recovery_codes_left(&pool, ada.id).await.unwrap(), 10);
    assert_eq!(mfa_factors(&pool, ada.id).await.unwrap().totp.len(), 2);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_new_enrolment_replaces_unconfirmed_ones_and_seeds_are_encrypted(pool: PgPool) {
    let ada = member(&pool, None, "ops@example.com", Role::Operator).await;
    let keys = keys();
    let first = begin(&pool, &keys, &ada, "Gatehouse").await;
    let second = begin(&pool, &keys, &ada, "Gatehouse").await;
    assert_ne!(
        first.secret_base32.expose_secret(),
        second.secret_base32.expose_secret()
    );
    let rows: Vec<(Uuid, Vec<u8>)> =
        sqlx::query_as("SELECT id, secret_ciphertext FROM mfa_totp WHERE user_id = $1")
            .bind(ada.id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "the older unconfirmed enrolment is gone");
    assert_eq!(rows[0].0, second.id);
    // The stored seed is not the plaintext seed, in any form.
    let seed = Secret::Encoded(second.secret_base32.expose_secret().to_owned())
        .to_bytes()
        .unwrap();
    let stored = &rows[0].1;
    assert!(!stored.windows(seed.len()).any(|w| w == seed.as_slice()));
    assert!(!String::from_utf8_lossy(stored).contains(second.secret_base32.expose_secret()));
    assert_eq!(
        keys.decrypt(stored, &format!("mfa_totp:{}", second.id))
            .unwrap(),
        seed
    );
    // Bound to its row: under another row's name it does not decrypt.
    assert!(keys
        .decrypt(stored, &format!("mfa_totp:{}", first.id))
        .is_err());

    // The replaced enrolment cannot be confirmed any more.
    settle().await;
    let err = confirm(&pool, &keys, ada.id, &first, &code(&app(&first), 0), None)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");

    // Unknown users cannot start one.
    let err = begin_totp_enrolment(&pool, &keys, Uuid::now_v7(), "x@example.com", "Gatehouse")
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_code_is_never_accepted_twice(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@example.com", Role::Admin).await;
    let keys = keys();
    let enrolment = begin(&pool, &keys, &ada, "Gatehouse").await;
    let app = app(&enrolment);
    settle().await;
    let first = code(&app, 0);
    confirm(&pool, &keys, ada.id, &enrolment, &first, None)
        .await
        .unwrap();

    // The code that confirmed the enrolment cannot sign in.
    let err = second_factor(&pool, &keys, ada.id, &first)
        .await
        .unwrap_err();
    assert!(is_wrong_code(&err), "{err:?}");
    // The next step's code (an app running a little fast) passes once, then never again.
    let next = code(&app, 1);
    assert_eq!(
        second_factor(&pool, &keys, ada.id, &next).await.unwrap(),
        SecondFactor::Totp
    );
    let err = second_factor(&pool, &keys, ada.id, &next)
        .await
        .unwrap_err();
    assert!(is_wrong_code(&err), "{err:?}");

    let failures = audit_entries(&pool, "auth.mfa.challenge.failure").await;
    assert_eq!(failures.len(), 2);
    for f in &failures {
        assert_eq!(f["outcome"], "failure");
        assert_eq!(f["metadata"]["reason"], "code_reused");
        assert_eq!(f["metadata"]["method"], "totp");
        assert_eq!(f["tenant_id"], acme.id.to_string());
        let text = f.to_string();
        assert!(!text.contains(&first) && !text.contains(&next), "{text}");
    }
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn two_requests_racing_with_one_code_cannot_both_pass(pool: PgPool) {
    let ada = member(&pool, None, "ops@example.com", Role::Operator).await;
    let keys = keys();
    let (id, app, _) = enrolled(&pool, &keys, &ada).await;
    forget_last_use(&pool, id).await;
    settle().await;
    let c = code(&app, 0);
    let (ctx_a, ctx_b) = (ctx(), ctx());
    let (a, b) = tokio::join!(
        verify_second_factor(&pool, &ctx_a, &keys, ada.id, &c),
        verify_second_factor(&pool, &ctx_b, &keys, ada.id, &c),
    );
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {b:?}"
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn one_step_of_clock_skew_is_tolerated_three_are_not(pool: PgPool) {
    let ada = member(&pool, None, "ops@example.com", Role::Operator).await;
    let keys = keys();
    let (id, app, _) = enrolled(&pool, &keys, &ada).await;
    forget_last_use(&pool, id).await;
    settle().await;

    // Three and two steps ago: outside the window.
    for steps in [-3, -2, 2] {
        let err = second_factor(&pool, &keys, ada.id, &code(&app, steps))
            .await
            .unwrap_err();
        assert!(is_wrong_code(&err), "{steps}: {err:?}");
    }
    // One step ago (a slow phone clock) is accepted.
    assert_eq!(
        second_factor(&pool, &keys, ada.id, &code(&app, -1))
            .await
            .unwrap(),
        SecondFactor::Totp
    );
    // A success clears the count of wrong codes.
    let left: Option<i32> = sqlx::query_scalar(
        "SELECT failures FROM auth_throttle WHERE scope = 'account' AND key = $1",
    )
    .bind(format!("mfa:{}", ada.id))
    .fetch_optional(&pool)
    .await
    .unwrap();
    assert_eq!(left, None);
    let reasons = audit_reasons(&pool, "auth.mfa.challenge.failure").await;
    assert_eq!(reasons, vec!["wrong_code"; 3]);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_recovery_code_works_once(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@example.com", Role::User).await;
    let keys = keys();
    let (_, _, codes) = enrolled(&pool, &keys, &ada).await;
    let codes = codes.unwrap();
    let one = codes[3].expose_secret().to_owned();

    // Typed in capitals and without the dash still counts.
    let typed = one.replace('-', "").to_uppercase();
    assert_eq!(
        second_factor(&pool, &keys, ada.id, &typed).await.unwrap(),
        SecondFactor::RecoveryCode { remaining: 9 }
    );
    let err = second_factor(&pool, &keys, ada.id, &one).await.unwrap_err();
    assert!(is_wrong_code(&err), "{err:?}");
    assert_eq!(recovery_codes_left(&pool, ada.id).await.unwrap(), 9);
    // Another user's code is not Ada's.
    let err = second_factor(&pool, &keys, ada.id, "abcde-fghjk")
        .await
        .unwrap_err();
    assert!(is_wrong_code(&err), "{err:?}");

    let used = audit_entries(&pool, "auth.mfa.recovery_code.used").await;
    assert_eq!(used.len(), 1);
    assert_eq!(used[0]["metadata"]["remaining"], 9);
    assert!(!used[0].to_string().contains(&one));
    let failures = audit_entries(&pool, "auth.mfa.challenge.failure").await;
    let reasons: Vec<&Value> = failures.iter().map(|f| &f["metadata"]["reason"]).collect();
    assert_eq!(reasons, ["recovery_code_used", "wrong_recovery_code"]);
    assert!(failures
        .iter()
        .all(|f| f["metadata"]["method"] == "recovery_code" && !f.to_string().contains(&one)));

    // The stored form is a hash, never the code.
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT code_hash FROM recovery_codes WHERE user_id = $1")
            .bind(ada.id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 10);
    for c in &codes {
        let plain = c.expose_secret().as_bytes();
        assert!(stored
            .iter()
            .all(|s| s.len() == 32 && s.as_slice() != plain));
    }

    // Regenerating replaces the unused codes: the old ones stop working.
    let fresh = regenerate_recovery_codes(&pool, &ctx(), ada.id)
        .await
        .unwrap();
    assert_eq!(fresh.len(), 10);
    assert_eq!(recovery_codes_left(&pool, ada.id).await.unwrap(), 10);
    let err = second_factor(&pool, &keys, ada.id, codes[0].expose_secret())
        .await
        .unwrap_err();
    assert!(is_wrong_code(&err), "{err:?}");
    assert_eq!(
        second_factor(&pool, &keys, ada.id, fresh[9].expose_secret())
            .await
            .unwrap(),
        SecondFactor::RecoveryCode { remaining: 9 }
    );
    let regenerated = audit_entries(&pool, "auth.mfa.recovery_codes.regenerated").await;
    assert_eq!(regenerated.len(), 1);
    assert_eq!(regenerated[0]["metadata"]["replaced_unused"], 9);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn recovery_codes_need_a_second_factor_first(pool: PgPool) {
    let ada = member(&pool, None, "ops@example.com", Role::Operator).await;
    let err = regenerate_recovery_codes(&pool, &ctx(), ada.id)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict { .. }), "{err:?}");
    assert_eq!(recovery_codes_left(&pool, ada.id).await.unwrap(), 0);
    assert_eq!(
        audit_count(&pool, "auth.mfa.recovery_codes.regenerated").await,
        0
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn five_wrong_codes_lock_the_second_factor(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@example.com", Role::User).await;
    let keys = keys();
    let (id, app, codes) = enrolled(&pool, &keys, &ada).await;
    forget_last_use(&pool, id).await;
    settle().await;
    let wrong = format!(
        "{:06}",
        (code(&app, 0).parse::<u32>().unwrap() + 500_000) % 1_000_000
    );

    for attempt in 1..MFA_LOCK_AFTER {
        let bad = if attempt % 2 == 0 {
            "nope"
        } else {
            wrong.as_str()
        };
        let err = second_factor(&pool, &keys, ada.id, bad).await.unwrap_err();
        assert!(is_wrong_code(&err), "attempt {attempt}: {err:?}");
    }
    // The fifth wrong code locks.
    let err = second_factor(&pool, &keys, ada.id, &wrong)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::Locked { retry_after_secs, message }
            if *retry_after_secs == 900 && message.contains("15 minutes")),
        "{err:?}"
    );
    // While locked, even the right code and a valid recovery code are refused, and
    // nothing is used up by trying.
    let err = second_factor(&pool, &keys, ada.id, &code(&app, 0))
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Locked { .. }), "{err:?}");
    let recovery = codes.unwrap()[0].expose_secret().to_owned();
    let err = second_factor(&pool, &keys, ada.id, &recovery)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Locked { .. }), "{err:?}");
    assert_eq!(recovery_codes_left(&pool, ada.id).await.unwrap(), 10);

    let failures = audit_entries(&pool, "auth.mfa.challenge.failure").await;
    assert_eq!(failures.len(), 7);
    let reasons: Vec<&str> = failures
        .iter()
        .map(|f| f["metadata"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "wrong_code",
            "malformed_code",
            "wrong_code",
            "malformed_code",
            "wrong_code",
            "locked",
            "locked"
        ]
    );
    for f in &failures {
        assert_eq!(f["outcome"], "failure");
        assert_eq!(f["actor_id"], ada.id.to_string());
        assert_eq!(f["metadata"]["ip"], "203.0.113.7");
        let text = f.to_string();
        assert!(
            !text.contains(&wrong) && !text.contains(&recovery),
            "{text}"
        );
    }
    let lockouts = audit_entries(&pool, "auth.lockout").await;
    assert_eq!(lockouts.len(), 1);
    assert_eq!(lockouts[0]["resource"], format!("account:mfa:{}", ada.id));

    // Another account is not affected.
    let bob = member(&pool, Some(acme.id), "bob@example.com", Role::User).await;
    let (bob_id, bob_app, _) = enrolled(&pool, &keys, &bob).await;
    forget_last_use(&pool, bob_id).await;
    settle().await;
    second_factor(&pool, &keys, bob.id, &code(&bob_app, 0))
        .await
        .unwrap();

    // When the lock has run out, the right code works again.
    sqlx::query(
        "UPDATE auth_throttle SET locked_until = now() - interval '1 second' WHERE key = $1",
    )
    .bind(format!("mfa:{}", ada.id))
    .execute(&pool)
    .await
    .unwrap();
    settle().await;
    assert_eq!(
        second_factor(&pool, &keys, ada.id, &code(&app, 0))
            .await
            .unwrap(),
        SecondFactor::Totp
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_empty_code_is_a_validation_error_and_does_not_count(pool: PgPool) {
    let ada = member(&pool, None, "ops@example.com", Role::Operator).await;
    let keys = keys();
    enrolled(&pool, &keys, &ada).await;
    let err = second_factor(&pool, &keys, ada.id, "   ")
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Validation(_)), "{err:?}");
    assert_eq!(audit_count(&pool, "auth.mfa.challenge.failure").await, 0);
    // Someone without an app who types six digits is simply wrong.
    let bob = member(&pool, None, "ops2@example.com", Role::Auditor).await;
    let err = second_factor(&pool, &keys, bob.id, "123456")
        .await
        .unwrap_err();
    assert!(is_wrong_code(&err), "{err:?}");
    let failures = audit_entries(&pool, "auth.mfa.challenge.failure").await;
    assert_eq!(failures[0]["metadata"]["reason"], "no_authenticator_app");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn only_the_owner_removes_an_app_and_never_the_last_required_factor(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@example.com", Role::Admin).await;
    let bob = member(&pool, Some(acme.id), "bob@example.com", Role::User).await;
    let keys = keys();
    let (first, _, _) = enrolled(&pool, &keys, &ada).await;

    // Another person's id: not found, whoever's account it is attempted from.
    let err = remove_totp(&pool, &ctx(), bob.id, bob.id, first)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
    let err = remove_totp(&pool, &ctx(), bob.id, ada.id, first)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
    let err = remove_totp(&pool, &ctx(), ada.id, ada.id, Uuid::now_v7())
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");

    // The tenant asks admins for MFA: Ada's only factor stays.
    set_policy(&pool, acme.id, "admins").await;
    assert!(mfa_requirement(&pool, ada.id).await.unwrap());
    assert!(!mfa_requirement(&pool, bob.id).await.unwrap());
    let err = remove_totp(&pool, &ctx(), ada.id, ada.id, first)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::Conflict { message, .. } if message.contains("must keep a second factor")),
        "{err:?}"
    );
    assert!(has_confirmed_factor(&pool, ada.id).await.unwrap());
    assert_eq!(audit_count(&pool, "auth.mfa.removed").await, 0);

    // With a second app, the first can go.
    let (second, _, _) = enrolled(&pool, &keys, &ada).await;
    remove_totp(&pool, &ctx(), ada.id, ada.id, first)
        .await
        .unwrap();
    let left = mfa_factors(&pool, ada.id).await.unwrap();
    assert_eq!(left.totp.len(), 1);
    assert_eq!(left.totp[0].id, second);
    let removed = audit_entries(&pool, "auth.mfa.removed").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["resource"], format!("mfa_totp:{first}"));
    assert_eq!(removed[0]["metadata"]["factor"], "totp");
    assert_eq!(removed[0]["actor_id"], ada.id.to_string());

    // The policy lifted, the last one can go too.
    set_policy(&pool, acme.id, "off").await;
    remove_totp(&pool, &ctx(), ada.id, ada.id, second)
        .await
        .unwrap();
    assert!(!has_confirmed_factor(&pool, ada.id).await.unwrap());
    assert_eq!(audit_count(&pool, "auth.mfa.removed").await, 2);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn operators_can_never_remove_their_last_factor(pool: PgPool) {
    let ops = member(&pool, None, "ops@example.com", Role::Operator).await;
    let keys = keys();
    assert!(mfa_requirement(&pool, ops.id).await.unwrap());
    let (id, _, _) = enrolled(&pool, &keys, &ops).await;
    let err = remove_totp(&pool, &ctx(), ops.id, ops.id, id)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict { .. }), "{err:?}");

    // An unconfirmed enrolment is not a factor: it can always be discarded.
    let pending = begin(&pool, &keys, &ops, "Gatehouse").await;
    remove_totp(&pool, &ctx(), ops.id, ops.id, pending.id)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_requirement_follows_role_and_tenant_policy(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = member(&pool, Some(acme.id), "o@example.com", Role::Owner).await;
    let admin = member(&pool, Some(acme.id), "a@example.com", Role::Admin).await;
    let plain = member(&pool, Some(acme.id), "u@example.com", Role::User).await;
    let auditor = member(&pool, None, "aud@example.com", Role::Auditor).await;
    for (policy, expected) in [
        ("off", [false, false, false, true]),
        ("admins", [true, true, false, true]),
        ("everyone", [true, true, true, true]),
    ] {
        set_policy(&pool, acme.id, policy).await;
        assert_eq!(MfaPolicy::parse(policy).unwrap().as_str(), policy);
        let mut got = [false; 4];
        for (i, u) in [&owner, &admin, &plain, &auditor].iter().enumerate() {
            got[i] = mfa_requirement(&pool, u.id).await.unwrap();
        }
        assert_eq!(got, expected, "policy {policy}");
    }
    let err = mfa_requirement(&pool, Uuid::now_v7()).await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
}
