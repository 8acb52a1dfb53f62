//! Tenant user administration (SPEC §2; FR-TENANT-002/004/006).

use super::*;
use gatehouse_domain::users::{
    archive_user, get_user, list_users, reset_mfa, revoke_sessions, update_user, UserChange,
    UserQuery,
};

async fn member(pool: &PgPool, tenant: Uuid, email: &str, role: Role) -> User {
    super::member(pool, Some(tenant), email, role).await
}

async fn live_sessions(pool: &PgPool, user: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A role change alone, as the console's person page makes it (one field of `update_user`).
async fn change_role(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
    role: Role,
) -> Result<gatehouse_domain::effects::Done<gatehouse_domain::users::UserView>, DomainError> {
    let change = UserChange {
        role: Some(role),
        ..Default::default()
    };
    update_user(pool, ctx, actor, user_id, change, "http://localhost").await
}

/// Enabling or disabling alone, as the console's person page does it.
async fn set_enabled(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
    enabled: bool,
) -> Result<gatehouse_domain::effects::Done<gatehouse_domain::users::UserView>, DomainError> {
    let change = UserChange {
        enabled: Some(enabled),
        ..Default::default()
    };
    update_user(pool, ctx, actor, user_id, change, "http://localhost").await
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_rules_of_spec_2_hold_for_roles_status_and_deletion(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = member(&pool, acme.id, "owner@acme.test", Role::Owner).await;
    let admin = member(&pool, acme.id, "admin@acme.test", Role::Admin).await;
    let bob = member(&pool, acme.id, "bob@acme.test", Role::User).await;
    let ctx = RequestContext::default();
    let (o, a) = (actor_of(&owner), actor_of(&admin));
    // The last active owner can be neither demoted, disabled nor deleted.
    assert!(matches!(
        change_role(&pool, &ctx, &o, owner.id, Role::Admin).await,
        Err(DomainError::Conflict { .. })
    ));
    assert!(matches!(
        set_enabled(&pool, &ctx, &o, owner.id, false).await,
        Err(DomainError::Conflict { .. })
    ));
    assert!(matches!(
        archive_user(&pool, &ctx, &o, owner.id).await,
        Err(DomainError::Conflict { .. })
    ));
    // An admin cannot grant owner nor act on owners.
    assert!(matches!(
        change_role(&pool, &ctx, &a, bob.id, Role::Owner).await,
        Err(DomainError::PermissionDenied(_))
    ));
    assert!(matches!(
        set_enabled(&pool, &ctx, &a, owner.id, false).await,
        Err(DomainError::PermissionDenied(_))
    ));
    // A role change ends the person's sessions at once, in the same transaction.
    session_for(&pool, bob.id).await;
    let changed = change_role(&pool, &ctx, &a, bob.id, Role::Admin)
        .await
        .unwrap()
        .value;
    assert_eq!(changed.role, "admin");
    assert_eq!(live_sessions(&pool, bob.id).await, 0);
    assert_eq!(audit_count(&pool, "user.role.change").await, 1);
    // Disable / enable.
    session_for(&pool, bob.id).await;
    assert_eq!(
        set_enabled(&pool, &ctx, &o, bob.id, false)
            .await
            .unwrap()
            .value
            .status,
        "disabled"
    );
    assert_eq!(live_sessions(&pool, bob.id).await, 0);
    assert_eq!(
        set_enabled(&pool, &ctx, &o, bob.id, true)
            .await
            .unwrap()
            .value
            .status,
        "active"
    );
    // A second owner makes the first one removable.
    change_role(&pool, &ctx, &o, bob.id, Role::Owner)
        .await
        .unwrap();
    change_role(&pool, &ctx, &o, owner.id, Role::User)
        .await
        .unwrap();
    // Deleting archives; a second delete is gone.
    let b = actor_of(&User {
        role: Role::Owner,
        ..bob.clone()
    });
    archive_user(&pool, &ctx, &b, admin.id).await.unwrap();
    assert!(matches!(
        archive_user(&pool, &ctx, &b, admin.id).await,
        Err(DomainError::Gone(_))
    ));
    assert_eq!(
        get_user(&pool, &b, admin.id).await.unwrap().status,
        "archived"
    );
    // MFA reset and session revocation are audited.
    reset_mfa(&pool, &ctx, &b, owner.id).await.unwrap();
    revoke_sessions(&pool, &ctx, &b, owner.id).await.unwrap();
    assert_eq!(audit_count(&pool, "auth.mfa.reset").await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn other_tenants_users_are_not_found_and_users_cannot_administer(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let admin = actor_of(&member(&pool, acme.id, "admin@acme.test", Role::Admin).await);
    let plain = actor_of(&member(&pool, acme.id, "u@acme.test", Role::User).await);
    let stranger = member(&pool, globex.id, "x@globex.test", Role::User).await;
    let ctx = RequestContext::default();
    assert!(matches!(
        get_user(&pool, &admin, stranger.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        set_enabled(&pool, &ctx, &admin, stranger.id, false).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        archive_user(&pool, &ctx, &admin, stranger.id).await,
        Err(DomainError::NotFound(_))
    ));
    let q = || UserQuery {
        limit: 25,
        ..Default::default()
    };
    assert!(matches!(
        list_users(&pool, &admin, globex.id, q()).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        list_users(&pool, &plain, acme.id, q()).await,
        Err(DomainError::PermissionDenied(_))
    ));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_user_list_searches_filters_pages_and_hides_archived(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = actor_of(&member(&pool, acme.id, "owner@acme.test", Role::Owner).await);
    for i in 0..7 {
        member(
            &pool,
            acme.id,
            &format!("user{i}@acme.test"),
            if i % 2 == 0 { Role::User } else { Role::Admin },
        )
        .await;
    }
    let gone = member(&pool, acme.id, "gone@acme.test", Role::User).await;
    archive_user(&pool, &RequestContext::default(), &owner, gone.id)
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = list_users(
            &pool,
            &owner,
            acme.id,
            UserQuery {
                limit: 3,
                cursor: cursor.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        seen.extend(page.data.into_iter().map(|u| u.email));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen.len(),
        8,
        "7 members and the owner; the archived one hidden: {seen:?}"
    );
    let admins = list_users(
        &pool,
        &owner,
        acme.id,
        UserQuery {
            role: Some(Role::Admin),
            limit: 25,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(admins.data.len(), 3);
    let found = list_users(
        &pool,
        &owner,
        acme.id,
        UserQuery {
            search: Some("USER3".into()),
            limit: 25,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.data[0].email, "user3@acme.test");
    let archived = list_users(
        &pool,
        &owner,
        acme.id,
        UserQuery {
            status: Some(UserStatus::Archived),
            limit: 25,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(archived.data.len(), 1);
    assert!(list_users(
        &pool,
        &owner,
        acme.id,
        UserQuery {
            limit: 0,
            ..Default::default()
        }
    )
    .await
    .is_err());
}

/// The tenant's own audit log: owners and admins page through their
/// tenant's entries only, filtered by action prefix and actor; users are refused.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_tenant_audit_log_pages_filters_and_stays_within_the_tenant(pool: PgPool) {
    use futures_util::TryStreamExt;
    use gatehouse_domain::audit::{tenant_audit_page, tenant_audit_rows, AuditQuery};
    let a = tenant(&pool, "acme").await;
    let b = tenant(&pool, "globex").await;
    let admin = member(&pool, a.id, "admin@acme.test", Role::Admin).await;
    let plain = member(&pool, a.id, "user@acme.test", Role::User).await;
    member(&pool, b.id, "owner@globex.test", Role::Owner).await;
    let admin = actor_of(&admin);
    let q = |limit: i64| AuditQuery {
        limit,
        ..Default::default()
    };
    // acme: tenant.create and two user.create entries; globex's are never included.
    let all = tenant_audit_page(&pool, &admin, a.id, q(100))
        .await
        .unwrap();
    assert_eq!(all.data.len(), 3);
    assert!(all
        .data
        .iter()
        .all(|r| !r.metadata.to_string().contains("globex")));
    // Pages of one follow the cursor without repeats.
    let first = tenant_audit_page(&pool, &admin, a.id, q(1)).await.unwrap();
    let second = tenant_audit_page(
        &pool,
        &admin,
        a.id,
        AuditQuery {
            cursor: first.next_cursor.clone(),
            ..q(1)
        },
    )
    .await
    .unwrap();
    assert_ne!(first.data[0].id, second.data[0].id);
    assert_eq!(first.data[0].id, all.data[0].id, "newest first");
    // Filters: action prefix (LIKE characters are literal) and actor.
    let users = AuditQuery {
        action_prefix: Some("user.".into()),
        ..q(100)
    };
    let page = tenant_audit_page(&pool, &admin, a.id, users.clone())
        .await
        .unwrap();
    assert_eq!(page.data.len(), 2);
    let odd = AuditQuery {
        action_prefix: Some("%".into()),
        ..q(100)
    };
    assert!(tenant_audit_page(&pool, &admin, a.id, odd)
        .await
        .unwrap()
        .data
        .is_empty());
    // The CSV stream sees the same rows.
    let streamed: Vec<_> = tenant_audit_rows(&pool, &admin, a.id, &users)
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), 2);
    // Refusals: another tenant, a user, a bad outcome, a bad limit.
    assert!(matches!(
        tenant_audit_page(&pool, &admin, b.id, q(10)).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        tenant_audit_page(&pool, &actor_of(&plain), a.id, q(10)).await,
        Err(DomainError::PermissionDenied(_))
    ));
    let bad = AuditQuery {
        outcome: Some("maybe".into()),
        ..q(10)
    };
    assert!(matches!(
        tenant_audit_page(&pool, &admin, a.id, bad).await,
        Err(DomainError::Validation(_))
    ));
    assert!(matches!(
        tenant_audit_page(&pool, &admin, a.id, q(101)).await,
        Err(DomainError::Validation(_))
    ));
}

/// Pending invitations (UC-TENANT-INVITE): listed, resent with a new link (the old one
/// stops working), revoked (the link stops working, the address is free again); admins
/// never act on an owner's invitation; another tenant's is not found.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn pending_invitations_are_resent_and_revoked_within_the_rules(pool: PgPool) {
    use gatehouse_domain::users::{invitation_by_token, invite_user, NewInvitation};
    use gatehouse_domain::users::{pending_invitations, resend_invitation, revoke_invitation};
    let a = tenant(&pool, "acme").await;
    let b = tenant(&pool, "globex").await;
    let owner = actor_of(&member(&pool, a.id, "owner@acme.test", Role::Owner).await);
    let admin = actor_of(&member(&pool, a.id, "admin@acme.test", Role::Admin).await);
    let other = actor_of(&member(&pool, b.id, "owner@globex.test", Role::Owner).await);
    let ctx = RequestContext::default();
    let invite = |email: &'static str, role: Role| {
        let pool = pool.clone();
        let owner = owner.clone();
        async move {
            invite_user(
                &pool,
                &RequestContext::default(),
                Some(&owner),
                NewInvitation {
                    tenant_id: a.id,
                    email: Email::parse(email).unwrap(),
                    role,
                    lifetime: gatehouse_domain::users::DEFAULT_LIFETIME,
                },
                "http://localhost",
            )
            .await
            .unwrap();
        }
    };
    invite("new@acme.test", Role::User).await;
    invite("boss@acme.test", Role::Owner).await;
    let pending = pending_invitations(&pool, &admin, a.id).await.unwrap();
    assert_eq!(pending.len(), 2);
    let user_inv = pending
        .iter()
        .find(|i| i.email == "new@acme.test")
        .unwrap()
        .clone();
    let owner_inv = pending.iter().find(|i| i.role == "owner").unwrap().clone();
    assert_eq!(user_inv.invited_by.as_deref(), Some("owner@acme.test"));

    // Resend: a new link, the old one gone; audited; mailed.
    let old_mail: String = sqlx::query_scalar(
        "SELECT text_body FROM email_outbox WHERE to_address = 'new@acme.test' ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap_or_default();
    let token_of = |text: &str| {
        text.split("/invite/")
            .nth(1)
            .map(|t| t.split_whitespace().next().unwrap_or("").to_owned())
    };
    resend_invitation(&pool, &ctx, &admin, user_inv.id, "http://localhost")
        .await
        .unwrap();
    assert_eq!(audit_count(&pool, "user.invitation.resent").await, 1);
    let mails: i64 =
        sqlx::query_scalar("SELECT count(*) FROM email_outbox WHERE to_address = 'new@acme.test'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(mails, 2);
    if let Some(old) = token_of(&old_mail) {
        assert!(matches!(
            invitation_by_token(&pool, &old).await,
            Err(DomainError::Gone(_))
        ));
    }

    // The rules: an admin on an owner's invitation, another tenant's owner.
    assert!(matches!(
        revoke_invitation(&pool, &ctx, &admin, owner_inv.id).await,
        Err(DomainError::PermissionDenied(_))
    ));
    assert!(matches!(
        resend_invitation(&pool, &ctx, &other, user_inv.id, "http://localhost").await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        pending_invitations(&pool, &other, a.id).await,
        Err(DomainError::NotFound(_))
    ));

    // Revoke: gone from the list, the account deleted, a second revoke is 410.
    revoke_invitation(&pool, &ctx, &admin, user_inv.id)
        .await
        .unwrap();
    let left = pending_invitations(&pool, &owner, a.id).await.unwrap();
    assert_eq!(left.len(), 1);
    let status: String =
        sqlx::query_scalar("SELECT status FROM users WHERE email = 'new@acme.test'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "archived");
    assert!(matches!(
        revoke_invitation(&pool, &ctx, &owner, user_inv.id).await,
        Err(DomainError::Gone(_))
    ));
    assert_eq!(audit_count(&pool, "user.invitation.revoked").await, 1);
    // The address can be invited again.
    invite("new@acme.test", Role::User).await;
}

/// The Users API's search (issue 23: through the tenant's own trigram keys) is still a
/// contains match on the address or the name, case-insensitive, within the tenant only;
/// `%` and `_` are literal, and terms under 3 characters still find people.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn search_is_a_contains_match_within_the_tenant(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let owner = actor_of(&member(&pool, acme.id, "owner@acme.test", Role::Owner).await);
    for email in [
        "lin.evans4285@acme.test",
        "evan@acme.test",
        "x_y@acme.test",
        "Nguyen.Thi@acme.test",
    ] {
        member(&pool, acme.id, email, Role::User).await;
    }
    // Another tenant's person matches every term: never found.
    member(
        &pool,
        globex.id,
        "lin.evans4285_x_y%@globex.test",
        Role::User,
    )
    .await;
    sqlx::query("UPDATE users SET name = 'Anna Nguyễn' WHERE email = 'evan@acme.test'")
        .execute(&pool)
        .await
        .unwrap();
    let find = |term: &str| {
        let (pool, owner, term) = (pool.clone(), owner.clone(), term.to_owned());
        async move {
            let page = list_users(
                &pool,
                &owner,
                acme.id,
                UserQuery {
                    search: Some(term),
                    limit: 25,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            let mut emails: Vec<String> = page.data.into_iter().map(|u| u.email).collect();
            emails.sort();
            emails
        }
    };
    assert_eq!(find("S4285@AC").await, ["lin.evans4285@acme.test"]);
    assert_eq!(
        find("evan").await,
        ["evan@acme.test", "lin.evans4285@acme.test"]
    );
    assert_eq!(
        find("nguy").await,
        ["Nguyen.Thi@acme.test", "evan@acme.test"]
    );
    assert_eq!(find("nguyễn").await, ["evan@acme.test"]);
    assert_eq!(find("x_y").await, ["x_y@acme.test"]);
    assert_eq!(find("x%y").await, Vec::<String>::new());
    assert_eq!(find("4285_x").await, Vec::<String>::new());
    assert_eq!(
        find("ev").await,
        ["evan@acme.test", "lin.evans4285@acme.test"]
    );
    assert_eq!(find("@").await.len(), 5);
}
