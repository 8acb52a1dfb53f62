//! Tenants and their people (DAT-TENANT, DAT-USER, SPEC §2): provisioning, unique domains
//! and addresses, roles and tenancy, the permission matrix, the schema's checks, demo data.

use super::*;

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn provisioning_a_tenant_is_audited_and_domains_are_unique(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    assert_eq!(acme.domain, "acme");
    assert_eq!(audit_count(&pool, "tenant.create").await, 1);

    let err = provision_tenant(
        &pool,
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
    // The refused attempt left nothing behind, not even an audit entry.
    assert_eq!(audit_count(&pool, "tenant.create").await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn emails_are_unique_per_tenant_case_insensitively(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    member(&pool, Some(acme.id), "Ada@Example.com", Role::User).await;
    let again = new_user(Some(acme.id), "ada@example.COM", Role::Admin);
    let dup = user(&pool, None, again).await.unwrap_err();
    assert!(
        matches!(dup, DomainError::Conflict { field: Some(ref f), .. } if f == "email"),
        "{dup:?}"
    );
    // The same address in another tenant is another account (SPEC §2).
    member(&pool, Some(globex.id), "ada@example.com", Role::Owner).await;
    // Platform users are unique too, although their tenant is NULL.
    member(&pool, None, "ops@example.com", Role::Operator).await;
    let platform_again = new_user(None, "OPS@example.com", Role::Auditor);
    assert!(user(&pool, None, platform_again).await.is_err());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn roles_and_tenancy_must_agree(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let err = user(&pool, None, new_user(None, "x@example.com", Role::Owner))
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Validation(ref v) if v[0].field == "role"));
    let tenant_operator = new_user(Some(acme.id), "y@example.com", Role::Operator);
    assert!(user(&pool, None, tenant_operator).await.is_err());
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
    let admin = member(&pool, Some(acme.id), "admin@acme.test", Role::Admin).await;
    let plain = member(&pool, Some(acme.id), "user@acme.test", Role::User).await;
    let (admin, plain) = (actor_of(&admin), actor_of(&plain));
    let in_acme = |email: &str, role: Role| new_user(Some(acme.id), email, role);

    // An admin invites users and admins in their own tenant...
    let new = in_acme("new@acme.test", Role::User);
    user(&pool, Some(&admin), new).await.unwrap();
    // ...but cannot create an owner,
    let boss = in_acme("boss@acme.test", Role::Owner);
    let err = user(&pool, Some(&admin), boss).await.unwrap_err();
    assert!(matches!(err, DomainError::PermissionDenied(_)), "{err:?}");
    // another tenant's resources do not exist for them (404, not 403),
    let stranger = new_user(Some(globex.id), "x@globex.test", Role::User);
    let err = user(&pool, Some(&admin), stranger).await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
    // and a plain user may not invite at all.
    let invited = in_acme("y@acme.test", Role::User);
    let err = user(&pool, Some(&plain), invited).await.unwrap_err();
    assert!(matches!(err, DomainError::PermissionDenied(_)), "{err:?}");
    // Operators may not be minted through tenant management.
    let operator = Actor {
        user_id: Uuid::now_v7(),
        tenant_id: None,
        role: Role::Operator,
    };
    let minted = new_user(None, "op2@example.com", Role::Operator);
    assert!(user(&pool, Some(&operator), minted).await.is_err());
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

mod alerts;
