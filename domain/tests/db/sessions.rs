//! Sessions (DAT-SESSION, FR-AUTH-005).

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
    let u = member(pool, Some(acme.id), "ada@acme.test", Role::Admin).await;
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
    sqlx::query("UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE id = $1")
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
    set_user_status(&pool, ada.id, "disabled").await;
    assert!(refused(authenticate_session(&pool, &token).await));
    set_user_status(&pool, ada.id, "active").await;
    assert!(authenticate_session(&pool, &token).await.is_ok());
    mark_suspended(&pool, acme.id).await;
    assert!(refused(authenticate_session(&pool, &token).await));
    // A disabled user cannot get a new session either.
    set_user_status(&pool, ada.id, "disabled").await;
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
    let bob = member(&pool, Some(acme.id), "bob@acme.test", Role::User).await;
    let globex = tenant(&pool, "globex").await;
    let carol = member(&pool, Some(globex.id), "carol@globex.test", Role::User).await;
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
    let reasons = audit_reasons(&pool, "session.revoked").await;
    assert_eq!(reasons, ["password_change", "tenant_suspended"]);
}
