//! Flag delivery over HTTP (issue 5; SPEC §6; FR-FLAG-001/002, API-FLAG): the Flag API
//! with ETag/304, two server instances on one database kept coherent by LISTEN/NOTIFY,
//! OFREP, the change stream, operator management, and the refusals.

use crate::helpers::{operator_token, spawn_app, spawn_app_with, TestApp};
use gatehouse_domain::apps::{issue_key, register_application, ApplicationInput, KeyInput};
use gatehouse_domain::audit::RequestContext;
use gatehouse_domain::tenants::{provision_tenant, NewTenant};
use gatehouse_domain::types::{DisplayName, Plan, TenantDomain};
use reqwest::StatusCode;
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

async fn client_token(app: &TestApp, client_id: &str, secret: &str) -> String {
    let body: Value = app
        .client
        .post(app.url("/auth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn setup(app: &TestApp, pool: &PgPool) -> Setup {
    let ctx = RequestContext::default();
    let mut tx = pool.begin().await.unwrap();
    let mut ids = Vec::new();
    for (domain, plan) in [("acme", Plan::Pro), ("globex", Plan::Free)] {
        let t = provision_tenant(
            &mut tx,
            &ctx,
            None,
            NewTenant {
                name: DisplayName::parse(domain).unwrap(),
                domain: TenantDomain::parse(domain).unwrap(),
                plan,
            },
        )
        .await
        .unwrap();
        ids.push(t.id);
    }
    tx.commit().await.unwrap();
    let mut keys = Vec::new();
    for (name, tenants, scopes) in [
        ("Shop", vec!["acme"], vec!["flag:read"]),
        ("Fleet", vec!["acme", "globex"], vec!["flag:read"]),
        ("Billing", vec!["acme"], vec!["bill:write"]),
    ] {
        let a = register_application(
            pool,
            &ctx,
            None,
            ApplicationInput {
                name: Some(name.into()),
                tenants: Some(tenants.into_iter().map(String::from).collect()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .value;
        let k = issue_key(
            pool,
            &ctx,
            None,
            a.id,
            KeyInput {
                scopes: scopes.into_iter().map(String::from).collect(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .value;
        keys.push((k.key.id, k.secret.expose_secret().to_owned()));
    }
    let (_, op_token) = operator_token(app, pool).await;
    Setup {
        app_token: client_token(app, &keys[0].0, &keys[0].1).await,
        multi_token: client_token(app, &keys[1].0, &keys[1].1).await,
        no_scope_token: client_token(app, &keys[2].0, &keys[2].1).await,
        op_token,
        acme: ids[0],
    }
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn define(app: &TestApp, op: &str, key: &str, default_value: bool) {
    let res = send(
        app,
        reqwest::Method::POST,
        "/api/v1/flag-definitions",
        op,
        Some(json!({"key": key, "description": "x", "default_value": default_value})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED, "{:?}", res.text().await);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_flag_api_serves_etags_and_a_change_on_one_instance_shows_on_another(pool: PgPool) {
    let a = spawn_app(pool.clone()).await;
    // A second instance behind the same public URL (the OAuth issuer), on the same database.
    let b = crate::helpers::spawn_app_with(pool.clone(), &["--public-url", &a.base]).await;
    let s = setup(&a, &pool).await;
    define(&a, &s.op_token, "new_checkout", false).await;
    define(&a, &s.op_token, "dark_mode", true).await;
    let res = send(
        &a,
        reqwest::Method::PUT,
        "/api/v1/flag-definitions/new_checkout/plans/pro",
        &s.op_token,
        Some(json!({"value": true})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = send(
        &a,
        reqwest::Method::GET,
        "/api/v1/flags",
        &s.app_token,
        None,
    )
    .await;
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
    let res = a
        .client
        .get(a.url("/api/v1/flags"))
        .bearer_auth(&s.app_token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    // Instance B has served (and cached) the same answer.
    let res = b
        .client
        .get(b.url("/api/v1/flags"))
        .bearer_auth(&s.app_token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // An override set through A is served by B within a second.
    let res = send(
        &a,
        reqwest::Method::PUT,
        &format!("/api/v1/tenants/{}/flags/new_checkout", s.acme),
        &s.op_token,
        Some(json!({"value": false})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let started = Instant::now();
    let new_etag = loop {
        let res = b
            .client
            .get(b.url("/api/v1/flags"))
            .bearer_auth(&s.app_token)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
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
    let res = send(
        &a,
        reqwest::Method::GET,
        "/api/v1/flags?tenant=globex",
        &s.multi_token,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap()["flags"]["new_checkout"],
        false,
        "free: default"
    );
    assert_eq!(
        send(
            &a,
            reqwest::Method::GET,
            "/api/v1/flags",
            &s.multi_token,
            None
        )
        .await
        .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let res = send(
        &a,
        reqwest::Method::GET,
        "/api/v1/flags?tenant=globex",
        &s.app_token,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "ERR_NOT_FOUND");
    // Scope and authentication.
    let res = send(
        &a,
        reqwest::Method::GET,
        "/api/v1/flags",
        &s.no_scope_token,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "ERR_PERMISSION_DENIED"
    );
    assert_eq!(
        a.client
            .get(a.url("/api/v1/flags"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Application tokens cannot manage flags.
    let res = send(
        &a,
        reqwest::Method::PUT,
        &format!("/api/v1/tenants/{}/flags/new_checkout", s.acme),
        &s.app_token,
        Some(json!({"value": true})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Bad key, unknown flag, unknown field.
    let res = send(
        &a,
        reqwest::Method::POST,
        "/api/v1/flag-definitions",
        &s.op_token,
        Some(json!({"key": "Bad Key"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.json::<Value>().await.unwrap()["details"][0]["field"],
        "key"
    );
    let res = send(
        &a,
        reqwest::Method::PUT,
        &format!("/api/v1/tenants/{}/flags/nope", s.acme),
        &s.op_token,
        Some(json!({"value": true})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = send(
        &a,
        reqwest::Method::PUT,
        &format!("/api/v1/tenants/{}/flags/dark_mode", s.acme),
        &s.op_token,
        Some(json!({"value": true, "extra": 1})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // History shows old → new.
    let history: Value = send(
        &a,
        reqwest::Method::GET,
        "/api/v1/flag-definitions/new_checkout/history",
        &s.op_token,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(history["data"][0]["action"], "flag.override.set");
    assert_eq!(history["data"][0]["new"], false);

    // A suspended tenant's flags are refused with a clear message.
    let res = send(
        &a,
        reqwest::Method::POST,
        &format!("/api/v1/tenants/{}/suspend", s.acme),
        &s.op_token,
        Some(json!({"reason": "unpaid"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = send(
        &a,
        reqwest::Method::GET,
        "/api/v1/flags?tenant=acme",
        &s.op_token,
        None,
    )
    .await;
    assert_eq!(fresh.status(), StatusCode::FORBIDDEN);
    assert!(fresh.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("suspended"));
}

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
    define(&app, &s.op_token, "dark_mode", true).await;
    define(&app, &s.op_token, "gradual", false).await;
    let res = send(
        &app,
        reqwest::Method::PATCH,
        "/api/v1/flag-definitions/gradual",
        &s.op_token,
        Some(json!({"rollout_percentage": 50})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = ofrep(
        &app,
        "/ofrep/v1/evaluate/flags/dark_mode",
        Some(&s.app_token),
        json!({"context": {"targetingKey": "user-1"}}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"key": "dark_mode", "value": true, "reason": "DEFAULT", "variant": "on", "metadata": {"source": "default"}})
    );
    let res = ofrep(
        &app,
        "/ofrep/v1/evaluate/flags/missing",
        Some(&s.app_token),
        json!({"context": {"targetingKey": "u"}}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errorCode"],
        "FLAG_NOT_FOUND"
    );
    let res = ofrep(
        &app,
        "/ofrep/v1/evaluate/flags/gradual",
        Some(&s.app_token),
        json!({"context": {}}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errorCode"],
        "TARGETING_KEY_MISSING"
    );
    let res = ofrep(
        &app,
        "/ofrep/v1/evaluate/flags/gradual",
        Some(&s.app_token),
        json!({"context": {"targetingKey": 42}}),
        None,
    )
    .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["errorCode"],
        "INVALID_CONTEXT"
    );
    let res = ofrep(
        &app,
        "/ofrep/v1/evaluate/flags/gradual",
        Some(&s.app_token),
        json!({"context": {"targetingKey": "user-7"}}),
        None,
    )
    .await;
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["reason"], "SPLIT");
    let again: Value = ofrep(
        &app,
        "/ofrep/v1/evaluate/flags/gradual",
        Some(&s.app_token),
        json!({"context": {"targetingKey": "user-7"}}),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(first, again, "sticky");
    // 401 without a token; 403 without the scope.
    assert_eq!(
        ofrep(&app, "/ofrep/v1/evaluate/flags", None, json!({}), None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ofrep(
            &app,
            "/ofrep/v1/evaluate/flags",
            Some(&s.no_scope_token),
            json!({}),
            None
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );

    // Bulk, with ETag and 304.
    let res = ofrep(
        &app,
        "/ofrep/v1/evaluate/flags",
        Some(&s.app_token),
        json!({"context": {"targetingKey": "user-7"}}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let bulk: Value = res.json().await.unwrap();
    assert_eq!(bulk["flags"].as_array().unwrap().len(), 2);
    let res = ofrep(
        &app,
        "/ofrep/v1/evaluate/flags",
        Some(&s.app_token),
        json!({"context": {"targetingKey": "user-7"}}),
        Some(&etag),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = ofrep(
        &app,
        "/ofrep/v1/evaluate/flags",
        Some(&s.app_token),
        json!({"context": {}}),
        None,
    )
    .await;
    let bulk: Value = res.json().await.unwrap();
    assert_eq!(bulk["flags"][1]["errorCode"], "TARGETING_KEY_MISSING");
    let res = app
        .client
        .post(app.url("/ofrep/v1/evaluate/flags"))
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
    define(&app, &s.op_token, "dark_mode", false).await;
    let mut res = app
        .client
        .get(app.url("/api/v1/flags/stream"))
        .bearer_auth(&s.app_token)
        .send()
        .await
        .unwrap();
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
    let r = send(
        &app,
        reqwest::Method::PUT,
        &format!("/api/v1/tenants/{}/flags/dark_mode", s.acme),
        &s.op_token,
        Some(json!({"value": true})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
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
    let get = |token: &str| {
        app.client
            .get(app.url("/api/v1/flags"))
            .bearer_auth(token)
            .send()
    };
    for remaining in ["2", "1", "0"] {
        let res = get(&s.app_token).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["x-ratelimit-limit"], "3");
        assert_eq!(res.headers()["x-ratelimit-remaining"], remaining);
        assert!(res.headers().contains_key("x-ratelimit-reset"));
    }
    let refused = get(&s.app_token).await.unwrap();
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
    let ofrep = app
        .client
        .post(app.url("/ofrep/v1/evaluate/flags"))
        .bearer_auth(&s.app_token)
        .json(&json!({"context": {"targetingKey": "u1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(ofrep.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(ofrep.headers().contains_key("retry-after"));
    // Another application's key is not affected.
    let other = app
        .client
        .get(app.url("/api/v1/flags?tenant=acme"))
        .bearer_auth(&s.multi_token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(other.headers()["x-ratelimit-remaining"], "2");
    // Without a token: two answers (401), then 429 for this IP.
    for _ in 0..2 {
        let res = app
            .client
            .get(app.url("/api/v1/flags"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["x-ratelimit-limit"], "2");
    }
    let res = app
        .client
        .get(app.url("/api/v1/flags"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
}
