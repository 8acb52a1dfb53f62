//! The error server functions return. Domain errors map to a message a person can act on;
//! unexpected failures are logged on the server and reach the browser only as a generic
//! sentence (never a database message).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub message: String,
}

impl AppError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let message = match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                // Bad input, not a server failure: 400, not the default 500.
                #[cfg(feature = "ssr")]
                set_status(http::StatusCode::BAD_REQUEST);
                "the form was incomplete; please try again"
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                "the server could not be reached; please try again"
            }
            _ => "something went wrong; please try again",
        };
        Self::new(message)
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// A refusal of the input (HTTP 422), e.g. two passwords that differ.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::with_status(http::StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// A refusal with its HTTP status (server functions answer 500 for every error
    /// otherwise).
    pub fn with_status(status: http::StatusCode, message: impl Into<String>) -> Self {
        set_status(status);
        Self::new(message)
    }

    /// A refusal after `leptos_axum::redirect`: a page keeps the redirect's 302, a server
    /// function called over HTTP answers `status` (its client follows the redirect header).
    pub fn redirected(status: http::StatusCode, message: impl Into<String>) -> Self {
        let called = leptos::prelude::use_context::<http::request::Parts>()
            .is_some_and(|p| p.uri.path().starts_with("/_rpc/"));
        if called {
            set_status(status);
        }
        Self::new(message)
    }

    /// The caller is not (or no longer) signed in: 401.
    pub fn signed_out() -> Self {
        Self::with_status(
            http::StatusCode::UNAUTHORIZED,
            "your session has ended; please sign in again",
        )
    }
}

/// Sets this response's status, so a refused form is a 4xx and not a server error in the
/// logs and metrics (server functions answer 500 for every error otherwise).
#[cfg(feature = "ssr")]
fn set_status(status: http::StatusCode) {
    if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(status);
    }
}

/// The one table from a domain error to HTTP: its status and its SPEC §9 code. Every door
/// answers through it: the REST API, server functions and pages, the passkey endpoints and
/// the CSV export.
#[cfg(feature = "ssr")]
pub fn status_of(err: &gatehouse_domain::DomainError) -> (http::StatusCode, &'static str) {
    use gatehouse_domain::DomainError as E;
    use http::StatusCode as S;
    match err {
        E::Unauthenticated(_) => (S::UNAUTHORIZED, "ERR_AUTH"),
        E::PermissionDenied(_) => (S::FORBIDDEN, "ERR_PERMISSION_DENIED"),
        E::NotFound(_) => (S::NOT_FOUND, "ERR_NOT_FOUND"),
        E::Gone(_) => (S::GONE, "ERR_GONE"),
        E::Conflict { .. } => (S::CONFLICT, "ERR_CONFLICT"),
        E::Validation(_) => (S::UNPROCESSABLE_ENTITY, "ERR_VALIDATION"),
        E::Locked { .. } => (S::LOCKED, "ERR_RESOURCE_LOCKED"),
        E::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "ERR_RATE_LIMIT"),
        E::Unavailable(_) => (S::SERVICE_UNAVAILABLE, "ERR_UNAVAILABLE"),
        E::Unexpected(_) => (S::INTERNAL_SERVER_ERROR, "ERR_INTERNAL"),
    }
}

/// Seconds a client should wait before trying again, for the errors that say so.
#[cfg(feature = "ssr")]
pub fn retry_after_of(err: &gatehouse_domain::DomainError) -> Option<u64> {
    use gatehouse_domain::DomainError as E;
    match err {
        E::Locked {
            retry_after_secs, ..
        }
        | E::RateLimited {
            retry_after_secs, ..
        } => Some(*retry_after_secs),
        E::Unavailable(_) => Some(1),
        _ => None,
    }
}

/// Logs what a 5xx answer hides, once, where the answer is made: the request's span
/// carries its id. The cause chain of an unexpected error; the reason of an unavailable
/// service.
#[cfg(feature = "ssr")]
pub fn log_failure(err: &gatehouse_domain::DomainError) {
    use gatehouse_domain::DomainError as E;
    match err {
        E::Unexpected(cause) => tracing::error!(error = format!("{cause:#}"), "unexpected error"),
        E::Unavailable(reason) => tracing::warn!(reason = %reason, "service unavailable"),
        _ => {}
    }
}

#[cfg(feature = "ssr")]
impl From<gatehouse_domain::DomainError> for AppError {
    fn from(err: gatehouse_domain::DomainError) -> Self {
        use gatehouse_domain::DomainError as E;
        if let (Some(secs), Some(res)) = (
            retry_after_of(&err),
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        ) {
            if let Ok(value) = http::HeaderValue::from_str(&secs.to_string()) {
                res.insert_header(http::header::RETRY_AFTER, value);
            }
        }
        set_status(status_of(&err).0);
        log_failure(&err);
        match err {
            E::Validation(details) => Self::new(
                details
                    .into_iter()
                    .map(|d| d.message)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            E::Unexpected(_) => Self::new("something went wrong; please try again"),
            other => Self::new(other.to_string()),
        }
    }
}
