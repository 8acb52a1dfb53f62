//! `GET /api/v1/status` (NFR-OPS-002): public (no token), short-lived in caches, `ok`
//! without maintenance; a scheduled window is announced with its times (ISO 8601 UTC with
//! `Z`, SPEC §9) and message and nothing else — no id, no operator; a window in progress
//! makes the status `maintenance`; a cancelled one is gone.

use crate::helpers::{person, spawn_app};
use gatehouse_domain::audit::RequestContext;
use gatehouse_domain::permissions::Actor;
use gatehouse_domain::tenants::{cancel_maintenance, schedule_maintenance, NewMaintenanceWindow};
use gatehouse_domain::types::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const STATUS: &str = "/api/v1/status";

async fn operator(pool: &PgPool) -> Actor {
    Actor {
        user_id: person(pool, None, "ops@gatehouse.test", Role::Operator, None).await,
        tenant_id: None,
        role: Role::Operator,
    }
}

/// Schedules a window starting `from_now` (to the second), `length` long; returns its id
/// and its times as the API writes them.
async fn schedule(
    pool: &PgPool,
    ops: &Actor,
    from_now: Duration,
    length: Duration,
    message: &str,
) -> (Uuid, String, String) {
    let now = OffsetDateTime::now_utc();
    let starts_at = now - Duration::nanoseconds(i64::from(now.nanosecond())) + from_now;
    let w = schedule_maintenance(
        pool,
        &RequestContext::default(),
        ops,
        NewMaintenanceWindow {
            starts_at,
            ends_at: starts_at + length,
            message: message.to_owned(),
        },
    )
    .await
    .unwrap()
    .value;
    (
        w.id,
        w.starts_at.format(&Rfc3339).unwrap(),
        w.ends_at.format(&Rfc3339).unwrap(),
    )
}

async fn status_of(app: &crate::helpers::TestApp) -> (StatusCode, Value) {
    let res = app.anonymous_get(STATUS).await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_status_is_public_and_ok_without_maintenance(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app.anonymous_get(STATUS).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["cache-control"], "public, max-age=30");
    assert!(res.headers().contains_key("x-request-id"));
    assert!(
        res.headers().contains_key("x-ratelimit-limit"),
        "anonymous callers are limited by address"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok", "maintenance": []}));

    // Only GET: other methods are the SPEC §9 405.
    let res = app.client.post(app.url(STATUS)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "ERR_METHOD_NOT_ALLOWED");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_scheduled_window_is_announced_with_its_times_and_message_only(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let ops = operator(&pool).await;
    let (id, starts_at, ends_at) = schedule(
        &pool,
        &ops,
        Duration::days(2),
        Duration::hours(2),
        "Database upgrade: sign-in pauses for up to 20 minutes.",
    )
    .await;
    // A later one, listed after it.
    schedule(
        &pool,
        &ops,
        Duration::days(5),
        Duration::hours(1),
        "Network work",
    )
    .await;

    let res = app.anonymous_get(STATUS).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["status"], "ok", "nothing is in progress yet");
    assert_eq!(
        body["maintenance"],
        json!([
            {
                "starts_at": starts_at,
                "ends_at": ends_at,
                "message": "Database upgrade: sign-in pauses for up to 20 minutes.",
            },
            {
                "starts_at": body["maintenance"][1]["starts_at"],
                "ends_at": body["maintenance"][1]["ends_at"],
                "message": "Network work",
            },
        ])
    );
    for notice in body["maintenance"].as_array().unwrap() {
        for key in ["starts_at", "ends_at"] {
            let t = notice[key].as_str().unwrap();
            assert!(t.ends_with('Z'), "{key} is ISO 8601 UTC with Z: {t}");
            assert!(OffsetDateTime::parse(t, &Rfc3339).is_ok(), "{t}");
        }
    }
    // No internals: not the window's id, not who scheduled it.
    assert!(!text.contains(&id.to_string()), "{text}");
    assert!(!text.contains(&ops.user_id.to_string()), "{text}");
    assert!(!text.contains("ops@gatehouse.test"), "{text}");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_window_in_progress_means_maintenance_and_a_cancelled_one_is_gone(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let ops = operator(&pool).await;
    let (id, _, _) = schedule(&pool, &ops, Duration::ZERO, Duration::hours(1), "Now").await;
    let (status, body) = status_of(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "maintenance", "{body}");
    assert_eq!(body["maintenance"][0]["message"], "Now");

    cancel_maintenance(&pool, &RequestContext::default(), &ops, id)
        .await
        .unwrap();
    let (_, body) = status_of(&app).await;
    assert_eq!(body, json!({"status": "ok", "maintenance": []}));
}
