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

mod authorize;
mod clients;
mod denials;
mod error;
mod grants;
mod introspect;
mod signing_keys;
mod token;
pub use authorize::*;
pub use clients::*;
pub use denials::*;
pub use error::*;
pub use grants::*;
pub use introspect::*;
pub use signing_keys::*;
pub use token::*;

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::crypto::MasterKeys;
use crate::{random_token, token_hash, DomainError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{decode, decode_header, Validation};
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
/// every use), at most this many. An entry is about 1 KiB, so the cache stays near 20 MiB
/// however many tokens are issued: with a 100,000 cap the soak's 80 grants a second grew
/// the server by 5 MB a minute for 20 minutes (issue 21). When full, the expired entries
/// go; when that frees less than a quarter, the cache starts over (a miss costs one
/// signature check).
const VERIFIED_CACHE_LIMIT: usize = 20_000;

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
    /// The service's pool, for the endpoints' side queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

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
        keys.signer(alg)?
            .sign_jwt(typ, claims)
            .map_err(|e| DomainError::Unexpected(e.context("signing failed")))
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
                        let at = now().unix_timestamp();
                        v.retain(|_, c| c.exp > at);
                        if v.len() >= VERIFIED_CACHE_LIMIT * 3 / 4 {
                            v.clear();
                        }
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

    // ---- token endpoint -------------------------------------------------------------

    // ---- introspection and revocation ------------------------------------------------

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
