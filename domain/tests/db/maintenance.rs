//! Maintenance windows (NFR-OPS-002): a window is validated whole (every violated field
//! named, nothing written); only operators schedule, cancel and list; scheduling and
//! cancelling are audited and publish `maintenance.scheduled` / `maintenance.cancelled` to
//! every subscribed endpoint, the tenants' as well as the platform's; what is announced
//! (the banner, `GET /api/v1/status`) leaves out cancelled and past windows.

use super::*;
use gatehouse_domain::tenants::{
    cancel_maintenance, list_maintenance_windows, schedule_maintenance, service_status,
    upcoming_windows, MaintenanceWindow, NewMaintenanceWindow, ServiceState,
};
use gatehouse_domain::webhooks::{create_endpoint, NewEndpoint, Owner};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

async fn operator(pool: &PgPool) -> Actor {
    actor_of(&member(pool, None, "ops@gatehouse.test", Role::Operator).await)
}

/// A window starting `from_now` (whole seconds, as the forms give them), `length` long.
fn window(from_now: Duration, length: Duration, message: &str) -> NewMaintenanceWindow {
    let now = OffsetDateTime::now_utc();
    let start = now - Duration::nanoseconds(i64::from(now.nanosecond())) + from_now;
    NewMaintenanceWindow {
        starts_at: start,
        ends_at: start + length,
        message: message.to_owned(),
    }
}

async fn schedule(
    pool: &PgPool,
    actor: &Actor,
    new: NewMaintenanceWindow,
) -> Result<MaintenanceWindow, DomainError> {
    schedule_maintenance(pool, &RequestContext::default(), actor, new)
        .await
        .map(|done| done.value)
}

async fn cancel(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<MaintenanceWindow, DomainError> {
    cancel_maintenance(pool, &RequestContext::default(), actor, id)
        .await
        .map(|done| done.value)
}

/// The fields a refusal names, in order.
fn refused_fields<T: std::fmt::Debug>(result: Result<T, DomainError>) -> Vec<String> {
    match result {
        Err(DomainError::Validation(details)) => details.into_iter().map(|d| d.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn is_denied<T>(result: &Result<T, DomainError>) -> bool {
    matches!(result, Err(DomainError::PermissionDenied(_)))
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

fn messages(windows: &[MaintenanceWindow]) -> Vec<&str> {
    windows.iter().map(|w| w.message.as_str()).collect()
}

/// A registered endpoint of `owner` for `types`; returns its id.
async fn endpoint(pool: &PgPool, actor: &Actor, owner: Owner, url: &str, types: &[&str]) -> Uuid {
    let keys = MasterKeys::parse(&MasterKeys::generate_text("test")).unwrap();
    create_endpoint(
        pool,
        &keys,
        &RequestContext::default(),
        actor,
        owner,
        NewEndpoint {
            url: url.to_owned(),
            description: None,
            event_types: types.iter().map(|t| (*t).to_owned()).collect(),
            rate_limit_per_second: None,
        },
        false,
    )
    .await
    .unwrap()
    .value
    .endpoint
    .id
}

/// The one event of `event_type`: its id, tenant and body.
async fn only_event(pool: &PgPool, event_type: &str) -> (Uuid, Option<Uuid>, Value) {
    let mut rows: Vec<(Uuid, Option<Uuid>, Value)> =
        sqlx::query_as("SELECT id, tenant_id, body FROM webhook_events WHERE event_type = $1")
            .bind(event_type)
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "one {event_type} event: {rows:?}");
    rows.remove(0)
}

/// The endpoints `event` was fanned out to, sorted.
async fn delivered_to(pool: &PgPool, event: Uuid) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT endpoint_id FROM webhook_deliveries WHERE event_id = $1 ORDER BY endpoint_id",
    )
    .bind(event)
    .fetch_all(pool)
    .await
    .unwrap()
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_window_is_validated_whole_and_a_refused_one_writes_nothing(pool: PgPool) {
    let ops = operator(&pool).await;
    let now = OffsetDateTime::now_utc();
    // As typed in the form: nothing, an unreadable time, a blank message.
    assert_eq!(
        refused_fields(NewMaintenanceWindow::parse("", "soon", "   ", now)),
        ["starts_at", "ends_at", "message"]
    );
    // Built directly, the operation checks again: a start an hour ago, an end before it, a
    // message over 500 characters — all three named at once.
    let mut wrong = window(-Duration::hours(1), -Duration::hours(1), "m");
    wrong.message = "x".repeat(501);
    assert_eq!(
        refused_fields(schedule(&pool, &ops, wrong).await),
        ["starts_at", "ends_at", "message"]
    );
    // Longer than a week; a message of two lines.
    let long = window(
        Duration::days(1),
        Duration::days(7) + Duration::minutes(1),
        "two\nlines",
    );
    assert_eq!(
        refused_fields(schedule(&pool, &ops, long).await),
        ["ends_at", "message"]
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM maintenance_windows").await,
        0
    );
    assert_eq!(audit_count(&pool, "maintenance.schedule").await, 0);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM webhook_events WHERE event_type LIKE 'maintenance.%'"
        )
        .await,
        0
    );
    // Exactly a week, starting now, is allowed.
    schedule(
        &pool,
        &ops,
        window(Duration::ZERO, Duration::days(7), "A week"),
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn only_operators_schedule_cancel_and_list_windows(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ops = operator(&pool).await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let auditor = actor_of(&member(&pool, None, "audit@gatehouse.test", Role::Auditor).await);
    for someone in [&owner, &auditor] {
        let new = window(Duration::days(1), Duration::hours(2), "Upgrade");
        assert!(
            is_denied(&schedule(&pool, someone, new).await),
            "{someone:?}"
        );
        assert!(is_denied(&list_maintenance_windows(&pool, someone).await));
    }
    let w = schedule(
        &pool,
        &ops,
        window(Duration::days(1), Duration::hours(2), "Upgrade"),
    )
    .await
    .unwrap();
    assert!(is_denied(&cancel(&pool, &owner, w.id).await));
    assert!(is_denied(&cancel(&pool, &auditor, w.id).await));
    assert_eq!(audit_count(&pool, "maintenance.cancel").await, 0);
    assert!(upcoming_windows(&pool).await.unwrap()[0]
        .cancelled_at
        .is_none());
}

/// NFR-OPS-002 "webhooks announce it; audited": a platform-wide event reaches every
/// endpoint subscribed to it, a tenant's as well as the platform's, and no other.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn scheduling_and_cancelling_are_audited_and_announced_to_every_tenant(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let ops = operator(&pool).await;
    let acme_owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let globex_owner =
        actor_of(&member(&pool, Some(globex.id), "owner@globex.test", Role::Owner).await);
    let acme_hook = endpoint(
        &pool,
        &acme_owner,
        Owner::Tenant(acme.id),
        "https://hooks.acme.example/gatehouse",
        &["maintenance.scheduled", "maintenance.cancelled"],
    )
    .await;
    // Subscribed to something else: gets nothing of maintenance.
    endpoint(
        &pool,
        &globex_owner,
        Owner::Tenant(globex.id),
        "https://hooks.globex.example/gatehouse",
        &["user.invited"],
    )
    .await;
    let platform_hook = endpoint(
        &pool,
        &ops,
        Owner::Platform,
        "https://ops.vendor.example/hooks",
        &["maintenance.scheduled"],
    )
    .await;

    let w = schedule(
        &pool,
        &ops,
        window(
            Duration::days(2),
            Duration::hours(2),
            "  Database upgrade  ",
        ),
    )
    .await
    .unwrap();
    assert_eq!(w.message, "Database upgrade", "stored trimmed");
    assert_eq!(w.created_by, Some(ops.user_id));

    let (actor_type, actor_id, tenant_id, resource, meta): (
        String,
        Option<Uuid>,
        Option<Uuid>,
        Option<String>,
        Value,
    ) = sqlx::query_as(
        "SELECT actor_type, actor_id, tenant_id, resource, metadata FROM audit_log
          WHERE action = 'maintenance.schedule'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(actor_type, "operator");
    assert_eq!(actor_id, Some(ops.user_id));
    assert_eq!(tenant_id, None, "a platform-wide entry");
    assert_eq!(
        resource.as_deref(),
        Some(format!("maintenance:{}", w.id).as_str())
    );
    assert_eq!(meta["starts_at"], rfc3339(w.starts_at));
    assert_eq!(meta["ends_at"], rfc3339(w.ends_at));
    assert_eq!(meta["message"], "Database upgrade");

    let (event, event_tenant, body) = only_event(&pool, "maintenance.scheduled").await;
    assert_eq!(event_tenant, None);
    assert_eq!(body["type"], "maintenance.scheduled");
    let data = &body["data"];
    assert_eq!(data["id"], w.id.to_string());
    assert_eq!(data["tenant_id"], Value::Null);
    assert_eq!(data["starts_at"], rfc3339(w.starts_at));
    assert_eq!(data["ends_at"], rfc3339(w.ends_at));
    assert_eq!(data["message"], "Database upgrade");
    assert_eq!(data["actor"]["type"], "operator");
    assert_eq!(
        delivered_to(&pool, event).await,
        sorted(vec![acme_hook, platform_hook]),
        "acme's endpoint and the platform's; not globex's, which did not subscribe"
    );

    let cancelled = cancel(&pool, &ops, w.id).await.unwrap();
    assert!(cancelled.cancelled_at.is_some());
    assert_eq!(audit_count(&pool, "maintenance.cancel").await, 1);
    let (event, _, body) = only_event(&pool, "maintenance.cancelled").await;
    assert_eq!(body["data"]["id"], w.id.to_string());
    assert_eq!(body["data"]["message"], "Database upgrade");
    assert_eq!(delivered_to(&pool, event).await, vec![acme_hook]);

    // Cancelling it again changes nothing and writes no second entry or event.
    let again = cancel(&pool, &ops, w.id).await.unwrap();
    assert_eq!(again.cancelled_at, cancelled.cancelled_at);
    assert_eq!(audit_count(&pool, "maintenance.cancel").await, 1);
    only_event(&pool, "maintenance.cancelled").await;
    assert!(verify_audit_chain(&pool).await.unwrap().is_intact());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn what_is_announced_leaves_out_cancelled_and_past_windows(pool: PgPool) {
    let ops = operator(&pool).await;
    // A window that is over (written directly: the domain refuses a start in the past).
    let past: Uuid = sqlx::query_scalar(
        "INSERT INTO maintenance_windows (id, starts_at, ends_at, message, created_by)
         VALUES (gen_random_uuid(), now() - interval '3 hours', now() - interval '1 hour', 'Over', $1)
         RETURNING id",
    )
    .bind(ops.user_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let later = window(Duration::days(3), Duration::hours(1), "Later");
    let soon = window(Duration::days(1), Duration::hours(1), "Soon");
    let dropped = window(Duration::days(2), Duration::hours(1), "Dropped");
    for new in [later, soon, dropped] {
        schedule(&pool, &ops, new).await.unwrap();
    }
    let dropped = upcoming_windows(&pool)
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.message == "Dropped")
        .unwrap();
    cancel(&pool, &ops, dropped.id).await.unwrap();

    let upcoming = upcoming_windows(&pool).await.unwrap();
    assert_eq!(messages(&upcoming), ["Soon", "Later"], "soonest first");
    let status = service_status(&pool).await.unwrap();
    assert_eq!(status.status, ServiceState::Ok, "nothing in progress");
    let announced: Vec<&str> = status
        .maintenance
        .iter()
        .map(|n| n.message.as_str())
        .collect();
    assert_eq!(announced, ["Soon", "Later"]);

    // One starting now is in progress: the service is in maintenance.
    let current = schedule(
        &pool,
        &ops,
        window(Duration::ZERO, Duration::hours(1), "Now"),
    )
    .await
    .unwrap();
    let status = service_status(&pool).await.unwrap();
    assert_eq!(status.status, ServiceState::Maintenance);
    assert_eq!(status.maintenance[0].message, "Now");

    let list = list_maintenance_windows(&pool, &ops).await.unwrap();
    assert_eq!(messages(&list.upcoming), ["Now", "Soon", "Later"]);
    assert_eq!(messages(&list.past), ["Dropped", "Over"], "newest first");

    // What is over cannot be cancelled; what does not exist is not found.
    assert!(matches!(
        cancel(&pool, &ops, past).await,
        Err(DomainError::Conflict { .. })
    ));
    assert!(matches!(
        cancel(&pool, &ops, Uuid::now_v7()).await,
        Err(DomainError::NotFound(_))
    ));
    cancel(&pool, &ops, current.id).await.unwrap();
    assert_eq!(
        service_status(&pool).await.unwrap().status,
        ServiceState::Ok
    );
}

/// The database keeps the rules whatever writes to it.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_schema_refuses_what_the_domain_refuses(pool: PgPool) {
    for (starts, ends, message) in [
        (
            "now() + interval '2 hours'",
            "now() + interval '1 hour'",
            "'Backwards'",
        ),
        ("now()", "now() + interval '8 days'", "'Too long'"),
        ("now()", "now() + interval '1 hour'", "''"),
        ("now()", "now() + interval '1 hour'", "repeat('x', 501)"),
        ("now()", "now() + interval '1 hour'", "E'two\\nlines'"),
    ] {
        let sql = format!(
            "INSERT INTO maintenance_windows (id, starts_at, ends_at, message)
             VALUES (gen_random_uuid(), {starts}, {ends}, {message})"
        );
        assert!(sqlx::query(&sql).execute(&pool).await.is_err(), "{sql}");
    }
}
