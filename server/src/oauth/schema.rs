//! The shapes of the OAuth endpoints' requests and answers, for the OpenAPI document only:
//! the handlers read their forms and queries themselves (`parse_params`, which refuses a
//! repeated parameter) and the token service builds most answers as JSON values. These
//! types say what those look like; nothing parses into them or serialises them.
// Types that exist only to describe bodies in the document: never constructed.
#![allow(dead_code)]

use gatehouse_domain::oauth::OAuthErrorCode;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

// ---- errors --------------------------------------------------------------------------

/// An OAuth error (RFC 6749 §5.2): a code a client can act on and a description for its
/// developer. Answered with `Cache-Control: no-store`.
#[derive(ToSchema)]
#[schema(as = OAuthError)]
pub struct OAuthErrorBody {
    /// The error code.
    pub error: OAuthErrorCode,
    /// What went wrong, for the developer of the client (not meant for end users).
    pub error_description: String,
}

/// A bearer-token error of `/userinfo` (RFC 6750 §3.1). The same code and description are
/// in the `WWW-Authenticate: Bearer` challenge.
#[derive(ToSchema)]
pub struct BearerError {
    /// The error code.
    pub error: BearerErrorCode,
    /// What went wrong, for the developer of the client.
    pub error_description: String,
}

/// The error codes of `/userinfo`.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BearerErrorCode {
    /// The token is malformed, has an invalid signature, has expired, was not issued by
    /// this server or has been revoked.
    InvalidToken,
    /// The token does not stand for a person with the `openid` scope.
    InsufficientScope,
    /// The token service cannot answer now; try again shortly.
    TemporarilyUnavailable,
    /// The token service failed.
    ServerError,
}

// ---- discovery and keys --------------------------------------------------------------

/// The authorization server's metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).
#[derive(ToSchema)]
pub struct DiscoveryDocument {
    /// The issuer: the server's public URL, the `iss` of every token it signs.
    #[schema(format = "uri")]
    pub issuer: String,
    /// `{issuer}/authorize`.
    #[schema(format = "uri")]
    pub authorization_endpoint: String,
    /// `{issuer}/auth/token`.
    #[schema(format = "uri")]
    pub token_endpoint: String,
    /// `{issuer}/userinfo`.
    #[schema(format = "uri")]
    pub userinfo_endpoint: String,
    /// `{issuer}/.well-known/jwks.json`.
    #[schema(format = "uri")]
    pub jwks_uri: String,
    /// `{issuer}/auth/revoke` (RFC 7009).
    #[schema(format = "uri")]
    pub revocation_endpoint: String,
    /// `{issuer}/auth/introspect` (RFC 7662).
    #[schema(format = "uri")]
    pub introspection_endpoint: String,
    /// `{issuer}/auth/logout` (OpenID Connect RP-Initiated Logout 1.0).
    #[schema(format = "uri")]
    pub end_session_endpoint: String,
    /// Every scope an application may be granted.
    pub scopes_supported: Vec<String>,
    /// `["code"]`.
    pub response_types_supported: Vec<String>,
    /// `["query"]`.
    pub response_modes_supported: Vec<String>,
    /// `["authorization_code", "client_credentials", "refresh_token"]`.
    pub grant_types_supported: Vec<String>,
    /// `["public"]`.
    pub subject_types_supported: Vec<String>,
    /// `["RS256"]`.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// `["client_secret_basic", "client_secret_post"]`.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// `["client_secret_basic", "client_secret_post"]`.
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    /// `["client_secret_basic", "client_secret_post"]`.
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    /// `["S256"]`: PKCE is required, `plain` is refused.
    pub code_challenge_methods_supported: Vec<String>,
    /// The claims ID tokens and `/userinfo` may carry.
    pub claims_supported: Vec<String>,
    /// `["none", "login", "consent", "select_account"]`.
    pub prompt_values_supported: Vec<String>,
    /// `true`: authorization responses carry `iss` (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
    /// `false`: request objects are refused.
    pub request_parameter_supported: bool,
    /// `false`.
    pub request_uri_parameter_supported: bool,
    /// `false`.
    pub claims_parameter_supported: bool,
}

/// The public keys that verify the server's tokens (RFC 7517 §5): the active key of each
/// algorithm and retiring keys until every token they signed has expired. Match a token's
/// `kid` header to a key.
#[derive(ToSchema)]
pub struct JsonWebKeySet {
    pub keys: Vec<JsonWebKey>,
}

/// A public signing key (RFC 7517, RFC 7518 §6): RSA (`n`, `e`) or P-256 (`crv`, `x`, `y`).
#[derive(ToSchema)]
pub struct JsonWebKey {
    /// The key type.
    pub kty: KeyType,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
    /// The algorithm the key signs with: RS256 for ID tokens, ES256 (by default) or RS256
    /// for access tokens.
    pub alg: SigningAlgorithm,
    /// The key id, as in the `kid` header of the tokens it signed.
    pub kid: String,
    /// RSA: the modulus, base64url.
    #[schema(nullable = false)]
    pub n: Option<String>,
    /// RSA: the public exponent, base64url.
    #[schema(nullable = false)]
    pub e: Option<String>,
    /// EC: always `P-256`.
    #[schema(nullable = false)]
    pub crv: Option<String>,
    /// EC: the x coordinate, base64url.
    #[schema(nullable = false)]
    pub x: Option<String>,
    /// EC: the y coordinate, base64url.
    #[schema(nullable = false)]
    pub y: Option<String>,
}

#[derive(ToSchema)]
pub enum KeyType {
    #[serde(rename = "RSA")]
    Rsa,
    #[serde(rename = "EC")]
    Ec,
}

#[derive(ToSchema)]
pub enum SigningAlgorithm {
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "ES256")]
    Es256,
}

// ---- /authorize ----------------------------------------------------------------------

/// An authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core §3.1.2.1): in
/// the query of a GET or the form body of a POST. A parameter given twice is refused.
/// `request` and `request_uri` are refused (`request_not_supported`).
#[derive(ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeRequest {
    /// The application's client id.
    pub client_id: String,
    /// One of the application's registered redirect URIs, exactly.
    #[schema(format = "uri")]
    #[param(format = "uri")]
    pub redirect_uri: String,
    /// Always `code`.
    #[param(inline)]
    pub response_type: ResponseType,
    /// PKCE: the base64url SHA-256 of the code verifier (43 characters).
    #[schema(min_length = 43, max_length = 43, pattern = "^[A-Za-z0-9_-]{43}$")]
    #[param(min_length = 43, max_length = 43, pattern = "^[A-Za-z0-9_-]{43}$")]
    pub code_challenge: String,
    /// Always `S256`; `plain` is refused.
    #[param(inline)]
    pub code_challenge_method: CodeChallengeMethod,
    /// Space-separated scopes, each allowed for the application; `openid` when absent.
    #[schema(nullable = false)]
    pub scope: Option<String>,
    /// Returned unchanged with the code or the error.
    #[schema(nullable = false, max_length = 2048)]
    #[param(max_length = 2048)]
    pub state: Option<String>,
    /// Copied into the ID token.
    #[schema(nullable = false, max_length = 512)]
    #[param(max_length = 512)]
    pub nonce: Option<String>,
    /// `none`: answer `login_required` instead of asking anyone to sign in; `login`: ask
    /// for a fresh sign-in.
    #[schema(nullable = false)]
    #[param(inline)]
    pub prompt: Option<Prompt>,
    /// The longest time in seconds since the person signed in; an older sign-in is asked
    /// again.
    #[schema(nullable = false)]
    pub max_age: Option<u64>,
    /// The domain of the organization (tenant) to sign in to; a person signed in to
    /// another one is asked to sign in again.
    #[schema(nullable = false)]
    pub organization: Option<String>,
    /// The email address to offer on the sign-in page (also routes to the
    /// organization's identity provider).
    #[schema(nullable = false)]
    pub login_hint: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    Code,
}

#[derive(ToSchema)]
pub enum CodeChallengeMethod {
    #[serde(rename = "S256")]
    Sha256,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    None,
    Login,
    Consent,
    SelectAccount,
}

// ---- the client endpoints ------------------------------------------------------------

/// A token request (RFC 6749 §4.1.3, §4.4.2, §6). The client authenticates with HTTP
/// Basic (`client_secret_basic`) or with `client_id` and `client_secret` in this form
/// (`client_secret_post`), not both. A parameter given twice is refused.
#[derive(ToSchema)]
pub struct TokenForm {
    /// The grant, one the application is allowed.
    pub grant_type: GrantType,
    /// `authorization_code`: the code from `/authorize` (single use, valid 60 seconds).
    #[schema(nullable = false)]
    pub code: Option<String>,
    /// `authorization_code`: the redirect URI of the authorization request, exactly.
    #[schema(nullable = false)]
    pub redirect_uri: Option<String>,
    /// `authorization_code`: the PKCE code verifier.
    #[schema(nullable = false)]
    pub code_verifier: Option<String>,
    /// `refresh_token`: the refresh token (single use; a reused one revokes its family).
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
    /// `client_credentials`: space-separated scopes among the key's (all of them when
    /// absent). `refresh_token`: a subset of the granted scopes.
    #[schema(nullable = false)]
    pub scope: Option<String>,
    /// `client_credentials`: the domain of the tenant to act for (needed when the
    /// application acts for several tenants and the key is bound to none).
    #[schema(nullable = false)]
    pub tenant: Option<String>,
    /// Another name for `tenant`.
    #[schema(nullable = false)]
    pub organization: Option<String>,
    /// `client_secret_post`: the client id. With Basic it may be repeated here, and must
    /// then match.
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    /// `client_secret_post`: the client secret.
    #[schema(nullable = false)]
    pub client_secret: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
}

/// An introspection request (RFC 7662 §2.1), from an authenticated client (Basic, or
/// `client_id` and `client_secret` in this form). A parameter given twice is refused.
#[derive(ToSchema)]
pub struct IntrospectForm {
    /// An access token or a refresh token.
    pub token: String,
    /// Accepted and not needed: the kind of token is recognised.
    #[schema(nullable = false)]
    pub token_type_hint: Option<String>,
    /// `client_secret_post`: the client id.
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    /// `client_secret_post`: the client secret.
    #[schema(nullable = false)]
    pub client_secret: Option<String>,
}

/// A revocation request (RFC 7009 §2.1), from an authenticated client (Basic, or
/// `client_id` and `client_secret` in this form). A parameter given twice is refused.
#[derive(ToSchema)]
pub struct RevokeForm {
    /// The access token or refresh token to revoke. A refresh token is revoked with every
    /// token of its family.
    pub token: String,
    /// The kind of token; any other value is refused (`unsupported_token_type`).
    #[schema(nullable = false)]
    pub token_type_hint: Option<TokenTypeHint>,
    /// `client_secret_post`: the client id.
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    /// `client_secret_post`: the client secret.
    #[schema(nullable = false)]
    pub client_secret: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenTypeHint {
    AccessToken,
    RefreshToken,
}

/// What a token is (RFC 7662 §2.2). `{"active": false}` alone for a token that is unknown,
/// expired, revoked, or none of the caller's business: a client sees the tokens of its own
/// application, of the tenants its application acts for, or any with the `admin` scope.
#[derive(ToSchema)]
pub struct Introspection {
    /// Whether the token is live.
    pub active: bool,
    /// `Bearer` for an access token, `refresh_token` for a refresh token.
    #[schema(nullable = false)]
    pub token_type: Option<String>,
    /// The space-separated scopes granted.
    #[schema(nullable = false)]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    /// The person's id, or the client id for an application's own token.
    #[schema(nullable = false)]
    pub sub: Option<String>,
    /// Access tokens: the audiences.
    #[schema(nullable = false)]
    pub aud: Option<Vec<String>>,
    /// The issuer.
    #[schema(nullable = false)]
    pub iss: Option<String>,
    /// Expiry, seconds since the epoch.
    #[schema(nullable = false)]
    pub exp: Option<i64>,
    /// Issue time, seconds since the epoch.
    #[schema(nullable = false)]
    pub iat: Option<i64>,
    /// Access tokens: the token id.
    #[schema(nullable = false)]
    pub jti: Option<Uuid>,
    /// The tenant the token acts for; `null` for a platform user or a tenantless token.
    pub tenant_id: Option<Uuid>,
    /// Access tokens: the person's roles (empty for an application's own token).
    #[schema(nullable = false)]
    pub roles: Option<Vec<String>>,
    /// Access tokens of a person: always `null`.
    pub username: Option<String>,
}

// ---- /userinfo -----------------------------------------------------------------------

/// The claims about the person a token stands for (OpenID Connect Core §5.3), by the
/// scopes granted: `email` adds `email` and `email_verified`, `profile` adds `name`.
#[derive(ToSchema)]
pub struct UserInfo {
    /// The person's id.
    pub sub: String,
    /// The person's tenant; `null` for a platform user.
    pub tenant_id: Option<Uuid>,
    /// The person's role, as a one-element list.
    pub roles: Vec<String>,
    /// With `email`.
    #[schema(nullable = false)]
    pub email: Option<String>,
    /// With `email`.
    #[schema(nullable = false)]
    pub email_verified: Option<bool>,
    /// With `profile`; `null` when the person has not given one.
    pub name: Option<String>,
}

// ---- /auth/logout --------------------------------------------------------------------

/// An RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2). A parameter given
/// twice is refused.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutQuery {
    /// An ID token this server issued to the application (its expiry is not checked). When
    /// it names the person and session signed in on this browser, they are signed out
    /// without being asked.
    pub id_token_hint: Option<String>,
    /// The application's client id; must be the `aud` of `id_token_hint` when both are
    /// given.
    pub client_id: Option<String>,
    /// Where to send the browser afterwards: one of the application's registered
    /// post-logout redirect URIs (needs `client_id` or `id_token_hint`).
    #[param(format = "uri")]
    pub post_logout_redirect_uri: Option<String>,
    /// Returned unchanged on `post_logout_redirect_uri`.
    pub state: Option<String>,
}

/// The refusals of the endpoints a client authenticates to (token, introspection,
/// revocation); each lists its own `400` after it.
#[derive(utoipa::IntoResponses)]
pub enum ClientRefusals {
    #[response(
        status = 401,
        description = "`invalid_client`: client authentication failed (unknown client, wrong secret, no credentials)",
        headers(("WWW-Authenticate" = String, description = "`Basic realm=\"gatehouse\"`"))
    )]
    InvalidClient(OAuthErrorBody),
    #[response(
        status = 413,
        description = "The body exceeds the server's limit",
        content_type = "text/plain"
    )]
    TooLarge(String),
    #[response(
        status = 415,
        description = "The body is not `application/x-www-form-urlencoded`",
        content_type = "text/plain"
    )]
    NotAForm(String),
    #[response(status = 500, description = "`server_error`: the token service failed")]
    ServerError(OAuthErrorBody),
    #[response(
        status = 503,
        description = "`temporarily_unavailable`: try again shortly"
    )]
    Unavailable(OAuthErrorBody),
}
