//! The one error type every domain operation returns. The server maps it to the SPEC §9
//! body (REST) or to the server-function error (pages); 5xx details never leave the server.

use serde::Serialize;

/// One violated rule, named by the input field it concerns (`events[3].quantity` for a
/// field inside a list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Missing, malformed, expired or revoked credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but the role does not allow it.
    #[error("{0}")]
    PermissionDenied(String),
    /// Absent, or belonging to another tenant (existence never leaks).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Existed once and was deleted (archived).
    #[error("{0}")]
    Gone(String),
    #[error("{message}")]
    Conflict {
        message: String,
        field: Option<String>,
    },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Temporarily locked (brute-force protection); retry after the given seconds.
    #[error("{message}")]
    Locked {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl DomainError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            field: Some(field.into()),
        }
    }
}

impl From<sqlx::Error> for DomainError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                Self::Unavailable("the database is not reachable right now".into())
            }
            _ => Self::Unexpected(anyhow::Error::new(err).context("database operation failed")),
        }
    }
}

/// The name of the unique constraint a database error violated, if it is one.
pub fn unique_violation(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) if db.is_unique_violation() => db.constraint(),
        _ => None,
    }
}
