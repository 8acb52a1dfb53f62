//! The Billing API (API-BILL, FR-BILL-001..003; SPEC §7, §9) as applications and the
//! billing system use it: every validation rule, exactly-once ingestion under concurrency
//! (`accepted` once, `duplicate` for the same content, `conflict` for other content), the
//! refusals, incremental pulls that never skip an event that commits late, and exact
//! usage totals.

use crate::helpers::{app_token, detail_fields, person, spawn_app, tenant, user_token, TestApp};
use gatehouse_domain::types::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn ago(secs: i64) -> String {
    (OffsetDateTime::now_utc() - time::Duration::seconds(secs))
        .format(&Rfc3339)
        .unwrap()
}

fn event(id: &str, quantity: i64) -> Value {
    json!({"id": id, "timestamp": ago(60), "event_type": "api.call", "quantity": quantity,
           "metadata": {"endpoint": "/v1/things"}})
}

async fn stored(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM billing_events")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn post(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.caller(token).post("/api/v1/billing/events", body).await
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn every_rule_is_named_and_a_bad_batch_stores_nothing(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["bill:write"]).await;
    let bad = |field: &str, value: Value| {
        let mut e = event("x", 1);
        e[field] = value;
        e
    };
    let events = vec![
        event("ok", 1),
        bad("quantity", json!(0)),
        bad("quantity", json!(-3)),
        bad("quantity", json!(1.5)),
        bad("quantity", json!(9_007_199_254_740_992_i64)),
        bad("timestamp", json!("2026-12-06 10:00")),
        bad("timestamp", json!(ago(36 * 86_400))),
        bad("timestamp", json!(ago(-600))),
        bad("timestamp", json!("2026-12-06T10:00:00+01:00")),
        bad("event_type", json!("API Call")),
        bad("bogus", json!(true)),
    ];
    let (status, body) = post(&app, &token, json!({ "events": events })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let fields = detail_fields(&body);
    for (i, field) in [
        (1, "quantity"),
        (2, "quantity"),
        (3, "quantity"),
        (4, "quantity"),
        (5, "timestamp"),
        (6, "timestamp"),
        (7, "timestamp"),
        (8, "timestamp"),
        (9, "event_type"),
        (10, "bogus"),
    ] {
        let f = format!("events[{i}].{field}");
        assert!(fields.contains(&f.as_str()), "{f}: {fields:?}");
    }
    let (status, _) = post(&app, &token, json!({"events": vec![event("x", 1); 101]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored(&pool).await, 0);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_same_id_from_eight_connections_is_accepted_once(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["bill:write"]).await;
    let body = event("once", 5);
    let sends = (0..8).map(|_| {
        let client = reqwest::Client::new();
        let url = app.url("/api/v1/billing/events");
        let (token, body) = (token.clone(), body.clone());
        async move {
            let res = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            res.json::<Value>().await.unwrap()["data"][0]["status"].clone()
        }
    });
    let statuses = futures_util::future::join_all(sends).await;
    let accepted = statuses.iter().filter(|s| *s == "accepted").count();
    let duplicates = statuses.iter().filter(|s| *s == "duplicate").count();
    assert_eq!((accepted, duplicates), (1, 7), "{statuses:?}");
    assert_eq!(stored(&pool).await, 1);
    // The same id with other content is a conflict, named, and stores nothing.
    let (status, body) = post(&app, &token, event("once", 6)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"][0]["status"], "conflict");
    assert_eq!(stored(&pool).await, 1);
    let total: String = sqlx::query_scalar("SELECT sum(quantity)::text FROM billing_usage_daily")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(total, "5", "retries never count twice");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn refusals_store_nothing(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    tenant(&pool, "globex").await;
    let reader = app_token(&app, &pool, &["acme"], &["bill:read"]).await;
    let (status, _) = post(&app, &reader, event("a", 1)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = person(&pool, Some(acme), "admin@acme.test", Role::Admin, None).await;
    let person_token = user_token(&app, &pool, admin).await;
    let (status, _) = post(&app, &person_token, event("a", 1)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let writer = app_token(&app, &pool, &["acme"], &["bill:write"]).await;
    let mut foreign = event("f", 1);
    foreign["tenant"] = json!("globex");
    let (status, body) = post(&app, &writer, json!({"events": [event("ok", 1), foreign]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(detail_fields(&body), ["events[1].tenant"]);
    let ctx = gatehouse_domain::audit::RequestContext::default();
    gatehouse_domain::tenants::suspend_tenant(&pool, &ctx, None, acme, None)
        .await
        .unwrap();
    let (status, _) = post(&app, &writer, event("s", 1)).await;
    assert!(
        matches!(
            status,
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED
        ),
        "{status}"
    );
    assert_eq!(stored(&pool).await, 0);
}

async fn pull(app: &TestApp, token: &str, after: Option<&str>) -> Value {
    let path = match after {
        Some(a) => format!("/api/v1/billing/events?after={a}"),
        None => "/api/v1/billing/events".to_owned(),
    };
    let (status, body) = app.caller(token).get(&path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn ids(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_event_that_commits_late_is_in_the_next_pull_and_none_is_skipped(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let writer = app_token(&app, &pool, &["acme"], &["bill:write"]).await;
    let billing = app_token(&app, &pool, &["acme"], &["bill:read"]).await;
    post(&app, &writer, event("first", 1)).await;
    let page = pull(&app, &billing, None).await;
    assert_eq!(ids(&page), ["first"]);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();

    // A slow ingestion takes its sequence number first and commits last.
    let mut slow = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO billing_events (tenant_id, event_type, quantity, occurred_at, idempotency_key)
         VALUES ($1, 'api.call', 1, now(), 'slow')",
    )
    .bind(acme)
    .execute(&mut *slow)
    .await
    .unwrap();
    let (status, _) = post(&app, &writer, event("fast", 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let seqs: Vec<(String, i64)> =
        sqlx::query_as("SELECT idempotency_key, seq FROM billing_events ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        seqs.last().unwrap().0,
        "fast",
        "the committed one has the larger number"
    );
    // While the slow one is open, the pull holds back what came after it.
    let held = pull(&app, &billing, Some(&cursor)).await;
    assert!(ids(&held).is_empty(), "{held}");
    assert_eq!(held["next_cursor"].as_str(), Some(cursor.as_str()));
    slow.commit().await.unwrap();
    let next = pull(&app, &billing, Some(&cursor)).await;
    assert_eq!(ids(&next), ["slow", "fast"]);
    let after = next["next_cursor"].as_str().unwrap();
    assert!(ids(&pull(&app, &billing, Some(after)).await).is_empty());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn usage_totals_are_exact_per_day_and_month_and_scoped(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    tenant(&pool, "globex").await;
    let writer = app_token(&app, &pool, &["acme"], &["bill:write"]).await;
    let a = event("a", 2);
    let batch = json!({"events": [a.clone(), event("b", 3), a]});
    let (status, body) = post(&app, &writer, batch.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["duplicates"], 1);
    post(&app, &writer, batch).await;
    let reader = app_token(&app, &pool, &["acme"], &["bill:read"]).await;
    let (status, body) = app
        .caller(&reader)
        .get("/api/v1/billing/usage?window=month")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"][0]["quantity"], "5");
    assert_eq!(body["data"][0]["events"], 2);
    assert_eq!(body["data"][0]["tenant"], "acme");
    let (status, _) = app
        .caller(&reader)
        .get("/api/v1/billing/usage?tenant=globex")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another tenant");
    let (status, body) = app
        .caller(&reader)
        .get("/api/v1/billing/usage?window=week&from=yesterday")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(detail_fields(&body), ["from", "window"]);
    let (status, _) = app.caller(&writer).get("/api/v1/billing/usage").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "bill:write does not read");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_disabled_application_reports_nothing_and_the_contract_names_the_api(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["bill:write"]).await;
    let app_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM applications ORDER BY created_at DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    let ctx = gatehouse_domain::audit::RequestContext::default();
    gatehouse_domain::apps::set_application_status(&pool, &ctx, None, app_id, false)
        .await
        .unwrap();
    let (status, _) = post(&app, &token, event("a", 1)).await;
    assert!(
        matches!(status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED),
        "{status}"
    );
    assert_eq!(stored(&pool).await, 0);
    let doc: Value = app
        .anonymous_get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    for path in ["/api/v1/billing/events", "/api/v1/billing/usage"] {
        assert!(doc["paths"][path].is_object(), "{path} is in the contract");
    }
    assert!(doc["components"]["schemas"]["UsageEvent"].is_object());
}
