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
impl From<gatehouse_domain::DomainError> for AppError {
    fn from(err: gatehouse_domain::DomainError) -> Self {
        use gatehouse_domain::DomainError as E;
        match err {
            E::Validation(details) => Self::new(
                details
                    .into_iter()
                    .map(|d| d.message)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            E::Unexpected(e) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    "unexpected error in a server function"
                );
                Self::new("something went wrong; please try again")
            }
            other => Self::new(other.to_string()),
        }
    }
}
