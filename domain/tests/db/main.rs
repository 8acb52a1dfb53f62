//! Domain operations against a real PostgreSQL: every test gets its own fresh database
//! with the migrations applied (`#[sqlx::test]`, DATABASE_URL from the test command).

use gatehouse_domain::audit::{
    append_audit_entry, verify_audit_chain, ActorType, AuditEntry, RequestContext,
};
use gatehouse_domain::crypto::MasterKeys;
use gatehouse_domain::permissions::Actor;
use gatehouse_domain::tenants::{provision_tenant, NewTenant, Tenant};
use gatehouse_domain::types::{
    DisplayName, Email, Plan, Role, TenantDomain, TenantStatus, UserStatus,
};
use gatehouse_domain::users::{create_user, NewUser, User};
use gatehouse_domain::DomainError;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use uuid::Uuid;

mod email;
mod flags;
mod login;
mod mfa;
mod oauth;
mod passwords;
mod security;
mod sessions;
mod users;

async fn tenant(pool: &PgPool, domain: &str) -> Tenant {
    let mut tx = pool.begin().await.unwrap();
    let t = provision_tenant(
        &mut tx,
        &RequestContext::default(),
        None,
        NewTenant {
            name: DisplayName::parse(&format!("Tenant {domain}")).unwrap(),
            domain: TenantDomain::parse(domain).unwrap(),
            plan: Plan::Pro,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    t
}

fn new_user(tenant_id: Option<Uuid>, email: &str, role: Role) -> NewUser {
    NewUser {
        tenant_id,
        email: Email::parse(email).unwrap(),
        name: None,
        role,
        status: UserStatus::Active,
        password: None,
    }
}

async fn user(pool: &PgPool, actor: Option<&Actor>, new: NewUser) -> Result<User, DomainError> {
    let mut tx = pool.begin().await.unwrap();
    let result = create_user(&mut tx, &RequestContext::default(), actor, new).await;
    if result.is_ok() {
        tx.commit().await.unwrap();
    }
    result
}

fn actor_of(u: &User) -> Actor {
    Actor {
        user_id: u.id,
        tenant_id: u.tenant_id,
        role: u.role,
    }
}

async fn audit_count(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}

// --- tenants and users -------------------------------------------------------------------

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn provisioning_a_tenant_is_audited_and_domains_are_unique(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    assert_eq!(acme.domain, "acme");
    assert_eq!(audit_count(&pool, "tenant.create").await, 1);

    let mut tx = pool.begin().await.unwrap();
    let err = provision_tenant(
        &mut tx,
        &RequestContext::default(),
        None,
        NewTenant {
            name: DisplayName::parse("Other").unwrap(),
            domain: TenantDomain::parse("ACME").unwrap(),
            plan: Plan::Free,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, DomainError::Conflict { field: Some(ref f), .. } if f == "domain"),
        "{err:?}"
    );
    drop(tx);
    // The refused attempt left nothing behind, not even an audit entry.
    assert_eq!(audit_count(&pool, "tenant.create").await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn emails_are_unique_per_tenant_case_insensitively(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    user(
        &pool,
        None,
        new_user(Some(acme.id), "Ada@Example.com", Role::User),
    )
    .await
    .unwrap();
    let dup = user(
        &pool,
        None,
        new_user(Some(acme.id), "ada@example.COM", Role::Admin),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(dup, DomainError::Conflict { field: Some(ref f), .. } if f == "email"),
        "{dup:?}"
    );
    // The same address in another tenant is another account (SPEC §2).
    user(
        &pool,
        None,
        new_user(Some(globex.id), "ada@example.com", Role::Owner),
    )
    .await
    .unwrap();
    // Platform users are unique too, although their tenant is NULL.
    user(
        &pool,
        None,
        new_user(None, "ops@example.com", Role::Operator),
    )
    .await
    .unwrap();
    assert!(user(
        &pool,
        None,
        new_user(None, "OPS@example.com", Role::Auditor)
    )
    .await
    .is_err());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn roles_and_tenancy_must_agree(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let err = user(&pool, None, new_user(None, "x@example.com", Role::Owner))
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Validation(ref v) if v[0].field == "role"));
    assert!(user(
        &pool,
        None,
        new_user(Some(acme.id), "y@example.com", Role::Operator)
    )
    .await
    .is_err());
    // The database enforces it as well, whatever the code does.
    let raw = sqlx::query(
        "INSERT INTO users (email, role, status) VALUES ('z@example.com', 'owner', 'active')",
    )
    .execute(&pool)
    .await;
    assert!(raw.is_err());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_permission_matrix_is_enforced_by_domain_operations(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let admin = user(
        &pool,
        None,
        new_user(Some(acme.id), "admin@acme.test", Role::Admin),
    )
    .await
    .unwrap();
    let plain = user(
        &pool,
        None,
        new_user(Some(acme.id), "user@acme.test", Role::User),
    )
    .await
    .unwrap();
    let admin = actor_of(&admin);

    // An admin invites users and admins in their own tenant...
    user(
        &pool,
        Some(&admin),
        new_user(Some(acme.id), "new@acme.test", Role::User),
    )
    .await
    .unwrap();
    // ...but cannot create an owner,
    let err = user(
        &pool,
        Some(&admin),
        new_user(Some(acme.id), "boss@acme.test", Role::Owner),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DomainError::PermissionDenied(_)), "{err:?}");
    // another tenant's resources do not exist for them (404, not 403),
    let err = user(
        &pool,
        Some(&admin),
        new_user(Some(globex.id), "x@globex.test", Role::User),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
    // and a plain user may not invite at all.
    let err = user(
        &pool,
        Some(&actor_of(&plain)),
        new_user(Some(acme.id), "y@acme.test", Role::User),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DomainError::PermissionDenied(_)), "{err:?}");
    // Operators may not be minted through tenant management.
    let operator = Actor {
        user_id: Uuid::now_v7(),
        tenant_id: None,
        role: Role::Operator,
    };
    assert!(user(
        &pool,
        Some(&operator),
        new_user(None, "op2@example.com", Role::Operator)
    )
    .await
    .is_err());
    // Only the successful creations were audited.
    assert_eq!(audit_count(&pool, "user.create").await, 3);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn check_constraints_guard_enums_and_slugs(pool: PgPool) {
    for sql in [
        "INSERT INTO tenants (name, domain) VALUES ('x', 'Bad_Domain')",
        "INSERT INTO tenants (name, domain, plan) VALUES ('x', 'ok', 'platinum')",
        "INSERT INTO tenants (name, domain, status) VALUES ('x', 'ok2', 'deleted')",
        "INSERT INTO flag_definitions (key) VALUES ('Bad-Key')",
    ] {
        assert!(
            sqlx::query(sql).execute(&pool).await.is_err(),
            "{sql} should be refused"
        );
    }
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn demo_data_is_created_once(pool: PgPool) {
    assert!(gatehouse_domain::demo::ensure_demo_data(&pool)
        .await
        .unwrap());
    assert!(!gatehouse_domain::demo::ensure_demo_data(&pool)
        .await
        .unwrap());
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 5);
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'owner@acme.test'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let pw = SecretString::from(gatehouse_domain::demo::DEMO_PASSWORD.to_owned());
    assert!(
        gatehouse_domain::passwords::verify_password(Some(hash), &pw)
            .await
            .unwrap()
    );
}

// --- audit trail -------------------------------------------------------------------------

async fn append(pool: &PgPool, action: &str) {
    let mut tx = pool.begin().await.unwrap();
    append_audit_entry(
        &mut tx,
        &RequestContext::default(),
        AuditEntry::new(action).actor(ActorType::System, None),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn audit_entries_chain_and_verify(pool: PgPool) {
    for i in 0..5 {
        append(&pool, &format!("test.event{i}")).await;
    }
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        (report.entries, report.first_seq, report.last_seq),
        (5, Some(1), Some(5))
    );
    let links: Vec<(i64, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        links[0].1,
        vec![0u8; 32],
        "the first entry links to the genesis hash"
    );
    for pair in links.windows(2) {
        assert_eq!(
            pair[1].1, pair[0].2,
            "each entry carries its predecessor's hash"
        );
    }
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn audit_metadata_keeps_context_and_never_secrets(pool: PgPool) {
    let mut tx = pool.begin().await.unwrap();
    let ctx = RequestContext {
        request_id: Some("req-123".into()),
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("TestAgent/1.0".into()),
    };
    append_audit_entry(
        &mut tx,
        &ctx,
        AuditEntry::new("auth.login.failure")
            .failure()
            .meta("reason", "wrong_password")
            .meta("password", "hunter2"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (metadata, request_id, outcome): (serde_json::Value, String, String) =
        sqlx::query_as("SELECT metadata, request_id, outcome FROM audit_log")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(request_id, "req-123");
    assert_eq!(outcome, "failure");
    assert_eq!(metadata["ip"], "203.0.113.7");
    assert_eq!(metadata["user_agent"], "TestAgent/1.0");
    assert_eq!(metadata["reason"], "wrong_password");
    assert_eq!(metadata["password"], "[redacted]");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn concurrent_appends_never_fork_the_chain(pool: PgPool) {
    let mut tasks = Vec::new();
    for i in 0..24 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            append(&pool, &format!("test.concurrent{i}")).await
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 24);
    let distinct_prev: i64 = sqlx::query_scalar("SELECT count(DISTINCT prev_hash) FROM audit_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(distinct_prev, 24, "no two entries share a predecessor");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_rolled_back_change_leaves_no_audit_entry(pool: PgPool) {
    append(&pool, "test.kept").await;
    {
        let mut tx = pool.begin().await.unwrap();
        append_audit_entry(
            &mut tx,
            &RequestContext::default(),
            AuditEntry::new("test.rolled_back"),
        )
        .await
        .unwrap();
        tx.rollback().await.unwrap();
    }
    append(&pool, "test.after").await;
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 2);
    assert_eq!(audit_count(&pool, "test.rolled_back").await, 0);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_audit_log_refuses_update_delete_and_truncate(pool: PgPool) {
    append(&pool, "test.immutable").await;
    for sql in [
        "UPDATE audit_log SET action = 'test.forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "TRUNCATE audit_log_default",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    // Every monthly partition is protected too.
    let part: String = sqlx::query_scalar("SELECT audit_log_ensure_partition(now())")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(sqlx::query(&format!("TRUNCATE {part}"))
        .execute(&pool)
        .await
        .is_err());
    assert_eq!(audit_count(&pool, "test.immutable").await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn tampering_is_detected_by_verification(pool: PgPool) {
    for i in 0..4 {
        append(&pool, &format!("test.e{i}")).await;
    }
    // Simulate an attacker with superuser rights who bypasses the trigger.
    let part: String = sqlx::query_scalar("SELECT audit_log_ensure_partition(now())")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(&format!(
        "UPDATE {part} SET action = 'test.forged' WHERE seq = 2"
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query("SET session_replication_role = origin")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let report = verify_audit_chain(&pool).await.unwrap();
    assert_eq!(
        report.problem.as_deref(),
        Some("entry 2 was changed after it was written")
    );

    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(&format!("DELETE FROM {part} WHERE seq = 4"))
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(&format!(
        "UPDATE {part} SET action = 'test.e1' WHERE seq = 2"
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(
        report
            .problem
            .as_deref()
            .unwrap_or_default()
            .contains("removed"),
        "{report:?}"
    );
}

// --- secrets at rest ---------------------------------------------------------------------

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn encrypted_secrets_round_trip_through_the_database(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let keys = MasterKeys::parse(&MasterKeys::generate_text("k1")).unwrap();
    let aad = format!("sso_client_secret:{}", acme.id);
    let sealed = keys.encrypt(b"idp-client-secret", &aad).unwrap();
    sqlx::query("INSERT INTO sso_configs (tenant_id, issuer_url, client_id, client_secret_ciphertext) VALUES ($1, 'https://idp.example.com', 'gh', $2)")
        .bind(acme.id)
        .bind(&sealed)
        .execute(&pool)
        .await
        .unwrap();
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT client_secret_ciphertext FROM sso_configs WHERE tenant_id = $1")
            .bind(acme.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        !stored.windows(17).any(|w| w == b"idp-client-secret"),
        "stored encrypted"
    );
    assert_eq!(keys.decrypt(&stored, &aad).unwrap(), b"idp-client-secret");
    let other = MasterKeys::parse(&MasterKeys::generate_text("k1")).unwrap();
    assert!(
        other.decrypt(&stored, &aad).is_err(),
        "a wrong master key cannot read it"
    );
    let text = MasterKeys::generate_text("k2");
    assert!(
        !format!("{:?}", MasterKeys::parse(&text).unwrap()).contains(text.expose_secret().trim())
    );
}
