//! Flag delivery over HTTP (SPEC §6; FR-FLAG-001/002, API-FLAG): the Flag API
//! with ETag/304, two server instances on one database kept coherent by LISTEN/NOTIFY,
//! OFREP, the change stream, operator management, and the refusals.

use crate::helpers::{
    access_token, operator_token, registered_key, spawn_app, spawn_app_with, tenant, tenant_on,
    Caller, TestApp, CLIENT_CREDENTIALS,
};
use gatehouse_domain::apps::ApplicationInput;
use gatehouse_domain::types::Plan;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::{Duration, Instant};

struct Setup {
    /// A flag:read token of an application enabled for acme only.
    app_token: String,
    /// A flag:read token of an application enabled for acme and globex.
    multi_token: String,
    /// A token without flag:read.
    no_scope_token: String,
    op_token: String,
    acme: uuid::Uuid,
}

async fn setup(app: &TestApp, pool: &PgPool) -> Setup {
    let acme = tenant(pool, "acme").await;
    tenant_on(pool, "globex", Plan::Free).await;
    let mut keys = Vec::new();
    for (name, tenants, scope) in [
        ("Shop", vec!["acme"], "flag:read"),
        ("Fleet", vec!["acme", "globex"], "flag:read"),
        ("Billing", vec!["acme"], "bill:write"),
    ] {
        let input = ApplicationInput {
            name: Some(name.into()),
            tenants: Some(tenants.into_iter().map(String::from).collect()),
            ..Default::default()
        };
        keys.push(registered_key(pool, input, &[scope]).await);
    }
    let (_, op_token) = operator_token(app, pool).await;
    let mut tokens = Vec::new();
    for key in &keys {
        let secret = key.secret.expose_secret();
        tokens.push(access_token(app, &key.key.id, secret, CLIENT_CREDENTIALS).await);
    }
    let [app_token, multi_token, no_scope_token]: [String; 3] = tokens.try_into().unwrap();
    Setup {
        app_token,
        multi_token,
        no_scope_token,
        op_token,
        acme,
    }
}

/// Defines the flag `key` as the operator `op`.
async fn define(op: Caller<'_>, key: &str, default_value: bool) {
    let body = json!({"key": key, "description": "x", "default_value": default_value});
    let (status, answer) = op.post("/api/v1/flag-definitions", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// The Flag API as `token` on `app`, asking whether `etag` is still current.
async fn revalidate(app: &TestApp, token: &str, etag: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/flags"))
        .bearer_auth(token)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_flag_api_serves_etags_and_a_change_on_one_instance_shows_on_another(pool: PgPool) {
    let a = spawn_app(pool.clone()).await;
    // A second instance behind the same public URL (the OAuth issuer), on the same database.
    let b = crate::helpers::spawn_app_with(pool.clone(), &["--public-url", &a.base]).await;
    let s = setup(&a, &pool).await;
    let (op, shop, multi) = (
        a.caller(&s.op_token),
        a.caller(&s.app_token),
        a.caller(&s.multi_token),
    );
    let acme_flag = |key: &str| format!("/api/v1/tenants/{}/flags/{key}", s.acme);
    define(op, "new_checkout", false).await;
    define(op, "dark_mode", true).await;
    let plan_default = "/api/v1/flag-definitions/new_checkout/plans/pro";
    let (status, _) = op.put(plan_default, json!({"value": true})).await;
    assert_eq!(status, StatusCode::OK);

    let res = shop.send(Method::GET, "/api/v1/flags", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    assert_eq!(res.headers()["cache-control"], "private, no-cache");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["flags"],
        json!({"dark_mode": true, "new_checkout": true})
    );
    assert_eq!(body["details"][1]["source"], "plan");
    let res = revalidate(&a, &s.app_token, &etag).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    // Instance B has served (and cached) the same answer.
    let res = revalidate(&b, &s.app_token, &etag).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // An override set through A is served by B within a second.
    let (status, _) = op
        .put(&acme_flag("new_checkout"), json!({"value": false}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let started = Instant::now();
    let new_etag = loop {
        let res = revalidate(&b, &s.app_token, &etag).await;
        if res.status() == StatusCode::OK {
            let tag = res.headers()["etag"].to_str().unwrap().to_owned();
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["flags"]["new_checkout"], false);
            assert_eq!(body["details"][1]["source"], "override");
            break tag;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B still serves the old flags after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_ne!(new_etag, etag);

    // A multi-tenant application names the tenant; another tenant is 404; no tenant is 422.
    let (status, body) = multi.get("/api/v1/flags?tenant=globex").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["flags"]["new_checkout"], false, "free: default");
    assert_eq!(
        multi.get("/api/v1/flags").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (status, body) = shop.get("/api/v1/flags?tenant=globex").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "ERR_NOT_FOUND");
    // Scope and authentication.
    let (status, body) = a.caller(&s.no_scope_token).get("/api/v1/flags").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "ERR_PERMISSION_DENIED");
    let anonymous = a.anonymous_get("/api/v1/flags").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // Application tokens cannot manage flags.
    let (status, _) = shop
        .put(&acme_flag("new_checkout"), json!({"value": true}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Bad key, unknown flag, unknown field.
    let (status, body) = op
        .post("/api/v1/flag-definitions", json!({"key": "Bad Key"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["details"][0]["field"], "key");
    let (status, _) = op.put(&acme_flag("nope"), json!({"value": true})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = op
        .put(&acme_flag("dark_mode"), json!({"value": true, "extra": 1}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // History shows old → new.
    let (_, history) = op
        .get("/api/v1/flag-definitions/new_checkout/history")
        .await;
    assert_eq!(history["data"][0]["action"], "flag.override.set");
    assert_eq!(history["data"][0]["new"], false);

    // A suspended tenant's flags are refused with a clear message.
    let suspend = format!("/api/v1/tenants/{}/suspend", s.acme);
    let (status, _) = op.post(&suspend, json!({"reason": "unpaid"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, fresh) = op.get("/api/v1/flags?tenant=acme").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(fresh["message"].as_str().unwrap().contains("suspended"));
}

/// OFREP's bulk evaluation; one flag's is at `{BULK}/{key}`.
const BULK: &str = "/ofrep/v1/evaluate/flags";

async fn ofrep(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: Value,
    etag: Option<&str>,
) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(e) = etag {
        req = req.header("if-none-match", e);
    }
    req.send().await.unwrap()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn ofrep_evaluates_single_and_bulk_with_its_error_codes(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let s = setup(&app, &pool).await;
    let (op, shop) = (app.caller(&s.op_token), app.caller(&s.app_token));
    define(op, "dark_mode", true).await;
    define(op, "gradual", false).await;
    let rollout = json!({"rollout_percentage": 50});
    let (status, _) = op.patch("/api/v1/flag-definitions/gradual", rollout).await;
    assert_eq!(status, StatusCode::OK);

    let user_1 = json!({"context": {"targetingKey": "user-1"}});
    let (status, body) = shop.post(&format!("{BULK}/dark_mode"), user_1).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"key": "dark_mode", "value": true, "reason": "DEFAULT", "variant": "on", "metadata": {"source": "default"}})
    );
    for (key, context, status, error) in [
        (
            "missing",
            json!({"targetingKey": "u"}),
            Some(StatusCode::NOT_FOUND),
            "FLAG_NOT_FOUND",
        ),
        (
            "gradual",
            json!({}),
            Some(StatusCode::BAD_REQUEST),
            "TARGETING_KEY_MISSING",
        ),
        (
            "gradual",
            json!({"targetingKey": 42}),
            None,
            "INVALID_CONTEXT",
        ),
    ] {
        let (got, body) = shop
            .post(&format!("{BULK}/{key}"), json!({ "context": context }))
            .await;
        if let Some(status) = status {
            assert_eq!(got, status, "{key} {context}");
        }
        assert_eq!(body["errorCode"], error, "{key} {context}");
    }
    let user_7 = json!({"context": {"targetingKey": "user-7"}});
    let (_, first) = shop.post(&format!("{BULK}/gradual"), user_7.clone()).await;
    assert_eq!(first["reason"], "SPLIT");
    let (_, again) = shop.post(&format!("{BULK}/gradual"), user_7.clone()).await;
    assert_eq!(first, again, "sticky");
    // 401 without a token; 403 without the scope.
    assert_eq!(
        ofrep(&app, BULK, None, json!({}), None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let no_scope = app.caller(&s.no_scope_token);
    assert_eq!(
        no_scope.post(BULK, json!({})).await.0,
        StatusCode::FORBIDDEN
    );

    // Bulk, with ETag and 304.
    let res = shop.send(Method::POST, BULK, Some(user_7.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let bulk: Value = res.json().await.unwrap();
    assert_eq!(bulk["flags"].as_array().unwrap().len(), 2);
    let res = ofrep(&app, BULK, Some(&s.app_token), user_7, Some(&etag)).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let (_, bulk) = shop.post(BULK, json!({"context": {}})).await;
    assert_eq!(bulk["flags"][1]["errorCode"], "TARGETING_KEY_MISSING");
    let res = app
        .client
        .post(app.url(BULK))
        .bearer_auth(&s.app_token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errorCode"],
        "PARSE_ERROR"
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_change_stream_sends_the_flags_now_and_after_each_change(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let s = setup(&app, &pool).await;
    let op = app.caller(&s.op_token);
    define(op, "dark_mode", false).await;
    let stream = "/api/v1/flags/stream";
    let mut res = app
        .caller(&s.app_token)
        .send(Method::GET, stream, None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    let mut next_event = async |seen: &mut String| loop {
        if let Some(end) = seen.find("\n\n") {
            let event = seen[..end].to_owned();
            seen.drain(..end + 2);
            if event.starts_with("event:") {
                return event;
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), res.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    };
    let first = next_event(&mut seen).await;
    assert!(
        first.contains("event: flags") && first.contains("\"dark_mode\":false"),
        "{first}"
    );
    let dark_mode = format!("/api/v1/tenants/{}/flags/dark_mode", s.acme);
    let (status, _) = op.put(&dark_mode, json!({"value": true})).await;
    assert_eq!(status, StatusCode::OK);
    let second = next_event(&mut seen).await;
    assert!(second.contains("\"dark_mode\":true"), "{second}");
}

/// SPEC §9 rate limits: every answer carries the X-RateLimit headers; past an API key's
/// allowance the Flag API answers 429 ERR_RATE_LIMIT and OFREP 429, both with Retry-After;
/// another key keeps its own allowance; callers without a token are limited per IP.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn rate_limits_answer_429_with_retry_after_per_key_and_per_ip(pool: PgPool) {
    let app = spawn_app_with(
        pool.clone(),
        &["--rate-limit-api-key", "3", "--rate-limit-anonymous", "2"],
    )
    .await;
    let s = setup(&app, &pool).await;
    let (shop, multi) = (app.caller(&s.app_token), app.caller(&s.multi_token));
    for remaining in ["2", "1", "0"] {
        let res = shop.send(Method::GET, "/api/v1/flags", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["x-ratelimit-limit"], "3");
        assert_eq!(res.headers()["x-ratelimit-remaining"], remaining);
        assert!(res.headers().contains_key("x-ratelimit-reset"));
    }
    let refused = shop.send(Method::GET, "/api/v1/flags", None).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&after), "{after}");
    assert!(refused.headers().contains_key("x-request-id"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "ERR_RATE_LIMIT");
    assert!(body["request_id"].is_string());
    // The same key through OFREP: refused too, the OFREP way.
    let u1 = json!({"context": {"targetingKey": "u1"}});
    let ofrep = shop.send(Method::POST, BULK, Some(u1)).await;
    assert_eq!(ofrep.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(ofrep.headers().contains_key("retry-after"));
    // Another application's key is not affected.
    let other = multi
        .send(Method::GET, "/api/v1/flags?tenant=acme", None)
        .await;
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(other.headers()["x-ratelimit-remaining"], "2");
    // Without a token: two answers (401), then 429 for this IP.
    for _ in 0..2 {
        let res = app.anonymous_get("/api/v1/flags").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["x-ratelimit-limit"], "2");
    }
    let res = app.anonymous_get("/api/v1/flags").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
}
