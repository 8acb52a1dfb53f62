//! The real server on a random port against a fresh database, for the black-box tests.
#![allow(dead_code)]

use clap::Parser;
use gatehouse_domain::crypto::MasterKeys;
use gatehouse_server::cli::Cli;
use gatehouse_server::startup;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::Value;
use sqlx::PgPool;

pub struct TestApp {
    pub base: String,
    /// The metrics listener (`GATEHOUSE_METRICS_ADDR`), off the public port.
    pub metrics_base: String,
    pub client: Client,
}

/// Starts the server; its public URL (and OAuth issuer) is its real address.
pub async fn spawn_app_with(pool: PgPool, extra_args: &[&str]) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let mut args = vec!["gatehouse", "--addr", "127.0.0.1:0"];
    if !extra_args.contains(&"--public-url") {
        args.extend_from_slice(&["--public-url", &base]);
    }
    // Tests make many calls with one token: limits beyond reach unless a test sets its own.
    for (flag, value) in [
        ("--rate-limit-api-key", "1000000"),
        ("--rate-limit-user", "1000000"),
        ("--rate-limit-anonymous", "1000000"),
    ] {
        if !extra_args.contains(&flag) {
            args.extend_from_slice(&[flag, value]);
        }
    }
    args.extend_from_slice(extra_args);
    let settings = Cli::try_parse_from(args).unwrap().settings;
    let keys = test_keys();
    let state = startup::app_state(settings, pool, keys).unwrap();
    startup::configure_platform_sso(&state).await;
    let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_base = format!("http://{}", metrics_listener.local_addr().unwrap());
    let metrics = startup::metrics_router(state.clone());
    tokio::spawn(async move { axum::serve(metrics_listener, metrics).await });
    let app = startup::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        metrics_base,
        client,
    }
}

/// The key ring of every server a test spawns: one per test binary, as instances sharing a
/// database share one in production. Tests seal secrets with it as the server would.
pub fn test_keys() -> MasterKeys {
    static KEY_RING: std::sync::OnceLock<secrecy::SecretString> = std::sync::OnceLock::new();
    MasterKeys::parse(KEY_RING.get_or_init(|| MasterKeys::generate_text("test"))).unwrap()
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, &[]).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A GET of `path` without credentials.
    pub async fn anonymous_get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A GET of the metrics listener's `/metrics`.
    pub async fn metrics(&self) -> Response {
        let url = format!("{}/metrics", self.metrics_base);
        self.client.get(url).send().await.unwrap()
    }

    /// The calls of the bearer `token` on this server.
    pub fn caller<'a>(&'a self, token: &'a str) -> Caller<'a> {
        Caller { app: self, token }
    }
}

/// A request with the bearer `token` and `body`, when given, as JSON.
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Response {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

/// [`send`], answered as the status and the JSON body (`Null` when there is none).
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let res = send(app, method, path, token, body).await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The `field` of every entry of an error body's `details`, in order.
pub fn detail_fields(body: &Value) -> Vec<&str> {
    body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect()
}

/// One bearer token's calls on one server: [`send`] and [`call`] without repeating them.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    pub app: &'a TestApp,
    pub token: &'a str,
}

impl Caller<'_> {
    pub async fn send(self, method: Method, path: &str, body: Option<Value>) -> Response {
        send(self.app, method, path, self.token, body).await
    }

    pub async fn call(
        self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call(self.app, method, path, self.token, body).await
    }

    pub async fn get(self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }
}

/// An operator (with an MFA-verified session made directly; the MFA step has its own
/// tests) and a user token for them. Returns the operator's id and the access token.
pub async fn operator_token(app: &TestApp, pool: &PgPool) -> (uuid::Uuid, String) {
    use gatehouse_domain::audit::RequestContext;
    use gatehouse_domain::types::{Email, Role, UserStatus};
    use gatehouse_domain::users::{create_user, NewUser};
    let operator = create_user(
        pool,
        &RequestContext::default(),
        None,
        NewUser {
            tenant_id: None,
            email: Email::parse("op@gatehouse.test").unwrap(),
            name: None,
            role: Role::Operator,
            status: UserStatus::Active,
            password: None,
        },
    )
    .await
    .unwrap()
    .value;
    (operator.id, user_token(app, pool, operator.id).await)
}

/// The scopes of the tooling application's user tokens: every administration API scope
/// (the role still decides what the person may do).
pub const TOOLING_SCOPES: &str =
    "openid users:read users:write tenants:read tenants:write apps:read apps:write webhooks:read webhooks:write admin";

/// A user token for an existing active user, through the authorization code flow of a
/// tooling application (the user's session is made directly, MFA-verified).
pub async fn user_token(app: &TestApp, pool: &PgPool, user_id: uuid::Uuid) -> String {
    // `admin` (operator routes) only for platform staff, as a real tool would ask.
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .unwrap();
    let scopes = match role.as_str() {
        "operator" | "auditor" => TOOLING_SCOPES.to_owned(),
        _ => TOOLING_SCOPES.replace(" admin", ""),
    };
    user_token_with(app, pool, user_id, &scopes).await
}

/// A PKCE verifier long enough for RFC 7636, for the code flows driven by hand.
pub const PKCE_VERIFIER: &str = "a-long-enough-code-verifier-for-pkce-0123456789";

/// The S256 code challenge of `verifier`.
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The form of a client-credentials token request.
pub const CLIENT_CREDENTIALS: &[(&str, &str)] = &[("grant_type", "client_credentials")];

/// The access token `/auth/token` grants the client `client_id` for `form`.
pub async fn access_token(
    app: &TestApp,
    client_id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> String {
    let body: Value = app
        .client
        .post(app.url("/auth/token"))
        .basic_auth(client_id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// A user token granted `scope` (a subset of [`TOOLING_SCOPES`]).
pub async fn user_token_with(
    app: &TestApp,
    pool: &PgPool,
    user_id: uuid::Uuid,
    scope: &str,
) -> String {
    use gatehouse_domain::apps::ApplicationInput;
    use secrecy::ExposeSecret;
    const REDIRECT: &str = "http://127.0.0.1:4999/ops-callback";
    let cookie = session_cookie(pool, user_id).await;
    let key = registered_key(
        pool,
        ApplicationInput {
            name: Some(format!("Tooling {user_id}")),
            redirect_uris: Some(vec![REDIRECT.into()]),
            grant_types: Some(vec!["authorization_code".into()]),
            all_tenants: Some(true),
            ..Default::default()
        },
        &TOOLING_SCOPES.split(' ').collect::<Vec<_>>(),
    )
    .await;
    let challenge = pkce_challenge(PKCE_VERIFIER);
    let redirect: String = url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect();
    let scope: String = url::form_urlencoded::byte_serialize(scope.as_bytes()).collect();
    let res = app
        .client
        .get(app.url(&format!(
            "/authorize?response_type=code&client_id={}&redirect_uri={redirect}&scope={scope}&code_challenge={challenge}&code_challenge_method=S256&state=x",
            key.key.id
        )))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    access_token(
        app,
        &key.key.id,
        key.secret.expose_secret(),
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", PKCE_VERIFIER),
        ],
    )
    .await
}

/// A provisioned tenant (pro plan) named after its domain; returns its id.
pub async fn tenant(pool: &PgPool, domain: &str) -> uuid::Uuid {
    tenant_on(pool, domain, gatehouse_domain::types::Plan::Pro).await
}

/// A provisioned tenant on `plan`, named after its domain; returns its id.
pub async fn tenant_on(
    pool: &PgPool,
    domain: &str,
    plan: gatehouse_domain::types::Plan,
) -> uuid::Uuid {
    use gatehouse_domain::audit::RequestContext;
    use gatehouse_domain::tenants::{provision_tenant, NewTenant};
    use gatehouse_domain::types::{DisplayName, TenantDomain};
    let t = provision_tenant(
        pool,
        &RequestContext::default(),
        None,
        NewTenant {
            name: DisplayName::parse(domain).unwrap(),
            domain: TenantDomain::parse(domain).unwrap(),
            plan,
        },
    )
    .await
    .unwrap()
    .value;
    t.id
}

/// An active person of `tenant` (or the platform) with `role` and, when given, a password;
/// returns their id.
pub async fn person(
    pool: &PgPool,
    tenant: Option<uuid::Uuid>,
    email: &str,
    role: gatehouse_domain::types::Role,
    password: Option<&str>,
) -> uuid::Uuid {
    use gatehouse_domain::audit::RequestContext;
    use gatehouse_domain::types::{Email, UserStatus};
    use gatehouse_domain::users::{create_user, NewUser};
    let u = create_user(
        pool,
        &RequestContext::default(),
        None,
        NewUser {
            tenant_id: tenant,
            email: Email::parse(email).unwrap(),
            name: None,
            role,
            status: UserStatus::Active,
            password: password.map(|p| secrecy::SecretString::from(p.to_owned())),
        },
    )
    .await
    .unwrap()
    .value;
    u.id
}

/// A registered application with one key of `scopes`.
pub async fn registered_key(
    pool: &PgPool,
    input: gatehouse_domain::apps::ApplicationInput,
    scopes: &[&str],
) -> gatehouse_domain::apps::IssuedKey {
    use gatehouse_domain::apps::{issue_key, register_application, KeyInput};
    use gatehouse_domain::audit::RequestContext;
    let ctx = RequestContext::default();
    let registered = register_application(pool, &ctx, None, input)
        .await
        .unwrap()
        .value;
    issue_key(
        pool,
        &ctx,
        None,
        registered.id,
        KeyInput {
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .value
}

/// An application enabled for `tenants` with one key of `scopes`, and a client-credentials
/// access token of that key.
pub async fn app_token(app: &TestApp, pool: &PgPool, tenants: &[&str], scopes: &[&str]) -> String {
    use gatehouse_domain::apps::ApplicationInput;
    use secrecy::ExposeSecret;
    let key = registered_key(
        pool,
        ApplicationInput {
            name: Some(format!("App {}", uuid::Uuid::now_v7())),
            tenants: Some(tenants.iter().map(|t| (*t).to_owned()).collect()),
            ..Default::default()
        },
        scopes,
    )
    .await;
    access_token(
        app,
        &key.key.id,
        key.secret.expose_secret(),
        CLIENT_CREDENTIALS,
    )
    .await
}

/// A fresh MFA-verified session for `user_id`; its cookie value.
pub async fn session_cookie(pool: &PgPool, user_id: uuid::Uuid) -> String {
    use gatehouse_domain::sessions::{create_session, NewSession};
    use secrecy::ExposeSecret;
    let mut tx = pool.begin().await.unwrap();
    let s = create_session(
        &mut tx,
        NewSession {
            user_id,
            ip: None,
            user_agent: None,
            auth_methods: vec!["pwd".into(), "otp".into()],
            mfa_verified: true,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    format!(
        "{}={}",
        gatehouse_app::auth::ssr::cookie_name_for(false),
        s.token.expose_secret()
    )
}

/// `metadata` as a reader sees it: its personal values opened (they are stored sealed).
pub async fn opened(pool: &PgPool, mut metadata: serde_json::Value) -> serde_json::Value {
    gatehouse_domain::audit::personal::open_all(pool, &mut [&mut metadata])
        .await
        .unwrap();
    metadata
}
