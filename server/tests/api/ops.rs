//! Black-box tests: the real server (router, middleware, pages) on a random port against a
//! fresh database, driven over HTTP.

use crate::helpers::{spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

async fn json(res: reqwest::Response) -> Value {
    res.json().await.unwrap()
}

/// The `x-request-id` of a response.
fn request_id(res: &reqwest::Response) -> String {
    res.headers()["x-request-id"].to_str().unwrap().to_owned()
}

/// Asserts `res` is a SPEC §9 error of `code` that carries the request id of its response.
async fn assert_spec_error(res: reqwest::Response, code: &str) {
    let request_id = request_id(&res);
    let body = json(res).await;
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["request_id"], request_id, "{body}");
    assert!(body["details"].is_array(), "{body}");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn unknown_api_route_is_a_json_404_with_the_request_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app.anonymous_get("/api/v1/does-not-exist").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_spec_error(res, "ERR_NOT_FOUND").await;
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn wrong_method_is_a_json_405_with_allow(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app
        .client
        .delete(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = res.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET"), "{allow}");
    assert_spec_error(res, "ERR_METHOD_NOT_ALLOWED").await;
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn oversized_body_is_a_json_413(pool: PgPool) {
    let app = spawn_app_with(pool, &["--body-limit-bytes", "1024"]).await;
    let res = app
        .client
        .post(app.url("/api/v1/openapi.json"))
        .header("content-type", "application/json")
        .body(format!("{{\"x\":\"{}\"}}", "a".repeat(4096)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_spec_error(res, "ERR_PAYLOAD_TOO_LARGE").await;
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn request_ids_are_kept_when_valid_and_replaced_when_not(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "client-abc.123_x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "client-abc.123_x");

    let bad = "x".repeat(300);
    let res = app
        .client
        .get(app.url("/api/v1/nope"))
        .header("x-request-id", &bad)
        .send()
        .await
        .unwrap();
    let id = request_id(&res);
    assert_ne!(id, bad);
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "a fresh UUID replaces an invalid id: {id}"
    );
    assert_eq!(json(res).await["request_id"], id);

    let page = app.anonymous_get("/login").await;
    assert!(
        page.headers().contains_key("x-request-id"),
        "pages carry the id too"
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn health_and_readiness(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app.anonymous_get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.anonymous_get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["status"], "ready");
}

#[sqlx::test(migrations = false)]
async fn readiness_fails_without_migrations(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app.anonymous_get("/readyz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        json(res).await["reason"],
        "migrations have not been applied"
    );
    // Liveness does not depend on the database.
    assert_eq!(app.anonymous_get("/healthz").await.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn readiness_fails_when_the_database_is_gone(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    pool.close().await;
    let res = app.anonymous_get("/readyz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn metrics_count_requests_by_route_and_status(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.anonymous_get("/healthz").await;
    app.anonymous_get("/api/v1/unknown-for-metrics").await;
    let res = app.metrics().await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            r#"gatehouse_http_requests_total{method="GET",route="/healthz",status="200"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/*unmatched",status="404""#),
        "unmatched paths share one label: {text}"
    );
    assert!(
        text.contains("gatehouse_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("gatehouse_db_pool_connections"), "{text}");
    assert!(text.contains("gatehouse_db_pool_max_connections"), "{text}");
    assert!(
        !text.contains("unknown-for-metrics"),
        "raw paths never become labels"
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn security_headers_on_pages_and_api(pool: PgPool) {
    let app = spawn_app(pool).await;
    let page = app.anonymous_get("/login").await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'nonce-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    assert!(
        !page.headers().contains_key("strict-transport-security"),
        "no HSTS over plain HTTP"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry this response's nonce"
    );

    let api = app.anonymous_get("/api/v1/openapi.json").await;
    assert_eq!(
        api.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
    );
    assert_eq!(api.headers()["x-frame-options"], "DENY");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn hsts_when_served_over_https(pool: PgPool) {
    let app = spawn_app_with(pool, &["--public-url", "https://login.example.com"]).await;
    let res = app.anonymous_get("/healthz").await;
    assert!(res.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn pages_render_and_unknown_pages_are_404(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app.anonymous_get("/login").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("<title>Sign in · Gatehouse</title>"),
        "{html}"
    );
    // Email first (UC-LOGIN): the address, then the password step.
    assert!(html.contains(r#"name="email""#) && !html.contains(r#"name="password""#));
    let html = app
        .anonymous_get("/login?email=someone%40example.test")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"name="password""#), "{html}");

    let html = app
        .anonymous_get("/t/acme/login")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("to acme on Gatehouse"));

    for path in ["/", "/operator", "/admin", "/audit", "/account"] {
        let res = app.anonymous_get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let res = app.anonymous_get("/no/such/page").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_openapi_document_describes_the_error_format(pool: PgPool) {
    let app = spawn_app(pool).await;
    let doc = json(app.anonymous_get("/api/v1/openapi.json").await).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["components"]["schemas"]["Error"]["properties"]["request_id"].is_object());
    // Generated from the routes: every /api route is documented, with its operations.
    for path in gatehouse_server::api::registered_paths() {
        let item = &doc["paths"][format!("/api{path}")];
        assert!(item.is_object(), "/api{path} is not in the document");
    }
    for path in [
        "/ofrep/v1/evaluate/flags",
        "/auth/token",
        "/.well-known/openid-configuration",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} is not in the document"
        );
    }
    let scopes =
        &doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"];
    assert!(scopes["users:write"].is_string(), "{scopes}");
    // The browsable reference: Scalar from our own origin, no inline script.
    let res = app.anonymous_get("/api/docs").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"src="/vendor/scalar/standalone.js""#));
    assert!(page.contains(r#"data-url="/api/v1/openapi.json""#));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn server_functions_refuse_cross_site_posts(pool: PgPool) {
    gatehouse_domain::demo::ensure_demo_data(&pool)
        .await
        .unwrap();
    let app = spawn_app(pool).await;
    let form = [
        ("email", "owner@acme.test"),
        ("password", gatehouse_domain::demo::DEMO_PASSWORD),
        ("tenant", ""),
        ("return_to", ""),
    ];
    for origin in [Some("http://evil.example"), Some("null"), None] {
        let mut req = app
            .client
            .post(app.url("/_rpc/sign_in"))
            .header("accept", "text/html")
            .form(&form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "origin {origin:?}");
        assert!(!res.headers().contains_key("set-cookie"));
    }
    // From our own origin the same post signs in and redirects by role.
    let host = app.base.trim_start_matches("http://").to_owned();
    let res = app
        .client
        .post(app.url("/_rpc/sign_in"))
        .header("accept", "text/html")
        .header("origin", format!("http://{host}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/admin");
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("gatehouse_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
    );
}

/// Page assets (issue 23): named by the digest of their contents, the Brotli or gzip copy
/// sent by `Accept-Encoding`, cached for good; a digest of another build is not found and
/// not cached.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn page_assets_are_served_by_digest_compressed_and_cached_for_good(pool: PgPool) {
    let site = std::env::temp_dir().join(format!("gatehouse-site-{}", uuid::Uuid::new_v4()));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("gatehouse.css"), "body { color: #123456 }").unwrap();
    std::fs::write(pkg.join("gatehouse.css.br"), "brotli bytes").unwrap();
    std::fs::write(pkg.join("gatehouse.css.gz"), "gzip bytes").unwrap();
    let digest = gatehouse_server::assets::version(&site);
    let app = spawn_app_with(pool, &["--site-root", site.to_str().unwrap()]).await;

    let page = app.anonymous_get("/login").await.text().await.unwrap();
    let css = format!("/pkg/{digest}/gatehouse.css");
    assert!(page.contains(&css), "the page names {css}");
    let get = |path: String, encoding: &'static str| {
        let req = app
            .client
            .get(app.url(&path))
            .header("accept-encoding", encoding);
        async move { req.send().await.unwrap() }
    };
    for (encoding, body, sent) in [
        ("br, gzip", "brotli bytes", Some("br")),
        ("gzip", "gzip bytes", Some("gzip")),
        ("identity", "body { color: #123456 }", None),
    ] {
        let res = get(css.clone(), encoding).await;
        assert_eq!(res.status(), StatusCode::OK, "{encoding}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(res.headers()["vary"], "accept-encoding");
        assert_eq!(
            res.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            sent
        );
        assert_eq!(res.text().await.unwrap(), body);
    }
    let stale = get("/pkg/000000000000/gatehouse.css".into(), "br").await;
    assert_eq!(stale.status(), StatusCode::NOT_FOUND);
    assert!(stale
        .headers()
        .get("cache-control")
        .is_none_or(|v| v != "public, max-age=31536000, immutable"));
    let missing = get(format!("/pkg/{digest}/nothing.js"), "br").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.headers().get("cache-control").is_none());
    std::fs::remove_dir_all(&site).unwrap();
}
