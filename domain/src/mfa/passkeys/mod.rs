//! Passkeys: WebAuthn credentials through webauthn-rs (NFR-SEC-003, CON-SEC-005; SPEC §3).
//!
//! Three ceremonies use them: registering one from the account page, signing in with one
//! alone (passwordless: the authenticator offers a discoverable credential and names the
//! account), and proving one as the second factor of a password sign-in.
//!
//! Every ceremony takes two requests. `start_*` asks webauthn-rs for the options the
//! browser hands to `navigator.credentials`, and parks webauthn-rs's state in
//! `webauthn_challenges` for five minutes; `finish_*` takes that state back (single use,
//! whatever the outcome) and lets webauthn-rs verify the browser's answer: origin,
//! relying-party id, challenge, signature, user verification and the signature counter.
//! A stored passkey is webauthn-rs's serialised `Passkey` (public key, counter, backup
//! flags): nothing in it is secret. Its user handle is the user's id, which is how a
//! passwordless sign-in learns the account; the credential must still belong to it.
//!
//! Every registration, removal and rename is audited with the change; every failed
//! sign-in ceremony is audited as a failure. Starting a ceremony is not audited: it
//! changes nothing but a five-minute row, and anyone may start a passwordless one.

mod ceremony;
mod manage;
mod register;
mod second_factor;
mod sign_in;
use ceremony::*;
pub use manage::*;
pub use register::*;
pub use second_factor::*;
pub use sign_in::*;

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::error::unique_violation;
use crate::types::{Role, TenantStatus, UserStatus};
use crate::users::SignInRefusal;
use crate::DomainError;
use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, Url, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

pub use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Webauthn,
};

/// How long a started ceremony can be finished.
pub const CEREMONY_LIFETIME: Duration = Duration::minutes(5);
/// The name a passkey gets when its owner gives none.
pub const DEFAULT_PASSKEY_NAME: &str = "Passkey";
/// The longest passkey name (the column's check).
pub const MAX_PASSKEY_NAME_CHARS: usize = 100;

/// Said for every failed passkey sign-in: which check failed is audited, not told.
const NOT_VERIFIED: &str =
    "the passkey could not be verified; try again or use another way to sign in";
const EXPIRED: &str = "this passkey request has expired or was already used; please try again";

/// What a person calls one of their passkeys: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(DomainError::validation("name", "give the passkey a name"));
        }
        if name.chars().count() > MAX_PASSKEY_NAME_CHARS {
            return Err(DomainError::validation(
                "name",
                format!("a passkey name has at most {MAX_PASSKEY_NAME_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::validation(
                "name",
                "a passkey name cannot contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// A blank or missing name becomes [`DEFAULT_PASSKEY_NAME`].
    pub fn parse_or_default(raw: Option<&str>) -> Result<Self, DomainError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(Self::default()),
            Some(name) => Self::parse(name),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for PasskeyName {
    fn default() -> Self {
        Self(DEFAULT_PASSKEY_NAME.to_owned())
    }
}

impl AsRef<str> for PasskeyName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A started ceremony: the options for `navigator.credentials.create`/`get` (serialised,
/// they are `{"publicKey": {...}}` with binary fields as base64url), and the id the
/// browser sends back with its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Ceremony<T> {
    pub challenge_id: Uuid,
    pub options: T,
}

/// One registered passkey, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PasskeySummary {
    pub id: Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// The relying party for the URL people reach Gatehouse at: its host is the RP id (e.g.
/// `localhost`, `login.example.com`) and its origin the only origin accepted. Browsers
/// offer WebAuthn only to a host name (not an IP address) in a secure context (HTTPS, or
/// `http://localhost`).
pub fn webauthn_for(public_url: &str) -> Result<Webauthn, DomainError> {
    let unavailable = |why: &str| {
        DomainError::Unavailable(format!(
            "passkeys are not available: {why} (GATEHOUSE_PUBLIC_URL is {public_url})"
        ))
    };
    let url = Url::parse(public_url.trim())
        .map_err(|_| unavailable("the public URL is not a valid URL"))?;
    // The origin alone: a public URL with a path still has the same origin.
    let origin = Url::parse(&url.origin().ascii_serialization())
        .map_err(|_| unavailable("the public URL has no origin"))?;
    let rp_id = origin
        .domain()
        .ok_or_else(|| unavailable("the public URL must name a host, not an IP address"))?;
    WebauthnBuilder::new(rp_id, &origin)
        .and_then(|builder| builder.rp_name("Gatehouse").build())
        .map_err(|_| unavailable("the public URL cannot be a WebAuthn relying party"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkey_names_are_trimmed_bounded_and_default() {
        assert_eq!(PasskeyName::parse("  Laptop ").unwrap().as_str(), "Laptop");
        assert_eq!(
            PasskeyName::parse_or_default(Some("   ")).unwrap().as_str(),
            DEFAULT_PASSKEY_NAME
        );
        assert_eq!(
            PasskeyName::parse_or_default(None).unwrap(),
            PasskeyName::default()
        );
        assert!(PasskeyName::parse("").is_err());
        assert!(PasskeyName::parse(&"é".repeat(100)).is_ok());
        assert!(PasskeyName::parse(&"é".repeat(101)).is_err());
        assert!(PasskeyName::parse("tab\there").is_err());
    }

    #[test]
    fn the_relying_party_is_the_public_host() {
        assert!(webauthn_for("http://localhost:3000").is_ok());
        assert!(webauthn_for("https://login.example.com/").is_ok());
        assert!(webauthn_for("https://login.example.com/gatehouse").is_ok());
        for bad in ["http://127.0.0.1:3000", "not a url", ""] {
            assert!(
                matches!(webauthn_for(bad), Err(DomainError::Unavailable(_))),
                "{bad:?}"
            );
        }
    }
}
