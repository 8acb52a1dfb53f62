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

/// One time for every event of the run, so an event built twice is the same content.
static STAMP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| ago(60));

fn event(id: &str, quantity: i64) -> Value {
    json!({"id": id, "timestamp": *STAMP, "event_type": "api.call", "quantity": quantity,
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
    // A NUL character (PostgreSQL stores none) in an id or in metadata: named, not a 500.
    let mut nul = event("a\u{0}b", 1);
    nul["metadata"]["endpoint"] = json!("/v1\u{0}");
    let (status, body) = post(&app, &token, json!({"events": [event("fine", 1), nul]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        detail_fields(&body),
        ["events[1].id", "events[1].metadata.endpoint"],
        "{body}"
    );
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

async fn usage_of(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = app
        .caller(token)
        .get(&format!("/api/v1/billing/usage?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_void_is_appended_pulled_subtracted_and_audited(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["bill:write", "bill:read"]).await;
    post(
        &app,
        &token,
        json!({"events": [event("v1", 5), event("v2", 3)]}),
    )
    .await;
    let cursor = pull(&app, &token, None).await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();

    let void = |id: &str, body: Value| {
        let path = format!("/api/v1/billing/events/{id}/void");
        let token = token.clone();
        let app = &app;
        async move { app.caller(&token).post(&path, body).await }
    };
    let (status, body) = void("v1", json!({"reason": "refunded: duplicate job"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "voided");
    assert_eq!(body["quantity"], 5);
    let (status, body) = void("v1", json!({})).await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::OK, json!("already_voided"))
    );
    let (status, _) = void("never-sent", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = void("v2", json!({"bogus": 1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Another application cannot void this one's event, even for the same tenant.
    let other = app_token(&app, &pool, &["acme"], &["bill:write"]).await;
    let (status, _) = app
        .caller(&other)
        .post("/api/v1/billing/events/v2/void", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An event older than the backdating window can no longer be voided.
    sqlx::query(
        "INSERT INTO billing_events (tenant_id, application_id, event_type, quantity, occurred_at, idempotency_key)
         SELECT $1, application_id, 'api.call', 1, now() - interval '40 days', 'old'
           FROM billing_events WHERE idempotency_key = 'v2'",
    )
    .bind(acme)
    .execute(&pool)
    .await
    .unwrap();
    let (status, body) = void("old", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(detail_fields(&body), ["id"]);

    // The billing system sees the void in its next pull; nothing was edited.
    let next = pull(&app, &token, Some(&cursor)).await;
    let rows = next["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{next}");
    assert_eq!(
        (rows[0]["id"].clone(), rows[0]["kind"].clone()),
        (json!("v1"), json!("void"))
    );
    assert_eq!(rows[0]["quantity"], 5);
    assert_eq!(rows[0]["metadata"]["reason"], "refunded: duplicate job");
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM billing_events WHERE idempotency_key = 'v1' AND kind = 'event'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(kept, 1, "the voided event itself is unchanged");
    // Totals leave it out; re-sending it changes nothing.
    let (_, again) = post(&app, &token, event("v1", 5)).await;
    assert_eq!(again["data"][0]["status"], "duplicate");
    let totals = usage_of(&app, &token, "window=month&event_type=api.call").await;
    let this_month: Vec<&Value> = totals["data"].as_array().unwrap().iter().collect();
    let sum: i64 = this_month
        .iter()
        .map(|t| t["quantity"].as_str().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(sum, 3, "v2 counts, v1 does not: {totals}");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'billing.event.void' AND tenant_id = $1
            AND metadata->>'event_id' = 'v1' AND metadata->>'reason' = 'refunded: duplicate job'",
    )
    .bind(acme)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1, "one void, audited once");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn bulk_ndjson_commits_the_valid_lines_and_names_each_rejected_one(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["bill:write"]).await;
    post(&app, &token, event("known", 2)).await;
    let lines = [
        event("b1", 1).to_string(),
        "not json".to_owned(),
        String::new(),
        event("b2", 4).to_string(),
        event("known", 2).to_string(),
        event("known", 9).to_string(),
        json!({"id": "b3", "quantity": 0}).to_string(),
    ];
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/billing/events/bulk"))
        .bearer_auth(&token)
        .header("content-type", "application/x-ndjson")
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["lines"], 6, "{report}");
    assert_eq!(
        (
            report["accepted"].clone(),
            report["duplicates"].clone(),
            report["conflicts"].clone(),
            report["rejected"].clone()
        ),
        (json!(2), json!(1), json!(1), json!(2)),
        "{report}"
    );
    let rejected: Vec<i64> = report["rejected_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(rejected, [2, 6], "blank lines are not counted: {report}");
    assert!(report["rejected_lines"][1]["details"]
        .to_string()
        .contains("quantity"));
    assert_eq!(stored(&pool).await, 3);
    // Not NDJSON: refused, nothing stored.
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/billing/events/bulk"))
        .bearer_auth(&token)
        .json(&event("b9", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored(&pool).await, 3);
}

async fn cloud(app: &TestApp, token: &str, kind: &str, body: &Value) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/events"))
        .bearer_auth(token)
        .header("content-type", kind)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn cloud_events_are_usage_events_keyed_by_source_and_id(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    tenant(&pool, "globex").await;
    let token = app_token(
        &app,
        &pool,
        &["acme", "globex"],
        &["bill:write", "bill:read"],
    )
    .await;
    let ce = |id: &str, subject: &str, q: i64| {
        json!({"specversion": "1.0", "id": id, "source": "billing-svc", "type": "tokens.used",
               "subject": subject, "time": *STAMP, "data": {"quantity": q, "model": "m1"}})
    };
    // OpenMeter's answers: 204 for a new event and for a re-send alike.
    let (status, body) = cloud(
        &app,
        &token,
        "application/cloudevents+json",
        &ce("c1", "acme", 7),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = cloud(
        &app,
        &token,
        "application/cloudevents+json",
        &ce("c1", "acme", 7),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(stored(&pool).await, 1);
    let batch = json!([
        ce("c2", "acme", 1),
        ce("c2", "globex", 2),
        ce("c3", "globex", 3)
    ]);
    let (status, body) = cloud(&app, &token, "application/cloudevents-batch+json", &batch).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(stored(&pool).await, 4);
    // The same source and id with other content is refused and named; the rest is kept.
    let mixed = json!([ce("c8", "acme", 1), ce("c1", "acme", 70)]);
    let (status, body) = cloud(&app, &token, "application/cloudevents-batch+json", &mixed).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(detail_fields(&body), ["[1].id"]);
    // Every violation of every event is named; nothing is stored.
    let bad = json!([ce("c4", "acme", 1), {"specversion": "1.0", "id": "c5", "type": "Bad Type",
                      "subject": "initech", "data": {"quantity": -1}}]);
    let (status, body) = cloud(&app, &token, "application/cloudevents-batch+json", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        detail_fields(&body),
        ["[1].source", "[1].type", "[1].data.quantity"]
    );
    let (status, body) = cloud(
        &app,
        &token,
        "application/cloudevents-batch+json",
        &json!([ce("c6", "initech", 1)]),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(detail_fields(&body), ["[0].subject"]);
    let (status, _) = cloud(&app, &token, "text/plain", &ce("c7", "acme", 1)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored(&pool).await, 5);
    let page = pull(&app, &token, None).await;
    assert_eq!(page["data"][0]["id"], "billing-svc#c1");
    assert_eq!(page["data"][0]["metadata"]["model"], "m1");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_csv_pull_streams_every_ready_event_with_its_cursor(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["bill:write", "bill:read"]).await;
    let mut sneaky = event("=HYPERLINK(\"http://x\")", 1);
    sneaky["metadata"] = json!({"note": "@SUM(A1)"});
    post(
        &app,
        &token,
        json!({"events": [event("r1", 1), event("r2", 2), sneaky]}),
    )
    .await;
    let csv = |after: Option<String>| {
        let url = match after {
            Some(a) => app.url(&format!("/api/v1/billing/events?after={a}")),
            None => app.url("/api/v1/billing/events"),
        };
        let token = token.clone();
        async move {
            let res = reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .header("accept", "text/csv")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert!(res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv"));
            res.text().await.unwrap()
        }
    };
    let text = csv(None).await;
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "cursor",
            "id",
            "kind",
            "tenant",
            "event_type",
            "quantity",
            "timestamp",
            "received_at",
            "metadata"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "{text}");
    let row = |id: &str| rows.iter().find(|r| &r[1] == id).unwrap();
    assert_eq!(&row("r2")[5], "2");
    assert_eq!(&row("r2")[3], "acme");
    assert!(
        rows.iter().any(|r| r[1].starts_with("'=HYPERLINK")),
        "a formula is defused: {text}"
    );
    // The last row's cursor continues the pull: nothing new yet, then the next event.
    let last = rows[2][0].to_owned();
    let empty = csv(Some(last.clone())).await;
    assert_eq!(empty.lines().count(), 1, "the header only: {empty}");
    post(&app, &token, event("r4", 4)).await;
    let next = csv(Some(last)).await;
    assert_eq!(next.lines().count(), 2, "{next}");
    assert!(next.contains("\"r4\""));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn month_totals_follow_the_time_zone_asked_for(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["bill:read"]).await;
    let app_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM applications ORDER BY created_at DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    // Stored through the domain, at fixed times either side of a month's edge (the API
    // takes only the last 35 days).
    let at = |id: &str, t: &str, q: i64| gatehouse_domain::billing::UsageEvent {
        id: id.into(),
        tenant: None,
        timestamp: OffsetDateTime::parse(t, &Rfc3339).unwrap(),
        event_type: "api.call".into(),
        quantity: q,
        metadata: Default::default(),
        timed: true,
    };
    let events = [
        at("a", "2026-01-31T23:30:00Z", 1),
        at("b", "2026-02-01T00:30:00Z", 10),
        at("c", "2026-02-15T12:00:00Z", 100),
        at("d", "2026-02-28T23:30:00Z", 1000),
    ];
    gatehouse_domain::billing::ingest(&pool, app_id, &events, &[acme; 4])
        .await
        .unwrap();
    let months = |body: Value| -> Vec<(String, String)> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["period"].as_str().unwrap().to_owned(),
                    t["quantity"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let p = |m: &str, q: &str| (m.to_owned(), q.to_owned());
    assert_eq!(
        months(usage_of(&app, &token, "window=month").await),
        [p("2026-01-01", "1"), p("2026-02-01", "1110")]
    );
    // A range that cuts months sums the days inside it; one on month starts reads months.
    assert_eq!(
        months(usage_of(&app, &token, "window=month&from=2026-01-31&to=2026-02-15").await),
        [p("2026-01-01", "1"), p("2026-02-01", "10")]
    );
    assert_eq!(
        months(usage_of(&app, &token, "window=month&from=2026-02-01&to=2026-03-01").await),
        [p("2026-02-01", "1110")]
    );
    // Berlin (UTC+1): a falls in February, d in March.
    assert_eq!(
        months(usage_of(&app, &token, "window=month&tz=Europe/Berlin").await),
        [p("2026-02-01", "111"), p("2026-03-01", "1000")]
    );
    // New York (UTC−5): b is still January.
    assert_eq!(
        months(usage_of(&app, &token, "window=month&tz=America/New_York").await),
        [p("2026-01-01", "11"), p("2026-02-01", "1100")]
    );
    // A range in the time zone's days: February in Berlin.
    assert_eq!(
        months(
            usage_of(
                &app,
                &token,
                "window=month&tz=Europe/Berlin&from=2026-02-01&to=2026-03-01"
            )
            .await
        ),
        [p("2026-02-01", "111")]
    );
    let days = usage_of(
        &app,
        &token,
        "window=day&tz=Europe/Berlin&from=2026-02-01&to=2026-02-02",
    )
    .await;
    assert_eq!(months(days), [p("2026-02-01", "11")]);
    let (status, body) = app
        .caller(&token)
        .get("/api/v1/billing/usage?tz=Mars/Olympus")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(detail_fields(&body), ["tz"]);
}

/// The browser tests' Python (`scripts/setup.sh --tests`), which has OpenMeter's client.
fn e2e_python() -> std::path::PathBuf {
    std::env::var_os("E2E_PYTHON")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-e2e/bin/python")
        })
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn openmeters_own_client_sends_to_gatehouse_unchanged(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["bill:write", "bill:read"]).await;
    let python = e2e_python();
    assert!(
        python.exists(),
        "{} is missing: run `scripts/setup.sh --tests`",
        python.display()
    );
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../end2end/support/openmeter_send.py");
    let out = tokio::process::Command::new(python)
        .arg(script)
        .arg(app.url(""))
        .arg(&token)
        .arg("acme")
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls: Vec<Value> = said
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(calls.len(), 3, "{said}");
    assert!(calls.iter().all(|c| c["status"] == 204), "{said}");
    // The re-sent event is stored once: 1 + 3 events, 7 + 3 × 2 in all.
    assert_eq!(stored(&pool).await, 4);
    let totals = usage_of(&app, &token, "window=month").await;
    let by_type: Vec<(String, String)> = totals["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["event_type"].as_str().unwrap().to_owned(),
                t["quantity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        by_type,
        [
            ("api.call".to_owned(), "7".to_owned()),
            ("storage.gb".to_owned(), "6".to_owned())
        ]
    );
}
