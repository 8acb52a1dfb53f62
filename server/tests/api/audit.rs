//! The Audit Log API and the auditors' exports (API-LOG, FR-LOG-001/002, CON-SEC-002;
//! SPEC §8, §9), as applications and auditors use them: validation named per event and
//! field, idempotency under concurrency, the refusals (scope, user token, another tenant,
//! suspended tenant, disabled application, 101 events, rate limit), NDJSON with bad lines,
//! reads of personal data on record, and exports that verify offline and fail when edited.

use crate::helpers::{
    app_token, detail_fields, person, session_cookie, spawn_app, spawn_app_with, tenant,
    user_token, TestApp,
};
use gatehouse_domain::audit::Verifier;
use gatehouse_domain::types::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

fn event(id: &str) -> Value {
    json!({
        "id": id,
        "occurred_at": "2026-12-01T09:30:00Z",
        "actor": {"id": "u-42", "type": "user", "name": "Ann Example"},
        "action": "document.download",
        "resource": {"id": "doc-7", "type": "document"},
        "outcome": "success",
        "ip_address": "203.0.113.7",
        "user_agent": "curl/8",
        "metadata": {"bytes": 1200, "password": "never-stored"}
    })
}

async fn shipped(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE source = 'application'")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn post(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.caller(token).post("/api/v1/audit-logs", body).await
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_batch_is_validated_whole_and_every_violation_is_named(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["log:write"]).await;
    let mut bad = event("e-2");
    bad["action"] = json!("Document Download");
    bad["occurred_at"] = json!("yesterday");
    bad["ip_address"] = json!("10.0.0");
    bad["outcome"] = json!("maybe");
    bad["bogus"] = json!(true);
    bad["actor"] = json!({"type": "user", "extra": 1});
    bad["metadata"] = json!({"nested": {"a": 1}});
    let (status, body) = post(&app, &token, json!({"events": [event("e-1"), bad]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "ERR_VALIDATION");
    let fields = detail_fields(&body);
    for f in [
        "events[1].bogus",
        "events[1].occurred_at",
        "events[1].action",
        "events[1].outcome",
        "events[1].ip_address",
        "events[1].actor.extra",
        "events[1].actor.id",
        "events[1].metadata.nested",
    ] {
        assert!(fields.contains(&f), "{f} is named: {fields:?}");
    }
    assert!(!fields.iter().any(|f| f.starts_with("events[0]")));
    assert_eq!(shipped(&pool).await, 0, "nothing stored");

    let (status, body) = post(&app, &token, json!({"events": vec![event("x"); 101]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(detail_fields(&body), ["events"]);
    let (status, _) = post(&app, &token, json!({"events": []})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .client
        .post(app.url("/api/v1/audit-logs"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(shipped(&pool).await, 0);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn events_join_the_trail_once_and_a_resent_id_is_a_duplicate(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["log:write"]).await;
    let batch = json!({"events": [event("a"), event("b"), event("c")]});
    let (status, body) = post(&app, &token, batch.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["accepted"], 3);
    assert!(body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["status"] == "accepted"));
    let (status, body) = post(&app, &token, batch).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["duplicates"], 3);
    assert_eq!(shipped(&pool).await, 3);
    // One event on its own is taken too.
    let (status, body) = post(&app, &token, event("d")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (tenant_id, actor_type, app_id, resource, meta): (
        Option<uuid::Uuid>,
        String,
        Option<uuid::Uuid>,
        String,
        Value,
    ) = sqlx::query_as(
        "SELECT tenant_id, actor_type, application_id, resource, metadata FROM audit_log
              WHERE source = 'application' ORDER BY seq LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tenant_id, Some(acme));
    assert_eq!(actor_type, "application");
    assert!(app_id.is_some());
    assert_eq!(resource, "document:doc-7");
    // The actor's name, the address and the browser are stored sealed (CON-COMP-001).
    assert!(!meta.to_string().contains("Ann Example"));
    let meta = crate::helpers::opened(&pool, meta).await;
    assert_eq!(meta["actor"]["name"], "Ann Example");
    assert_eq!(meta["ip"], "203.0.113.7");
    assert_eq!(
        meta["data"]["password"], "[redacted]",
        "secrets never stored"
    );
    let report = gatehouse_domain::audit::verify_audit_chain(&pool)
        .await
        .unwrap();
    assert!(report.is_intact(), "{report:?}");
    let doc: Value = app
        .anonymous_get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/audit-logs",
        "/api/v1/audit-logs/bulk",
        "/api/v1/audit-logs/checkpoints/key",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is in the contract");
    }
    assert!(doc["components"]["schemas"]["AuditEvent"].is_object());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_same_id_from_two_connections_at_once_is_stored_once(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["log:write"]).await;
    // Two clients, so two connections.
    let other = reqwest::Client::new();
    let first = app
        .client
        .post(app.url("/api/v1/audit-logs"))
        .bearer_auth(&token)
        .json(&event("same"))
        .send();
    let second = other
        .post(app.url("/api/v1/audit-logs"))
        .bearer_auth(&token)
        .json(&event("same"))
        .send();
    let (a, b) = tokio::join!(first, second);
    let mut statuses = vec![
        a.unwrap().json::<Value>().await.unwrap()["data"][0]["status"].clone(),
        b.unwrap().json::<Value>().await.unwrap()["data"][0]["status"].clone(),
    ];
    statuses.sort_by_key(|s| s.to_string());
    assert_eq!(statuses, [json!("accepted"), json!("duplicate")]);
    assert_eq!(shipped(&pool).await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn refusals_store_nothing(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    tenant(&pool, "globex").await;
    // No token; the wrong scope; a person's token.
    let (status, _) = post(&app, "garbage", event("a")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let reader = app_token(&app, &pool, &["acme"], &["flag:read"]).await;
    let (status, body) = post(&app, &reader, event("a")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let admin = person(&pool, Some(acme), "admin@acme.test", Role::Admin, None).await;
    let person_token = user_token(&app, &pool, admin).await;
    let (status, _) = post(&app, &person_token, event("a")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another tenant's domain: not found, named per event.
    let multi = app_token(&app, &pool, &["acme"], &["log:write"]).await;
    let mut foreign = event("f");
    foreign["tenant"] = json!("globex");
    let (status, body) = post(&app, &multi, json!({"events": [event("ok"), foreign]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(detail_fields(&body), ["events[1].tenant"]);
    let mut unknown = event("u");
    unknown["tenant"] = json!("nowhere");
    let (status, _) = post(&app, &multi, unknown).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(shipped(&pool).await, 0);

    // A suspended tenant's events are refused.
    let ctx = gatehouse_domain::audit::RequestContext::default();
    gatehouse_domain::tenants::suspend_tenant(&pool, &ctx, None, acme, Some("unpaid"))
        .await
        .unwrap();
    let (status, body) = post(&app, &multi, event("s")).await;
    assert!(
        matches!(
            status,
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED
        ),
        "{status} {body}"
    );
    assert_eq!(shipped(&pool).await, 0);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_disabled_application_ships_nothing(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["log:write"]).await;
    let app_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM applications ORDER BY created_at DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    let ctx = gatehouse_domain::audit::RequestContext::default();
    gatehouse_domain::apps::set_application_status(&pool, &ctx, None, app_id, false)
        .await
        .unwrap();
    let (status, _) = post(&app, &token, event("a")).await;
    assert!(
        matches!(status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED),
        "{status}"
    );
    assert_eq!(shipped(&pool).await, 0);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn rate_limits_count_events_not_requests(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), &["--rate-limit-events", "150"]).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["log:write"]).await;
    let batch = |p: &str| json!({"events": (0..100).map(|i| event(&format!("{p}{i}"))).collect::<Vec<_>>()});
    let (status, _) = post(&app, &token, batch("a")).await;
    assert_eq!(status, StatusCode::CREATED);
    let res = app
        .client
        .post(app.url("/api/v1/audit-logs"))
        .bearer_auth(&token)
        .json(&batch("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "ERR_RATE_LIMIT");
    assert_eq!(shipped(&pool).await, 100);
}

fn ndjson_line(v: &Value) -> String {
    format!("{v}\n")
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn ndjson_bulk_commits_the_good_lines_and_names_the_bad_ones(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["log:write"]).await;
    let mut body = String::new();
    let mut bad_lines = Vec::new();
    let mut line = 0;
    for i in 0..2500 {
        line += 1;
        match i {
            10 => {
                body.push_str("{broken json\n");
                bad_lines.push(line);
            }
            1500 => {
                let mut e = event("bad");
                e["action"] = json!("NOPE");
                body.push_str(&ndjson_line(&e));
                bad_lines.push(line);
            }
            2200 => {
                body.push_str(&format!(
                    "{{\"id\": \"x\", \"pad\": \"{}\"}}\n",
                    "y".repeat(70_000)
                ));
                bad_lines.push(line);
            }
            _ => body.push_str(&ndjson_line(&event(&format!("n{i}")))),
        }
        if i == 700 {
            body.push('\n'); // blank lines are skipped, not counted
        }
    }
    let send = |content_type: &'static str, body: String| {
        app.client
            .post(app.url("/api/v1/audit-logs/bulk"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let res = send("application/json", body.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = send("application/x-ndjson", body.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["lines"], 2500, "{report}");
    assert_eq!(report["accepted"], 2497);
    assert_eq!(report["rejected"], 3);
    let named: Vec<i64> = report["rejected_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(named, bad_lines);
    assert_eq!(report["rejected_lines"][1]["details"][0]["field"], "action");
    assert_eq!(shipped(&pool).await, 2497);
    // Sent again: every good line is a duplicate.
    let report: Value = send("application/x-ndjson", body)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["duplicates"], 2497);
    assert_eq!(shipped(&pool).await, 2497);
    assert!(gatehouse_domain::audit::verify_audit_chain(&pool)
        .await
        .unwrap()
        .is_intact());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn reads_of_personal_data_are_on_record(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let admin = person(&pool, Some(acme), "admin@acme.test", Role::Admin, None).await;
    let someone = person(&pool, Some(acme), "someone@acme.test", Role::User, None).await;
    let token = user_token(&app, &pool, admin).await;
    let (status, _) = app
        .caller(&token)
        .get(&format!("/api/v1/users/{someone}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.caller(&token).get("/api/v1/users").await;
    assert_eq!(status, StatusCode::OK);
    let reads: Vec<(String, Option<String>, Option<uuid::Uuid>, Value)> = sqlx::query_as(
        "SELECT action, resource, actor_id, metadata FROM audit_log
          WHERE action IN ('user.read', 'user.list') ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert_eq!(
        reads[0].1.as_deref(),
        Some(format!("user:{someone}").as_str())
    );
    assert_eq!(reads[0].2, Some(admin));
    assert!(reads[1].3["ids"]
        .as_array()
        .unwrap()
        .contains(&json!(someone.to_string())));
    // An operator listing a tenant's people is on that tenant's record, where its owners
    // see it.
    let (operator, op_token) = crate::helpers::operator_token(&app, &pool).await;
    let (status, _) = app.caller(&op_token).get("/api/v1/users?tenant=acme").await;
    assert_eq!(status, StatusCode::OK);
    let tenant: Option<uuid::Uuid> = sqlx::query_scalar(
        "SELECT tenant_id FROM audit_log WHERE action = 'user.list' AND actor_id = $1",
    )
    .bind(operator)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tenant, Some(acme));
}

/// An auditor's download of `path`, as text.
async fn download(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let res = app
        .client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

fn verify(text: &str, key: &Verifier, ext: &str) -> gatehouse_domain::audit::ExportReport {
    let dir = std::env::temp_dir().join(format!("gh-export-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("export.{ext}"));
    std::fs::write(&file, text).unwrap();
    let report = gatehouse_server::cli::audit::verify_export(&file, key).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    report
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_auditors_export_verifies_offline_and_fails_when_edited(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let token = app_token(&app, &pool, &["acme"], &["log:write"]).await;
    let mut tricky = event("t");
    tricky["actor"]["name"] = json!("=SUM(A1)");
    tricky["metadata"] =
        json!({"formula": "=HYPERLINK(\"http://x\")", "quote": "'q", "n": 2.50, "line": "a\r\nb"});
    post(
        &app,
        &token,
        json!({"events": [event("a"), tricky, event("c")]}),
    )
    .await;
    let auditor = person(&pool, None, "auditor@gatehouse.test", Role::Auditor, None).await;
    let cookie = session_cookie(&pool, auditor).await;
    let res = app
        .anonymous_get("/api/v1/audit-logs/checkpoints/key")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let key: Value = res.json().await.unwrap();
    assert_eq!(key["algorithm"], "Ed25519");
    let verifier = Verifier::parse(key["verifier_key"].as_str().unwrap()).unwrap();

    let (status, csv) = download(&app, &cookie, "/audit/export.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.starts_with("\"seq\",\"id\",\"recorded_at\""),
        "{}",
        &csv[..80]
    );
    assert!(csv.contains("\"'=SUM(A1)\""), "formulas are defused: {csv}");
    let report = verify(&csv, &verifier, "csv");
    assert_eq!(report.problem, None, "{report:?}");
    assert!(report.contiguous);
    let lines: Vec<&str> = csv.split("\r\n").collect();

    let edited = csv.replacen("document.download", "document.upload", 1);
    assert!(
        verify(&edited, &verifier, "csv").problem.is_some(),
        "an edited row"
    );
    let without = csv.replacen(&format!("{}\r\n", lines[2]), "", 1);
    assert!(
        verify(&without, &verifier, "csv").problem.is_some(),
        "a removed row"
    );
    let with_extra = csv.replacen(
        &format!("{}\r\n", lines[2]),
        &format!("{0}\r\n{0}\r\n", lines[2]),
        1,
    );
    assert!(
        verify(&with_extra, &verifier, "csv").problem.is_some(),
        "an added row"
    );

    let (status, jsonl) =
        download(&app, &cookie, "/audit/export.jsonl?actor_type=application").await;
    assert_eq!(status, StatusCode::OK);
    let report = verify(&jsonl, &verifier, "jsonl");
    assert_eq!(report.problem, None, "{report:?}");
    assert_eq!(report.rows, 3);
    assert!(!report.contiguous);
    let edited = jsonl.replacen("\"n\": 2.5", "\"n\": 2.6", 1);
    assert_ne!(edited, jsonl);
    assert!(verify(&edited, &verifier, "jsonl").problem.is_some());

    // Each export is on record, with its filter.
    let exports: Vec<Value> = sqlx::query_scalar(
        "SELECT metadata FROM audit_log WHERE action = 'audit.export' AND actor_id = $1 ORDER BY seq",
    )
    .bind(auditor)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[1]["filter"]["actor_type"], "application");

    // Only auditors export; a bad filter is named.
    let admin = person(&pool, Some(acme), "admin@acme.test", Role::Admin, None).await;
    let operator = person(&pool, None, "op@gatehouse.test", Role::Operator, None).await;
    for someone in [admin, operator] {
        let cookie = session_cookie(&pool, someone).await;
        let (status, _) = download(&app, &cookie, "/audit/export.csv").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = download(&app, "", "/audit/export.csv").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, text) = download(&app, &cookie, "/audit/export.csv?outcome=maybe&ip=nope").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("outcome") && text.contains("ip"), "{text}");
}

#[test]
fn the_readme_carries_the_verifier_script_the_browser_tests_run() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let script =
        std::fs::read_to_string(format!("{root}/end2end/support/verify_export.py")).unwrap();
    assert!(
        readme.contains(&script),
        "README's copy of verify_export.py is out of date"
    );
}
