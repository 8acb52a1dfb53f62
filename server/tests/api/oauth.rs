//! The token service over HTTP (SPEC §4, §5, §9), with the `openidconnect` crate
//! as the relying party: discovery, authorization code + PKCE through a scripted Universal
//! Login, ID token validation, userinfo, refresh rotation, introspection, revocation; and
//! the refusals, in OAuth's error format on the OAuth endpoints and in the SPEC §9 format
//! on `/api/v1`.

use crate::helpers::{
    detail_fields, person, pkce_challenge, registered_key, spawn_app, TestApp, CLIENT_CREDENTIALS,
    PKCE_VERIFIER,
};
use gatehouse_domain::apps::{issue_key, ApplicationInput, IssuedKey, KeyInput};
use gatehouse_domain::audit::RequestContext;
use gatehouse_domain::tenants::{provision_tenant, NewTenant};
use gatehouse_domain::types::{DisplayName, Email, Plan, Role, TenantDomain, UserStatus};
use gatehouse_domain::users::{create_user, NewUser};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IntrospectionUrl, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope,
    TokenIntrospectionResponse, TokenResponse,
};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

const PASSWORD: &str = "Quartz-Lantern-Orbit-58!";
const REDIRECT: &str = "http://127.0.0.1:4999/callback";

struct Seed {
    client_id: String,
    secret: String,
    app_id: Uuid,
    tenant_id: Uuid,
}

async fn seed(pool: &PgPool, grants: &[&str], scopes: &[&str]) -> Seed {
    let ctx = RequestContext::default();
    let tenant = provision_tenant(
        pool,
        &ctx,
        None,
        NewTenant {
            name: DisplayName::parse("Acme").unwrap(),
            domain: TenantDomain::parse("acme").unwrap(),
            plan: Plan::Pro,
        },
    )
    .await
    .unwrap()
    .value;
    create_user(
        pool,
        &ctx,
        None,
        NewUser {
            tenant_id: Some(tenant.id),
            email: Email::parse("ann@acme.test").unwrap(),
            name: Some(DisplayName::parse("Ann Example").unwrap()),
            role: Role::Admin,
            status: UserStatus::Active,
            password: Some(SecretString::from(PASSWORD.to_owned())),
        },
    )
    .await
    .unwrap();
    let key = registered_key(
        pool,
        ApplicationInput {
            name: Some("Portal".into()),
            redirect_uris: Some(vec![REDIRECT.into()]),
            post_logout_redirect_uris: Some(vec![REDIRECT.into()]),
            grant_types: Some(grants.iter().map(|g| g.to_string()).collect()),
            tenants: Some(vec!["acme".into()]),
            ..Default::default()
        },
        scopes,
    )
    .await;
    Seed::of(&key, tenant.id)
}

impl Seed {
    /// The client of `key`, a key of an application acting for the tenant `tenant_id`.
    fn of(key: &IssuedKey, tenant_id: Uuid) -> Seed {
        Seed {
            client_id: key.key.id.clone(),
            secret: key.secret.expose_secret().to_owned(),
            app_id: key.key.application_id,
            tenant_id,
        }
    }

    /// The client's HTTP Basic credentials for [`token_request`].
    fn basic(&self) -> Option<(&str, &str)> {
        Some((self.client_id.as_str(), self.secret.as_str()))
    }
}

/// Another key of `seed`'s application, issued with `input`, as a client of its own.
async fn another_key(pool: &PgPool, seed: &Seed, input: KeyInput) -> Seed {
    let ctx = RequestContext::default();
    let key = issue_key(pool, &ctx, None, seed.app_id, input)
        .await
        .unwrap()
        .value;
    Seed::of(&key, seed.tenant_id)
}

const ALL_GRANTS: &[&str] = &["authorization_code", "client_credentials", "refresh_token"];
const USER_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access", "flag:read"];

/// A browser: follows nothing by itself, keeps the session cookie.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    /// A browser without cookies.
    fn new(app: &'a TestApp) -> Self {
        Browser { app, cookie: None }
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let mut req = self.app.client.get(url);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        self.keep_cookie(&res);
        res
    }

    fn keep_cookie(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            if let Some(pair) = v.split(';').next() {
                if pair.starts_with("gatehouse_session=") {
                    self.cookie = (!pair.ends_with('=')).then(|| pair.to_owned());
                }
            }
        }
    }

    /// Signs in through the Universal Login form (a plain form post, as without JS).
    async fn sign_in(&mut self, email: &str, password: &str, return_to: &str) -> reqwest::Response {
        let res = self
            .app
            .client
            .post(self.app.url("/_rpc/sign_in"))
            .header("origin", &self.app.base)
            .form(&[
                ("email", email),
                ("password", password),
                ("return_to", return_to),
            ])
            .send()
            .await
            .unwrap();
        self.keep_cookie(&res);
        res
    }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on {}", res.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_oidc_client_completes_every_flow(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let seed = seed(&pool, ALL_GRANTS, USER_SCOPES).await;
    let http = http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(seed.client_id.clone()),
        Some(ClientSecret::new(seed.secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    .set_introspection_url(IntrospectionUrl::new(app.url("/auth/introspect")).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        // An API scope: the user's token is then also good for Gatehouse's API.
        .add_scope(Scope::new("flag:read".into()))
        .add_extra_param("organization", "acme")
        .set_pkce_challenge(challenge)
        .url();

    // Not signed in: to the Universal Login with the request to come back to.
    let mut browser = Browser::new(&app);
    let res = browser.get(auth_url.as_str()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let login = location(&res);
    assert!(
        login.starts_with("/login?return_to=%2Fauthorize%3F"),
        "{login}"
    );
    assert!(login.ends_with("&tenant=acme"), "{login}");
    let return_to = query_of(&app.url(&login))["return_to"].clone();
    // Sign in; back to /authorize; a code for the client.
    let res = browser.sign_in("ann@acme.test", PASSWORD, &return_to).await;
    let back = location(&res);
    assert!(back.starts_with("/authorize?"), "{back}");
    let res = browser.get(&app.url(&back)).await;
    let callback = location(&res);
    assert!(callback.starts_with(REDIRECT), "{callback}");
    let q = query_of(&callback);
    assert_eq!(&q["state"], state.secret());
    assert_eq!(q["iss"], app.base, "RFC 9207");

    let tokens = client
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap();
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.email().unwrap().as_str(), "ann@acme.test");
    // at_hash binds the ID token to the access token.
    let hash = openidconnect::AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&client.id_token_verifier()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&hash));

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.email().unwrap().as_str(), "ann@acme.test");
    assert_eq!(info.subject(), claims.subject());

    // The access token works on the API.
    let (_, whoami) = app
        .caller(tokens.access_token().secret())
        .get("/api/v1/me")
        .await;
    assert_eq!(whoami["type"], "user");
    assert_eq!(whoami["tenant_id"], seed.tenant_id.to_string());
    assert_eq!(whoami["roles"][0], "admin");

    // Refresh: a new pair; the old refresh token is spent, and reusing it kills the family.
    let r1 = tokens.refresh_token().unwrap().clone();
    let refreshed = client
        .exchange_refresh_token(&r1)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let r2 = refreshed.refresh_token().unwrap().clone();
    assert_ne!(r1.secret(), r2.secret());
    assert!(client
        .exchange_refresh_token(&r1)
        .unwrap()
        .request_async(&http)
        .await
        .is_err());
    assert!(client
        .exchange_refresh_token(&RefreshToken::new(r2.secret().clone()))
        .unwrap()
        .request_async(&http)
        .await
        .is_err());
    let introspected = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(
        !introspected.active(),
        "the family's access tokens die with it"
    );

    // Introspection of a live token, then revocation (RFC 7662, RFC 7009).
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let res = browser.get(auth_url.as_str()).await; // signed in now: straight to a code
    let code = query_of(&location(&res))["code"].clone();
    let fresh = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let live = client
        .introspect(fresh.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(live.active());
    assert_eq!(live.client_id().unwrap().as_str(), seed.client_id);
    // (The crate revokes only over https; the same RFC 7009 request by hand.)
    let res = app
        .client
        .post(app.url("/auth/revoke"))
        .basic_auth(&seed.client_id, Some(&seed.secret))
        .form(&[
            ("token", fresh.access_token().secret().as_str()),
            ("token_type_hint", "access_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let dead = client
        .introspect(fresh.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(!dead.active());
    let res = me(&app, fresh.access_token().secret()).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "revoked: refused on the next call"
    );

    // RP-initiated logout with the ID token as hint: the session ends, back to the client.
    let logout = format!(
        "{}?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
        app.url("/auth/logout"),
        id_token,
        urlencode(REDIRECT)
    );
    let res = browser.get(&logout).await;
    assert_eq!(location(&res), format!("{REDIRECT}?state=bye"));
    assert!(browser.cookie.is_none(), "the session cookie is cleared");
    let res = browser.get(auth_url.as_str()).await;
    assert!(
        location(&res).starts_with("/login?"),
        "signed out: login again"
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn token_request(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = app.client.post(app.url("/auth/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_token_endpoint_refuses_in_oauths_format(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let seed = seed(&pool, &["client_credentials"], &["flag:read"]).await;
    let cc = CLIENT_CREDENTIALS;
    // Right secret, by Basic and by post.
    let (status, headers, body) = token_request(&app, cc, seed.basic()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "flag:read");
    let (status, _, _) = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &seed.client_id),
            ("client_secret", &seed.secret),
        ],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Wrong secret: 401 invalid_client with a Basic challenge.
    let (status, headers, body) = token_request(&app, cc, Some((&seed.client_id, "wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    // No client at all.
    let (status, _, body) = token_request(&app, cc, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    // Two authentication methods at once; a repeated parameter.
    let (status, _, body) = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", &seed.secret),
        ],
        seed.basic(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (_, _, body) = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
        ],
        seed.basic(),
    )
    .await;
    assert_eq!(body["error"], "invalid_request");
    // A grant the application may not use; an unknown grant; a scope beyond the key's.
    let (_, _, body) = token_request(
        &app,
        &[("grant_type", "authorization_code"), ("code", "x")],
        seed.basic(),
    )
    .await;
    assert_eq!(body["error"], "unauthorized_client");
    let (_, _, body) = token_request(&app, &[("grant_type", "password")], seed.basic()).await;
    assert_eq!(body["error"], "unsupported_grant_type");
    let (_, _, body) = token_request(
        &app,
        &[("grant_type", "client_credentials"), ("scope", "admin")],
        seed.basic(),
    )
    .await;
    assert_eq!(body["error"], "invalid_scope");
    // The authorize endpoint never redirects to an unregistered URI.
    let res = app
        .client
        .get(app.url(&format!(
            "/authorize?response_type=code&client_id={}&redirect_uri={}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
            seed.client_id,
            urlencode("https://evil.example/cb")
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.headers().get("location").is_none());
    assert!(res.text().await.unwrap().contains("not registered"));
}

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn cc_token(app: &TestApp, seed: &Seed) -> String {
    let (status, _, body) = token_request(app, CLIENT_CREDENTIALS, seed.basic()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Polls until the API refuses the token (a NOTIFY round trip), at most 3 s.
async fn refused_soon(app: &TestApp, token: &str) -> bool {
    for _ in 0..30 {
        if me(app, token).await.status() == StatusCode::UNAUTHORIZED {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_api_refuses_missing_bad_expired_and_revoked_tokens(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let seed = seed(&pool, &["client_credentials"], &["flag:read"]).await;
    let token = cc_token(&app, &seed).await;
    let body: Value = me(&app, &token).await.json().await.unwrap();
    assert_eq!(body["type"], "application");
    assert_eq!(body["scopes"][0], "flag:read");

    // Missing, malformed, tampered, alg none: 401 ERR_AUTH with a Bearer challenge.
    let res = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "ERR_AUTH");
    for bad in [
        "not-a-jwt".to_owned(),
        format!("{}x", &token[..token.len() - 1]),
        {
            use base64::Engine as _;
            let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(br#"{"alg":"none","typ":"at+jwt"}"#);
            format!("{header}.{}.", token.split('.').nth(1).unwrap())
        },
    ] {
        let res = me(&app, &bad).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{bad}");
        let challenge = res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.contains("invalid_token"), "{challenge}");
        assert_eq!(res.json::<Value>().await.unwrap()["code"], "ERR_AUTH");
    }

    // Insufficient role/scope: an application token on the operators' API → 403.
    let (status, body) = app.caller(&token).get("/api/v1/apps").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "ERR_PERMISSION_DENIED");

    // Expired: a key that expires in 2 s caps its tokens' lifetime.
    let short = KeyInput {
        scopes: vec!["flag:read".into()],
        expires_at: Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(2)),
        ..Default::default()
    };
    let short_seed = another_key(&pool, &seed, short).await;
    let short_token = cc_token(&app, &short_seed).await;
    assert_eq!(me(&app, &short_token).await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2600)).await;
    let res = me(&app, &short_token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("expired"));
    let (status, _, _) = token_request(&app, CLIENT_CREDENTIALS, short_seed.basic()).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an expired key authenticates no more"
    );

    // A suspended tenant's token stops at once (NOTIFY), and no new one is issued.
    gatehouse_domain::tenants::suspend_tenant(
        &pool,
        &RequestContext::default(),
        None,
        seed_tenant(&pool).await,
        None,
    )
    .await
    .unwrap();
    assert!(refused_soon(&app, &token).await);
    let (status, _, body) = token_request(&app, CLIENT_CREDENTIALS, seed.basic()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("suspended"));
}

async fn seed_tenant(pool: &PgPool) -> Uuid {
    sqlx::query_scalar("SELECT id FROM tenants WHERE domain = 'acme'")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn operators_manage_applications_over_rest_and_a_disabled_one_stops_at_once(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let seed = seed(&pool, ALL_GRANTS, USER_SCOPES).await;
    let app_token = cc_token(&app, &seed).await;
    let (operator, op_token) = crate::helpers::operator_token(&app, &pool).await;

    // REST: list, register (with SPEC §9 validation), issue a key (secret once), disable.
    let op = app.caller(&op_token);
    let (_, list) = op.get("/api/v1/apps").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let (status, _) = op
        .post(
            "/api/v1/apps",
            json!({"name": "", "redirect_uris": ["http://evil.example/cb"], "color": "red"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field refused"
    );
    let (status, body) = op
        .post(
            "/api/v1/apps",
            json!({"name": " ", "redirect_uris": ["http://evil.example/cb"], "environment": "PROD"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(detail_fields(&body).contains(&"name"), "{body}");
    let (status, created) = op
        .post(
            "/api/v1/apps",
            json!({"name": "Billing sync", "environment": "Staging", "tenants": ["acme"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["environment"], "staging");
    let keys_path = format!("/api/v1/apps/{}/keys", created["id"].as_str().unwrap());
    let offset = json!({"scopes": ["flag:read"], "expires_at": "2030-01-01T00:00:00+02:00"});
    let (status, _) = op.post(&keys_path, offset).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "timestamps end in Z"
    );
    let (status, key) = op
        .post(&keys_path, json!({"scopes": ["flag:read"], "name": "sync"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(key["client_secret"].as_str().unwrap().len() >= 43);
    let (_, keys) = op.get(&keys_path).await;
    assert!(
        keys.to_string().find("client_secret").is_none(),
        "secrets are never listed"
    );
    assert_eq!(
        op.get(&format!("/api/v1/apps/{}", Uuid::now_v7())).await.0,
        StatusCode::NOT_FOUND
    );

    // Disabling the portal stops its token at once and its key authenticates no more.
    assert_eq!(me(&app, &app_token).await.status(), StatusCode::OK);
    let disable = format!("/api/v1/apps/{}/disable", seed.app_id);
    let (status, body) = op.call(Method::POST, &disable, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "disabled");
    assert_eq!(
        me(&app, &app_token).await.status(),
        StatusCode::UNAUTHORIZED,
        "refused on the very next call"
    );
    let (status, _, _) = token_request(&app, CLIENT_CREDENTIALS, seed.basic()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action IN ('application.register', 'api_key.issue', 'application.disable') AND actor_id = $1")
        .bind(operator)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(audited, 3);
}

// The attacks of the security review (CON-SEC-007, SPEC §2-§4).

/// The authorization code flow for a signed-in browser, by hand: returns the token body.
async fn code_flow(app: &TestApp, browser: &mut Browser<'_>, seed: &Seed, scope: &str) -> Value {
    let code = code_for(app, browser, seed, scope).await;
    let (status, body) = redeem(app, seed, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn redeem(app: &TestApp, seed: &Seed, code: &str) -> (StatusCode, Value) {
    let (status, _, body) = token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", PKCE_VERIFIER),
        ],
        seed.basic(),
    )
    .await;
    (status, body)
}

/// A code for the signed-in browser (PKCE with [`PKCE_VERIFIER`]), not yet redeemed.
async fn code_for(app: &TestApp, browser: &mut Browser<'_>, seed: &Seed, scope: &str) -> String {
    let challenge = pkce_challenge(PKCE_VERIFIER);
    let res = browser
        .get(&app.url(&format!(
            "/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}&code_challenge={challenge}&code_challenge_method=S256&state=s&nonce=n",
            seed.client_id,
            urlencode(REDIRECT),
            urlencode(scope)
        )))
        .await;
    let callback = location(&res);
    assert!(callback.starts_with(REDIRECT), "{callback}");
    query_of(&callback)["code"].clone()
}

async fn session_id_of(pool: &PgPool, browser: &Browser<'_>) -> Uuid {
    let token = browser
        .cookie
        .as_deref()
        .unwrap()
        .trim_start_matches("gatehouse_session=");
    gatehouse_domain::sessions::authenticate_session(pool, token)
        .await
        .unwrap()
        .session_id
}

async fn refresh(app: &TestApp, seed: &Seed, token: &str) -> (StatusCode, Value) {
    let (status, _, body) = token_request(
        app,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
        seed.basic(),
    )
    .await;
    (status, body)
}

/// After a password change (or "sign out everywhere else") from one session, the
/// tokens another session handed to an application die with it: its refresh token is
/// refused and its access token stops passing the API. The current session's stay.
/// Signing a session out ends its families too.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_password_change_ends_the_other_sessions_application_tokens(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let seed = seed(&pool, ALL_GRANTS, USER_SCOPES).await;
    let scope = "openid offline_access flag:read";
    // The thief's browser, signed in with a stolen password, and the owner's own.
    let mut thief = Browser::new(&app);
    thief.sign_in("ann@acme.test", PASSWORD, "/").await;
    let stolen = code_flow(&app, &mut thief, &seed, scope).await;
    // A code fetched in advance, to be redeemed after the change.
    let spare = code_for(&app, &mut thief, &seed, scope).await;
    let mut owner = Browser::new(&app);
    owner.sign_in("ann@acme.test", PASSWORD, "/").await;
    let kept = code_flow(&app, &mut owner, &seed, scope).await;
    assert_eq!(
        me(&app, stolen["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let ann: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'ann@acme.test'")
        .fetch_one(&pool)
        .await
        .unwrap();
    gatehouse_domain::users::change_password(
        &pool,
        &RequestContext::default(),
        ann,
        session_id_of(&pool, &owner).await,
        &SecretString::from(PASSWORD.to_owned()),
        &SecretString::from("Another-Quartz-Lantern-77!".to_owned()),
    )
    .await
    .unwrap();
    assert!(refused_soon(&app, stolen["access_token"].as_str().unwrap()).await);
    let (status, body) = redeem(&app, &seed, &spare).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a spare code is spent: {body}"
    );
    let (status, body) = refresh(&app, &seed, stolen["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    // The owner's session and its tokens go on.
    assert_eq!(
        me(&app, kept["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    let (status, renewed) = refresh(&app, &seed, kept["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");

    // Signing out ends what that session started.
    let token = owner.cookie.clone().unwrap();
    gatehouse_domain::login::sign_out(
        &pool,
        &RequestContext::default(),
        token.trim_start_matches("gatehouse_session="),
    )
    .await
    .unwrap();
    assert!(refused_soon(&app, renewed["access_token"].as_str().unwrap()).await);
    let (status, _) = refresh(&app, &seed, renewed["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// An attacker's own ID token as `id_token_hint` does not sign a victim out
/// without asking; the victim's own does.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn logout_with_someone_elses_id_token_asks_first(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let seed = seed(&pool, ALL_GRANTS, USER_SCOPES).await;
    person(
        &pool,
        Some(seed.tenant_id),
        "eve@acme.test",
        Role::User,
        Some(PASSWORD),
    )
    .await;
    let mut eve = Browser::new(&app);
    eve.sign_in("eve@acme.test", PASSWORD, "/").await;
    let eves = code_flow(&app, &mut eve, &seed, "openid").await;
    let mut victim = Browser::new(&app);
    victim.sign_in("ann@acme.test", PASSWORD, "/").await;
    let victims = code_flow(&app, &mut victim, &seed, "openid").await;

    // The lure: a link to the logout endpoint with Eve's token.
    let lure = |hint: &str| {
        app.url(&format!(
            "/auth/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
            urlencode(REDIRECT)
        ))
    };
    let res = victim.get(&lure(eves["id_token"].as_str().unwrap())).await;
    assert_eq!(location(&res), "/logout", "the victim is asked to confirm");
    session_id_of(&pool, &victim).await; // still signed in
                                         // The victim's own application signs them out at once.
    let res = victim
        .get(&lure(victims["id_token"].as_str().unwrap()))
        .await;
    assert!(location(&res).starts_with(REDIRECT));
    assert!(victim.cookie.is_none(), "the session cookie is cleared");
}

/// `prompt=login` and `max_age` make a signed-in person authenticate again
/// (OIDC Core 3.1.2.1); with `prompt=none` a stale sign-in is `login_required`.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn prompt_login_and_max_age_ask_for_a_fresh_sign_in(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let seed = seed(&pool, ALL_GRANTS, USER_SCOPES).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ann@acme.test", PASSWORD, "/").await;
    let authorize = |extra: &str| {
        app.url(&format!(
            "/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&code_challenge={}&code_challenge_method=S256&state=s{extra}",
            seed.client_id,
            urlencode(REDIRECT),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ))
    };
    // A fresh session passes max_age=60; prompt=login still signs in again.
    let res = browser.get(&authorize("&max_age=60")).await;
    assert!(location(&res).starts_with(REDIRECT));
    let res = browser.get(&authorize("&prompt=login")).await;
    let login = location(&res);
    assert!(login.starts_with("/login?return_to="), "{login}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = browser.get(&authorize("&max_age=0&prompt=none")).await;
    assert_eq!(query_of(&location(&res))["error"], "login_required");
    let res = browser.get(&authorize("&max_age=0")).await;
    let login = location(&res);
    assert!(login.starts_with("/login?return_to="), "{login}");
    // Signing in again satisfies the request: the code comes.
    let return_to = query_of(&app.url(&login))["return_to"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = browser.sign_in("ann@acme.test", PASSWORD, &return_to).await;
    let back = location(&res);
    let res = browser.get(&app.url(&back)).await;
    assert!(location(&res).starts_with(REDIRECT), "{}", location(&res));
    let res = browser.get(&authorize("&max_age=x")).await;
    assert_eq!(query_of(&location(&res))["error"], "invalid_request");
}

/// Sets the tenants an application acts for, as an operator would.
async fn set_tenants(pool: &PgPool, app_id: Uuid, tenants: &[&str]) {
    gatehouse_domain::apps::update_application(
        pool,
        &RequestContext::default(),
        None,
        app_id,
        ApplicationInput {
            tenants: Some(tenants.iter().map(|t| (*t).to_owned()).collect()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

/// Taking a tenant off an application cuts it off: the key bound to that tenant
/// is revoked and the tokens the application held for it stop working. An application
/// with no tenants admits nobody unless it is marked for all tenants.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn removing_a_tenant_from_an_application_cuts_it_off(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let seed = seed(&pool, ALL_GRANTS, &["flag:read"]).await;
    crate::helpers::tenant(&pool, "globex").await;
    set_tenants(&pool, seed.app_id, &["acme", "globex"]).await;
    let bound = KeyInput {
        scopes: vec!["flag:read".into()],
        tenant: Some("globex".into()),
        ..Default::default()
    };
    let globex = another_key(&pool, &seed, bound).await;
    let held = cc_token(&app, &globex).await;
    let named = {
        let (status, _, body) = token_request(
            &app,
            &[("grant_type", "client_credentials"), ("tenant", "globex")],
            seed.basic(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    };
    let acme_token = cc_token(&app, &seed).await;

    set_tenants(&pool, seed.app_id, &["acme"]).await;
    assert!(refused_soon(&app, &held).await, "the bound key's token");
    assert!(refused_soon(&app, &named).await, "a token named for globex");
    assert_eq!(me(&app, &acme_token).await.status(), StatusCode::OK);
    let (status, _, body) = token_request(&app, CLIENT_CREDENTIALS, globex.basic()).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the bound key is revoked: {body}"
    );

    // No tenants at all: nobody is admitted.
    set_tenants(&pool, seed.app_id, &[]).await;
    let mut refused = false;
    for _ in 0..30 {
        let (status, _, body) = token_request(&app, CLIENT_CREDENTIALS, seed.basic()).await;
        if status != StatusCode::OK {
            assert_eq!(body["error"], "unauthorized_client", "{body}");
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refused, "an application without tenants admits nobody");
}
