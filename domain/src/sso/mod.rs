//! Tenant single sign-on (FR-AUTH-001, FR-AUTH-003, UC-TENANT-SSO, SPEC §3): each tenant's
//! own OpenID provider. Gatehouse is the relying party.
//!
//! - `connections`: the owner's wizard (discovery, client, test, activation, mapping);
//! - `domains`: email domains proven by a DNS TXT record, which route sign-ins;
//! - `flow`: the authorization code + PKCE + nonce round trip and the ID token check;
//! - `accounts`: who the verified claims are (keyed by connection, `iss`, `sub`), linking,
//!   just-in-time creation and the group → role mapping;
//! - `http`, `discovery`, `dns`: the hardened client every call to an IdP goes through.
//!
//! The sign-in itself (sessions, second factor) is `login::sso`, one layer up.

mod accounts;
mod connections;
mod discovery;
mod dns;
mod domains;
mod flow;
mod http;
mod platform;

pub use accounts::*;
pub use connections::*;
pub use discovery::*;
pub use dns::*;
pub use domains::*;
pub use flow::*;
pub use http::*;
pub use platform::*;

/// What SSO needs from the deployment: the client that talks to identity providers and
/// the resolver that checks domain records.
#[derive(Clone)]
pub struct SsoContext {
    pub http: IdpHttp,
    pub dns: DnsSettings,
    /// Identity providers on loopback or private networks are allowed (development and
    /// tests only: `GATEHOUSE_SSO_ALLOW_PRIVATE_IDP`).
    pub allow_private: bool,
}

impl SsoContext {
    pub fn new(policy: HttpPolicy, dns: DnsSettings) -> Result<Self, crate::DomainError> {
        let allow_private = policy.allow_private;
        let http = IdpHttp::new(&policy)
            .map_err(|e| crate::DomainError::Unexpected(anyhow::anyhow!("SSO HTTP client: {e}")))?;
        Ok(Self {
            http,
            dns,
            allow_private,
        })
    }
}

/// The redirect URI registered at the provider for one connection.
pub fn redirect_uri(public_url: &str, connection_id: uuid::Uuid) -> String {
    format!(
        "{}/sso/{connection_id}/callback",
        public_url.trim_end_matches('/')
    )
}
