//! OAuth error responses (RFC 6749 §4.1.2.1, §5.2; RFC 7009 §2.2.1; OpenID Connect Core
//! §3.1.2.6): a typed code and a description. Which HTTP status a code gets is the server's.

use super::*;

/// The error codes of OAuth 2.0 (RFC 6749 §4.1.2.1, §5.2; RFC 7009 §2.2.1) and OpenID
/// Connect (Core §3.1.2.6) that Gatehouse answers. Which HTTP status each gets is the
/// server's business.
// The schema's names are `as_str`'s: snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    /// A parameter is missing, invalid or repeated.
    InvalidRequest,
    /// Client authentication failed (HTTP 401 with a `Basic` challenge).
    InvalidClient,
    /// The code or refresh token is invalid, expired, used, revoked or another client's,
    /// or the PKCE verifier or redirect URI does not match.
    InvalidGrant,
    /// The application may not use this grant, or may not act for that tenant.
    UnauthorizedClient,
    /// The grant type is not one of `authorization_code`, `client_credentials`,
    /// `refresh_token`.
    UnsupportedGrantType,
    /// `/authorize`: only `response_type=code` is supported.
    UnsupportedResponseType,
    /// Revocation: `token_type_hint` is neither `access_token` nor `refresh_token`.
    UnsupportedTokenType,
    /// A scope was not granted to the application or key.
    InvalidScope,
    /// `/authorize`: the person may not sign in to this application or organization.
    AccessDenied,
    /// `/authorize` with `prompt=none`: a sign-in would be needed.
    LoginRequired,
    /// `/authorize`: request objects (`request`, `request_uri`) are not supported.
    RequestNotSupported,
    /// The token service failed (HTTP 500).
    ServerError,
    /// The token service cannot answer now; try again shortly (HTTP 503).
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
