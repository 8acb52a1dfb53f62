//! Attacks over HTTP as an attacker makes them: a password without its second factor,
//! made-up HTTP methods against the metrics, a user's token used as an admin credential,
//! and a made-up token against the rate limiter.

use crate::helpers::*;
use gatehouse_domain::types::Role;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

const PASSWORD: &str = "Quartz-Lantern-Orbit-58!";

async fn person(pool: &PgPool, tenant: Option<Uuid>, email: &str, role: Role) -> Uuid {
    crate::helpers::person(pool, tenant, email, role, Some(PASSWORD)).await
}

async fn acme(pool: &PgPool) -> Uuid {
    tenant(pool, "acme").await
}

/// A password sign-in from a browser with no cookies; returns the session cookie pair and
/// where the browser is sent.
async fn sign_in(app: &TestApp, email: &str) -> (String, String) {
    let res = app
        .client
        .post(app.url("/_rpc/sign_in"))
        .header("origin", &app.base)
        .form(&[("email", email), ("password", PASSWORD), ("return_to", "")])
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|p| p.starts_with("gatehouse_session="))
        .expect("a session cookie")
        .to_owned();
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    (cookie, to)
}

/// A server function called as the page's script calls it.
async fn server_fn(
    app: &TestApp,
    cookie: &str,
    name: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/_rpc/{name}")))
        .header("origin", &app.base)
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn now_code(key: &str) -> String {
    use totp_rs::{Algorithm, Secret, TOTP};
    let seed = Secret::Encoded(key.to_owned()).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, seed, None, String::new()).unwrap();
    totp.generate_current().unwrap()
}

/// With the owner's password only, from a new browser, the attacker
/// tries to enrol an authenticator app of their own to finish the sign-in. Refused; the
/// session stays pending and opens nothing.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_password_alone_cannot_enrol_a_factor_to_pass_the_second_step(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let tenant = acme(&pool).await;
    let owner = person(&pool, Some(tenant), "owner@acme.test", Role::Owner).await;
    // The owner's real authenticator app (its seed does not matter here).
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, secret_ciphertext, confirmed_at) VALUES ($1, '\\x00', now())",
    )
    .bind(owner)
    .execute(&pool)
    .await
    .unwrap();
    let (cookie, to) = sign_in(&app, "owner@acme.test").await;
    assert!(to.starts_with("/login/mfa"), "{to}");
    let res = server_fn(&app, &cookie, "begin_totp_setup", &[]).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "{}",
        res.text().await.unwrap()
    );
    let res = server_fn(
        &app,
        &cookie,
        "confirm_totp_setup",
        &[
            ("enrolment_id", &Uuid::now_v7().to_string()),
            ("code", "123456"),
            ("label", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = server_fn(&app, &cookie, "regenerate_recovery_codes", &[]).await;
    assert_ne!(res.status(), StatusCode::OK);
    let res = server_fn(&app, &cookie, "account_overview", &[]).await;
    assert_ne!(res.status(), StatusCode::OK, "the account stays closed");
    let enrolled: i64 = sqlx::query_scalar("SELECT count(*) FROM mfa_totp WHERE user_id = $1")
        .bind(owner)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(enrolled, 1, "no factor of the attacker's");
    // Passkey enrolment follows the same rule.
    let res = app
        .client
        .post(app.url("/passkeys/register/start"))
        .header("origin", &app.base)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
}

/// An operator who must enrol does so from the pending sign-in, which then
/// completes; the browser is not trusted by it (no trusted-device cookie).
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_enrolment_sign_in_completes_without_trusting_the_browser(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    person(&pool, None, "ops@gatehouse.test", Role::Operator).await;
    let (cookie, to) = sign_in(&app, "ops@gatehouse.test").await;
    assert!(to.starts_with("/login/mfa/setup"), "{to}");
    let res = server_fn(&app, &cookie, "begin_totp_setup", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let setup: Value = res.json().await.unwrap();
    let code = now_code(setup["manual_key"].as_str().unwrap());
    let res = server_fn(
        &app,
        &cookie,
        "confirm_totp_setup",
        &[
            ("enrolment_id", setup["enrolment_id"].as_str().unwrap()),
            ("code", &code),
            ("label", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(&res);
    assert!(
        cookies.iter().any(|c| c.starts_with("gatehouse_session=")),
        "{cookies:?}"
    );
    assert!(
        !cookies.iter().any(|c| c.starts_with("gatehouse_device=")),
        "an enrolment never trusts the browser: {cookies:?}"
    );
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["next"], "/operator");
}

/// Made-up methods do not become metric series, and `/metrics` is not on the
/// public port.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn made_up_methods_do_not_grow_the_metrics(pool: PgPool) {
    let app = spawn_app(pool).await;
    for i in 0..3 {
        let method = reqwest::Method::from_bytes(format!("ZZPROBE{i}").as_bytes()).unwrap();
        app.client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .unwrap();
    }
    let public = app.anonymous_get("/metrics").await;
    assert_eq!(
        public.status(),
        StatusCode::NOT_FOUND,
        "off the public port"
    );
    let text = app.metrics().await.text().await.unwrap();
    assert!(!text.contains("ZZPROBE"), "{text}");
    assert!(text.contains(r#"method="OTHER""#), "{text}");
}

/// A user's token that an application got for sign-in only (openid) is no admin
/// credential; one with `users:read` reads users but cannot change them.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_user_token_reaches_the_admin_api_only_through_its_scopes(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let tenant = acme(&pool).await;
    let owner = person(&pool, Some(tenant), "owner@acme.test", Role::Owner).await;
    let sign_in_only = user_token_with(&app, &pool, owner, "openid").await;
    let (status, _) = app.caller(&sign_in_only).get("/api/v1/users").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no API audience");
    let reader = user_token_with(&app, &pool, owner, "openid users:read").await;
    let as_reader = app.caller(&reader);
    let (status, _) = as_reader.get("/api/v1/users").await;
    assert_eq!(status, StatusCode::OK);
    let new = serde_json::json!({"email": "new@acme.test"});
    let (status, body) = as_reader.post("/api/v1/users", new).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "ERR_PERMISSION_DENIED");
    assert!(
        body["message"].as_str().unwrap().contains("users:write"),
        "{body}"
    );
    for path in ["/api/v1/settings", "/api/v1/apps"] {
        let (status, _) = as_reader.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
}

/// A made-up bearer token buys no exemption from the per-IP limit.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_bogus_token_counts_against_the_ip_limit(pool: PgPool) {
    let app = spawn_app_with(pool, &["--rate-limit-anonymous", "3"]).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let res = app
            .client
            .get(app.url("/api/v1/users"))
            .bearer_auth(format!("made-up-{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

/// A leaked key cannot pin the server down with endless idle change streams; a
/// closed stream frees its place.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn flag_streams_are_capped_per_key(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    acme(&pool).await;
    let token = app_token(&app, &pool, &["acme"], &["flag:read"]).await;
    let open = || {
        app.client
            .get(app.url("/api/v1/flags/stream"))
            .bearer_auth(&token)
            .send()
    };
    let mut streams = Vec::new();
    for _ in 0..gatehouse_server::flags::STREAMS_PER_CALLER {
        let res = open().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        streams.push(res);
    }
    let refused = open().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    drop(streams.pop());
    let mut reopened = false;
    for _ in 0..50 {
        let res = open().await.unwrap();
        if res.status() == StatusCode::OK {
            reopened = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reopened, "a closed stream frees its place");
}
