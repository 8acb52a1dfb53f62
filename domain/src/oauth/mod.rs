//! The token service (SPEC §4; FR-AUTH-001/005, FR-SYS-001..003, NFR-SEC-004): an OAuth 2.0
//! authorization server and OpenID Connect provider.
//!
//! - `authorization_code` with PKCE S256 only, exact redirect-URI match, codes single use
//!   and valid 60 s; a replayed code revokes what it issued (RFC 6749 §4.1.2).
//! - `client_credentials` for managed applications' keys: served from memory, no database
//!   round trip (clients cached, invalidated through NOTIFY).
//! - `refresh_token`: opaque, 30 days, single use; a reused one revokes its family.
//! - Access tokens: JWT (`typ: at+jwt`, RFC 9068), 3600 s, claims `iss sub aud exp iat jti
//!   scope tenant_id roles client_id`, signed ES256 by default (configurable to RS256);
//!   ID tokens RS256 per OIDC Core (nonce, at_hash, auth_time, sid).
//!
//! [`TokenService`] holds what every request needs in memory — the signing keys, the
//! [`Denylist`], cached clients and verified tokens — and is kept coherent by the server's
//! NOTIFY listener calling [`TokenService::on_notice`].

mod clients;
mod denials;
mod signing_keys;
pub use clients::*;
pub use denials::*;
pub use signing_keys::*;

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::crypto::MasterKeys;
use crate::{random_token, token_hash, DomainError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{decode, decode_header, encode, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub const ACCESS_TOKEN_TTL: Duration = Duration::hours(1);
pub const ID_TOKEN_TTL: Duration = Duration::hours(1);
pub const CODE_TTL: Duration = Duration::seconds(60);
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
/// Scopes that concern the user's identity, not an API.
pub const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];
/// Verified tokens remembered (their claims; checked against expiry and the denylist on
/// every use). When full, the cache starts over.
const VERIFIED_CACHE_LIMIT: usize = 100_000;

/// The error codes of OAuth 2.0 (RFC 6749 §4.1.2.1, §5.2; RFC 7009 §2.2.1) and OpenID
/// Connect (Core §3.1.2.6) that Gatehouse answers. Which HTTP status each gets is the
/// server's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    UnsupportedTokenType,
    InvalidScope,
    AccessDenied,
    LoginRequired,
    RequestNotSupported,
    ServerError,
    TemporarilyUnavailable,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// An OAuth error response: its code and a description for the developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, description)
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client() -> Self {
        Self::new(
            OAuthErrorCode::InvalidClient,
            "client authentication failed",
        )
    }

    pub fn body(&self) -> Value {
        json!({"error": self.code.as_str(), "error_description": self.description})
    }
}

impl From<DomainError> for OAuthError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Unavailable(_) => Self::new(
                OAuthErrorCode::TemporarilyUnavailable,
                "please try again shortly",
            ),
            other => {
                tracing::error!(error = ?other, "token service failure");
                Self::new(
                    OAuthErrorCode::ServerError,
                    "the token service failed; see its logs",
                )
            }
        }
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(err: sqlx::Error) -> Self {
        DomainError::from(err).into()
    }
}

/// Issuer settings, from the server configuration.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// The public URL, e.g. `https://id.example.com` (no trailing slash).
    pub issuer: String,
    /// The algorithm of access tokens (ID tokens are always RS256).
    pub access_token_alg: SigningAlg,
}

impl TokenSettings {
    /// The audience of Gatehouse's own API, present in every access token.
    pub fn api_audience(&self) -> String {
        format!("{}/api", self.issuer)
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    /// The user id, or the client_id for client-credentials tokens.
    pub sub: String,
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
    pub scope: String,
    pub tenant_id: Option<Uuid>,
    pub roles: Vec<String>,
    pub client_id: String,
    pub application_id: Uuid,
    /// The Universal Login session a user token came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

impl AccessClaims {
    /// The user the token acts for; `None` for an application's own token.
    pub fn user_id(&self) -> Option<Uuid> {
        self.sub.parse().ok()
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    fn facts(&self) -> TokenFacts<'_> {
        TokenFacts {
            jti: self.jti,
            issued_at: self.iat,
            tenant_id: self.tenant_id,
            user_id: self.user_id(),
            application_id: Some(self.application_id),
            client_id: &self.client_id,
        }
    }
}

/// Why a bearer token was refused (all answer 401 ERR_AUTH; the reason is for logs and
/// the `WWW-Authenticate` description).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Malformed,
    BadSignature,
    Expired,
    WrongIssuerOrAudience,
    Revoked,
}

impl TokenRejection {
    pub fn describe(self) -> &'static str {
        match self {
            TokenRejection::Malformed => "the token is malformed",
            TokenRejection::BadSignature => "the token signature is invalid",
            TokenRejection::Expired => "the token has expired",
            TokenRejection::WrongIssuerOrAudience => "the token is not meant for this API",
            TokenRejection::Revoked => "the token has been revoked",
        }
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// A validated authorization request, ready for a code once the user is known.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Arc<Client>,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Option<String>,
    /// The tenant asked for (`organization=acme`).
    pub organization: Option<String>,
}

/// Why an authorization request fails: before the redirect URI is trusted the user sees
/// an error page; after, the error goes back to the client (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    Page(String),
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

/// The signed-in user an authorization code is issued to.
#[derive(Debug, Clone)]
pub struct AuthorizingUser {
    pub user_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub session_id: Uuid,
}

/// The body of a token request (form fields; client credentials are separate).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    /// client_credentials: the tenant (domain) to act for.
    pub tenant: Option<String>,
}

pub struct TokenService {
    pool: PgPool,
    master: Arc<MasterKeys>,
    pub settings: TokenSettings,
    keys: RwLock<Arc<KeySet>>,
    denylist: RwLock<Denylist>,
    clients: RwLock<HashMap<String, Arc<Client>>>,
    used_clients: Mutex<HashSet<String>>,
    verified: RwLock<HashMap<[u8; 32], Arc<AccessClaims>>>,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn sha256_b64(input: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(input))
}

/// Splits a scope string into distinct scopes, in order.
fn scope_list(raw: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for s in raw.split(' ').filter(|s| !s.is_empty()) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn lock_poisoned() -> DomainError {
    DomainError::Unexpected(anyhow::anyhow!("a token-service lock was poisoned"))
}

impl TokenService {
    /// Makes sure signing keys exist, then loads keys and the denylist.
    pub async fn start(
        pool: PgPool,
        master: Arc<MasterKeys>,
        settings: TokenSettings,
    ) -> Result<Self, DomainError> {
        ensure_signing_keys(&pool, &master).await?;
        let keys = load_key_set(&pool, &master).await?;
        let denylist = load_denylist(&pool).await?;
        Ok(Self {
            pool,
            master,
            settings,
            keys: RwLock::new(Arc::new(keys)),
            denylist: RwLock::new(denylist),
            clients: RwLock::new(HashMap::new()),
            used_clients: Mutex::new(HashSet::new()),
            verified: RwLock::new(HashMap::new()),
        })
    }

    pub fn key_set(&self) -> Result<Arc<KeySet>, DomainError> {
        self.keys
            .read()
            .map(|k| k.clone())
            .map_err(|_| lock_poisoned())
    }

    pub async fn reload_keys(&self) -> Result<(), DomainError> {
        let fresh = Arc::new(load_key_set(&self.pool, &self.master).await?);
        *self.keys.write().map_err(|_| lock_poisoned())? = fresh;
        Ok(())
    }

    /// Reloads everything cached (after the listener lost its connection, and periodically).
    pub async fn reload_all(&self) -> Result<(), DomainError> {
        self.reload_keys().await?;
        let mut fresh = load_denylist(&self.pool).await?;
        fresh.prune(now());
        *self.denylist.write().map_err(|_| lock_poisoned())? = fresh;
        self.clients.write().map_err(|_| lock_poisoned())?.clear();
        Ok(())
    }

    /// Applies one `gatehouse_tokens` notification.
    pub async fn on_notice(&self, payload: &str) -> Result<(), DomainError> {
        let notice = self
            .denylist
            .write()
            .map_err(|_| lock_poisoned())?
            .apply(payload);
        match notice {
            Notice::Applied => {}
            Notice::Clients => self.clients.write().map_err(|_| lock_poisoned())?.clear(),
            Notice::Tenants => {
                let suspended = load_suspended_tenants(&self.pool).await?;
                self.denylist
                    .write()
                    .map_err(|_| lock_poisoned())?
                    .set_suspended_tenants(suspended);
            }
            Notice::Reload => self.reload_all().await?,
        }
        Ok(())
    }

    /// Forgets expired denials and records which keys were used since the last call.
    pub async fn housekeeping(&self) -> Result<(), DomainError> {
        self.denylist
            .write()
            .map_err(|_| lock_poisoned())?
            .prune(now());
        let used: Vec<String> =
            std::mem::take(&mut *self.used_clients.lock().map_err(|_| lock_poisoned())?)
                .into_iter()
                .collect();
        if !used.is_empty() {
            touch_keys(&self.pool, &used).await?;
        }
        Ok(())
    }

    /// The live client behind a client_id (cached).
    pub async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, DomainError> {
        if let Some(c) = self
            .clients
            .read()
            .map_err(|_| lock_poisoned())?
            .get(client_id)
        {
            if !c.is_expired(now()) {
                return Ok(Some(c.clone()));
            }
        }
        if client_id.len() > 64 {
            return Ok(None);
        }
        let Some(client) = load_client(&self.pool, client_id).await? else {
            return Ok(None);
        };
        let client = Arc::new(client);
        self.clients
            .write()
            .map_err(|_| lock_poisoned())?
            .insert(client_id.to_owned(), client.clone());
        Ok(Some(client))
    }

    /// Client authentication (`client_secret_basic` or `client_secret_post`).
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<Arc<Client>, OAuthError> {
        let client = self.client(client_id).await?;
        match client {
            Some(c) if c.secret_matches(secret) => {
                if let Ok(mut used) = self.used_clients.lock() {
                    if used.len() < 10_000 {
                        used.insert(c.client_id.clone());
                    }
                }
                Ok(c)
            }
            _ => Err(OAuthError::invalid_client()),
        }
    }

    fn is_denied(&self, claims: &AccessClaims) -> bool {
        self.denylist
            .read()
            .map(|d| d.is_denied(&claims.facts()))
            .unwrap_or(true)
    }

    fn tenant_suspended(&self, tenant_id: Uuid) -> bool {
        self.denylist
            .read()
            .map(|d| d.is_tenant_suspended(tenant_id))
            .unwrap_or(true)
    }

    fn sign<T: Serialize>(
        &self,
        alg: SigningAlg,
        typ: &str,
        claims: &T,
    ) -> Result<String, DomainError> {
        let keys = self.key_set()?;
        let key = keys.signer(alg)?;
        let mut header = Header::new(alg.jwt());
        header.kid = Some(key.kid.clone());
        header.typ = Some(typ.to_owned());
        encode(&header, claims, &key.encoding)
            .map_err(|e| DomainError::Unexpected(anyhow::Error::new(e).context("signing failed")))
    }

    fn mint_access_token(&self, claims: &AccessClaims) -> Result<String, DomainError> {
        self.sign(self.settings.access_token_alg, "at+jwt", claims)
    }

    /// Verifies an access token: signature (by `kid`), `exp`, `iss`, `aud` (when
    /// `audience` is given) and the denylist.
    pub fn verify_access_token(
        &self,
        token: &str,
        audience: Option<&str>,
    ) -> Result<Arc<AccessClaims>, TokenRejection> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cached = self
            .verified
            .read()
            .ok()
            .and_then(|v| v.get(&digest).cloned());
        let claims = match cached {
            Some(c) => c,
            None => {
                let claims = Arc::new(self.decode_access_token(token)?);
                if let Ok(mut v) = self.verified.write() {
                    if v.len() >= VERIFIED_CACHE_LIMIT {
                        v.clear();
                    }
                    v.insert(digest, claims.clone());
                }
                claims
            }
        };
        if claims.exp <= now().unix_timestamp() {
            return Err(TokenRejection::Expired);
        }
        if audience.is_some_and(|aud| !claims.aud.iter().any(|a| a == aud)) {
            return Err(TokenRejection::WrongIssuerOrAudience);
        }
        if self.is_denied(&claims) {
            return Err(TokenRejection::Revoked);
        }
        Ok(claims)
    }

    fn decode_access_token(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        let header = decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        if header.typ.as_deref() != Some("at+jwt") {
            return Err(TokenRejection::Malformed);
        }
        let kid = header.kid.ok_or(TokenRejection::Malformed)?;
        let keys = self.key_set().map_err(|_| TokenRejection::BadSignature)?;
        let (alg, key) = keys.verifier(&kid).ok_or(TokenRejection::BadSignature)?;
        if header.alg != *alg {
            return Err(TokenRejection::BadSignature);
        }
        let mut validation = Validation::new(*alg);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        decode::<AccessClaims>(token, key, &validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRejection::Expired,
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                    TokenRejection::WrongIssuerOrAudience
                }
                jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenRejection::BadSignature,
                _ => TokenRejection::Malformed,
            })
    }

    // ---- authorization endpoint ---------------------------------------------------

    /// Validates an authorization request (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2.1).
    pub async fn authorization_request(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let client_id = get("client_id")
            .ok_or_else(|| AuthorizeError::Page("the request names no client_id".into()))?;
        let client = self
            .client(client_id)
            .await
            .map_err(|_| AuthorizeError::Page("the service is unavailable; try again".into()))?
            .ok_or_else(|| {
                AuthorizeError::Page("the application is unknown or no longer active".into())
            })?;
        let redirect_uri = get("redirect_uri")
            .ok_or_else(|| AuthorizeError::Page("the request names no redirect_uri".into()))?;
        if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
            return Err(AuthorizeError::Page(
                "the redirect_uri is not registered for this application".into(),
            ));
        }
        let state = get("state").map(str::to_owned);
        let fail = |error: OAuthError| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            state: state.clone(),
            error,
        };
        if get("response_type") != Some("code") {
            return Err(fail(OAuthError::new(
                OAuthErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            )));
        }
        if !client.allows_grant("authorization_code") {
            return Err(fail(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "this application may not use the authorization code grant",
            )));
        }
        if get("request").is_some() || get("request_uri").is_some() {
            return Err(fail(OAuthError::new(
                OAuthErrorCode::RequestNotSupported,
                "request objects are not supported",
            )));
        }
        let challenge = get("code_challenge").ok_or_else(|| {
            fail(OAuthError::invalid_request(
                "PKCE is required: code_challenge is missing",
            ))
        })?;
        match get("code_challenge_method") {
            Some("S256") => {}
            Some("plain") | None => {
                return Err(fail(OAuthError::invalid_request(
                    "code_challenge_method must be S256",
                )))
            }
            Some(_) => {
                return Err(fail(OAuthError::invalid_request(
                    "unknown code_challenge_method",
                )))
            }
        }
        if challenge.len() != 43
            || !challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(fail(OAuthError::invalid_request(
                "code_challenge must be a base64url SHA-256 (43 characters)",
            )));
        }
        let requested = get("scope").unwrap_or("openid");
        let scopes = scope_list(requested);
        if let Some(bad) = scopes
            .iter()
            .find(|s| !client.scopes.iter().any(|c| c == *s))
        {
            return Err(fail(OAuthError::new(
                OAuthErrorCode::InvalidScope,
                format!("the scope '{bad}' is not allowed for this application"),
            )));
        }
        let prompt = get("prompt").map(str::to_owned);
        if prompt
            .as_deref()
            .is_some_and(|p| !["none", "login", "consent", "select_account"].contains(&p))
        {
            return Err(fail(OAuthError::invalid_request("unknown prompt value")));
        }
        let nonce = get("nonce").map(str::to_owned);
        if nonce.as_ref().is_some_and(|n| n.len() > 512)
            || state.as_ref().is_some_and(|s| s.len() > 2048)
        {
            return Err(fail(OAuthError::invalid_request(
                "nonce or state is too long",
            )));
        }
        Ok(AuthorizationRequest {
            redirect_uri: redirect_uri.to_owned(),
            scope: scopes.join(" "),
            state: state.clone(),
            nonce,
            code_challenge: challenge.to_owned(),
            prompt,
            organization: get("organization").map(|o| o.to_ascii_lowercase()),
            client,
        })
    }

    /// Whether `user` may be given a code for `req`: its tenant must be the one asked
    /// for, and one the application may act for. Returns the error to send back.
    pub async fn check_authorizing_user(
        &self,
        req: &AuthorizationRequest,
        user: &AuthorizingUser,
    ) -> Result<(), OAuthError> {
        let tenant_domain: Option<String> = match user.tenant_id {
            Some(id) => {
                sqlx::query_scalar("SELECT domain FROM tenants WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
            }
            None => None,
        };
        if let Some(org) = &req.organization {
            if tenant_domain.as_deref() != Some(org.as_str()) {
                return Err(OAuthError::new(
                    OAuthErrorCode::AccessDenied,
                    "the signed-in account does not belong to the requested organization",
                ));
            }
        }
        if !req.client.admits_tenant(user.tenant_id) {
            return Err(OAuthError::new(
                OAuthErrorCode::AccessDenied,
                "this application is not enabled for your organization",
            ));
        }
        Ok(())
    }

    /// Issues a single-use code (60 s) and returns the redirect to the client, with `iss`
    /// (RFC 9207).
    pub async fn issue_code(
        &self,
        req: &AuthorizationRequest,
        user: &AuthorizingUser,
    ) -> Result<String, OAuthError> {
        let code = random_token();
        sqlx::query(
            "INSERT INTO oauth_authorization_codes
                 (code_hash, application_id, client_id, user_id, tenant_id, session_id, redirect_uri,
                  scope, nonce, code_challenge, expires_at, auth_time)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + $11, s.created_at
               FROM sessions s WHERE s.id = $6",
        )
        .bind(token_hash(&code))
        .bind(req.client.application_id)
        .bind(&req.client.client_id)
        .bind(user.user_id)
        .bind(user.tenant_id)
        .bind(user.session_id)
        .bind(&req.redirect_uri)
        .bind(&req.scope)
        .bind(req.nonce.as_deref())
        .bind(&req.code_challenge)
        .bind(CODE_TTL)
        .execute(&self.pool)
        .await?;
        let mut url = url::Url::parse(&req.redirect_uri)
            .map_err(|_| OAuthError::invalid_request("the redirect_uri is invalid"))?;
        url.query_pairs_mut()
            .append_pair("code", &code)
            .extend_pairs(req.state.as_deref().map(|s| ("state", s)))
            .append_pair("iss", &self.settings.issuer);
        Ok(url.into())
    }

    // ---- token endpoint -------------------------------------------------------------

    pub async fn token(
        &self,
        ctx: &RequestContext,
        client: &Client,
        req: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let grant = req.grant_type.as_deref().map(str::trim).unwrap_or_default();
        if !["authorization_code", "client_credentials", "refresh_token"].contains(&grant) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "grant_type must be authorization_code, client_credentials or refresh_token",
            ));
        }
        if !client.allows_grant(grant) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                format!("this application may not use the {grant} grant"),
            ));
        }
        match grant {
            "client_credentials" => self.client_credentials(client, &req),
            "authorization_code" => self.exchange_code(ctx, client, &req).await,
            _ => self.refresh(ctx, client, &req).await,
        }
    }

    fn client_credentials(
        &self,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let api_scopes: Vec<&str> = client
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| !OIDC_SCOPES.contains(s))
            .collect();
        let scopes = match req
            .scope
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => api_scopes,
            Some(raw) => {
                let asked = scope_list(raw);
                if let Some(bad) = asked.iter().find(|s| !api_scopes.contains(s)) {
                    return Err(OAuthError::new(
                        OAuthErrorCode::InvalidScope,
                        format!("the scope '{bad}' is not granted to this key"),
                    ));
                }
                asked
            }
        };
        let asked_tenant = req
            .tenant
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let tenant_id = match (client.key_tenant_id, asked_tenant) {
            (Some(bound), None) => Some(bound),
            (Some(bound), Some(domain)) => {
                let named = client
                    .tenants
                    .iter()
                    .find(|(_, d)| d == domain)
                    .map(|t| t.0);
                if named != Some(bound) {
                    return Err(OAuthError::invalid_request(
                        "this key is bound to another tenant",
                    ));
                }
                Some(bound)
            }
            (None, Some(domain)) => Some(
                client
                    .tenants
                    .iter()
                    .find(|(_, d)| d.eq_ignore_ascii_case(domain))
                    .map(|t| t.0)
                    .ok_or_else(|| {
                        OAuthError::invalid_request(
                            "the application is not enabled for that tenant",
                        )
                    })?,
            ),
            (None, None) => match client.tenants.as_slice() {
                [(only, _)] => Some(*only),
                _ => None,
            },
        };
        // The tenant (a key's bound one included) must still be enabled for the
        // application; an application with no tenants admits nobody unless it is marked
        // for all tenants. A tenantless token of an application with several tenants names
        // one per request, checked against its tenants then.
        let admitted = match tenant_id {
            Some(_) => client.admits_tenant(tenant_id),
            None => client.all_tenants || !client.tenants.is_empty(),
        };
        if !admitted {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                match tenant_id {
                    Some(_) => "the application is no longer enabled for that tenant",
                    None => "the application is not enabled for any tenant; name one with 'tenant'",
                },
            ));
        }
        if tenant_id.is_some_and(|t| self.tenant_suspended(t)) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "the tenant is suspended",
            ));
        }
        let issued = now();
        let mut exp = issued + ACCESS_TOKEN_TTL;
        if let Some(key_exp) = client.expires_at {
            exp = exp.min(key_exp);
        }
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: client.client_id.clone(),
            aud: vec![self.settings.api_audience()],
            exp: exp.unix_timestamp(),
            iat: issued.unix_timestamp(),
            jti: Uuid::new_v4(),
            scope: scopes.join(" "),
            tenant_id,
            roles: Vec::new(),
            client_id: client.client_id.clone(),
            application_id: client.application_id,
            sid: None,
        };
        Ok(TokenResponse {
            access_token: self.mint_access_token(&claims)?,
            token_type: "Bearer",
            expires_in: claims.exp - claims.iat,
            scope: claims.scope,
            refresh_token: None,
            id_token: None,
        })
    }

    /// Mints the tokens of a user grant: access token, ID token when `openid` was granted,
    /// and a refresh token (stored in the caller's transaction) when the client may refresh.
    async fn user_tokens(
        &self,
        conn: &mut PgConnection,
        client: &Client,
        grant: &UserGrant,
        nonce: Option<&str>,
        family: Option<(Uuid, Uuid)>,
    ) -> Result<(TokenResponse, Uuid, Option<Uuid>), OAuthError> {
        let issued = now();
        // Gatehouse's own API accepts a user's token only when the application was granted
        // one of its scopes; a sign-in alone (openid, profile, ...) is no API credential.
        let api_scoped = scope_list(&grant.scope)
            .iter()
            .any(|s| !OIDC_SCOPES.contains(s));
        let aud = if api_scoped {
            vec![self.settings.api_audience(), client.client_id.clone()]
        } else {
            vec![client.client_id.clone()]
        };
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: grant.user_id.to_string(),
            aud,
            exp: (issued + ACCESS_TOKEN_TTL).unix_timestamp(),
            iat: issued.unix_timestamp(),
            jti: Uuid::new_v4(),
            scope: grant.scope.clone(),
            tenant_id: grant.tenant_id,
            roles: vec![grant.role.clone()],
            client_id: client.client_id.clone(),
            application_id: client.application_id,
            sid: grant.session_id,
        };
        let access_token = self.mint_access_token(&claims)?;
        let scopes = scope_list(&grant.scope);
        let id_token = if scopes.contains(&"openid") {
            let hash = Sha256::digest(access_token.as_bytes());
            let mut id = json!({
                "iss": self.settings.issuer,
                "sub": claims.sub,
                "aud": client.client_id,
                "exp": (issued + ID_TOKEN_TTL).unix_timestamp(),
                "iat": claims.iat,
                "auth_time": grant.auth_time.unix_timestamp(),
                "at_hash": URL_SAFE_NO_PAD.encode(&hash[..16]),
                "tenant_id": grant.tenant_id,
                "roles": claims.roles,
            });
            if let Some(sid) = grant.session_id {
                id["sid"] = json!(sid);
            }
            if let Some(n) = nonce {
                id["nonce"] = json!(n);
            }
            if scopes.contains(&"email") {
                id["email"] = json!(grant.email);
                id["email_verified"] = json!(grant.email_verified);
            }
            if scopes.contains(&"profile") {
                id["name"] = json!(grant.name);
            }
            Some(self.sign(SigningAlg::Rs256, "JWT", &id)?)
        } else {
            None
        };
        let (refresh_token, family_id) = if client.allows_grant("refresh_token") {
            let token = random_token();
            let (family_id, parent) = match family {
                Some((family, parent)) => (family, Some(parent)),
                None => (Uuid::now_v7(), None),
            };
            sqlx::query(
                "INSERT INTO oauth_refresh_tokens
                     (token_hash, family_id, parent_id, application_id, client_id, user_id, tenant_id,
                      session_id, scope, expires_at, access_jti, access_expires_at, auth_time)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + $10, $11, to_timestamp($12), $13)",
            )
            .bind(token_hash(&token))
            .bind(family_id)
            .bind(parent)
            .bind(client.application_id)
            .bind(&client.client_id)
            .bind(grant.user_id)
            .bind(grant.tenant_id)
            .bind(grant.session_id)
            .bind(&grant.scope)
            .bind(REFRESH_TOKEN_TTL)
            .bind(claims.jti)
            .bind(claims.exp as f64)
            .bind(grant.auth_time)
            .execute(&mut *conn)
            .await?;
            (Some(token), Some(family_id))
        } else {
            (None, None)
        };
        let response = TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: claims.exp - claims.iat,
            scope: claims.scope,
            refresh_token,
            id_token,
        };
        Ok((response, claims.jti, family_id))
    }

    async fn exchange_code(
        &self,
        ctx: &RequestContext,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let code = req
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
        let verifier = req
            .code_verifier
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
        let mut tx = self.pool.begin().await?;
        let row: Option<CodeRow> = sqlx::query_as(
            "SELECT c.client_id, c.user_id, c.tenant_id, c.session_id, c.redirect_uri, c.scope,
                    c.nonce, c.code_challenge, c.expires_at <= now() AS expired, c.used_at IS NOT NULL AS used,
                    c.issued_access_jti, c.issued_access_expires_at, c.issued_family_id, c.auth_time
               FROM oauth_authorization_codes c WHERE c.code_hash = $1 FOR UPDATE",
        )
        .bind(token_hash(code))
        .fetch_optional(&mut *tx)
        .await?;
        let invalid =
            || OAuthError::invalid_grant("the authorization code is invalid, expired or used");
        let Some(row) = row else {
            return Err(invalid());
        };
        if row.used {
            // RFC 6749 §4.1.2: a replayed code revokes the tokens it issued.
            if let Some(family) = row.issued_family_id {
                revoke_family(&mut tx, family).await?;
            }
            if let (Some(jti), Some(exp)) = (row.issued_access_jti, row.issued_access_expires_at) {
                revoke_access_tokens(&mut tx, &[(jti, exp)]).await?;
            }
            append_audit_entry(
                &mut tx,
                ctx,
                AuditEntry::new("oauth.code.replayed")
                    .tenant(row.tenant_id)
                    .actor(ActorType::Application, None)
                    .resource(format!("user:{}", row.user_id))
                    .meta("client_id", client.client_id.clone())
                    .failure(),
            )
            .await?;
            tx.commit().await?;
            return Err(invalid());
        }
        sqlx::query("UPDATE oauth_authorization_codes SET used_at = now() WHERE code_hash = $1")
            .bind(token_hash(code))
            .execute(&mut *tx)
            .await?;
        if row.expired || row.client_id != client.client_id {
            tx.commit().await?;
            return Err(invalid());
        }
        if req.redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
            tx.commit().await?;
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        if sha256_b64(verifier.as_bytes()) != row.code_challenge {
            tx.commit().await?;
            return Err(OAuthError::invalid_grant(
                "the PKCE code_verifier does not match",
            ));
        }
        let grant = match load_user_grant(
            &mut tx,
            row.user_id,
            &row.scope,
            row.session_id,
            row.auth_time,
        )
        .await?
        {
            Some(g) => g,
            None => {
                tx.commit().await?;
                return Err(OAuthError::invalid_grant(
                    "the account can no longer sign in",
                ));
            }
        };
        let (response, jti, family) = self
            .user_tokens(&mut tx, client, &grant, row.nonce.as_deref(), None)
            .await?;
        sqlx::query(
            "UPDATE oauth_authorization_codes
                SET issued_access_jti = $2, issued_access_expires_at = now() + $3, issued_family_id = $4
              WHERE code_hash = $1",
        )
        .bind(token_hash(code))
        .bind(jti)
        .bind(ACCESS_TOKEN_TTL)
        .bind(family)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(response)
    }

    async fn refresh(
        &self,
        ctx: &RequestContext,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = req
            .refresh_token
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
        let invalid =
            || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let mut tx = self.pool.begin().await?;
        let row: Option<RefreshRow> = sqlx::query_as(
            "SELECT id, family_id, client_id, user_id, tenant_id, session_id, scope, auth_time,
                    expires_at <= now() AS expired, used_at IS NOT NULL AS used, revoked_at IS NOT NULL AS revoked
               FROM oauth_refresh_tokens WHERE token_hash = $1 FOR UPDATE",
        )
        .bind(token_hash(presented))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(invalid());
        };
        if row.client_id != client.client_id {
            return Err(invalid());
        }
        if row.used && !row.revoked {
            // Reuse detection: someone holds a copy. The whole family dies.
            let count = revoke_family(&mut tx, row.family_id).await?;
            append_audit_entry(
                &mut tx,
                ctx,
                AuditEntry::new("oauth.refresh_token.reuse")
                    .tenant(row.tenant_id)
                    .actor(ActorType::Application, None)
                    .resource(format!("user:{}", row.user_id))
                    .meta("client_id", client.client_id.clone())
                    .meta("family", row.family_id.to_string())
                    .meta("revoked_count", count)
                    .failure(),
            )
            .await?;
            tx.commit().await?;
            return Err(invalid());
        }
        if row.used || row.revoked || row.expired {
            return Err(invalid());
        }
        let scope = match req
            .scope
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => row.scope.clone(),
            Some(raw) => {
                let granted = scope_list(&row.scope);
                let asked = scope_list(raw);
                if let Some(bad) = asked.iter().find(|s| !granted.contains(s)) {
                    return Err(OAuthError::new(
                        OAuthErrorCode::InvalidScope,
                        format!("the scope '{bad}' was not granted"),
                    ));
                }
                asked.join(" ")
            }
        };
        sqlx::query("UPDATE oauth_refresh_tokens SET used_at = now() WHERE id = $1")
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        let auth_time = row.auth_time.unwrap_or_else(now);
        let Some(grant) =
            load_user_grant(&mut tx, row.user_id, &scope, row.session_id, auth_time).await?
        else {
            revoke_family(&mut tx, row.family_id).await?;
            tx.commit().await?;
            return Err(OAuthError::invalid_grant(
                "the account can no longer sign in",
            ));
        };
        let (response, _, _) = self
            .user_tokens(&mut tx, client, &grant, None, Some((row.family_id, row.id)))
            .await?;
        tx.commit().await?;
        Ok(response)
    }

    // ---- introspection and revocation ------------------------------------------------

    /// RFC 7662. Answers `{"active": false}` for anything not live, or not the caller's
    /// business: a token of another application is shown only to a client of an
    /// application acting for the token's tenant, or holding the `admin` scope.
    pub async fn introspect(&self, caller: &Client, token: &str) -> Result<Value, OAuthError> {
        let inactive = json!({"active": false});
        if token.matches('.').count() == 2 {
            let Ok(claims) = self.verify_access_token(token, None) else {
                return Ok(inactive);
            };
            if !self.may_see(caller, claims.application_id, claims.tenant_id) {
                return Ok(inactive);
            }
            let mut out = json!({
                "active": true,
                "token_type": "Bearer",
                "scope": claims.scope,
                "client_id": claims.client_id,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
                "tenant_id": claims.tenant_id,
                "roles": claims.roles,
            });
            if claims.user_id().is_some() {
                out["username"] = Value::Null;
            }
            return Ok(out);
        }
        let row: Option<LiveRefresh> = sqlx::query_as(
                "SELECT r.application_id, r.client_id, r.user_id, r.tenant_id, r.scope, r.expires_at, r.created_at
                   FROM oauth_refresh_tokens r
                   JOIN users u ON u.id = r.user_id AND u.status = 'active'
                   LEFT JOIN tenants t ON t.id = r.tenant_id
                  WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.revoked_at IS NULL
                    AND r.expires_at > now() AND coalesce(t.status, 'active') = 'active'",
            )
            .bind(token_hash(token))
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) if self.may_see(caller, r.application_id, r.tenant_id) => Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": r.scope,
                "client_id": r.client_id,
                "sub": r.user_id,
                "exp": r.expires_at.unix_timestamp(),
                "iat": r.created_at.unix_timestamp(),
                "iss": self.settings.issuer,
                "tenant_id": r.tenant_id,
            })),
            _ => Ok(inactive),
        }
    }

    fn may_see(&self, caller: &Client, application_id: Uuid, tenant_id: Option<Uuid>) -> bool {
        caller.application_id == application_id
            || caller.scopes.iter().any(|s| s == "admin")
            || tenant_id.is_some_and(|t| caller.tenants.iter().any(|(id, _)| *id == t))
    }

    /// RFC 7009: revokes an access token (by id) or a refresh token (with its family).
    /// Tokens of another client are left alone; the answer is the same either way.
    pub async fn revoke(
        &self,
        ctx: &RequestContext,
        caller: &Client,
        token: &str,
    ) -> Result<(), OAuthError> {
        let mut tx = self.pool.begin().await?;
        if token.matches('.').count() == 2 {
            if let Ok(claims) = self.decode_access_token(token) {
                if claims.client_id == caller.client_id {
                    let exp = OffsetDateTime::from_unix_timestamp(claims.exp)
                        .unwrap_or_else(|_| now() + ACCESS_TOKEN_TTL);
                    revoke_access_tokens(&mut tx, &[(claims.jti, exp)]).await?;
                    if let Ok(mut d) = self.denylist.write() {
                        d.apply(&format!("jti {} {}", claims.jti, claims.exp));
                    }
                }
            }
        } else {
            let family: Option<(Uuid, Option<Uuid>, Uuid)> = sqlx::query_as(
                "SELECT family_id, tenant_id, user_id FROM oauth_refresh_tokens
                  WHERE token_hash = $1 AND client_id = $2",
            )
            .bind(token_hash(token))
            .bind(&caller.client_id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((family, tenant, user)) = family {
                let count = revoke_family(&mut tx, family).await?;
                if count > 0 {
                    append_audit_entry(
                        &mut tx,
                        ctx,
                        AuditEntry::new("oauth.refresh_token.revoked")
                            .tenant(tenant)
                            .actor(ActorType::Application, None)
                            .resource(format!("user:{user}"))
                            .meta("client_id", caller.client_id.clone())
                            .meta("revoked_count", count),
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// OIDC Core §5.3: the claims about the user an access token with `openid` stands for.
    pub async fn userinfo(&self, claims: &AccessClaims) -> Result<Option<Value>, DomainError> {
        let Some(user_id) = claims.user_id() else {
            return Ok(None);
        };
        if !claims.has_scope("openid") {
            return Ok(None);
        }
        let mut conn = self.pool.acquire().await?;
        let Some(grant) = load_user_grant(&mut conn, user_id, &claims.scope, None, now()).await?
        else {
            return Ok(None);
        };
        let mut out =
            json!({"sub": claims.sub, "tenant_id": grant.tenant_id, "roles": [grant.role]});
        if claims.has_scope("email") {
            out["email"] = json!(grant.email);
            out["email_verified"] = json!(grant.email_verified);
        }
        if claims.has_scope("profile") {
            out["name"] = json!(grant.name);
        }
        Ok(Some(out))
    }

    /// Verifies an ID token this service issued (for `id_token_hint` at logout); expiry
    /// is not checked (OIDC RP-initiated logout §2).
    pub fn id_token_hint(&self, token: &str) -> Option<IdTokenHint> {
        let header = decode_header(token).ok()?;
        let keys = self.key_set().ok()?;
        let (alg, key) = keys.verifier(header.kid.as_deref()?)?;
        let mut validation = Validation::new(*alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_required_spec_claims(&["iss", "aud"]);
        let claims = decode::<Value>(token, key, &validation).ok()?.claims;
        let aud = claims.get("aud")?.as_str()?.to_owned();
        let sid = claims
            .get("sid")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok());
        let sub = claims.get("sub")?.as_str()?.parse().ok()?;
        Some(IdTokenHint {
            client_id: aud,
            user_id: sub,
            session_id: sid,
        })
    }

    /// The discovery document (OIDC Discovery §3, RFC 8414).
    pub fn discovery(&self) -> Value {
        let iss = &self.settings.issuer;
        json!({
            "issuer": iss,
            "authorization_endpoint": format!("{iss}/authorize"),
            "token_endpoint": format!("{iss}/auth/token"),
            "userinfo_endpoint": format!("{iss}/userinfo"),
            "jwks_uri": format!("{iss}/.well-known/jwks.json"),
            "revocation_endpoint": format!("{iss}/auth/revoke"),
            "introspection_endpoint": format!("{iss}/auth/introspect"),
            "end_session_endpoint": format!("{iss}/auth/logout"),
            "scopes_supported": SCOPES,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid",
                                 "email", "email_verified", "name", "tenant_id", "roles"],
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "authorization_response_iss_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "claims_parameter_supported": false,
        })
    }
}

/// What a verified `id_token_hint` says: which application it was issued to, for whom
/// and in which session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    pub client_id: String,
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
}

impl IdTokenHint {
    /// Whether the hint names the person and session being signed out: only then does it
    /// stand for their wish to sign out (an attacker's own ID token must not end a
    /// victim's session without asking).
    pub fn matches(&self, user_id: Uuid, session_id: Uuid) -> bool {
        self.user_id == user_id && self.session_id.is_none_or(|sid| sid == session_id)
    }
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    client_id: String,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    session_id: Option<Uuid>,
    redirect_uri: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: String,
    expired: bool,
    used: bool,
    issued_access_jti: Option<Uuid>,
    issued_access_expires_at: Option<OffsetDateTime>,
    issued_family_id: Option<Uuid>,
    auth_time: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    id: Uuid,
    family_id: Uuid,
    client_id: String,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    session_id: Option<Uuid>,
    scope: String,
    auth_time: Option<OffsetDateTime>,
    expired: bool,
    used: bool,
    revoked: bool,
}

#[derive(sqlx::FromRow)]
struct LiveRefresh {
    application_id: Uuid,
    client_id: String,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    scope: String,
    expires_at: OffsetDateTime,
    created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    tenant_id: Option<Uuid>,
    role: String,
    email: String,
    email_verified: bool,
    name: Option<String>,
}

/// What a user grant needs to know about the user, read when tokens are minted.
struct UserGrant {
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    session_id: Option<Uuid>,
    role: String,
    email: String,
    email_verified: bool,
    name: Option<String>,
    scope: String,
    auth_time: OffsetDateTime,
}

/// The user, if they may still receive tokens: active, in an active tenant.
async fn load_user_grant(
    conn: &mut PgConnection,
    user_id: Uuid,
    scope: &str,
    session_id: Option<Uuid>,
    auth_time: OffsetDateTime,
) -> Result<Option<UserGrant>, DomainError> {
    let row: Option<GrantRow> = sqlx::query_as(
        "SELECT u.tenant_id, u.role, u.email, u.email_verified_at IS NOT NULL AS email_verified, u.name
           FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
          WHERE u.id = $1 AND u.status = 'active' AND coalesce(t.status, 'active') = 'active'",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| UserGrant {
        user_id,
        tenant_id: r.tenant_id,
        session_id,
        role: r.role,
        email: r.email,
        email_verified: r.email_verified,
        name: r.name,
        scope: scope.to_owned(),
        auth_time,
    }))
}

/// Revokes a refresh-token family and the access tokens minted with it. Returns how
/// many refresh tokens it revoked.
async fn revoke_family(conn: &mut PgConnection, family: Uuid) -> Result<u64, DomainError> {
    let rows: Vec<(bool, Option<Uuid>, Option<OffsetDateTime>)> = sqlx::query_as(
        "UPDATE oauth_refresh_tokens SET revoked_at = coalesce(revoked_at, now())
          WHERE family_id = $1 RETURNING revoked_at = now(), access_jti, access_expires_at",
    )
    .bind(family)
    .fetch_all(&mut *conn)
    .await?;
    revoke_listed(conn, &rows).await
}

/// Refuses the access tokens of `rows` (revoked, access jti, its expiry) and counts the
/// refresh tokens they revoked.
async fn revoke_listed(
    conn: &mut PgConnection,
    rows: &[(bool, Option<Uuid>, Option<OffsetDateTime>)],
) -> Result<u64, DomainError> {
    let access: Vec<(Uuid, OffsetDateTime)> = rows
        .iter()
        .filter_map(|(_, jti, exp)| jti.zip(*exp))
        .collect();
    revoke_access_tokens(conn, &access).await?;
    Ok(rows.iter().filter(|r| r.0).count() as u64)
}

/// Whose refresh tokens to revoke.
#[derive(Debug, Clone)]
pub enum RefreshScope {
    User(Uuid),
    Tenant(Uuid),
    Application(Uuid),
    Client(String),
}

/// Revokes every live refresh token of a user, tenant, application or key. Returns how
/// many.
pub async fn revoke_refresh_tokens(
    conn: &mut PgConnection,
    scope: RefreshScope,
) -> Result<u64, DomainError> {
    let (column, id) = match &scope {
        RefreshScope::User(id) => ("user_id", id.to_string()),
        RefreshScope::Tenant(id) => ("tenant_id", id.to_string()),
        RefreshScope::Application(id) => ("application_id", id.to_string()),
        RefreshScope::Client(id) => ("client_id", id.clone()),
    };
    // The column is one of four fixed names, never input.
    let cast = if column == "client_id" {
        "$1"
    } else {
        "$1::uuid"
    };
    let sql = format!(
        "UPDATE oauth_refresh_tokens SET revoked_at = now()
          WHERE {column} = {cast} AND revoked_at IS NULL AND expires_at > now()"
    );
    Ok(sqlx::query(&sql)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// Whose application tokens [`revoke_session_tokens`] ends.
#[derive(Debug, Clone, Copy)]
pub enum SessionTokens {
    /// The tokens one session started (its sign-out or revocation).
    Of(Uuid),
    /// Those of every session of a user but one ("sign out everywhere else", a password
    /// change).
    AllBut { user_id: Uuid, keep: Uuid },
}

/// Ends the refresh-token families the chosen sessions started (a family is bound to the
/// session that signed in to the application) and every access token issued from them or
/// from their authorization codes, inside the caller's transaction. Returns how many
/// refresh tokens were revoked.
pub async fn revoke_session_tokens(
    conn: &mut PgConnection,
    which: SessionTokens,
) -> Result<u64, DomainError> {
    let (user, session, only) = match which {
        SessionTokens::Of(id) => (None, id, true),
        SessionTokens::AllBut { user_id, keep } => (Some(user_id), keep, false),
    };
    // `only`: the tokens of session $2; otherwise user $1's tokens of any other session.
    let rows: Vec<(bool, Option<Uuid>, Option<OffsetDateTime>)> = sqlx::query_as(
        "WITH fam AS (
             SELECT DISTINCT family_id FROM oauth_refresh_tokens
             WHERE ($1::uuid IS NULL OR user_id = $1) AND coalesce(session_id = $2, false) = $3
         ), revoked AS (
             UPDATE oauth_refresh_tokens SET revoked_at = now()
             WHERE family_id IN (SELECT family_id FROM fam) AND revoked_at IS NULL
             RETURNING id
         ), spent AS (
             -- A code not yet redeemed would mint tokens after the session ended.
             UPDATE oauth_authorization_codes SET used_at = now()
             WHERE used_at IS NULL AND ($1::uuid IS NULL OR user_id = $1)
               AND coalesce(session_id = $2, false) = $3
         )
         SELECT true, NULL::uuid, NULL::timestamptz FROM revoked
         UNION ALL
         SELECT false, access_jti, access_expires_at FROM oauth_refresh_tokens
         WHERE family_id IN (SELECT family_id FROM fam) AND access_expires_at > now()
         UNION ALL
         SELECT false, issued_access_jti, issued_access_expires_at FROM oauth_authorization_codes
         WHERE ($1::uuid IS NULL OR user_id = $1) AND coalesce(session_id = $2, false) = $3
           AND issued_access_expires_at > now()",
    )
    .bind(user)
    .bind(session)
    .bind(only)
    .fetch_all(&mut *conn)
    .await?;
    revoke_listed(conn, &rows).await
}

/// Ends every token of a user: refresh tokens revoked, access tokens refused. Called with
/// every revocation of all of a user's sessions (disable, delete, role change, reset).
pub async fn revoke_user_tokens(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<u64, DomainError> {
    let count = revoke_refresh_tokens(conn, RefreshScope::User(user_id)).await?;
    // Codes not yet redeemed would mint tokens past the cutoff below.
    sqlx::query(
        "UPDATE oauth_authorization_codes SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    deny_tokens(conn, Subject::User(user_id)).await?;
    Ok(count)
}

/// Ends every token of a tenant (suspension).
pub async fn revoke_tenant_tokens(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<u64, DomainError> {
    let count = revoke_refresh_tokens(conn, RefreshScope::Tenant(tenant_id)).await?;
    deny_tokens(conn, Subject::Tenant(tenant_id)).await?;
    crate::oauth::notify_tenants_changed(conn).await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_split_and_deduplicated() {
        assert_eq!(scope_list(" openid  email openid "), ["openid", "email"]);
        assert!(scope_list("").is_empty());
    }

    #[test]
    fn pkce_s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            sha256_b64(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn oauth_errors_answer_their_code() {
        assert_eq!(
            OAuthError::invalid_client().code,
            OAuthErrorCode::InvalidClient
        );
        assert_eq!(
            OAuthError::invalid_grant("x").body()["error"],
            "invalid_grant"
        );
    }
}
