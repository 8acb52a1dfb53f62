//! Per-tenant password policy against the database (CON-SEC-001, FR-AUTH-006, SPEC §3):
//! the tenant's stored rules, password history and the check at account creation.

use super::*;
use gatehouse_domain::passwords::verify_password;
use gatehouse_domain::passwords::{policy_for_user, set_password, PasswordPolicy};

async fn set_policy(pool: &PgPool, tenant_id: Uuid, policy: serde_json::Value) {
    sqlx::query("UPDATE tenants SET password_policy = $2 WHERE id = $1")
        .bind(tenant_id)
        .bind(policy)
        .execute(pool)
        .await
        .unwrap();
}

async fn with_password(pool: &PgPool, tenant_id: Option<Uuid>, email: &str, pw: &str) -> User {
    let role = if tenant_id.is_some() {
        Role::User
    } else {
        Role::Operator
    };
    let mut new = new_user(tenant_id, email, role);
    new.password = Some(secret(pw));
    user(pool, None, new).await.unwrap()
}

async fn change(pool: &PgPool, user_id: Uuid, pw: &str) -> Result<(), DomainError> {
    let mut tx = pool.begin().await.unwrap();
    let result = set_password(&mut tx, user_id, &secret(pw)).await;
    if result.is_ok() {
        tx.commit().await.unwrap();
    }
    result
}

async fn stored_hash(pool: &PgPool, user_id: Uuid) -> String {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn history_rows(pool: &PgPool, user_id: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM password_history WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The history rows of `user_id` holding `hash`.
async fn history_rows_of(pool: &PgPool, user_id: Uuid, hash: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM password_history WHERE user_id = $1 AND password_hash = $2",
    )
    .bind(user_id)
    .bind(hash)
    .fetch_one(pool)
    .await
    .unwrap()
}

fn password_messages(err: DomainError) -> Vec<String> {
    match err {
        DomainError::Validation(errors) => {
            assert!(
                errors.iter().all(|e| e.field == "password"),
                "every violation names the password field: {errors:?}"
            );
            errors.into_iter().map(|e| e.message).collect()
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

const FIRST: &str = "correct horse battery staple";

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_strict_tenant_policy_refuses_weak_passwords_and_keeps_the_old_one(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = with_password(&pool, Some(acme.id), "ada@acme.test", FIRST).await;
    // CON-SEC-001 / FR-AUTH-006: the tenant tightens its rules.
    set_policy(
        &pool,
        acme.id,
        serde_json::json!({"min_length": 16, "require_upper": true, "require_digit": true,
                           "require_symbol": true, "min_strength": 4, "history": 3}),
    )
    .await;
    let mut conn = pool.acquire().await.unwrap();
    let (policy, inputs) = policy_for_user(&mut conn, ada.id).await.unwrap();
    drop(conn);
    assert_eq!(
        policy,
        PasswordPolicy {
            min_length: 16,
            require_upper: true,
            require_lower: false,
            require_digit: true,
            require_symbol: true,
            min_strength: 4,
            history: 3,
        }
    );
    assert!(inputs.contains(&"ada@acme.test".to_owned()), "{inputs:?}");
    assert!(inputs.contains(&"tenant acme".to_owned()), "{inputs:?}");
    let before = stored_hash(&pool, ada.id).await;

    let messages = password_messages(change(&pool, ada.id, "tiny").await.unwrap_err());
    assert!(
        messages.contains(&"use at least 16 characters (this one has 4)".to_owned()),
        "{messages:?}"
    );
    assert!(messages.contains(&"add an uppercase letter".to_owned()));
    assert!(messages.contains(&"add a digit".to_owned()));
    assert!(messages.contains(&"add a symbol, such as ! # % or a space".to_owned()));
    assert!(messages.iter().any(|m| m.starts_with("too easy to guess")));

    // Long enough and with a space, but no uppercase letter and no digit.
    let messages = password_messages(
        change(&pool, ada.id, "vivid lantern orchard meadow")
            .await
            .unwrap_err(),
    );
    assert_eq!(messages, ["add an uppercase letter", "add a digit"]);

    // Nothing changed: same hash, the old password still works, no history row added.
    assert_eq!(stored_hash(&pool, ada.id).await, before);
    assert!(verify_password(Some(before.clone()), &secret(FIRST))
        .await
        .unwrap());
    assert_eq!(history_rows(&pool, ada.id).await, 1);

    change(&pool, ada.id, "Vivid lantern orchard 93")
        .await
        .unwrap();
    let after = stored_hash(&pool, ada.id).await;
    assert_ne!(after, before);
    assert!(
        verify_password(Some(after.clone()), &secret("Vivid lantern orchard 93"))
            .await
            .unwrap()
    );
    assert!(!verify_password(Some(after), &secret(FIRST)).await.unwrap());
    assert_eq!(history_rows(&pool, ada.id).await, 2);
    // Callers audit the change in their own transaction; set_password writes no entry.
    assert_eq!(audit_count(&pool, "auth.password.change").await, 0);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn history_refuses_the_last_n_passwords_and_accepts_an_older_one(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    set_policy(&pool, acme.id, serde_json::json!({"history": 2})).await;
    let p0 = "Amber falcon drifts north";
    let p1 = "Copper kettle hums softly";
    let p2 = "Silent glacier writes poems";
    let ada = with_password(&pool, Some(acme.id), "ada@acme.test", p0).await;
    change(&pool, ada.id, p1).await.unwrap();

    let recent =
        "you used this password recently; choose one you have not used for your last 2 passwords";
    // The current password and the one before it are both within the last two.
    for reused in [p1, p0] {
        let before = stored_hash(&pool, ada.id).await;
        let messages = password_messages(change(&pool, ada.id, reused).await.unwrap_err());
        assert_eq!(messages, [recent], "{reused}");
        assert_eq!(stored_hash(&pool, ada.id).await, before);
    }
    assert_eq!(history_rows(&pool, ada.id).await, 2);

    change(&pool, ada.id, p2).await.unwrap();
    // p0 is now three passwords back, beyond the tenant's two.
    change(&pool, ada.id, p0).await.unwrap();
    assert!(
        verify_password(Some(stored_hash(&pool, ada.id).await), &secret(p0))
            .await
            .unwrap()
    );
    // ... and p2 is again among the last two.
    let messages = password_messages(change(&pool, ada.id, p2).await.unwrap_err());
    assert_eq!(messages, [recent]);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn history_is_off_with_zero_and_keeps_at_most_24_rows(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    set_policy(&pool, acme.id, serde_json::json!({"history": 0})).await;
    let ada = with_password(&pool, Some(acme.id), "ada@acme.test", FIRST).await;
    // With history off, the same password may be set again.
    change(&pool, ada.id, FIRST).await.unwrap();
    // Old rows beyond the newest 24 are pruned on the next change.
    sqlx::query(
        "INSERT INTO password_history (user_id, password_hash, created_at)
         SELECT $1, 'old-' || n, now() - make_interval(days => n) FROM generate_series(1, 30) n",
    )
    .bind(ada.id)
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(history_rows(&pool, ada.id).await, 32);
    change(&pool, ada.id, "Copper kettle hums softly")
        .await
        .unwrap();
    assert_eq!(history_rows(&pool, ada.id).await, 24);
    let newest: String = sqlx::query_scalar(
        "SELECT password_hash FROM password_history WHERE user_id = $1
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(ada.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(newest, stored_hash(&pool, ada.id).await);
    let oldest_kept = history_rows_of(&pool, ada.id, "old-21").await;
    let dropped = history_rows_of(&pool, ada.id, "old-22").await;
    assert_eq!((oldest_kept, dropped), (1, 0));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn create_user_refuses_passwords_the_policy_refuses(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    // In the bundled common-password list, whatever the case.
    let mut new = new_user(Some(acme.id), "ada@acme.test", Role::User);
    new.password = Some(secret("ISeeDeadPeople"));
    let messages = password_messages(user(&pool, None, new).await.unwrap_err());
    assert!(
        messages.contains(&"this password is in a list of commonly used passwords".to_owned()),
        "{messages:?}"
    );
    // Refused before anything was written.
    assert_eq!(audit_count(&pool, "user.create").await, 0);
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 0);

    // The tenant's own rules apply at creation too.
    set_policy(&pool, acme.id, serde_json::json!({"min_length": 30})).await;
    let mut new = new_user(Some(acme.id), "ada@acme.test", Role::User);
    new.password = Some(secret(FIRST));
    let messages = password_messages(user(&pool, None, new).await.unwrap_err());
    assert_eq!(messages, ["use at least 30 characters (this one has 28)"]);

    // Platform users get the default policy.
    let mut op = new_user(None, "ops@example.com", Role::Operator);
    op.password = Some(secret("short"));
    let messages = password_messages(user(&pool, None, op).await.unwrap_err());
    assert_eq!(messages[0], "use at least 12 characters (this one has 5)");
    let op = with_password(&pool, None, "ops@example.com", FIRST).await;
    let mut conn = pool.acquire().await.unwrap();
    let (policy, _) = policy_for_user(&mut conn, op.id).await.unwrap();
    assert_eq!(policy, PasswordPolicy::default());

    // A user without a password (invited, SSO) is not checked at all.
    member(&pool, Some(acme.id), "bob@acme.test", Role::User).await;
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn set_password_for_an_unknown_account_is_not_found(pool: PgPool) {
    let err = change(&pool, Uuid::now_v7(), FIRST).await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound("user")), "{err:?}");
}
