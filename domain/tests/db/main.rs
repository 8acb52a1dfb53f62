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
mod mfa;
mod passkeys;
mod password_policy;
mod security;
mod tokens;
mod universal_login;
mod user_admin;

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

// --- sessions (DAT-SESSION, FR-AUTH-005) -------------------------------------------------

mod sessions {
    use super::*;
    use gatehouse_domain::sessions::{
        authenticate_session, create_session, revoke_session, revoke_tenant_sessions,
        revoke_user_sessions, NewSession, RevokeReason, Revoker,
    };

    async fn login(pool: &PgPool, user_id: Uuid) -> (Uuid, String) {
        login_with(pool, user_id, true).await
    }

    async fn login_with(pool: &PgPool, user_id: Uuid, mfa_verified: bool) -> (Uuid, String) {
        let mut tx = pool.begin().await.unwrap();
        let issued = create_session(
            &mut tx,
            NewSession {
                user_id,
                ip: Some("198.51.100.4".parse().unwrap()),
                user_agent: Some("Test/1".into()),
                auth_methods: vec!["pwd".into()],
                mfa_verified,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        (issued.id, issued.token.expose_secret().to_owned())
    }

    async fn setup(pool: &PgPool) -> (Tenant, User) {
        let acme = tenant(pool, "acme").await;
        let u = user(
            pool,
            None,
            new_user(Some(acme.id), "ada@acme.test", Role::Admin),
        )
        .await
        .unwrap();
        (acme, u)
    }

    fn refused(r: Result<gatehouse_domain::sessions::CurrentSession, DomainError>) -> bool {
        matches!(r, Err(DomainError::Unauthenticated(_)))
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn a_session_authenticates_by_its_token_which_is_stored_hashed(pool: PgPool) {
        let (acme, ada) = setup(&pool).await;
        let (id, token) = login(&pool, ada.id).await;
        let current = authenticate_session(&pool, &token).await.unwrap();
        assert_eq!(
            (current.session_id, current.user_id, current.tenant_id),
            (id, ada.id, Some(acme.id))
        );
        assert_eq!(current.role, Role::Admin);
        let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_ne!(stored, token.as_bytes(), "only the hash is stored");
        assert!(refused(authenticate_session(&pool, "not-a-token").await));
        let lifetime: f64 = sqlx::query_scalar(
            "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM sessions",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(lifetime, 24.0 * 3600.0);
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn a_pending_session_is_short_and_says_it_lacks_the_second_factor(pool: PgPool) {
        let (_, ada) = setup(&pool).await;
        let (id, token) = login_with(&pool, ada.id, false).await;
        let current = authenticate_session(&pool, &token).await.unwrap();
        assert!(!current.mfa_verified, "pages treat it as not signed in yet");
        let lifetime: f64 = sqlx::query_scalar(
            "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(lifetime, 600.0);
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn expired_idle_and_revoked_sessions_are_refused_at_once(pool: PgPool) {
        let (_, ada) = setup(&pool).await;
        let (expired, t1) = login(&pool, ada.id).await;
        let (idle, t2) = login(&pool, ada.id).await;
        let (revoked, t3) = login(&pool, ada.id).await;
        sqlx::query("UPDATE sessions SET created_at = now() - interval '25 hours', last_seen_at = now(), expires_at = now() - interval '1 hour' WHERE id = $1")
            .bind(expired).execute(&pool).await.unwrap();
        // The tenant's default idle timeout is 30 minutes.
        sqlx::query(
            "UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE id = $1",
        )
        .bind(idle)
        .execute(&pool)
        .await
        .unwrap();
        let mut tx = pool.begin().await.unwrap();
        assert!(revoke_session(
            &mut tx,
            &RequestContext::default(),
            Revoker::SYSTEM,
            revoked,
            RevokeReason::Logout
        )
        .await
        .unwrap());
        tx.commit().await.unwrap();
        for token in [&t1, &t2, &t3] {
            assert!(refused(authenticate_session(&pool, token).await));
        }
        assert_eq!(audit_count(&pool, "session.revoked").await, 1);
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn disabled_users_and_suspended_tenants_lose_their_sessions(pool: PgPool) {
        let (acme, ada) = setup(&pool).await;
        let (_, token) = login(&pool, ada.id).await;
        sqlx::query("UPDATE users SET status = 'disabled' WHERE id = $1")
            .bind(ada.id)
            .execute(&pool)
            .await
            .unwrap();
        assert!(refused(authenticate_session(&pool, &token).await));
        sqlx::query("UPDATE users SET status = 'active' WHERE id = $1")
            .bind(ada.id)
            .execute(&pool)
            .await
            .unwrap();
        assert!(authenticate_session(&pool, &token).await.is_ok());
        sqlx::query("UPDATE tenants SET status = 'suspended', suspended_at = now() WHERE id = $1")
            .bind(acme.id)
            .execute(&pool)
            .await
            .unwrap();
        assert!(refused(authenticate_session(&pool, &token).await));
        // A disabled user cannot get a new session either.
        sqlx::query("UPDATE users SET status = 'disabled' WHERE id = $1")
            .bind(ada.id)
            .execute(&pool)
            .await
            .unwrap();
        let mut tx = pool.begin().await.unwrap();
        let err = create_session(
            &mut tx,
            NewSession {
                user_id: ada.id,
                ip: None,
                user_agent: None,
                auth_methods: vec![],
                mfa_verified: false,
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, DomainError::Unauthenticated(_)));
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn revoking_a_users_or_a_tenants_sessions_touches_nobody_else(pool: PgPool) {
        let (acme, ada) = setup(&pool).await;
        let bob = user(
            &pool,
            None,
            new_user(Some(acme.id), "bob@acme.test", Role::User),
        )
        .await
        .unwrap();
        let globex = tenant(&pool, "globex").await;
        let carol = user(
            &pool,
            None,
            new_user(Some(globex.id), "carol@globex.test", Role::User),
        )
        .await
        .unwrap();
        let (_, ada1) = login(&pool, ada.id).await;
        let (_, ada2) = login(&pool, ada.id).await;
        let (_, bob1) = login(&pool, bob.id).await;
        let (_, carol1) = login(&pool, carol.id).await;

        let ctx = RequestContext::default();
        let mut tx = pool.begin().await.unwrap();
        let by = Revoker {
            actor_type: ActorType::User,
            actor_id: Some(ada.id),
        };
        assert_eq!(
            revoke_user_sessions(&mut tx, &ctx, by, ada.id, RevokeReason::PasswordChange)
                .await
                .unwrap(),
            2
        );
        tx.commit().await.unwrap();
        assert!(
            refused(authenticate_session(&pool, &ada1).await)
                && refused(authenticate_session(&pool, &ada2).await)
        );
        assert!(authenticate_session(&pool, &bob1).await.is_ok());

        let mut tx = pool.begin().await.unwrap();
        assert_eq!(
            revoke_tenant_sessions(
                &mut tx,
                &ctx,
                Revoker::SYSTEM,
                acme.id,
                RevokeReason::TenantSuspended
            )
            .await
            .unwrap(),
            1
        );
        // Nothing left to revoke: no audit entry for a no-op.
        assert_eq!(
            revoke_user_sessions(
                &mut tx,
                &ctx,
                Revoker::SYSTEM,
                ada.id,
                RevokeReason::UserDisabled
            )
            .await
            .unwrap(),
            0
        );
        tx.commit().await.unwrap();
        assert!(refused(authenticate_session(&pool, &bob1).await));
        assert!(
            authenticate_session(&pool, &carol1).await.is_ok(),
            "another tenant is untouched"
        );
        let reasons: Vec<String> = sqlx::query_scalar("SELECT metadata->>'reason' FROM audit_log WHERE action = 'session.revoked' ORDER BY seq")
            .fetch_all(&pool).await.unwrap();
        assert_eq!(reasons, ["password_change", "tenant_suspended"]);
    }
}

// --- password sign-in and throttling (UC-LOGIN, SPEC §3) ---------------------------------

mod login {
    use super::*;
    use gatehouse_domain::login::{
        throttle_state, verify_password_login, LoginOutcome, PasswordLogin,
    };
    use std::time::Duration;

    const PW: &str = "correct horse battery staple";

    async fn account(
        pool: &PgPool,
        tenant_id: Option<Uuid>,
        email: &str,
        role: Role,
        status: UserStatus,
    ) -> User {
        let mut new = new_user(tenant_id, email, role);
        new.status = status;
        new.password = Some(SecretString::from(PW.to_owned()));
        user(pool, None, new).await.unwrap()
    }

    fn attempt(email: &str, password: &str, tenant: Option<&str>) -> PasswordLogin {
        PasswordLogin {
            email: Email::parse(email).unwrap(),
            password: SecretString::from(password.to_owned()),
            tenant: tenant.map(|t| TenantDomain::parse(t).unwrap()),
        }
    }

    fn ctx() -> RequestContext {
        RequestContext {
            request_id: None,
            ip: Some("192.0.2.10".parse().unwrap()),
            user_agent: None,
        }
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn wrong_password_and_unknown_email_answer_alike(pool: PgPool) {
        let acme = tenant(&pool, "acme").await;
        account(
            &pool,
            Some(acme.id),
            "ada@acme.test",
            Role::User,
            UserStatus::Active,
        )
        .await;
        let wrong = verify_password_login(&pool, &ctx(), attempt("ada@acme.test", "nope", None))
            .await
            .unwrap_err();
        let unknown = verify_password_login(&pool, &ctx(), attempt("nobody@acme.test", PW, None))
            .await
            .unwrap_err();
        assert_eq!(wrong.to_string(), unknown.to_string());
        assert!(matches!(wrong, DomainError::Unauthenticated(_)));
        let metadata: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT metadata FROM audit_log WHERE action = 'auth.login.failure' ORDER BY seq",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(metadata.len(), 2);
        assert!(metadata
            .iter()
            .all(|m| m["reason"] == "invalid_credentials" && m["ip"] == "192.0.2.10"));
        assert!(
            !metadata.iter().any(|m| m.to_string().contains("nope")),
            "the password never reaches the audit log"
        );
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn the_right_password_signs_in_and_resets_the_account_throttle(pool: PgPool) {
        let acme = tenant(&pool, "acme").await;
        let ada = account(
            &pool,
            Some(acme.id),
            "Ada@acme.test",
            Role::Admin,
            UserStatus::Active,
        )
        .await;
        verify_password_login(&pool, &ctx(), attempt("ada@acme.test", "nope", None))
            .await
            .unwrap_err();
        let ok = verify_password_login(&pool, &ctx(), attempt("ADA@acme.test", PW, None))
            .await
            .unwrap();
        assert_eq!(
            ok,
            LoginOutcome::Authenticated {
                user_id: ada.id,
                tenant_id: Some(acme.id),
                role: Role::Admin,
                recent_failures: 1,
            }
        );
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM auth_throttle WHERE scope = 'account'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(left, 0);
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn an_address_in_several_tenants_lets_the_person_choose(pool: PgPool) {
        let acme = tenant(&pool, "acme").await;
        let globex = tenant(&pool, "globex").await;
        let initech = tenant(&pool, "initech").await;
        let a = account(
            &pool,
            Some(acme.id),
            "sam@example.com",
            Role::User,
            UserStatus::Active,
        )
        .await;
        let g = account(
            &pool,
            Some(globex.id),
            "sam@example.com",
            Role::Owner,
            UserStatus::Active,
        )
        .await;
        // Another password in a third tenant: not offered.
        let mut other = new_user(Some(initech.id), "sam@example.com", Role::User);
        other.password = Some(SecretString::from("a different passphrase".to_owned()));
        user(&pool, None, other).await.unwrap();

        match verify_password_login(&pool, &ctx(), attempt("sam@example.com", PW, None))
            .await
            .unwrap()
        {
            LoginOutcome::ChooseTenant(choices) => {
                let ids: Vec<Uuid> = choices.iter().map(|c| c.user_id).collect();
                assert_eq!(ids, vec![a.id, g.id]);
                assert_eq!(choices[1].tenant_domain.as_deref(), Some("globex"));
            }
            other => panic!("expected a choice, got {other:?}"),
        }
        let hinted = verify_password_login(
            &pool,
            &ctx(),
            attempt("sam@example.com", PW, Some("globex")),
        )
        .await
        .unwrap();
        assert!(matches!(hinted, LoginOutcome::Authenticated { user_id, .. } if user_id == g.id));
        let err = verify_password_login(
            &pool,
            &ctx(),
            attempt("sam@example.com", PW, Some("initech")),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, DomainError::Unauthenticated(_)));
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn disabled_invited_and_suspended_accounts_cannot_sign_in(pool: PgPool) {
        let acme = tenant(&pool, "acme").await;
        account(
            &pool,
            Some(acme.id),
            "off@acme.test",
            Role::User,
            UserStatus::Disabled,
        )
        .await;
        let err = verify_password_login(&pool, &ctx(), attempt("off@acme.test", PW, None))
            .await
            .unwrap_err();
        assert!(
            matches!(err, DomainError::PermissionDenied(ref m) if m.contains("disabled")),
            "{err:?}"
        );

        account(
            &pool,
            Some(acme.id),
            "on@acme.test",
            Role::User,
            UserStatus::Active,
        )
        .await;
        sqlx::query("UPDATE tenants SET status = 'suspended', suspended_at = now() WHERE id = $1")
            .bind(acme.id)
            .execute(&pool)
            .await
            .unwrap();
        let err = verify_password_login(&pool, &ctx(), attempt("on@acme.test", PW, None))
            .await
            .unwrap_err();
        assert!(
            matches!(err, DomainError::PermissionDenied(ref m) if m.contains("suspended")),
            "{err:?}"
        );
        // Without the right password nothing about the account is revealed.
        let err = verify_password_login(&pool, &ctx(), attempt("off@acme.test", "guess", None))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Unauthenticated(_)));
        let reasons: Vec<String> = sqlx::query_scalar(
            "SELECT metadata->>'reason' FROM audit_log WHERE action = 'auth.login.failure' ORDER BY seq",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(
            reasons,
            ["user_disabled", "tenant_suspended", "invalid_credentials"]
        );
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn repeated_failures_lock_the_account_even_for_the_right_password(pool: PgPool) {
        let acme = tenant(&pool, "acme").await;
        account(
            &pool,
            Some(acme.id),
            "ada@acme.test",
            Role::User,
            UserStatus::Active,
        )
        .await;
        // Nine failures already in this window (the growing delay is covered below).
        sqlx::query("INSERT INTO auth_throttle (scope, key, failures) VALUES ('account', 'ada@acme.test', 9)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE auth_throttle SET failures = 9")
            .execute(&pool)
            .await
            .unwrap();
        let started = std::time::Instant::now();
        verify_password_login(&pool, &ctx(), attempt("ada@acme.test", "nope", None))
            .await
            .unwrap_err();
        assert!(
            started.elapsed() >= Duration::from_secs(8),
            "the ninth failure already waits"
        );
        let err = verify_password_login(&pool, &ctx(), attempt("ada@acme.test", PW, None))
            .await
            .unwrap_err();
        match err {
            DomainError::Locked {
                retry_after_secs, ..
            } => assert!((1..=900).contains(&retry_after_secs)),
            other => panic!("expected a lock, got {other:?}"),
        }
        assert_eq!(audit_count(&pool, "auth.lockout").await, 1);
        // Another account from another address is not affected.
        account(
            &pool,
            Some(acme.id),
            "bob@acme.test",
            Role::User,
            UserStatus::Active,
        )
        .await;
        let other_ip = RequestContext {
            ip: Some("192.0.2.99".parse().unwrap()),
            ..ctx()
        };
        assert!(
            verify_password_login(&pool, &other_ip, attempt("bob@acme.test", PW, None))
                .await
                .is_ok()
        );
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn signing_in_rotates_the_session_and_signing_out_ends_it(pool: PgPool) {
        use gatehouse_domain::login::{complete_sign_in, sign_out};
        use gatehouse_domain::sessions::authenticate_session;
        let acme = tenant(&pool, "acme").await;
        let ada = account(
            &pool,
            Some(acme.id),
            "ada@acme.test",
            Role::Owner,
            UserStatus::Active,
        )
        .await;
        let (first, role) = complete_sign_in(&pool, &ctx(), ada.id, &["pwd"], false, None)
            .await
            .unwrap();
        assert_eq!(role, Role::Owner);
        let first = first.token.expose_secret().to_owned();
        // Signing in again from the same browser ends the session it had (rotation).
        let (second, _) = complete_sign_in(&pool, &ctx(), ada.id, &["pwd"], false, Some(&first))
            .await
            .unwrap();
        let second = second.token.expose_secret().to_owned();
        assert!(authenticate_session(&pool, &first).await.is_err());
        assert!(authenticate_session(&pool, &second).await.is_ok());
        let last_login: Option<time::OffsetDateTime> =
            sqlx::query_scalar("SELECT last_login_at FROM users WHERE id = $1")
                .bind(ada.id)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert!(last_login.is_some());
        assert_eq!(audit_count(&pool, "auth.login.success").await, 2);

        assert!(sign_out(&pool, &ctx(), &second).await.unwrap());
        assert!(authenticate_session(&pool, &second).await.is_err());
        assert!(
            !sign_out(&pool, &ctx(), &second).await.unwrap(),
            "a dead session signs out once"
        );
        assert_eq!(audit_count(&pool, "auth.logout").await, 1);
    }

    #[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
    async fn the_delay_grows_with_failures(pool: PgPool) {
        let delay = |scope: &'static str, key: &'static str, failures: i32| {
            let pool = pool.clone();
            async move {
                sqlx::query("DELETE FROM auth_throttle")
                    .execute(&pool)
                    .await
                    .unwrap();
                sqlx::query("INSERT INTO auth_throttle (scope, key, failures) VALUES ($1, $2, $3)")
                    .bind(scope)
                    .bind(key)
                    .bind(failures)
                    .execute(&pool)
                    .await
                    .unwrap();
                throttle_state(&pool, "x@example.com", Some("192.0.2.1"))
                    .await
                    .unwrap()
                    .delay
                    .as_secs()
            }
        };
        let mut delays = Vec::new();
        for failures in [0, 3, 4, 5, 6, 7, 30] {
            delays.push(delay("account", "x@example.com", failures).await);
        }
        assert_eq!(delays, [0, 0, 1, 2, 4, 8, 8]);
        // Per IP (a NAT holds many people) the delay starts only after 20 failures.
        let mut delays = Vec::new();
        for failures in [3, 20, 21, 22, 40] {
            delays.push(delay("ip", "192.0.2.1", failures).await);
        }
        assert_eq!(delays, [0, 0, 1, 2, 8]);
    }
}
