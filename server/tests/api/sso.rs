//! Tenant single sign-on against a hostile OpenID provider (FR-AUTH-001, FR-AUTH-003,
//! FR-TENANT-004, UC-TENANT-SSO, SPEC §3). Gatehouse is the relying party; the provider
//! here is the attacker's: an axum server on 127.0.0.1 whose discovery document, key set
//! and token endpoint the test controls, signing ES256 ID tokens with a key of its own and
//! holding a second key it never publishes. Each test drives the browser's side over HTTP
//! (`/sso/{connection}/start`, the provider's `/authorize`, `/sso/{connection}/callback`)
//! and asserts where the browser lands, whether a session cookie was set, what the audit
//! trail says (FR-LOG-003) and that nobody was created or linked on a refusal.

use crate::helpers::{person, pkce_challenge, spawn_app_with, tenant, test_keys, TestApp};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode as IdpStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use gatehouse_domain::audit::RequestContext;
use gatehouse_domain::permissions::Actor;
use gatehouse_domain::sso::{discover_connection, set_client, DnsSettings, HttpPolicy, SsoContext};
use gatehouse_domain::types::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::task::JoinHandle;
use uuid::Uuid;

const CLIENT_ID: &str = "client-1";
const CLIENT_SECRET: &str = "hostileIdpClientSecret42";
/// The server lets tenants use an identity provider on loopback (tests only).
const APP_FLAGS: &[&str] = &["--sso-allow-private-idp"];

// ---------------------------------------------------------------------------------------
// The hostile provider
// ---------------------------------------------------------------------------------------

/// Which key signs the next ID tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Signer {
    /// The published key, under its own `kid`.
    #[default]
    Current,
    /// The provider's other key, under its own `kid`: unknown to Gatehouse unless the
    /// provider publishes it (a rotation).
    Other,
    /// The other key under the published key's `kid`: a forged signature.
    OtherAsCurrent,
    /// HS256 keyed with the client secret (the algorithm-confusion attack).
    ClientSecret,
}

/// A request the token endpoint received.
#[derive(Debug, Clone)]
struct TokenRequest {
    authorization: Option<String>,
    form: HashMap<String, String>,
}

/// What the provider does next, and what it has seen. The test edits it between steps.
#[derive(Default)]
struct Scenario {
    /// Claims of the next ID tokens over the defaults; `null` removes a claim.
    claims: Map<String, Value>,
    signer: Signer,
    /// The other key is in the JWK set too (the provider rotated its keys).
    publish_other_key: bool,
    /// The token endpoint answers this OAuth error instead of tokens.
    token_error: Option<&'static str>,
    /// The nonce of each authorization request, by the code it was answered with.
    nonces: HashMap<String, String>,
    token_requests: Vec<TokenRequest>,
    jwks_hits: usize,
}

/// An EC P-256 signing key and its public JWK.
struct Key {
    kid: &'static str,
    encoding: EncodingKey,
    jwk: Value,
}

impl Key {
    fn generate(kid: &'static str) -> Self {
        // rcgen's default: ECDSA P-256 with SHA-256, PKCS#8 DER for jsonwebtoken.
        let pair = rcgen::KeyPair::generate().unwrap();
        // The uncompressed point: 0x04 || x || y.
        let raw = pair.public_key_raw();
        assert_eq!(raw.len(), 65);
        assert_eq!(raw[0], 0x04);
        Self {
            kid,
            encoding: EncodingKey::from_ec_der(&pair.serialize_der()),
            jwk: json!({
                "kty": "EC",
                "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(&raw[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&raw[33..65]),
                "kid": kid,
                "use": "sig",
                "alg": "ES256",
            }),
        }
    }
}

struct Provider {
    issuer: String,
    current: Key,
    other: Key,
    scenario: Mutex<Scenario>,
}

impl Provider {
    fn sign(&self, signer: Signer, claims: &Value) -> String {
        let (alg, kid, key) = match signer {
            Signer::Current => (
                Algorithm::ES256,
                self.current.kid,
                self.current.encoding.clone(),
            ),
            Signer::Other => (
                Algorithm::ES256,
                self.other.kid,
                self.other.encoding.clone(),
            ),
            Signer::OtherAsCurrent => (
                Algorithm::ES256,
                self.current.kid,
                self.other.encoding.clone(),
            ),
            Signer::ClientSecret => (
                Algorithm::HS256,
                self.current.kid,
                EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
            ),
        };
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn discovery(State(p): State<Arc<Provider>>) -> Json<Value> {
    let issuer = &p.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "profile", "groups"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email",
                             "email_verified", "name", "groups", "amr"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn jwks(State(p): State<Arc<Provider>>) -> Json<Value> {
    let mut s = p.scenario.lock().unwrap();
    s.jwks_hits += 1;
    let mut keys = vec![p.current.jwk.clone()];
    if s.publish_other_key {
        keys.push(p.other.jwk.clone());
    }
    Json(json!({ "keys": keys }))
}

/// Signs whoever asks in at once and sends the browser back with a code, the state and
/// the RFC 9207 `iss` parameter.
async fn authorize(
    State(p): State<Arc<Provider>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (Some(redirect), Some(state)) = (query.get("redirect_uri"), query.get("state")) else {
        return IdpStatus::BAD_REQUEST.into_response();
    };
    let Ok(mut back) = url::Url::parse(redirect) else {
        return IdpStatus::BAD_REQUEST.into_response();
    };
    let code = format!("code-{}", Uuid::now_v7().simple());
    p.scenario.lock().unwrap().nonces.insert(
        code.clone(),
        query.get("nonce").cloned().unwrap_or_default(),
    );
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", state)
        .append_pair("iss", &p.issuer);
    (IdpStatus::SEE_OTHER, [(header::LOCATION, back.to_string())]).into_response()
}

/// Records the request, then answers with the ID token the scenario asks for.
async fn token(
    State(p): State<Arc<Provider>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut s = p.scenario.lock().unwrap();
    s.token_requests.push(TokenRequest {
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        form: form.clone(),
    });
    if let Some(error) = s.token_error {
        return (IdpStatus::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
    }
    let now = unix_now();
    let mut claims = json!({
        "iss": p.issuer,
        "sub": "idp-alice",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "email": "alice@acme.test",
        "email_verified": true,
        "name": "Alice Example",
        "groups": [],
        // The provider checked a second factor (RFC 8176), so the sign-in completes here.
        "amr": ["pwd", "mfa"],
    });
    if let Some(nonce) = form.get("code").and_then(|c| s.nonces.get(c)) {
        claims["nonce"] = json!(nonce);
    }
    let object = claims.as_object_mut().unwrap();
    for (name, value) in &s.claims {
        if value.is_null() {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    let id_token = p.sign(s.signer, &claims);
    drop(s);
    Json(json!({
        "access_token": "hostile-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}

/// The attacker's OpenID provider on a random loopback port.
struct HostileIdp {
    provider: Arc<Provider>,
    server: Option<JoinHandle<()>>,
}

impl HostileIdp {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let provider = Arc::new(Provider {
            issuer,
            current: Key::generate("current-1"),
            other: Key::generate("other-1"),
            scenario: Mutex::new(Scenario::default()),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(provider.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            provider,
            server: Some(server),
        }
    }

    fn issuer(&self) -> &str {
        &self.provider.issuer
    }

    fn scenario(&self) -> MutexGuard<'_, Scenario> {
        self.provider.scenario.lock().unwrap()
    }

    /// Sets (or, with `null`, removes) a claim of the next ID tokens.
    fn claim(&self, name: &str, value: Value) {
        self.scenario().claims.insert(name.to_owned(), value);
    }

    /// Who the next ID tokens say the person is.
    fn identity(&self, subject: &str, email: &str) {
        self.claim("sub", json!(subject));
        self.claim("email", json!(email));
    }

    fn token_requests(&self) -> Vec<TokenRequest> {
        self.scenario().token_requests.clone()
    }

    fn jwks_hits(&self) -> usize {
        self.scenario().jwks_hits
    }

    /// Takes the provider off the network: its port refuses connections from now on.
    async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }
}

impl Drop for HostileIdp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The relying party's side: a tenant connected to the provider, and the browser
// ---------------------------------------------------------------------------------------

/// Marks `domain` verified for `tenant` (as an operator would).
async fn verify_domain(pool: &PgPool, tenant: Uuid, domain: &str) {
    sqlx::query(
        "INSERT INTO tenant_email_domains (tenant_id, email_domain, verification_token, verified_at, verified_method)
         VALUES ($1, $2, 'x', now(), 'operator')",
    )
    .bind(tenant)
    .bind(domain)
    .execute(pool)
    .await
    .unwrap();
}

/// A tenant `slug` (owner `owner@<slug>.test`, verified domain `<slug>.test`) whose
/// active connection points at `idp`: discovery and the client through the owner's
/// wizard (FR-AUTH-003); the test sign-in is marked done directly. Returns the tenant
/// and the connection.
async fn connected_tenant(pool: &PgPool, idp: &HostileIdp, slug: &str) -> (Uuid, Uuid) {
    let tenant = tenant(pool, slug).await;
    let owner = person(
        pool,
        Some(tenant),
        &format!("owner@{slug}.test"),
        Role::Owner,
        None,
    )
    .await;
    let actor = Actor {
        user_id: owner,
        tenant_id: Some(tenant),
        role: Role::Owner,
    };
    let ctx = RequestContext::default();
    let sso = SsoContext::new(
        HttpPolicy {
            allow_private: true,
            ..Default::default()
        },
        DnsSettings::default(),
    )
    .unwrap();
    let connection = discover_connection(pool, &ctx, &actor, &sso, tenant, idp.issuer())
        .await
        .unwrap()
        .value;
    set_client(
        pool,
        &ctx,
        &actor,
        &test_keys(),
        tenant,
        CLIENT_ID,
        Some(SecretString::from(CLIENT_SECRET.to_owned())),
    )
    .await
    .unwrap();
    sqlx::query("UPDATE sso_connections SET tested_at = now(), status = 'active' WHERE id = $1")
        .bind(connection.id)
        .execute(pool)
        .await
        .unwrap();
    verify_domain(pool, tenant, &format!("{slug}.test")).await;
    (tenant, connection.id)
}

/// A started flow, seen from the browser.
struct Flow {
    /// `gatehouse_sso=<secret>`, as the browser sends it back.
    cookie: String,
    /// The flow cookie's whole `Set-Cookie` line.
    set_cookie: String,
    /// The authorization request as the provider received it.
    request: HashMap<String, String>,
    /// The provider's answer: `code`, `state` and `iss`.
    answer: Vec<(String, String)>,
}

impl Flow {
    fn param(&self, name: &str) -> String {
        self.answer
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    }

    /// The answer with `name` replaced, or removed when `None`.
    fn answer_with(&self, name: &str, value: Option<&str>) -> Vec<(String, String)> {
        let mut answer: Vec<(String, String)> = self
            .answer
            .iter()
            .filter(|(k, _)| k != name)
            .cloned()
            .collect();
        if let Some(value) = value {
            answer.push((name.to_owned(), value.to_owned()));
        }
        answer
    }
}

/// Where a callback sent the browser.
#[derive(Debug)]
struct Landing {
    location: String,
    /// `gatehouse_session=<token>` when a session cookie was set.
    session: Option<String>,
}

impl Landing {
    /// The `error` of a refusal (`/login?error=sso_<reason>`).
    fn error(&self) -> Option<String> {
        let url = url::Url::parse(&format!("http://gatehouse.invalid{}", self.location)).ok()?;
        if url.path() != "/login" {
            return None;
        }
        url.query_pairs()
            .find(|(k, _)| k == "error")
            .map(|(_, v)| v.into_owned())
    }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The `Set-Cookie` line that sets `name` to a non-empty value.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| {
            v.strip_prefix(&prefix)
                .is_some_and(|rest| !rest.starts_with(';') && !rest.is_empty())
        })
        .map(str::to_owned)
}

/// `name=value` of a `Set-Cookie` line.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_owned()
}

/// The server with private IdPs allowed, the hostile provider, and tenant `acme`
/// connected to it.
struct World {
    app: TestApp,
    idp: HostileIdp,
    tenant: Uuid,
    connection: Uuid,
}

impl World {
    async fn new(pool: &PgPool) -> Self {
        let app = spawn_app_with(pool.clone(), APP_FLAGS).await;
        let idp = HostileIdp::start().await;
        let (tenant, connection) = connected_tenant(pool, &idp, "acme").await;
        Self {
            app,
            idp,
            tenant,
            connection,
        }
    }

    /// Just-in-time creation on, the IdP group `admins` mapped to admin (FR-TENANT-004).
    async fn allow_jit(&self, pool: &PgPool) {
        sqlx::query(
            r#"UPDATE sso_connections SET jit_enabled = true, group_roles = '{"admins": "admin"}'
               WHERE id = $1"#,
        )
        .bind(self.connection)
        .execute(pool)
        .await
        .unwrap();
    }

    /// `/sso/{connection}/start`, then the provider's `/authorize`, which answers at once.
    async fn begin(&self, return_to: &str, login_hint: Option<&str>) -> Flow {
        let mut query = vec![("return_to", return_to)];
        if let Some(hint) = login_hint {
            query.push(("login_hint", hint));
        }
        let res = self
            .app
            .client
            .get(self.app.url(&format!("/sso/{}/start", self.connection)))
            .query(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        assert!(
            to.starts_with(&format!("{}/authorize?", self.idp.issuer())),
            "/start sent the browser to {to}"
        );
        let set_cookie = set_cookie(&res, "gatehouse_sso").expect("the flow cookie");
        let request: HashMap<String, String> = url::Url::parse(&to)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        let res = self.app.client.get(to.as_str()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let back = url::Url::parse(&location(&res)).unwrap();
        assert_eq!(back.path(), format!("/sso/{}/callback", self.connection));
        Flow {
            cookie: pair(&set_cookie),
            set_cookie,
            request,
            answer: back.query_pairs().into_owned().collect(),
        }
    }

    /// The browser arriving at `connection`'s callback with `answer` (and `cookie`).
    async fn callback_at(
        &self,
        connection: Uuid,
        cookie: Option<&str>,
        answer: &[(String, String)],
    ) -> Landing {
        let mut request = self
            .app
            .client
            .get(self.app.url(&format!("/sso/{connection}/callback")))
            .query(answer);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{:?}", res.headers());
        Landing {
            location: location(&res),
            session: set_cookie(&res, "gatehouse_session").map(|c| pair(&c)),
        }
    }

    async fn callback(&self, cookie: Option<&str>, answer: &[(String, String)]) -> Landing {
        self.callback_at(self.connection, cookie, answer).await
    }

    /// A whole sign-in by one browser, the provider answering as the scenario says.
    async fn signed_in_via_sso(&self) -> Landing {
        let flow = self.begin("/account", None).await;
        self.callback(Some(&flow.cookie), &flow.answer).await
    }

    /// Whether `cookie` opens the account page's data (a fully signed-in session).
    async fn session_works(&self, cookie: &str) -> bool {
        let empty: &[(&str, &str)] = &[];
        self.app
            .client
            .post(self.app.url("/_rpc/account_overview"))
            .header("origin", &self.app.base)
            .header("cookie", cookie)
            .form(empty)
            .send()
            .await
            .unwrap()
            .status()
            == StatusCode::OK
    }
}

/// The reasons of the `auth.sso.login.failure` entries, oldest first.
async fn failure_reasons(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar::<_, Option<String>>(
        "SELECT metadata->>'reason' FROM audit_log
         WHERE action = 'auth.sso.login.failure' AND outcome = 'failure' ORDER BY seq",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .flatten()
    .collect()
}

/// A refusal: back to the sign-in page with `sso_<reason>`, no session cookie, and an
/// `auth.sso.login.failure` entry naming the reason (FR-LOG-003).
async fn assert_refused(pool: &PgPool, landing: &Landing, reason: &str) {
    assert_eq!(
        landing.error().as_deref(),
        Some(format!("sso_{reason}").as_str()),
        "landed on {}",
        landing.location
    );
    assert!(
        landing.session.is_none(),
        "a refusal sets no session: {landing:?}"
    );
    let audited = failure_reasons(pool).await;
    assert_eq!(
        audited.last().map(String::as_str),
        Some(reason),
        "{audited:?}"
    );
}

async fn users_of(pool: &PgPool, tenant: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn identities(pool: &PgPool, connection: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sso_identities WHERE connection_id = $1")
        .bind(connection)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn role_of(pool: &PgPool, user: Uuid) -> String {
    sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A metadata field of the newest `auth.sso.login.failure` entry.
async fn last_failure(pool: &PgPool, field: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT metadata->>($1::text) FROM audit_log WHERE action = 'auth.sso.login.failure'
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(field)
    .fetch_one(pool)
    .await
    .unwrap()
}

// ---------------------------------------------------------------------------------------
// The round trip
// ---------------------------------------------------------------------------------------

/// FR-AUTH-003, FR-TENANT-004: a first sign-in with just-in-time creation on creates the
/// person with the role their groups give, keyed by (connection, iss, sub); the request
/// carried PKCE S256, state and nonce, the client authenticated at the token endpoint,
/// and the session works.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_first_sign_in_creates_the_person_with_the_role_their_groups_give(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    w.idp.identity("idp-alice", "alice@acme.test");
    w.idp.claim("groups", json!(["admins", "staff"]));

    let flow = w.begin("/account", Some("alice@acme.test")).await;
    let r = &flow.request;
    let redirect_uri = w.app.url(&format!("/sso/{}/callback", w.connection));
    assert_eq!(r["response_type"], "code");
    assert_eq!(r["client_id"], CLIENT_ID);
    assert_eq!(r["redirect_uri"], redirect_uri);
    assert_eq!(r["code_challenge_method"], "S256");
    assert_eq!(r["login_hint"], "alice@acme.test");
    let scopes: Vec<&str> = r["scope"].split(' ').collect();
    for scope in ["openid", "email", "profile", "groups"] {
        assert!(scopes.contains(&scope), "{scopes:?}");
    }
    assert!(r["state"].len() >= 32 && r["nonce"].len() >= 32, "{r:?}");
    assert_ne!(r["state"], r["nonce"]);
    // The flow cookie is the browser binding: HttpOnly, only sent to this connection.
    assert!(
        flow.set_cookie
            .contains(&format!("Path=/sso/{}/", w.connection))
            && flow.set_cookie.contains("HttpOnly"),
        "{}",
        flow.set_cookie
    );

    let landing = w.callback(Some(&flow.cookie), &flow.answer).await;
    assert_eq!(landing.location, "/account");
    let session = landing.session.expect("a session cookie");
    assert!(w.session_works(&session).await);

    // The code exchange: the client's Basic credentials and the PKCE verifier of the
    // challenge sent at /authorize.
    let requests = w.idp.token_requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    assert_eq!(sent.authorization.as_deref(), Some(basic.as_str()));
    assert_eq!(sent.form["grant_type"], "authorization_code");
    assert_eq!(sent.form["code"], flow.param("code"));
    assert_eq!(sent.form["redirect_uri"], redirect_uri);
    assert!(!sent.form.contains_key("client_secret"));
    let verifier = &sent.form["code_verifier"];
    assert!(verifier.len() >= 43, "RFC 7636 verifier: {verifier}");
    assert_eq!(pkce_challenge(verifier), r["code_challenge"]);

    let (user, role, status): (Uuid, String, String) = sqlx::query_as(
        "SELECT id, role, status FROM users WHERE tenant_id = $1 AND email = 'alice@acme.test'",
    )
    .bind(w.tenant)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((role.as_str(), status.as_str()), ("admin", "active"));
    let linked: Uuid = sqlx::query_scalar(
        "SELECT user_id FROM sso_identities WHERE connection_id = $1 AND issuer = $2 AND subject = 'idp-alice'",
    )
    .bind(w.connection)
    .bind(w.idp.issuer())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(linked, user);
    let (created, audited_role): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT metadata->>'created', metadata->>'role' FROM audit_log
         WHERE action = 'auth.sso.login.success' AND tenant_id = $1",
    )
    .bind(w.tenant)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(created.as_deref(), Some("true"));
    assert_eq!(audited_role.as_deref(), Some("admin"));
}

/// SPEC §3: `return_to` is a local path; a provider round trip cannot be turned into an
/// open redirect.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn return_to_cannot_send_the_browser_off_site(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    for return_to in ["https://evil.example/x", "//evil.example/x"] {
        let flow = w.begin(return_to, None).await;
        let landing = w.callback(Some(&flow.cookie), &flow.answer).await;
        assert_eq!(landing.location, "/account", "{return_to}");
        assert!(landing.session.is_some());
    }
}

// ---------------------------------------------------------------------------------------
// The state: single use, bound to the browser and to the connection
// ---------------------------------------------------------------------------------------

/// FR-AUTH-003: a callback replayed after it succeeded finds no flow.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_replayed_callback_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let flow = w.begin("/account", None).await;
    let first = w.callback(Some(&flow.cookie), &flow.answer).await;
    assert_eq!(first.location, "/account");
    assert!(first.session.is_some());

    let again = w.callback(Some(&flow.cookie), &flow.answer).await;
    assert_refused(&pool, &again, "bad_state").await;
    assert_eq!(
        w.idp.token_requests().len(),
        1,
        "the replay never reached the token endpoint"
    );
}

/// FR-AUTH-003 (login CSRF): an authorization response delivered to a browser that did
/// not start the flow is refused, whether it has no flow cookie or another flow's; the
/// state is burnt by the attempt, and no code is exchanged.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_callback_from_another_browser_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let users = users_of(&pool, w.tenant).await;

    let flow = w.begin("/account", None).await;
    let no_cookie = w.callback(None, &flow.answer).await;
    assert_refused(&pool, &no_cookie, "bad_state").await;
    let too_late = w.callback(Some(&flow.cookie), &flow.answer).await;
    assert_refused(&pool, &too_late, "bad_state").await;

    let victims = w.begin("/account", None).await;
    let attackers = w.begin("/account", None).await;
    let swapped = w.callback(Some(&attackers.cookie), &victims.answer).await;
    assert_refused(&pool, &swapped, "bad_state").await;

    assert!(w.idp.token_requests().is_empty());
    assert_eq!(users_of(&pool, w.tenant).await, users);
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// FR-AUTH-003 (mix-up): a flow started for one tenant's connection cannot finish at
/// another tenant's callback, even with its own cookie and state.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_state_from_another_tenants_flow_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let (beta, beta_connection) = connected_tenant(&pool, &w.idp, "beta").await;
    let flow = w.begin("/account", None).await;
    let landing = w
        .callback_at(beta_connection, Some(&flow.cookie), &flow.answer)
        .await;
    assert_refused(&pool, &landing, "bad_state").await;
    let tenant: Option<Uuid> = sqlx::query_scalar(
        "SELECT tenant_id FROM audit_log WHERE action = 'auth.sso.login.failure' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tenant, Some(beta));
    assert!(w.idp.token_requests().is_empty());
    assert_eq!(identities(&pool, w.connection).await, 0);
    assert_eq!(identities(&pool, beta_connection).await, 0);
}

// ---------------------------------------------------------------------------------------
// The provider's answer and its ID token
// ---------------------------------------------------------------------------------------

/// FR-AUTH-003 (RFC 9207): an answer naming another issuer is refused before any code
/// is exchanged, and so is one without `iss` from a provider that says it sends it.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_answer_from_another_issuer_or_without_iss_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let flow = w.begin("/account", None).await;
    let mixed_up = flow.answer_with("iss", Some("http://127.0.0.1:9"));
    let landing = w.callback(Some(&flow.cookie), &mixed_up).await;
    assert_refused(&pool, &landing, "iss_mismatch").await;

    let flow = w.begin("/account", None).await;
    let landing = w
        .callback(Some(&flow.cookie), &flow.answer_with("iss", None))
        .await;
    assert_refused(&pool, &landing, "iss_missing").await;

    assert!(w.idp.token_requests().is_empty());
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// FR-AUTH-003: the provider's error answer (`access_denied`) is a refusal, audited with
/// the provider's code.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_error_answer_from_the_idp_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    let flow = w.begin("/account", None).await;
    let answer = vec![
        ("state".to_owned(), flow.param("state")),
        ("iss".to_owned(), flow.param("iss")),
        ("error".to_owned(), "access_denied".to_owned()),
        (
            "error_description".to_owned(),
            "the user said no".to_owned(),
        ),
    ];
    let landing = w.callback(Some(&flow.cookie), &answer).await;
    assert_refused(&pool, &landing, "idp_error").await;
    assert_eq!(
        last_failure(&pool, "detail").await.as_deref(),
        Some("access_denied")
    );
    assert!(w.idp.token_requests().is_empty());
}

/// OIDC Core §3.1.3.7 (FR-AUTH-003): an ID token with another nonce, or none, is refused.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_id_token_with_the_wrong_nonce_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let users = users_of(&pool, w.tenant).await;
    w.idp.claim("nonce", json!("attacker-chosen-nonce"));
    assert_refused(&pool, &w.signed_in_via_sso().await, "bad_nonce").await;
    w.idp.claim("nonce", Value::Null);
    assert_refused(&pool, &w.signed_in_via_sso().await, "bad_nonce").await;
    assert_eq!(users_of(&pool, w.tenant).await, users);
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// FR-AUTH-003: an ID token signed by a key the provider never published is refused;
/// the JWK set is fetched again at most once a minute, so a stream of such tokens does
/// not make Gatehouse hammer the provider.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_id_token_signed_by_an_unpublished_key_is_refused_after_one_refetch(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    // The keys were fetched long enough ago that one refetch is allowed.
    sqlx::query(
        "UPDATE sso_connections SET jwks_fetched_at = now() - interval '5 minutes' WHERE id = $1",
    )
    .bind(w.connection)
    .execute(&pool)
    .await
    .unwrap();
    w.idp.scenario().signer = Signer::Other;
    let before = w.idp.jwks_hits();
    for _ in 0..3 {
        assert_refused(&pool, &w.signed_in_via_sso().await, "unknown_key").await;
    }
    assert_eq!(w.idp.jwks_hits() - before, 1, "one refetch, then the limit");
    assert_eq!(identities(&pool, w.connection).await, 0);
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users WHERE email = 'alice@acme.test'")
            .fetch_one(&pool)
            .await
            .unwrap(),
        0
    );
}

/// FR-AUTH-003: a provider that rotated its keys is followed: the unknown `kid` makes
/// Gatehouse fetch the key set once, keep it, and accept the token.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_rotated_key_is_fetched_once_and_accepted(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    sqlx::query(
        "UPDATE sso_connections SET jwks_fetched_at = now() - interval '5 minutes' WHERE id = $1",
    )
    .bind(w.connection)
    .execute(&pool)
    .await
    .unwrap();
    {
        let mut s = w.idp.scenario();
        s.publish_other_key = true;
        s.signer = Signer::Other;
    }
    let before = w.idp.jwks_hits();
    let landing = w.signed_in_via_sso().await;
    assert_eq!(landing.location, "/account");
    assert!(landing.session.is_some());
    let landing = w.signed_in_via_sso().await;
    assert!(landing.session.is_some());
    assert_eq!(w.idp.jwks_hits() - before, 1, "the new key set was kept");
}

/// FR-AUTH-003: forged signatures are refused: another key under the published `kid`,
/// and HS256 keyed with the client secret (algorithm confusion).
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn forged_signatures_are_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    w.idp.scenario().signer = Signer::OtherAsCurrent;
    assert_refused(&pool, &w.signed_in_via_sso().await, "bad_signature").await;
    w.idp.scenario().signer = Signer::ClientSecret;
    assert_refused(&pool, &w.signed_in_via_sso().await, "bad_signature").await;
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// OIDC Core §3.1.3.7 (FR-AUTH-003): an ID token for another client is refused, whether
/// `aud` names someone else, adds an untrusted audience, or `azp` is another client.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_id_token_for_another_audience_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    w.idp.claim("aud", json!("someone-else"));
    assert_refused(&pool, &w.signed_in_via_sso().await, "bad_audience").await;
    w.idp.claim("aud", json!([CLIENT_ID, "someone-else"]));
    assert_refused(&pool, &w.signed_in_via_sso().await, "bad_audience").await;
    w.idp.claim("aud", json!(CLIENT_ID));
    w.idp.claim("azp", json!("someone-else"));
    assert_refused(&pool, &w.signed_in_via_sso().await, "bad_audience").await;
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// OIDC Core §3.1.3.7 (FR-AUTH-003): an expired ID token is refused.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_expired_id_token_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let now = unix_now();
    w.idp.claim("iat", json!(now - 1200));
    w.idp.claim("exp", json!(now - 600));
    assert_refused(&pool, &w.signed_in_via_sso().await, "token_expired").await;
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// OIDC Core §3.1.3.7 (FR-AUTH-003): an ID token whose `iss` is another provider is
/// refused.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_id_token_from_another_issuer_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    w.idp.claim("iss", json!("http://127.0.0.1:9"));
    assert_refused(&pool, &w.signed_in_via_sso().await, "bad_issuer").await;
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// FR-AUTH-003: a token endpoint that answers an error is a refusal naming the error.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_token_endpoint_error_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    w.idp.scenario().token_error = Some("invalid_grant");
    assert_refused(&pool, &w.signed_in_via_sso().await, "token_exchange").await;
    assert_eq!(
        last_failure(&pool, "detail").await.as_deref(),
        Some("invalid_grant")
    );
}

/// FR-AUTH-003: a provider that is down at the code exchange is a refusal the person can
/// understand, not an error page.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_unreachable_idp_at_the_callback_is_refused(pool: PgPool) {
    let mut w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let flow = w.begin("/account", None).await;
    w.idp.stop().await;
    let landing = w.callback(Some(&flow.cookie), &flow.answer).await;
    assert_refused(&pool, &landing, "idp_unreachable").await;
    assert_eq!(identities(&pool, w.connection).await, 0);
}

// ---------------------------------------------------------------------------------------
// Who the claims are: linking, just-in-time creation, roles
// ---------------------------------------------------------------------------------------

/// SPEC §3: an address the provider does not vouch for creates nobody.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_unverified_email_creates_nobody(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let users = users_of(&pool, w.tenant).await;
    w.idp.claim("email_verified", json!(false));
    assert_refused(&pool, &w.signed_in_via_sso().await, "email_unverified").await;
    w.idp.claim("email_verified", Value::Null);
    assert_refused(&pool, &w.signed_in_via_sso().await, "email_unverified").await;
    assert_eq!(users_of(&pool, w.tenant).await, users);
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// SPEC §3: an address in a domain the tenant has not verified creates nobody.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_email_in_an_unverified_domain_creates_nobody(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let users = users_of(&pool, w.tenant).await;
    w.idp.identity("idp-mallory", "mallory@elsewhere.test");
    assert_refused(&pool, &w.signed_in_via_sso().await, "domain_unverified").await;
    assert_eq!(users_of(&pool, w.tenant).await, users);
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// SPEC §3: a domain verified by another tenant opens nothing here: its people cannot be
/// created in (or linked into) this tenant by this tenant's provider.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn another_tenants_verified_domain_opens_nothing_here(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let beta = tenant(&pool, "beta").await;
    verify_domain(&pool, beta, "beta.test").await;
    let dave = person(&pool, Some(beta), "dave@beta.test", Role::Admin, None).await;
    let users = users_of(&pool, w.tenant).await;

    w.idp.identity("idp-dave", "dave@beta.test");
    w.idp.claim("groups", json!(["admins"]));
    assert_refused(&pool, &w.signed_in_via_sso().await, "domain_unverified").await;
    assert_eq!(users_of(&pool, w.tenant).await, users);
    assert_eq!(identities(&pool, w.connection).await, 0);
    assert_eq!(role_of(&pool, dave).await, "admin");
    let linked: i64 = sqlx::query_scalar("SELECT count(*) FROM sso_identities WHERE user_id = $1")
        .bind(dave)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(linked, 0);
}

/// FR-AUTH-003: without just-in-time creation, someone the tenant does not know is
/// refused.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_unknown_person_is_refused_without_just_in_time_creation(pool: PgPool) {
    let w = World::new(&pool).await;
    let users = users_of(&pool, w.tenant).await;
    w.idp.identity("idp-erin", "erin@acme.test");
    assert_refused(&pool, &w.signed_in_via_sso().await, "unknown_user").await;
    assert_eq!(users_of(&pool, w.tenant).await, users);
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// SPEC §3: an existing person with the address is linked (never duplicated), and only
/// once the provider vouches for the address.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_existing_person_with_the_verified_address_is_linked_not_duplicated(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let bob = person(&pool, Some(w.tenant), "bob@acme.test", Role::User, None).await;
    let users = users_of(&pool, w.tenant).await;
    w.idp.identity("idp-bob", "bob@acme.test");

    w.idp.claim("email_verified", json!(false));
    assert_refused(&pool, &w.signed_in_via_sso().await, "email_unverified").await;
    assert_eq!(identities(&pool, w.connection).await, 0);

    w.idp.claim("email_verified", json!(true));
    let landing = w.signed_in_via_sso().await;
    assert_eq!(landing.location, "/account");
    assert!(w.session_works(&landing.session.expect("a session")).await);
    assert_eq!(users_of(&pool, w.tenant).await, users);
    let linked: Uuid = sqlx::query_scalar(
        "SELECT user_id FROM sso_identities WHERE connection_id = $1 AND issuer = $2 AND subject = 'idp-bob'",
    )
    .bind(w.connection)
    .bind(w.idp.issuer())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(linked, bob);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'sso.identity.linked' AND resource = $1",
    )
    .bind(format!("user:{bob}"))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

/// SPEC §3 (account takeover): people are keyed by (iss, sub), never by email; a second
/// identity at the provider claiming a linked person's address is refused.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_second_identity_with_a_linked_address_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    let bob = person(&pool, Some(w.tenant), "bob@acme.test", Role::User, None).await;
    w.idp.identity("idp-bob", "bob@acme.test");
    assert!(w.signed_in_via_sso().await.session.is_some());

    w.idp.identity("idp-mallory", "bob@acme.test");
    assert_refused(&pool, &w.signed_in_via_sso().await, "linked_elsewhere").await;
    assert_eq!(identities(&pool, w.connection).await, 1);
    let subject: String =
        sqlx::query_scalar("SELECT subject FROM sso_identities WHERE user_id = $1")
            .bind(bob)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(subject, "idp-bob");
}

/// SPEC §2: a disabled person is refused at the provider's door too, linked or not.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_disabled_person_is_refused(pool: PgPool) {
    let w = World::new(&pool).await;
    let carol = person(&pool, Some(w.tenant), "carol@acme.test", Role::User, None).await;
    sqlx::query("UPDATE users SET status = 'disabled' WHERE id = $1")
        .bind(carol)
        .execute(&pool)
        .await
        .unwrap();
    w.idp.identity("idp-carol", "carol@acme.test");
    assert_refused(&pool, &w.signed_in_via_sso().await, "user_disabled").await;
    assert_eq!(identities(&pool, w.connection).await, 0);

    // Linked first, disabled afterwards.
    let dan = person(&pool, Some(w.tenant), "dan@acme.test", Role::User, None).await;
    w.idp.identity("idp-dan", "dan@acme.test");
    assert!(w.signed_in_via_sso().await.session.is_some());
    sqlx::query("UPDATE users SET status = 'disabled' WHERE id = $1")
        .bind(dan)
        .execute(&pool)
        .await
        .unwrap();
    assert_refused(&pool, &w.signed_in_via_sso().await, "user_disabled").await;
}

/// SPEC §2, FR-AUTH-003: a connection that cannot sign anyone in (unknown, inactive, or
/// its tenant suspended) does not start a flow.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_connection_that_cannot_sign_in_does_not_start(pool: PgPool) {
    let w = World::new(&pool).await;
    let start = |connection: String| {
        let url = w
            .app
            .url(&format!("/sso/{connection}/start?return_to=/account"));
        let client = w.app.client.clone();
        async move {
            let res = client.get(url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            assert!(
                set_cookie(&res, "gatehouse_sso").is_none(),
                "no flow cookie"
            );
            Landing {
                location: location(&res),
                session: None,
            }
            .error()
        }
    };
    assert_eq!(
        start(Uuid::now_v7().to_string()).await.as_deref(),
        Some("sso_unavailable")
    );
    assert_eq!(
        start("not-a-uuid".into()).await.as_deref(),
        Some("sso_unavailable")
    );

    sqlx::query("UPDATE sso_connections SET status = 'inactive' WHERE id = $1")
        .bind(w.connection)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        start(w.connection.to_string()).await.as_deref(),
        Some("sso_unavailable")
    );
    sqlx::query("UPDATE sso_connections SET status = 'active' WHERE id = $1")
        .bind(w.connection)
        .execute(&pool)
        .await
        .unwrap();

    gatehouse_domain::tenants::suspend_tenant(
        &pool,
        &RequestContext::default(),
        None,
        w.tenant,
        Some("unpaid"),
    )
    .await
    .unwrap();
    assert_eq!(
        start(w.connection.to_string()).await.as_deref(),
        Some("sso_unavailable")
    );
    let flows: i64 = sqlx::query_scalar("SELECT count(*) FROM sso_flows")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(flows, 0);
}

/// SPEC §2 (suspension refuses sign-ins): a flow already at the provider when the tenant
/// is suspended creates nobody and signs nobody in when it comes back, even with
/// just-in-time creation on.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_flow_in_flight_when_the_tenant_is_suspended_signs_in_nobody(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    let users = users_of(&pool, w.tenant).await;
    let flow = w.begin("/account", None).await;
    gatehouse_domain::tenants::suspend_tenant(
        &pool,
        &RequestContext::default(),
        None,
        w.tenant,
        Some("unpaid"),
    )
    .await
    .unwrap();
    let landing = w.callback(Some(&flow.cookie), &flow.answer).await;
    assert!(
        landing.error().is_some_and(|e| e.starts_with("sso_")),
        "landed on {}",
        landing.location
    );
    assert!(landing.session.is_none());
    assert_eq!(users_of(&pool, w.tenant).await, users);
    assert_eq!(identities(&pool, w.connection).await, 0);
}

/// FR-TENANT-004: the role follows the provider's groups at every sign-in; a demotion
/// ends the person's earlier sessions.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_group_change_demotes_and_ends_earlier_sessions(pool: PgPool) {
    let w = World::new(&pool).await;
    w.allow_jit(&pool).await;
    w.idp.identity("idp-alice", "alice@acme.test");
    w.idp.claim("groups", json!(["admins"]));
    let first = w.signed_in_via_sso().await;
    let first = first.session.expect("a session");
    assert!(w.session_works(&first).await);
    let alice: Uuid = sqlx::query_scalar(
        "SELECT id FROM users WHERE tenant_id = $1 AND email = 'alice@acme.test'",
    )
    .bind(w.tenant)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(role_of(&pool, alice).await, "admin");

    w.idp.claim("groups", json!([]));
    let second = w.signed_in_via_sso().await;
    assert_eq!(second.location, "/account");
    let second = second.session.expect("a session");
    assert_eq!(role_of(&pool, alice).await, "user");
    assert!(!w.session_works(&first).await, "the admin session ended");
    assert!(w.session_works(&second).await);
    let metadata: serde_json::Value = sqlx::query_scalar(
        "SELECT metadata FROM audit_log WHERE action = 'user.role.change' AND resource = $1",
    )
    .bind(format!("user:{alice}"))
    .fetch_one(&pool)
    .await
    .unwrap();
    let metadata = crate::helpers::opened(&pool, metadata).await;
    let text = |k: &str| metadata[k].as_str().map(str::to_owned);
    let (old, new, source) = (text("old"), text("new"), text("source"));
    assert_eq!(
        (old.as_deref(), new.as_deref(), source.as_deref()),
        (Some("admin"), Some("user"), Some("sso_groups"))
    );
    assert_eq!(identities(&pool, w.connection).await, 1);
}

/// FR-TENANT-004: groups never make or unmake an owner.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn groups_never_demote_an_owner(pool: PgPool) {
    let w = World::new(&pool).await;
    let owner: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'owner@acme.test'")
        .fetch_one(&pool)
        .await
        .unwrap();
    w.idp.identity("idp-owner", "owner@acme.test");
    w.idp.claim("groups", json!([]));
    let landing = w.signed_in_via_sso().await;
    assert!(landing.session.is_some(), "{landing:?}");
    assert_eq!(role_of(&pool, owner).await, "owner");
}

/// The isolation walk over SSO's doors: every server function of `/admin/sso` is the
/// owner's (TenantManageSso). An admin, a user and a stranger are refused, and nothing
/// changes; an admin's test sign-in does not start.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn only_the_owner_reaches_the_sso_doors(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), &["--sso-allow-private-idp"]).await;
    let idp = HostileIdp::start().await;
    let (acme, connection) = connected_tenant(&pool, &idp, "acme").await;
    let admin = person(&pool, Some(acme), "admin@acme.test", Role::Admin, None).await;
    let user = person(&pool, Some(acme), "user@acme.test", Role::User, None).await;
    let calls: &[(&str, &[(&str, &str)])] = &[
        ("sso_page", &[]),
        ("discover_sso", &[("issuer", "https://idp.example")]),
        (
            "save_sso_client",
            &[("client_id", "x"), ("client_secret", "y")],
        ),
        ("set_sso_status", &[("status", "deleted")]),
        (
            "save_sso_people",
            &[
                ("default_role", "admin"),
                ("groups_claim", "g"),
                ("group_roles", ""),
            ],
        ),
        ("claim_sso_domain", &[("domain", "evil.example")]),
        (
            "sso_domain_action",
            &[("domain", "acme.test"), ("action", "remove")],
        ),
    ];
    let before: String = sqlx::query_scalar(
        "SELECT concat_ws('|', c.status, c.client_id, c.group_roles::text,
                (SELECT string_agg(email_domain, ',') FROM tenant_email_domains WHERE tenant_id = c.tenant_id))
         FROM sso_connections c WHERE c.id = $1",
    )
    .bind(connection)
    .fetch_one(&pool)
    .await
    .unwrap();
    for who in [Some(admin), Some(user), None] {
        let cookie = match who {
            Some(id) => crate::helpers::session_cookie(&pool, id).await,
            None => String::new(),
        };
        for (name, form) in calls {
            let res = app
                .client
                .post(app.url(&format!("/_rpc/{name}")))
                .header("origin", &app.base)
                .header("cookie", &cookie)
                .form(form)
                .send()
                .await
                .unwrap();
            assert!(
                res.status().is_client_error(),
                "{name} as {who:?}: {}",
                res.status()
            );
        }
        let res = app
            .client
            .get(app.url(&format!("/sso/{connection}/test")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            to.contains("test_error=unavailable") || to.starts_with("/login"),
            "{to}"
        );
        assert!(
            res.headers().get("set-cookie").is_none(),
            "no flow cookie for {who:?}"
        );
    }
    let after: String = sqlx::query_scalar(
        "SELECT concat_ws('|', c.status, c.client_id, c.group_roles::text,
                (SELECT string_agg(email_domain, ',') FROM tenant_email_domains WHERE tenant_id = c.tenant_id))
         FROM sso_connections c WHERE c.id = $1",
    )
    .bind(connection)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(before, after, "nothing changed");
}

/// The server with the vendor's own provider for platform staff (SPEC §3), and the
/// platform's connection it set up at startup.
async fn platform_world(pool: &PgPool, extra: &[&str]) -> World {
    let idp = HostileIdp::start().await;
    let issuer = idp.issuer().to_owned();
    let mut flags = vec![
        "--sso-allow-private-idp",
        "--platform-oidc-issuer",
        &issuer,
        "--platform-oidc-client-id",
        "gatehouse-platform",
        "--platform-oidc-client-secret",
        "platform-secret",
        "--platform-oidc-operator-groups",
        "ops, sre",
        "--platform-oidc-auditor-groups",
        "audit",
    ];
    flags.extend_from_slice(extra);
    let app = spawn_app_with(pool.clone(), &flags).await;
    let connection = gatehouse_domain::sso::platform_connection(pool)
        .await
        .unwrap()
        .expect("the platform's connection");
    idp.claim("aud", json!("gatehouse-platform"));
    World {
        app,
        idp,
        tenant: Uuid::nil(),
        connection,
    }
}

/// A platform sign-in landing where the role belongs (no `return_to`).
async fn platform_sign_in(w: &World) -> Landing {
    let flow = w.begin("", None).await;
    w.callback(Some(&flow.cookie), &flow.answer).await
}

/// Operators and auditors through the vendor's provider: created just in time as platform
/// users with the role their groups give, the role following the groups at every sign-in
/// (a change ends earlier sessions), and nobody without a platform group gets in.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn platform_staff_sign_in_through_the_vendors_provider(pool: PgPool) {
    let w = platform_world(&pool, &[]).await;
    // The sign-in page's link names the platform, not the connection's id.
    let res = w
        .app
        .client
        .get(w.app.url("/sso/platform/start"))
        .send()
        .await
        .unwrap();
    assert!(
        location(&res).starts_with(&format!("{}/authorize?", w.idp.issuer())),
        "{}",
        location(&res)
    );
    w.idp.identity("staff-1", "ada@vendor.example");
    w.idp.claim("groups", json!(["sre"]));
    let first = platform_sign_in(&w).await;
    assert_eq!(first.location, "/operator", "{first:?}");
    let (tenant, role): (Option<Uuid>, String) =
        sqlx::query_as("SELECT tenant_id, role FROM users WHERE email = 'ada@vendor.example'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((tenant, role.as_str()), (None, "operator"));
    let first_cookie = first.session.clone().unwrap();

    // Moved to the auditors at the provider: an auditor at the next sign-in.
    w.idp.claim("groups", json!(["audit", "staff"]));
    let second = platform_sign_in(&w).await;
    assert_eq!(second.location, "/audit", "{second:?}");
    assert!(
        !w.session_works(&first_cookie).await,
        "the role change ended the earlier session"
    );

    // No platform group: refused, and the account keeps its last role.
    w.idp.claim("groups", json!(["staff"]));
    let refused = platform_sign_in(&w).await;
    assert_refused(&pool, &refused, "no_platform_role").await;
    let role: String =
        sqlx::query_scalar("SELECT role FROM users WHERE email = 'ada@vendor.example'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(role, "auditor");
    // A stranger without a platform group is never created.
    w.idp.identity("stranger", "eve@vendor.example");
    let stranger = platform_sign_in(&w).await;
    assert_refused(&pool, &stranger, "no_platform_role").await;
    let made: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users WHERE email = 'eve@vendor.example'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(made, 0);
}

/// With `GATEHOUSE_PLATFORM_PASSWORD_SIGN_IN=false` an operator's right password is
/// refused (audited); tenant people keep theirs.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn platform_password_sign_in_can_be_turned_off(pool: PgPool) {
    let w = platform_world(&pool, &["--platform-password-sign-in", "false"]).await;
    let password = "a long operator passphrase";
    person(
        &pool,
        None,
        "ops@vendor.example",
        Role::Operator,
        Some(password),
    )
    .await;
    let acme = tenant(&pool, "acme").await;
    person(
        &pool,
        Some(acme),
        "user@acme.test",
        Role::User,
        Some(password),
    )
    .await;
    let sign_in = |email: &'static str| {
        w.app
            .client
            .post(w.app.url("/_rpc/sign_in"))
            .header("accept", "text/html")
            .header("origin", &w.app.base)
            .form(&[
                ("email", email),
                ("password", password),
                ("tenant", ""),
                ("return_to", ""),
            ])
            .send()
    };
    let res = sign_in("ops@vendor.example").await.unwrap();
    let to = location(&res);
    assert!(to.starts_with("/login?error=platform_sso"), "{to}");
    assert!(set_cookie(&res, "gatehouse_session").is_none());
    let reason: String = sqlx::query_scalar(
        "SELECT metadata->>'reason' FROM audit_log WHERE action = 'auth.login.failure' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(reason, "platform_sso");
    let res = sign_in("user@acme.test").await.unwrap();
    assert_eq!(location(&res), "/account");
}
