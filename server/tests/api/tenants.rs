//! Tenant isolation, proven by walking every `/api/v1` route (SPEC §2;
//! CON-SEC-001). The routes come from the router itself (`api::registered_paths`), so a
//! route added later is walked too — and fails here until the walk knows how to fill its
//! path parameters.
//!
//! Tenant B's owner, admin and user call every route, with every method, on tenant A's
//! resources: nothing succeeds (404 for A's resources, 403 for what their role may not do),
//! nothing they may read mentions A, and A's data and audit trail are unchanged. A's own
//! `user` gets 403 ERR_PERMISSION_DENIED on every administrative route.

use crate::helpers::{
    app_token, operator_token, person, registered_key, send, session_cookie, spawn_app,
    spawn_app_with, tenant, test_keys, user_token, TestApp,
};
use gatehouse_domain::apps::{ApplicationInput, IssuedKey};
use gatehouse_domain::audit::RequestContext;
use gatehouse_domain::flags::{create_flag, FlagInput};
use gatehouse_domain::permissions::Actor;
use gatehouse_domain::types::{Email, Role};
use gatehouse_domain::users::{invite_user, NewInvitation, DEFAULT_LIFETIME};
use gatehouse_domain::webhooks::{self, NewEndpoint, Owner};
use gatehouse_server::api::registered_paths;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

struct TenantFixture {
    id: Uuid,
    owner: Uuid,
    admin: Uuid,
    user: Uuid,
    /// A pending invitation.
    invitation: Uuid,
    /// A webhook endpoint, and a delivery to it (of the invitation's `user.invited`).
    webhook: Uuid,
    delivery: Uuid,
}

async fn tenant_with_people(pool: &PgPool, domain: &str) -> TenantFixture {
    let id = tenant(pool, domain).await;
    let mut ids = Vec::new();
    for role in [Role::Owner, Role::Admin, Role::User] {
        ids.push(person(pool, Some(id), &format!("{role}@{domain}.test"), role, None).await);
    }
    let webhook = webhooks::create_endpoint(
        pool,
        &test_keys(),
        &RequestContext::default(),
        &Actor {
            user_id: ids[0],
            tenant_id: Some(id),
            role: Role::Owner,
        },
        Owner::Tenant(id),
        NewEndpoint {
            url: format!("https://hooks.{domain}.invalid/gatehouse"),
            description: None,
            event_types: vec!["user.invited".into()],
            rate_limit_per_second: None,
        },
        false,
    )
    .await
    .unwrap()
    .value
    .endpoint
    .id;
    invite(pool, id, &format!("pending@{domain}.test"), Role::User).await;
    TenantFixture {
        id,
        owner: ids[0],
        admin: ids[1],
        user: ids[2],
        invitation: newest_id(pool, "invitations", "tenant_id", id).await,
        webhook,
        delivery: newest_id(pool, "webhook_deliveries", "endpoint_id", webhook).await,
    }
}

/// Invites `email` into `tenant` as `role`, as the system would.
async fn invite(pool: &PgPool, tenant: Uuid, email: &str, role: Role) {
    let invitation = NewInvitation {
        tenant_id: tenant,
        email: Email::parse(email).unwrap(),
        role,
        lifetime: DEFAULT_LIFETIME,
    };
    let ctx = RequestContext::default();
    invite_user(pool, &ctx, None, invitation, "http://localhost")
        .await
        .unwrap();
}

/// The id of the newest row of `table` whose `column` is `value`.
async fn newest_id(pool: &PgPool, table: &str, column: &str, value: Uuid) -> Uuid {
    let sql =
        format!("SELECT id FROM {table} WHERE {column} = $1 ORDER BY created_at DESC LIMIT 1");
    sqlx::query_scalar(&sql)
        .bind(value)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The value of each path parameter, by the collection it names — tenant A's resources.
fn fill(path: &str, a: &TenantFixture, app_id: Uuid, key_id: &str) -> String {
    let mut out = String::new();
    let mut previous = "";
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        let value = match (previous, segment) {
            ("users", "{id}") => a.owner.to_string(),
            ("invitations", "{id}") => a.invitation.to_string(),
            ("tenants", "{id}") => a.id.to_string(),
            ("apps", "{id}") => app_id.to_string(),
            ("keys", "{key_id}") => key_id.to_owned(),
            ("flag-definitions", "{key}") | ("flags", "{key}") => "isolation_flag".to_owned(),
            ("plans", "{plan}") => "pro".to_owned(),
            ("events", "{id}") => "isolation-event".to_owned(),
            ("webhooks", "{id}") => a.webhook.to_string(),
            ("deliveries", "{delivery_id}") => a.delivery.to_string(),
            (_, s) if s.starts_with('{') => panic!(
                "the isolation walk does not know what to put in {s} of {path}: add it to `fill`"
            ),
            (_, s) => s.to_owned(),
        };
        out.push('/');
        out.push_str(&value);
        previous = segment;
    }
    format!("/api{out}")
}

/// A body of the right shape for the route, so refusals are about who asks, not the body.
fn body_for(path: &str, method: &Method) -> Option<Value> {
    if matches!(*method, Method::GET | Method::DELETE) {
        return None;
    }
    Some(if path.ends_with("/plan") {
        json!({"plan": "enterprise"})
    } else if path.contains("/plans/") || path.starts_with("/v1/tenants/{id}/flags/") {
        json!({"value": true})
    } else if path == "/v1/users" {
        json!({"email": "walker@example.test"})
    } else if path == "/v1/flag-definitions" {
        json!({"key": "walker_flag"})
    } else if path == "/v1/webhooks" {
        json!({"url": "https://walker.example/hook", "event_types": ["user.created"]})
    } else if path == "/v1/apps" {
        json!({"name": "Walker"})
    } else if path == "/v1/tenants" {
        json!({"name": "Walker", "domain": "walker", "owner_email": "w@walker.test"})
    } else {
        json!({})
    })
}

async fn state_of(pool: &PgPool, tenant: Uuid) -> (i64, String) {
    let audit: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM audit_log WHERE tenant_id = $1)
              + (SELECT count(*) FROM billing_events WHERE tenant_id = $1)",
    )
    .bind(tenant)
    .fetch_one(pool)
    .await
    .unwrap();
    let users: String = sqlx::query_scalar(
        "SELECT concat_ws('|',
            (SELECT string_agg(id::text || role || status || coalesce(name, ''), ',' ORDER BY id)
               FROM users WHERE tenant_id = $1),
            (SELECT string_agg(concat_ws(',', id, url, status, event_types::text, updated_at), ';')
               FROM webhook_endpoints WHERE tenant_id = $1))",
    )
    .bind(tenant)
    .fetch_one(pool)
    .await
    .unwrap();
    (audit, users)
}

async fn request(
    app: &TestApp,
    method: &Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let res = send(app, method.clone(), url, token, body).await;
    let status = res.status();
    // The change stream never ends: read its first chunk only.
    let text = if res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/event-stream"))
    {
        let mut res = res;
        tokio::time::timeout(std::time::Duration::from_secs(2), res.chunk())
            .await
            .ok()
            .and_then(|c| c.ok().flatten())
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .unwrap_or_default()
    } else {
        res.text().await.unwrap_or_default()
    };
    (status, text)
}

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// A `flag:read` key of tenant A's application, and a flag, for the walks to aim at.
async fn acme_application_and_flag(pool: &PgPool) -> IssuedKey {
    let shop = ApplicationInput {
        name: Some("Acme shop".into()),
        tenants: Some(vec!["acme".into()]),
        ..Default::default()
    };
    let a_key = registered_key(pool, shop, &["flag:read"]).await;
    create_flag(
        pool,
        &RequestContext::default(),
        None,
        FlagInput {
            key: Some("isolation_flag".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A usage event of A's, for the routes that name one.
    sqlx::query(
        "INSERT INTO billing_events (tenant_id, application_id, event_type, quantity, occurred_at, idempotency_key)
         SELECT id, $1, 'api.call', 1, now(), 'isolation-event' FROM tenants WHERE domain = 'acme'",
    )
    .bind(a_key.key.application_id)
    .execute(pool)
    .await
    .unwrap();
    a_key
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn no_caller_of_one_tenant_reaches_another_on_any_api_route(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let a = tenant_with_people(&pool, "acme").await;
    let b = tenant_with_people(&pool, "globex").await;
    let a_key = acme_application_and_flag(&pool).await;
    let a_app = a_key.key.application_id;
    let a_marks = [
        a.id.to_string(),
        a.owner.to_string(),
        a.admin.to_string(),
        a.user.to_string(),
        "acme".to_owned(),
    ];

    let paths = registered_paths();
    assert!(paths.len() >= 20, "the walk sees the router: {paths:?}");
    let before = state_of(&pool, a.id).await;
    let mut walked = 0;
    for (who, person) in [
        ("B owner", b.owner),
        ("B admin", b.admin),
        ("B user", b.user),
    ] {
        let token = user_token(&app, &pool, person).await;
        for path in &paths {
            let url = fill(path, &a, a_app, &a_key.key.id);
            for method in &METHODS {
                let (status, text) =
                    request(&app, method, &url, &token, body_for(path, method)).await;
                if status == StatusCode::METHOD_NOT_ALLOWED {
                    continue;
                }
                walked += 1;
                let names_a = a_marks.iter().any(|m| text.contains(m.as_str()));
                assert!(
                    !(status.is_success() && names_a),
                    "{who}: {method} {url} answered {status} about tenant A: {text}"
                );
                if path.contains('{') {
                    assert!(
                        matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                        "{who}: {method} {url} on A's resource answered {status}: {text}"
                    );
                }
            }
        }
    }
    assert!(walked > 60, "{walked} requests walked");
    assert_eq!(state_of(&pool, a.id).await, before, "tenant A is unchanged");

    // A's own `user` role: 403 ERR_PERMISSION_DENIED on every administrative route.
    let token = user_token(&app, &pool, a.user).await;
    for path in &paths {
        if [
            "/v1/me",
            "/v1/openapi.json",
            "/v1/webhooks/event-types",
            "/v1/audit-logs/checkpoints/key",
            "/v1/status",
        ]
        .contains(&path.as_str())
        {
            continue;
        }
        let url = fill(path, &a, a_app, &a_key.key.id);
        for method in &METHODS {
            let (status, text) = request(&app, method, &url, &token, body_for(path, method)).await;
            if status == StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "user role: {method} {url}: {text}"
            );
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            assert_eq!(
                body["code"], "ERR_PERMISSION_DENIED",
                "{method} {url}: {text}"
            );
        }
    }
    assert_eq!(state_of(&pool, a.id).await.1, before.1);
}

/// Everything of tenant A a walker could try to reach, as comparable text.
async fn tenant_a_everything(pool: &PgPool, tenant: Uuid) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws('|',
            (SELECT string_agg(concat_ws(',', id, role, status, name, email), ';' ORDER BY id) FROM users WHERE tenant_id = $1),
            (SELECT concat_ws(',', name, domain, plan, status, mfa_policy, password_policy::text, session_idle_timeout_secs) FROM tenants WHERE id = $1),
            (SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.tenant_id = $1 AND s.revoked_at IS NULL),
            (SELECT string_agg(flag_key || value::text, ',') FROM flag_overrides WHERE tenant_id = $1),
            (SELECT count(*) FROM invitations WHERE tenant_id = $1),
            (SELECT count(*) FROM audit_log WHERE tenant_id = $1),
            (SELECT string_agg(concat_ws(',', e.id, e.url, e.status, e.event_types::text, e.updated_at,
                                         (SELECT string_agg(d.status || d.attempts, ',') FROM webhook_deliveries d
                                          WHERE d.endpoint_id = e.id AND d.status <> 'pending')), ';')
               FROM webhook_endpoints e WHERE e.tenant_id = $1))",
    )
    .bind(tenant)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Tenant isolation through the console: every server function the app
/// registers — enumerated from the server-function registry, so one added later is walked
/// too — is called by tenant B's owner, admin and user with tenant A's identifiers in every
/// argument a function may take. No answer mentions A, and nothing of A changes.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn no_caller_of_one_tenant_reaches_another_through_any_server_function(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let a = tenant_with_people(&pool, "acme").await;
    let b = tenant_with_people(&pool, "globex").await;
    let a_key = acme_application_and_flag(&pool).await;
    invite(&pool, a.id, "waiting@acme.test", Role::Admin).await;
    // A live session of A's owner, which must survive the walk.
    let _a_owner_cookie = session_cookie(&pool, a.owner).await;
    let a_session = newest_id(&pool, "sessions", "user_id", a.owner).await;
    let a_invitation_id = newest_id(&pool, "invitations", "tenant_id", a.id).await;
    let a_marks = [
        a.id.to_string(),
        a.owner.to_string(),
        a.admin.to_string(),
        a.user.to_string(),
        a_session.to_string(),
        a_invitation_id.to_string(),
        "owner@acme.test".to_owned(),
        "waiting@acme.test".to_owned(),
    ];
    // The identifier arguments, each filled in turn with each of A's identifiers; the other
    // arguments get plausible values, so refusals are about who asks, not a missing field.
    let ids = [
        a.owner.to_string(),
        a.admin.to_string(),
        a.id.to_string(),
        a_key.key.application_id.to_string(),
        a_session.to_string(),
        a_invitation_id.to_string(),
    ];
    // The action each identifier is tried with (functions taking an `action`): A's owner is
    // disabled, A's invitation revoked, and so on.
    let actions = [
        "disable",
        "delete",
        "role",
        "end-sessions",
        "reset-mfa",
        "revoke",
    ];
    let form = |id: &str, action: &str| -> Vec<(&'static str, String)> {
        let mut f: Vec<(&'static str, String)> = [
            "id",
            "user_id",
            "tenant_id",
            "tenant",
            "session_id",
            "invitation_id",
            "application_id",
        ]
        .into_iter()
        .map(|k| (k, id.to_owned()))
        .collect();
        f.extend([
            ("action", action.to_owned()),
            ("key", "isolation_flag".to_owned()),
            ("key_id", a_key.key.id.clone()),
            ("status", "disabled".to_owned()),
            ("role", "user".to_owned()),
            ("plan", "enterprise".to_owned()),
            ("value", "on".to_owned()),
            ("reason", "walk".to_owned()),
            ("kind", "totp".to_owned()),
            ("name", "Walker".to_owned()),
            ("email", "walker@example.test".to_owned()),
            ("description", "walk".to_owned()),
            ("default_value", "on".to_owned()),
            ("mfa_policy", "everyone".to_owned()),
            ("min_length", "20".to_owned()),
            ("min_strength", "3".to_owned()),
            ("history", "5".to_owned()),
            ("idle_timeout_minutes", "5".to_owned()),
            ("token", id.to_owned()),
            ("enrolment_id", id.to_owned()),
            ("code", "123456".to_owned()),
            ("password", "Walker-passphrase-2291".to_owned()),
            ("confirm", "Walker-passphrase-2291".to_owned()),
            ("current_password", "Walker-passphrase-2291".to_owned()),
            ("new_password", "Walker-passphrase-2292".to_owned()),
            ("confirm_password", "Walker-passphrase-2292".to_owned()),
            ("page", "admin".to_owned()),
            ("path", "/admin".to_owned()),
            ("domain", "walker".to_owned()),
            ("owner_email", "walker@example.test".to_owned()),
            ("environment", "production".to_owned()),
            ("redirect_uris", "https://walker.example/cb".to_owned()),
            ("post_logout_redirect_uris", String::new()),
            ("tenants", "acme".to_owned()),
            ("expires_on", String::new()),
        ]);
        f
    };

    let functions: Vec<(&str, reqwest::Method)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, m)| {
            (
                p,
                reqwest::Method::from_bytes(m.as_str().as_bytes()).unwrap(),
            )
        })
        .collect();
    assert!(
        functions.len() >= 25,
        "the walk sees the registry: {functions:?}"
    );
    let before = tenant_a_everything(&pool, a.id).await;
    let mut walked = 0;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut incomplete = std::collections::BTreeSet::new();
    for (who, person) in [
        ("B owner", b.owner),
        ("B admin", b.admin),
        ("B user", b.user),
    ] {
        for (path, method) in &functions {
            for (id, action) in ids.iter().zip(actions) {
                // A fresh session per call: some functions end the caller's own sessions.
                let cookie = session_cookie(&pool, person).await;
                let req = app
                    .client
                    .request(method.clone(), app.url(path))
                    .header("cookie", cookie)
                    .header("origin", &app.base);
                let req = if *method == reqwest::Method::GET {
                    req.query(&form(id, action))
                } else {
                    req.form(&form(id, action))
                };
                let res = req.send().await.unwrap();
                let status = res.status();
                let text = res.text().await.unwrap_or_default();
                walked += 1;
                *statuses.entry(status.as_u16()).or_default() += 1;
                if status == reqwest::StatusCode::BAD_REQUEST {
                    incomplete.insert(*path);
                }
                assert!(
                    !status.is_server_error(),
                    "{who}: {path} answered {status}: {text}"
                );
                let names_a = a_marks.iter().any(|m| text.contains(m.as_str()));
                assert!(
                    !names_a,
                    "{who}: {path} with {id} answered {status} about tenant A: {text}"
                );
            }
        }
    }
    assert!(walked > 400, "{walked} calls walked");
    eprintln!("server-function walk: {walked} calls, answers by status {statuses:?}; arguments not filled for {incomplete:?}");
    // Most calls get past their arguments to the checks of who asks.
    let refused =
        statuses.get(&403).copied().unwrap_or(0) + statuses.get(&404).copied().unwrap_or(0);
    assert!(refused * 4 > walked, "{statuses:?}");
    assert_eq!(
        tenant_a_everything(&pool, a.id).await,
        before,
        "tenant A is unchanged"
    );
}

/// A console action and the equivalent REST call go through the same operation and the
/// same `Services`, so the instance that made a change serves it from the very next
/// request, without waiting for its NOTIFY to come back (ARCHITECTURE.md §4): a flag
/// override set in the Operator Console shows in the Flag API, a disabled application's
/// token is refused, a suspended tenant's token is refused.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_console_action_is_seen_by_the_next_api_request_on_the_same_instance(pool: PgPool) {
    // This instance does not LISTEN: only its own application of each change can show it.
    let app = spawn_app_with(pool.clone(), &["--no-listen"]).await;
    let acme = tenant(&pool, "acme").await;
    let (operator, _) = operator_token(&app, &pool).await;
    create_flag(
        &pool,
        &RequestContext::default(),
        None,
        FlagInput {
            key: Some("new_checkout".into()),
            default_value: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let reader = app_token(&app, &pool, &["acme"], &["flag:read"]).await;
    let doomed = app_token(&app, &pool, &["acme"], &["flag:read"]).await;
    let flags = |token: &str| {
        app.client
            .get(app.url("/api/v1/flags"))
            .bearer_auth(token.to_owned())
            .send()
    };
    // Both caches are warm and listening before the console acts.
    let body: Value = flags(&reader).await.unwrap().json().await.unwrap();
    assert_eq!(body["flags"]["new_checkout"], false);
    assert_eq!(flags(&doomed).await.unwrap().status(), StatusCode::OK);
    let console = |endpoint: &str, form: Vec<(&'static str, String)>| {
        let url = app.url(&format!("/_rpc/{endpoint}"));
        let pool = pool.clone();
        let client = app.client.clone();
        let origin = app.base.clone();
        async move {
            let res = client
                .post(url)
                .header("cookie", session_cookie(&pool, operator).await)
                .header("origin", origin)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        }
    };

    console(
        "set_tenant_flag_override",
        vec![
            ("tenant_id", acme.to_string()),
            ("key", "new_checkout".into()),
            ("value", "on".into()),
        ],
    )
    .await;
    let body: Value = flags(&reader).await.unwrap().json().await.unwrap();
    assert_eq!(body["flags"]["new_checkout"], true, "{body}");

    let doomed_app: Uuid =
        sqlx::query_scalar("SELECT application_id FROM api_keys ORDER BY created_at DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    console(
        "set_application_status",
        vec![
            ("id", doomed_app.to_string()),
            ("status", "disabled".into()),
        ],
    )
    .await;
    assert_eq!(
        flags(&doomed).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(flags(&reader).await.unwrap().status(), StatusCode::OK);

    console(
        "set_tenant_status",
        vec![
            ("id", acme.to_string()),
            ("status", "suspended".into()),
            ("reason", "console consistency".into()),
        ],
    )
    .await;
    assert_eq!(
        flags(&reader).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}
