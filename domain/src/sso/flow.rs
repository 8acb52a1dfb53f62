//! The relying party's round trip (FR-AUTH-003, SPEC §3, OIDC Core §3.1): authorization
//! code with PKCE S256, `state` and `nonce`, through the `openidconnect` crate.
//!
//! The flow's state lives on the server for ten minutes: only the hash of `state` is the
//! key, the PKCE verifier is sealed, and the browser that started it holds a binding
//! secret (a cookie) whose hash must match at the callback. The row is deleted when the
//! callback reads it, so a replayed `state` finds nothing. The ID token is checked for
//! signature (the provider's JWKS, fetched again at most once a minute on an unknown
//! `kid`), `iss`, `aud`, `azp`, `exp`, `nonce`, and `at_hash` when present; an RFC 9207
//! `iss` response parameter must match, and is required when the provider says it sends it.

use crate::crypto::MasterKeys;
use crate::permissions::Actor;
use crate::DomainError;
use base64::Engine as _;
use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, LoginHint,
    Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::connections::{load, open_secret};
use super::domains::require_sso_admin;
use super::{fetch_jwks, redirect_uri, Connection, ConnectionStatus, Discovered, SsoContext};

/// How long a flow waits for the provider to send the browser back.
pub const FLOW_MINUTES: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowPurpose {
    SignIn,
    /// The owner's test sign-in: nobody is created or changed.
    Test,
}

impl FlowPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::Test => "test",
        }
    }
}

/// A started flow: where to send the browser, and the secret its cookie keeps.
#[derive(Debug)]
pub struct Started {
    pub authorize_url: String,
    pub browser_secret: SecretString,
}

/// What the provider's redirect brought back.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The ID token's claims, after every check passed.
#[derive(Debug, Clone)]
pub struct IdClaims {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub groups: Vec<String>,
    pub amr: Vec<String>,
    /// The whole payload, shown to the owner after a test sign-in.
    pub raw: Value,
}

impl IdClaims {
    /// Whether the provider says it checked a second factor (`amr`, RFC 8176).
    pub fn multi_factor(&self) -> bool {
        const SECOND: &[&str] = &[
            "mfa", "otp", "hwk", "swk", "sms", "fido", "face", "fpt", "iris", "retina", "vbm",
            "tel", "sc",
        ];
        self.amr.iter().any(|m| SECOND.contains(&m.as_str()))
    }
}

/// A callback whose checks all passed.
#[derive(Debug)]
pub struct Verified {
    pub connection: Connection,
    pub purpose: FlowPurpose,
    pub return_to: Option<String>,
    pub tester_id: Option<Uuid>,
    pub claims: IdClaims,
}

/// Why a callback was refused: a stable code for the audit entry and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoFailure {
    /// Unknown, replayed, expired or another browser's `state`.
    BadState,
    ConnectionInactive,
    /// The provider answered with an error (`access_denied`, ...).
    IdpError {
        error: String,
    },
    IssMismatch,
    IssMissing,
    TokenExchange(String),
    NoIdToken,
    UnknownKey,
    BadSignature,
    BadNonce,
    BadAudience,
    BadIssuer,
    TokenExpired,
    AtHashMismatch,
    InvalidToken(String),
    ProviderUnreachable(String),
}

impl SsoFailure {
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadState => "bad_state",
            Self::ConnectionInactive => "connection_inactive",
            Self::IdpError { .. } => "idp_error",
            Self::IssMismatch => "iss_mismatch",
            Self::IssMissing => "iss_missing",
            Self::TokenExchange(_) => "token_exchange",
            Self::NoIdToken => "no_id_token",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::BadNonce => "bad_nonce",
            Self::BadAudience => "bad_audience",
            Self::BadIssuer => "bad_issuer",
            Self::TokenExpired => "token_expired",
            Self::AtHashMismatch => "at_hash_mismatch",
            Self::InvalidToken(_) => "invalid_token",
            Self::ProviderUnreachable(_) => "idp_unreachable",
        }
    }

    /// Detail for the audit entry (never a secret: provider error codes and our checks).
    pub fn detail(&self) -> Option<String> {
        match self {
            Self::IdpError { error } => Some(error.clone()),
            Self::TokenExchange(d) | Self::InvalidToken(d) | Self::ProviderUnreachable(d) => {
                Some(d.clone())
            }
            _ => None,
        }
    }
}

/// A refused callback: the failure and, when the flow was found, whose it was.
#[derive(Debug)]
pub struct Refused {
    pub connection: Option<Connection>,
    pub purpose: Option<FlowPurpose>,
    pub return_to: Option<String>,
    pub failure: SsoFailure,
}

fn verifier_aad(state_hash: &[u8]) -> String {
    format!("sso_pkce:{}", hex::encode(state_hash))
}

/// Starts a flow: a sign-in through an active connection, or the owner's test of a
/// configured one. `return_to` must already be a safe local path.
#[allow(clippy::too_many_arguments)]
pub async fn start_flow(
    pool: &PgPool,
    keys: &MasterKeys,
    public_url: &str,
    connection_id: Uuid,
    purpose: FlowPurpose,
    tester: Option<&Actor>,
    return_to: Option<&str>,
    login_hint: Option<&str>,
) -> Result<Started, DomainError> {
    let mut conn = pool.acquire().await?;
    let (connection, sealed) = load(&mut conn, "c.id", connection_id, false)
        .await?
        .ok_or(DomainError::NotFound("SSO connection"))?;
    match purpose {
        FlowPurpose::SignIn => {
            // The platform's connection has no tenant to be suspended.
            let tenant_active: bool = sqlx::query_scalar(
                "SELECT $1::uuid IS NULL OR EXISTS (SELECT 1 FROM tenants WHERE id = $1 AND status = 'active')",
            )
            .bind(connection.tenant_id)
            .fetch_one(&mut *conn)
            .await?;
            if connection.status != ConnectionStatus::Active || !tenant_active {
                return Err(DomainError::NotFound("SSO connection"));
            }
        }
        FlowPurpose::Test => {
            let tester =
                tester.ok_or_else(|| DomainError::Unauthenticated("sign in first".into()))?;
            // The platform's connection is the deployment's, tested by its operators.
            let tenant = connection
                .tenant_id
                .ok_or(DomainError::NotFound("SSO connection"))?;
            require_sso_admin(tester, tenant)?;
        }
    }
    let (Some(client_id), Some(sealed)) = (connection.client_id.as_deref(), sealed) else {
        return Err(DomainError::Conflict {
            message: "enter the client id and secret first".into(),
            field: Some("client_id".into()),
        });
    };
    let secret = open_secret(keys, connection.tenant_id, &sealed)?;
    let redirect = redirect_uri(public_url, connection.id);
    let client = build(&connection.discovered, client_id, &secret, &redirect)?;

    let state = crate::random_token();
    let nonce = crate::random_token();
    let browser = crate::random_token();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (state_for_url, nonce_for_url) = (state.clone(), nonce.clone());
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(state_for_url),
            move || Nonce::new(nonce_for_url),
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge);
    if connection
        .discovered
        .scopes_supported
        .iter()
        .any(|s| s == &connection.mapping.groups_claim)
    {
        request = request.add_scope(Scope::new(connection.mapping.groups_claim.clone()));
    }
    if let Some(hint) = login_hint.filter(|h| !h.is_empty() && h.len() <= 254) {
        request = request.set_login_hint(LoginHint::new(hint.to_owned()));
    }
    if purpose == FlowPurpose::Test {
        // The owner may test with another account than the one signed in at the provider.
        request = request.add_prompt(CoreAuthPrompt::Login);
    }
    let (url, _, _) = request.url();

    let state_hash = crate::token_hash(&state);
    let sealed_verifier = keys.encrypt(verifier.secret().as_bytes(), &verifier_aad(&state_hash))?;
    sqlx::query(
        "INSERT INTO sso_flows (state_hash, connection_id, purpose, browser_hash, nonce,
                                pkce_verifier_ciphertext, return_to, tester_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(mins => $9))",
    )
    .bind(&state_hash)
    .bind(connection.id)
    .bind(purpose.as_str())
    .bind(crate::token_hash(&browser))
    .bind(&nonce)
    .bind(&sealed_verifier)
    .bind(return_to)
    .bind(tester.map(|t| t.user_id))
    .bind(FLOW_MINUTES as i32)
    .execute(&mut *conn)
    .await?;
    // Flows nobody finished are swept as new ones start.
    sqlx::query("DELETE FROM sso_flows WHERE expires_at < now() - interval '1 hour'")
        .execute(&mut *conn)
        .await?;
    Ok(Started {
        authorize_url: url.to_string(),
        browser_secret: SecretString::from(browser),
    })
}

/// Builds the `openidconnect` client from what discovery stored.
fn build(
    discovered: &Discovered,
    client_id: &str,
    secret: &SecretString,
    redirect: &str,
) -> Result<
    openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    DomainError,
> {
    let metadata: CoreProviderMetadata = serde_json::from_value(discovered.metadata.clone())
        .map_err(|e| anyhow::anyhow!("stored provider metadata: {e}"))?;
    let jwks: CoreJsonWebKeySet = serde_json::from_value(discovered.jwks.clone())
        .map_err(|e| anyhow::anyhow!("stored JWK set: {e}"))?;
    let basic = discovered
        .metadata
        .get("token_endpoint_auth_methods_supported")
        .and_then(Value::as_array)
        .is_none_or(|m| m.iter().any(|v| v == "client_secret_basic"));
    Ok(CoreClient::from_provider_metadata(
        metadata.set_jwks(jwks),
        ClientId::new(client_id.to_owned()),
        Some(ClientSecret::new(secret.expose_secret().to_owned())),
    )
    .set_redirect_uri(
        RedirectUrl::new(redirect.to_owned()).map_err(|e| anyhow::anyhow!("redirect URI: {e}"))?,
    )
    .set_auth_type(if basic {
        AuthType::BasicAuth
    } else {
        AuthType::RequestBody
    }))
}

#[derive(sqlx::FromRow)]
struct FlowRow {
    connection_id: Uuid,
    purpose: String,
    browser_hash: Vec<u8>,
    nonce: String,
    pkce_verifier_ciphertext: Vec<u8>,
    return_to: Option<String>,
    tester_id: Option<Uuid>,
    live: bool,
}

/// Finishes a flow at its callback: consumes the state, then checks the provider's
/// answer and the ID token. Nothing is written besides the consumed flow (and a JWK set
/// fetched again); the caller records the outcome.
pub async fn finish_flow(
    pool: &PgPool,
    keys: &MasterKeys,
    sso: &SsoContext,
    public_url: &str,
    connection_id: Uuid,
    callback: Callback,
    browser_secret: Option<&str>,
) -> Result<Result<Verified, Refused>, DomainError> {
    let refuse = |connection: Option<Connection>, flow: Option<&FlowRow>, failure| {
        Ok(Err(Refused {
            connection,
            purpose: flow.map(|f| {
                if f.purpose == "test" {
                    FlowPurpose::Test
                } else {
                    FlowPurpose::SignIn
                }
            }),
            return_to: flow.and_then(|f| f.return_to.clone()),
            failure,
        }))
    };
    let mut conn = pool.acquire().await?;
    let loaded = load(&mut conn, "c.id", connection_id, false).await?;
    let Some(state) = callback
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 200)
    else {
        return refuse(loaded.map(|(c, _)| c), None, SsoFailure::BadState);
    };
    let state_hash = crate::token_hash(state);
    let flow: Option<FlowRow> = sqlx::query_as(
        "DELETE FROM sso_flows WHERE state_hash = $1
         RETURNING connection_id, purpose, browser_hash, nonce, pkce_verifier_ciphertext, return_to,
                   tester_id, expires_at > now() AS live",
    )
    .bind(&state_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((connection, sealed)) = loaded else {
        return refuse(None, flow.as_ref(), SsoFailure::BadState);
    };
    let Some(flow) = flow else {
        return refuse(Some(connection), None, SsoFailure::BadState);
    };
    let same_browser = browser_secret.is_some_and(|b| crate::token_hash(b) == flow.browser_hash);
    if flow.connection_id != connection.id || !flow.live || !same_browser {
        return refuse(Some(connection), Some(&flow), SsoFailure::BadState);
    }
    let purpose = if flow.purpose == "test" {
        FlowPurpose::Test
    } else {
        FlowPurpose::SignIn
    };
    // RFC 9207: the answer must come from the provider this flow went to.
    match callback.iss.as_deref() {
        Some(iss) if iss != connection.issuer => {
            return refuse(Some(connection), Some(&flow), SsoFailure::IssMismatch)
        }
        None if connection.discovered.iss_parameter_supported => {
            return refuse(Some(connection), Some(&flow), SsoFailure::IssMissing)
        }
        _ => {}
    }
    if let Some(error) = callback.error.as_deref() {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        return refuse(
            Some(connection),
            Some(&flow),
            SsoFailure::IdpError { error },
        );
    }
    if purpose == FlowPurpose::SignIn && connection.status != ConnectionStatus::Active {
        return refuse(
            Some(connection),
            Some(&flow),
            SsoFailure::ConnectionInactive,
        );
    }
    let (Some(code), Some(client_id), Some(sealed)) = (
        callback.code.as_deref(),
        connection.client_id.as_deref(),
        sealed,
    ) else {
        return refuse(Some(connection), Some(&flow), SsoFailure::BadState);
    };
    let secret = open_secret(keys, connection.tenant_id, &sealed)?;
    let verifier = keys.decrypt(&flow.pkce_verifier_ciphertext, &verifier_aad(&state_hash))?;
    let verifier =
        String::from_utf8(verifier).map_err(|_| anyhow::anyhow!("PKCE verifier is not UTF-8"))?;
    let redirect = redirect_uri(public_url, connection.id);
    let client = build(&connection.discovered, client_id, &secret, &redirect)?;
    let exchange = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| anyhow::anyhow!("token endpoint: {e}"))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&sso.http)
        .await;
    let response = match exchange {
        Ok(r) => r,
        Err(openidconnect::RequestTokenError::Request(e)) => {
            return refuse(
                Some(connection),
                Some(&flow),
                SsoFailure::ProviderUnreachable(e.code().to_owned()),
            )
        }
        Err(openidconnect::RequestTokenError::ServerResponse(e)) => {
            return refuse(
                Some(connection),
                Some(&flow),
                SsoFailure::TokenExchange(e.error().to_string()),
            )
        }
        Err(other) => {
            let detail = match other {
                openidconnect::RequestTokenError::Parse(_, _) => {
                    "unreadable token response".to_owned()
                }
                _ => "token request failed".to_owned(),
            };
            return refuse(
                Some(connection),
                Some(&flow),
                SsoFailure::TokenExchange(detail),
            );
        }
    };
    let Some(id_token) = response.id_token() else {
        return refuse(Some(connection), Some(&flow), SsoFailure::NoIdToken);
    };
    let nonce = Nonce::new(flow.nonce.clone());
    let mut checked = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .cloned();
    let mut client = client;
    if matches!(
        checked,
        Err(
            openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey
            )
        )
    ) {
        // An unknown `kid`: the provider may have rotated its keys. Fetch them again, at
        // most once a minute per connection, so a stream of bad tokens cannot make us a
        // request amplifier.
        if let Some(jwks) = refetch_jwks(pool, sso, &connection).await? {
            let mut discovered = connection.discovered.clone();
            discovered.jwks = jwks;
            client = build(&discovered, client_id, &secret, &redirect)?;
            checked = id_token
                .claims(&client.id_token_verifier(), &nonce)
                .cloned();
        }
    }
    let claims = match checked {
        Ok(c) => c,
        Err(e) => {
            use openidconnect::ClaimsVerificationError as C;
            use openidconnect::SignatureVerificationError as S;
            let failure = match e {
                C::SignatureVerification(S::NoMatchingKey) => SsoFailure::UnknownKey,
                C::SignatureVerification(_) => SsoFailure::BadSignature,
                C::InvalidNonce(_) => SsoFailure::BadNonce,
                C::InvalidAudience(_) => SsoFailure::BadAudience,
                C::InvalidIssuer(_) => SsoFailure::BadIssuer,
                C::Expired(_) => SsoFailure::TokenExpired,
                other => SsoFailure::InvalidToken(other.to_string().chars().take(200).collect()),
            };
            return refuse(Some(connection), Some(&flow), failure);
        }
    };
    if let Some(expected) = claims.access_token_hash() {
        let verifier = client.id_token_verifier();
        let actual = id_token
            .signing_alg()
            .ok()
            .zip(id_token.signing_key(&verifier).ok())
            .and_then(|(alg, key)| {
                AccessTokenHash::from_token(response.access_token(), alg, key).ok()
            });
        if actual.as_ref() != Some(expected) {
            return refuse(Some(connection), Some(&flow), SsoFailure::AtHashMismatch);
        }
    }
    let raw = payload(&id_token.to_string()).unwrap_or(Value::Null);
    if let Some(azp) = raw.get("azp").and_then(Value::as_str) {
        if azp != client_id {
            return refuse(Some(connection), Some(&flow), SsoFailure::BadAudience);
        }
    }
    let strings = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .take(200)
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let claims = IdClaims {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        email: raw.get("email").and_then(Value::as_str).map(str::to_owned),
        email_verified: raw
            .get("email_verified")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        name: raw.get("name").and_then(Value::as_str).map(str::to_owned),
        groups: strings(raw.get(&connection.mapping.groups_claim)),
        amr: strings(raw.get("amr")),
        raw,
    };
    Ok(Ok(Verified {
        connection,
        purpose,
        return_to: flow.return_to,
        tester_id: flow.tester_id,
        claims,
    }))
}

/// The payload of a compact JWS whose signature was already checked.
fn payload(jwt: &str) -> Option<Value> {
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Fetches the connection's JWK set again when the last fetch is over a minute old, and
/// keeps it. `None` when rate limited or unreachable.
async fn refetch_jwks(
    pool: &PgPool,
    sso: &SsoContext,
    connection: &Connection,
) -> Result<Option<Value>, DomainError> {
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "UPDATE sso_connections SET jwks_fetched_at = now()
         WHERE id = $1 AND jwks_fetched_at < now() - interval '1 minute' RETURNING id",
    )
    .bind(connection.id)
    .fetch_optional(pool)
    .await?;
    if claimed.is_none() {
        return Ok(None);
    }
    let Ok(jwks) = fetch_jwks(&sso.http, &connection.discovered.jwks_uri).await else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE sso_connections SET discovery = jsonb_set(discovery, '{jwks}', $2) WHERE id = $1",
    )
    .bind(connection.id)
    .bind(&jwks)
    .execute(pool)
    .await?;
    Ok(Some(jwks))
}
