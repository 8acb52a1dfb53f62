//! Feature flags and the tenant lifecycle (SPEC §2, §6; FR-FLAG-001/002,
//! UC-PROV-001, UC-TENANT-SUSPEND, FR-OPS-001).

use super::*;
use gatehouse_domain::flags::{
    create_flag, flag_history, list_flags, set_override, set_plan_default, stale_flags,
    tenant_flags, update_flag, EffectiveFlag, FlagInput, Source,
};
use gatehouse_domain::tenants::{
    change_plan, list_tenants, provision_with_owner, reactivate_tenant, suspend_tenant,
    Provisioning, TenantQuery,
};

fn flag(key: &str, default_value: bool) -> FlagInput {
    FlagInput {
        key: Some(key.into()),
        description: Some(format!("{key} flag")),
        default_value: Some(default_value),
        rollout_percentage: None,
    }
}

/// Creates the flag `key` (off or on by `default_value`) as the operator `op`.
async fn create(pool: &PgPool, op: &Actor, key: &str, default_value: bool) {
    let ctx = RequestContext::default();
    create_flag(pool, &ctx, Some(op), flag(key, default_value))
        .await
        .unwrap();
}

/// Turns `key` on for the pro plan, as the operator `op`.
async fn on_for_pro(pool: &PgPool, op: &Actor, key: &str) {
    let ctx = RequestContext::default();
    set_plan_default(pool, &ctx, Some(op), key, Plan::Pro, Some(true))
        .await
        .unwrap();
}

/// The flags of `tenant_id`, evaluated for the tenant itself.
async fn evaluated(pool: &PgPool, tenant_id: Uuid) -> Vec<EffectiveFlag> {
    tenant_flags(pool, tenant_id)
        .await
        .unwrap()
        .unwrap()
        .evaluate(None)
}

async fn operator(pool: &PgPool) -> Actor {
    let u = member(pool, None, "op@gatehouse.test", Role::Operator).await;
    actor_of(&u)
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn effective_value_is_override_then_plan_then_default_and_every_change_is_audited(
    pool: PgPool,
) {
    let op = operator(&pool).await;
    let acme = tenant(&pool, "acme").await; // plan pro
    let ctx = RequestContext::default();
    create(&pool, &op, "new_checkout", false).await;
    create(&pool, &op, "dark_mode", true).await;
    on_for_pro(&pool, &op, "new_checkout").await;
    let eval = evaluated(&pool, acme.id).await;
    assert_eq!(
        (eval[0].key.as_str(), eval[0].value, eval[0].source),
        ("dark_mode", true, Source::Default)
    );
    assert_eq!(
        (eval[1].key.as_str(), eval[1].value, eval[1].source),
        ("new_checkout", true, Source::Plan)
    );
    // An override wins; clearing it falls back to the plan.
    set_override(&pool, &ctx, Some(&op), acme.id, "new_checkout", Some(false))
        .await
        .unwrap();
    let eval = evaluated(&pool, acme.id).await;
    assert_eq!((eval[1].value, eval[1].source), (false, Source::Override));
    // A plan change re-applies plan defaults without touching overrides.
    change_plan(&pool, &ctx, Some(&op), acme.id, Plan::Free)
        .await
        .unwrap();
    let eval = evaluated(&pool, acme.id).await;
    assert_eq!((eval[1].value, eval[1].source), (false, Source::Override));
    set_override(&pool, &ctx, Some(&op), acme.id, "new_checkout", None)
        .await
        .unwrap();
    let eval = evaluated(&pool, acme.id).await;
    assert_eq!(
        (eval[1].value, eval[1].source),
        (false, Source::Default),
        "free has no plan default"
    );
    // History: old → new, who, when.
    let history = flag_history(&pool, Some(&op), "new_checkout", 50)
        .await
        .unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "flag.override.clear",
            "flag.override.set",
            "flag.plan_default.set",
            "flag.create"
        ]
    );
    assert_eq!(history[0].old, serde_json::json!(false));
    assert_eq!(history[0].new, serde_json::Value::Null);
    assert_eq!(history[1].actor_email.as_deref(), Some("op@gatehouse.test"));
    assert_eq!(audit_count(&pool, "tenant.plan.change").await, 1);
    // Stale: nothing evaluated yet.
    assert_eq!(stale_flags(&pool, Some(&op), 30).await.unwrap().len(), 2);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn flag_changes_are_refused_for_bad_input_unknown_flags_and_non_operators(pool: PgPool) {
    let op = operator(&pool).await;
    let acme = tenant(&pool, "acme").await;
    let admin = actor_of(&member(&pool, Some(acme.id), "adm@acme.test", Role::Admin).await);
    let ctx = RequestContext::default();
    let bad = create_flag(
        &pool,
        &ctx,
        Some(&op),
        FlagInput {
            key: Some("New-Checkout".into()),
            rollout_percentage: Some(Some(120)),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    let DomainError::Validation(fields) = bad else {
        panic!("validation expected")
    };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["key", "rollout_percentage"]);
    assert!(matches!(
        set_override(&pool, &ctx, Some(&op), acme.id, "no_such_flag", Some(true)).await,
        Err(DomainError::NotFound("flag"))
    ));
    assert!(matches!(
        create_flag(&pool, &ctx, Some(&admin), flag("x", true)).await,
        Err(DomainError::PermissionDenied(_))
    ));
    create(&pool, &op, "beta", false).await;
    assert!(matches!(
        create_flag(&pool, &ctx, Some(&op), flag("beta", false)).await,
        Err(DomainError::Conflict { .. })
    ));
    assert!(list_flags(&pool, Some(&admin)).await.is_err());
    update_flag(
        &pool,
        &ctx,
        Some(&op),
        "beta",
        FlagInput {
            rollout_percentage: Some(Some(50)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A 50 % rollout is sticky per targeting key.
    let flags = tenant_flags(&pool, acme.id).await.unwrap().unwrap();
    let a = flags.evaluate(Some("user-1"));
    assert_eq!(a, flags.evaluate(Some("user-1")));
    assert_eq!(a[0].source, Source::Rollout);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn provisioning_creates_tenant_owner_invitation_and_enables_applications_or_nothing(
    pool: PgPool,
) {
    let op = operator(&pool).await;
    let ctx = RequestContext::default();
    let input = |domain: &str, apps: Vec<Uuid>| Provisioning {
        name: DisplayName::parse("Globex").unwrap(),
        domain: TenantDomain::parse(domain).unwrap(),
        plan: Plan::Enterprise,
        owner_email: Email::parse("boss@globex.test").unwrap(),
        applications: apps,
    };
    // An unknown application: nothing is created.
    let err = provision_with_owner(
        &pool,
        &ctx,
        Some(&op),
        input("globex", vec![Uuid::now_v7()]),
        "http://localhost",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DomainError::Validation(_)));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing half-created");
    let t = provision_with_owner(
        &pool,
        &ctx,
        Some(&op),
        input("globex", vec![]),
        "http://localhost",
    )
    .await
    .unwrap()
    .value;
    let owner: (String, String) =
        sqlx::query_as("SELECT role, status FROM users WHERE tenant_id = $1")
            .bind(t.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(owner, ("owner".into(), "invited".into()));
    let mails: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM email_outbox WHERE to_address = 'boss@globex.test'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(mails, 1);
    // The owner's invitation is audited as the operator's act, in the tenant.
    let invite: (String, Option<Uuid>, Option<Uuid>) = sqlx::query_as(
        "SELECT actor_type, actor_id, tenant_id FROM audit_log
         WHERE action = 'user.invite' AND resource = (SELECT 'user:' || id FROM users
                                                       WHERE email = 'boss@globex.test')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(invite, ("operator".into(), Some(op.user_id), Some(t.id)));
    // A taken domain.
    assert!(matches!(
        provision_with_owner(
            &pool,
            &ctx,
            Some(&op),
            input("globex", vec![]),
            "http://localhost"
        )
        .await,
        Err(DomainError::Conflict { .. })
    ));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn tenants_list_searches_filters_and_pages_by_cursor(pool: PgPool) {
    let op = operator(&pool).await;
    for d in ["alpha", "bravo", "charlie", "delta", "echo"] {
        tenant(&pool, d).await;
    }
    let ctx = RequestContext::default();
    let bravo: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE domain = 'bravo'")
        .fetch_one(&pool)
        .await
        .unwrap();
    suspend_tenant(&pool, &ctx, Some(&op), bravo, Some("fraud review"))
        .await
        .unwrap();
    let page = |cursor: Option<String>| TenantQuery {
        limit: 2,
        cursor,
        ..Default::default()
    };
    let first = list_tenants(&pool, Some(&op), page(None)).await.unwrap();
    assert_eq!(first.data.len(), 2);
    let second = list_tenants(&pool, Some(&op), page(first.next_cursor.clone()))
        .await
        .unwrap();
    let third = list_tenants(&pool, Some(&op), page(second.next_cursor.clone()))
        .await
        .unwrap();
    assert_eq!(third.data.len(), 1);
    assert!(third.next_cursor.is_none());
    let mut all: Vec<String> = [first.data, second.data, third.data]
        .concat()
        .into_iter()
        .map(|t| t.domain)
        .collect();
    all.sort();
    assert_eq!(all, ["alpha", "bravo", "charlie", "delta", "echo"]);
    let found = list_tenants(
        &pool,
        Some(&op),
        TenantQuery {
            search: Some("HARL".into()),
            limit: 25,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.data[0].domain, "charlie");
    let suspended = list_tenants(
        &pool,
        Some(&op),
        TenantQuery {
            status: Some(TenantStatus::Suspended),
            limit: 25,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(suspended.data.len(), 1);
    assert!(list_tenants(
        &pool,
        Some(&op),
        TenantQuery {
            limit: 101,
            ..Default::default()
        }
    )
    .await
    .is_err());
    assert!(list_tenants(
        &pool,
        Some(&op),
        TenantQuery {
            cursor: Some("garbage".into()),
            limit: 5,
            ..Default::default()
        }
    )
    .await
    .is_err());
    // Reactivation restores the status; both audited.
    reactivate_tenant(&pool, &ctx, Some(&op), bravo)
        .await
        .unwrap();
    assert_eq!(audit_count(&pool, "tenant.suspend").await, 1);
    assert_eq!(audit_count(&pool, "tenant.reactivate").await, 1);
}

#[test]
fn provisioning_input_lists_every_problem_by_field() {
    let Err(DomainError::Validation(errors)) = Provisioning::parse(
        Some("  "),
        Some("Not A Domain"),
        Some("gold"),
        Some("x"),
        vec![],
    ) else {
        panic!("expected a validation error");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for field in ["name", "domain", "plan", "owner_email"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    let ok = Provisioning::parse(
        Some(" Globex "),
        Some("GLOBEX"),
        None,
        Some("boss@globex.test"),
        vec![],
    )
    .unwrap();
    assert_eq!(ok.domain.as_str(), "globex");
    assert_eq!(ok.plan, Plan::Free, "the plan defaults to free");
}

/// FR-OPS-001: the dashboard and a tenant's page read what the console shows, for
/// operators only.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_console_overview_shows_owners_counts_flag_sources_and_recent_entries(pool: PgPool) {
    use gatehouse_domain::tenants::{dashboard, tenant_overview};
    let op = operator(&pool).await;
    let ctx = RequestContext::default();
    let t = provision_with_owner(
        &pool,
        &ctx,
        Some(&op),
        Provisioning::parse(
            Some("Globex"),
            Some("globex"),
            Some("pro"),
            Some("boss@globex.test"),
            vec![],
        )
        .unwrap(),
        "http://localhost",
    )
    .await
    .unwrap()
    .value;
    create(&pool, &op, "dark_mode", false).await;
    create(&pool, &op, "new_checkout", false).await;
    on_for_pro(&pool, &op, "new_checkout").await;
    set_override(&pool, &ctx, Some(&op), t.id, "dark_mode", Some(true))
        .await
        .unwrap();

    let o = tenant_overview(&pool, Some(&op), t.id).await.unwrap();
    assert_eq!(o.owners.len(), 1);
    assert_eq!(o.owners[0].email, "boss@globex.test");
    assert_eq!(o.owners[0].status, "invited");
    assert_eq!(
        o.users_by_status
            .iter()
            .map(|c| (c.label.as_str(), c.count))
            .collect::<Vec<_>>(),
        vec![("invited", 1)]
    );
    let source = |key: &str| {
        let f = o.flags.iter().find(|f| f.key == key).unwrap();
        (f.value, f.source)
    };
    assert_eq!(source("dark_mode"), (true, Source::Override));
    assert_eq!(source("new_checkout"), (true, Source::Plan));
    let actions: Vec<&str> = o.recent.iter().map(|l| l.action.as_str()).collect();
    assert_eq!(actions.first(), Some(&"flag.override.set"), "newest first");
    assert!(actions.contains(&"tenant.create"));
    assert_eq!(
        o.recent[0].actor_email.as_deref(),
        Some("op@gatehouse.test")
    );

    let d = dashboard(&pool, Some(&op)).await.unwrap();
    assert_eq!(d.tenants_total, 1);
    assert_eq!(d.tenants_by_plan[0].label, "pro");
    assert_eq!(
        d.outbox.pending, 1,
        "the owner's invitation waits in the outbox"
    );
    assert_eq!(d.outbox.last_error, None);
    // The SMTP server is down (issue 21): the mail goes back with the reason, which the
    // dashboard shows.
    let mail: Uuid = sqlx::query_scalar("SELECT id FROM email_outbox WHERE status = 'pending'")
        .fetch_one(&pool)
        .await
        .unwrap();
    gatehouse_domain::email::release_claimed_mail(
        &pool,
        &[mail],
        Some("Connection error: Connection refused (os error 111)"),
    )
    .await
    .unwrap();
    let d = dashboard(&pool, Some(&op)).await.unwrap();
    assert_eq!(
        d.outbox.last_error.as_deref(),
        Some("Connection error: Connection refused (os error 111)")
    );
    assert!(d
        .recent
        .iter()
        .any(|l| l.tenant_domain.as_deref() == Some("globex")));

    // Not for tenant people, and an unknown tenant is "not found".
    let owner =
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM users WHERE email = 'boss@globex.test'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let tenant_owner = Actor {
        user_id: owner,
        tenant_id: Some(t.id),
        role: Role::Owner,
    };
    assert!(matches!(
        tenant_overview(&pool, Some(&tenant_owner), t.id).await,
        Err(DomainError::PermissionDenied(_))
    ));
    assert!(matches!(
        dashboard(&pool, Some(&tenant_owner)).await,
        Err(DomainError::PermissionDenied(_))
    ));
    assert!(matches!(
        tenant_overview(&pool, Some(&op), Uuid::now_v7()).await,
        Err(DomainError::NotFound(_))
    ));
}
