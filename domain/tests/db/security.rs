//! Attacks from the security review, made against the domain as an attacker would make
//! them through any door (CON-SEC-005, NFR-SEC-003/005; SPEC §3).

use super::mfa::{enrolled, keys};
use super::*;
use gatehouse_domain::login::{
    begin_sign_in, complete_mfa_sign_in, verify_password_login, NextStep, PasswordLogin,
    SignInSignals,
};
use gatehouse_domain::passwords::ACCOUNT_LOCK_AFTER;
use gatehouse_domain::sessions::{authenticate_session, PendingPurpose};

const PW: &str = "correct horse battery staple";

fn from(ip: &str) -> RequestContext {
    RequestContext {
        request_id: Some("req-sec".into()),
        ip: Some(ip.parse().unwrap()),
        user_agent: Some("attacker".into()),
    }
}

async fn with_password(pool: &PgPool, tenant_id: Option<Uuid>, email: &str, role: Role) -> User {
    let mut new = new_user(tenant_id, email, role);
    new.password = Some(SecretString::from(PW.to_owned()));
    user(pool, None, new).await.unwrap()
}

fn login(email: &str, password: &str) -> PasswordLogin {
    PasswordLogin {
        email: Email::parse(email).unwrap(),
        password: SecretString::from(password.to_owned()),
        tenant: None,
    }
}

async fn pending_sign_in(pool: &PgPool, ip: &str, u: &User) -> (NextStep, String) {
    let started = begin_sign_in(
        pool,
        &from(ip),
        u.id,
        "pwd",
        SignInSignals::default(),
        "http://localhost/account",
    )
    .await
    .unwrap();
    (
        started.next,
        started.issued.token.expose_secret().to_owned(),
    )
}

async fn count_where(pool: &PgPool, action: &str, reason: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = $1 AND metadata->>'reason' = $2",
    )
    .bind(action)
    .bind(reason)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// A password alone, from a new browser, gets a session pending its second factor.
/// That session may not enrol a factor of its own (which would complete the sign-in); an
/// account that must enrol may, but only until it has a factor.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_pending_sign_in_cannot_enrol_its_own_second_factor(pool: PgPool) {
    let keys = keys();
    let acme = tenant(&pool, "acme").await;
    let owner = with_password(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await;
    enrolled(&pool, &keys, &owner).await;
    let (next, token) = pending_sign_in(&pool, "198.51.100.66", &owner).await;
    assert_eq!(next, NextStep::SecondFactor);
    let session = authenticate_session(&pool, &token).await.unwrap();
    assert_eq!(session.pending, Some(PendingPurpose::SecondFactor));
    let refused = session.may_change_factors(&pool).await.unwrap_err();
    assert!(
        matches!(refused, DomainError::PermissionDenied(_)),
        "{refused:?}"
    );

    // An operator without a factor must enrol: that session may, once.
    let ops = member(&pool, None, "ops@example.com", Role::Operator).await;
    sqlx::query("UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = $2) WHERE id = $1")
        .bind(ops.id)
        .bind(owner.id)
        .execute(&pool)
        .await
        .unwrap();
    let (next, token) = pending_sign_in(&pool, "198.51.100.66", &ops).await;
    assert_eq!(next, NextStep::EnrolSecondFactor);
    let session = authenticate_session(&pool, &token).await.unwrap();
    assert_eq!(session.pending, Some(PendingPurpose::Enrolment));
    session.may_change_factors(&pool).await.unwrap();
    enrolled(&pool, &keys, &ops).await;
    // With a factor now, the same pending session may not add another.
    assert!(session.may_change_factors(&pool).await.is_err());
}

/// Fifty guesses at once for one account. Each attempt is counted before any
/// hashing, so at most ten passwords are checked; the rest are refused as locked, and the
/// right password is refused too until the lock ends.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn concurrent_guesses_cannot_pass_the_lock(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    with_password(&pool, Some(acme.id), "ada@acme.test", Role::User).await;
    let guesses = (0..50).map(|i| {
        let pool = pool.clone();
        // Fifty addresses, so only the account key limits them.
        let ctx = from(&format!("198.51.100.{}", i + 1));
        async move {
            verify_password_login(&pool, &ctx, login("ada@acme.test", &format!("guess {i}"))).await
        }
    });
    let results = futures_util::future::join_all(guesses).await;
    let locked = results
        .iter()
        .filter(|r| matches!(r, Err(DomainError::Locked { .. })))
        .count();
    let wrong = results
        .iter()
        .filter(|r| matches!(r, Err(DomainError::Unauthenticated(_))))
        .count();
    assert_eq!(wrong + locked, 50, "{results:?}");
    assert_eq!(wrong, ACCOUNT_LOCK_AFTER as usize, "passwords checked");
    assert_eq!(
        count_where(&pool, "auth.login.failure", "invalid_credentials").await,
        i64::from(ACCOUNT_LOCK_AFTER)
    );
    assert_eq!(audit_count(&pool, "auth.lockout").await, 1);
    let right = verify_password_login(&pool, &from("192.0.2.200"), login("ada@acme.test", PW))
        .await
        .unwrap_err();
    assert!(matches!(right, DomainError::Locked { .. }), "{right:?}");
    // The refusals of the lock are audited sampled (1st, 10th, ...), not one entry each.
    assert!(count_where(&pool, "auth.login.failure", "locked").await <= 3);
}

/// The current-password check of a password change is throttled and locked like
/// a sign-in, so a stolen session is no unthrottled password oracle.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_password_change_is_no_password_oracle(pool: PgPool) {
    use gatehouse_domain::users::change_password;
    let acme = tenant(&pool, "acme").await;
    let ada = with_password(&pool, Some(acme.id), "ada@acme.test", Role::User).await;
    let new = SecretString::from("another long passphrase 2026".to_owned());
    let session = Uuid::now_v7();
    for i in 0..ACCOUNT_LOCK_AFTER {
        let err = change_password(
            &pool,
            &from("198.51.100.9"),
            ada.id,
            session,
            &SecretString::from(format!("guess {i}")),
            &new,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, DomainError::Validation(_)), "{err:?}");
    }
    let err = change_password(
        &pool,
        &from("198.51.100.9"),
        ada.id,
        session,
        &SecretString::from(PW.to_owned()),
        &new,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DomainError::Locked { .. }), "{err:?}");
    // The same lock holds the sign-in.
    let err = verify_password_login(&pool, &from("192.0.2.1"), login("ada@acme.test", PW))
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Locked { .. }), "{err:?}");
}

/// Operators and auditors give their second factor at every sign-in; a trusted
/// device never skips it for them (it does for a tenant user).
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_trusted_device_never_skips_an_operators_second_factor(pool: PgPool) {
    let keys = keys();
    let ops = with_password(&pool, None, "ops@example.com", Role::Operator).await;
    enrolled(&pool, &keys, &ops).await;
    let (next, pending) = pending_sign_in(&pool, "198.51.100.7", &ops).await;
    assert_eq!(next, NextStep::SecondFactor);
    let (_, _, device) = complete_mfa_sign_in(&pool, &from("198.51.100.7"), &pending, "otp", true)
        .await
        .unwrap();
    let device = device.expect("a trusted-device token");
    let again = begin_sign_in(
        &pool,
        &from("198.51.100.7"),
        ops.id,
        "pwd",
        SignInSignals {
            device_token: Some(device.expose_secret()),
            ..Default::default()
        },
        "http://localhost/account",
    )
    .await
    .unwrap();
    assert_eq!(again.next, NextStep::SecondFactor);
    assert_eq!(again.reasons, ["platform_role"]);
}

/// A delivered invitation, reset or verification mail leaves no live link in the
/// outbox (a database dump or a backup holds none); other mail keeps its text.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn delivered_links_are_cleared_from_the_outbox(pool: PgPool) {
    use gatehouse_domain::email::{enqueue_mail, mark_mail_sent, Mail, CLEARED_BODY};
    let to = Email::parse("ada@acme.test").unwrap();
    let mut tx = pool.begin().await.unwrap();
    let reset = enqueue_mail(
        &mut tx,
        None,
        &to,
        Mail::PasswordReset {
            reset_url: "http://localhost/reset-password/secret-link-token".into(),
            expires_minutes: 60,
        },
    )
    .await
    .unwrap();
    let notice = enqueue_mail(
        &mut tx,
        None,
        &to,
        Mail::NewDeviceSignIn {
            at: time::OffsetDateTime::now_utc(),
            ip: None,
            user_agent: None,
            account_url: "http://localhost/account".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    mark_mail_sent(&pool, reset, false).await.unwrap();
    mark_mail_sent(&pool, notice, false).await.unwrap();
    let bodies: Vec<(Uuid, String, String)> =
        sqlx::query_as("SELECT id, text_body, html_body FROM email_outbox")
            .fetch_all(&pool)
            .await
            .unwrap();
    for (id, text, html) in bodies {
        if id == reset {
            assert_eq!((text.as_str(), html.as_str()), (CLEARED_BODY, CLEARED_BODY));
        } else {
            assert!(text.contains("/account"), "{text}");
        }
    }
}

/// A flood of reset requests for one address does nothing past the limit and is
/// audited only now and then, not once per request.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn reset_requests_cannot_flood_the_audit_chain(pool: PgPool) {
    use gatehouse_domain::login::{request_password_reset, REQUESTS_PER_ACCOUNT};
    let email = Email::parse("nobody@example.com").unwrap();
    for i in 0..60 {
        request_password_reset(
            &pool,
            &from(&format!("198.51.100.{i}")),
            &email,
            None,
            "http://localhost",
        )
        .await
        .unwrap();
    }
    let entries = audit_count(&pool, "auth.password.reset.requested").await;
    // The first ten, then the 1st and 10th refusal of the fifty beyond.
    assert_eq!(entries, i64::from(REQUESTS_PER_ACCOUNT) + 2);
}
