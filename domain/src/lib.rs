//! Gatehouse's business rules and persistence.
//!
//! Every operation is a plain async function over a `PgPool` or a transaction it is
//! handed; it validates, checks the caller's permission, writes the change together with
//! its audit entry in one transaction and returns `Result<T, DomainError>`. No HTTP here.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod apps;
pub mod audit;
pub mod crypto;
pub mod cursor;
pub mod demo;
pub mod email;
pub mod error;
pub mod flags;
pub mod login;
pub mod mfa;
pub mod oauth;
pub mod passwords;
pub mod permissions;
pub mod sessions;
pub mod tenants;
pub mod types;
pub mod users;

pub use error::{DomainError, FieldError};

/// The schema migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// SHA-256 of a token, as stored for session ids, reset tokens, API key secrets, ...
pub fn token_hash(token: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A fresh random token: 32 bytes, URL-safe base64 without padding (43 characters).
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A case-insensitive "contains" pattern for SQL `LIKE` over lowercased columns, with the
/// wildcards of the search text escaped; `None` for an empty search.
pub(crate) fn contains_pattern(search: Option<&str>) -> Option<String> {
    let s = search.map(str::trim).filter(|s| !s.is_empty())?;
    Some(format!(
        "%{}%",
        s.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    ))
}
