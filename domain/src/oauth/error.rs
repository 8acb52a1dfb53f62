//! OAuth error responses (RFC 6749 §4.1.2.1, §5.2; RFC 7009 §2.2.1; OpenID Connect Core
//! §3.1.2.6): a typed code and a description. Which HTTP status a code gets is the server's.

use super::*;

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
