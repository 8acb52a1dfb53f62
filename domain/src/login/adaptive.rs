//! Adaptive authentication (NFR-SEC-006; SPEC §3): the signals that make a sign-in ask
//! for the second factor even when the tenant's policy would not — a device without the
//! trusted-device cookie, a network the account has not signed in from, recent failed
//! attempts — and the trusted-device and known-network records behind them.
//!
//! A trusted device is a browser that completed a second factor: it gets a random 256-bit
//! token in a long-lived cookie, stored here only as SHA-256, valid for 30 days. A browser
//! that completed a sign-in without a second factor gets such a token too, marked as not
//! trusted: it is a known device (no new-device notice) but never skips a second factor.
//! A network is the client address's /24 (IPv4) or /48 (IPv6), remembered at each full
//! sign-in.

use crate::{random_token, token_hash, DomainError};
use secrecy::SecretString;
use serde::Serialize;
use sqlx::PgConnection;
use std::net::IpAddr;
use time::Duration;
use uuid::Uuid;

/// How long a device stays trusted after a second factor.
pub const TRUSTED_DEVICE_LIFETIME: Duration = Duration::days(30);

/// Why a sign-in was asked for the second factor; recorded in the audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskSignal {
    /// The browser carries no valid device token for this account.
    NewDevice,
    /// The browser is known from a sign-in without a second factor, so it is not trusted
    /// (only a risk for an account that has a factor).
    UntrustedDevice,
    /// The account has not signed in from this network before.
    NewNetwork,
    /// Failed attempts on this account within the throttling window.
    RecentFailures,
}

impl RiskSignal {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskSignal::NewDevice => "new_device",
            RiskSignal::UntrustedDevice => "untrusted_device",
            RiskSignal::NewNetwork => "new_network",
            RiskSignal::RecentFailures => "recent_failures",
        }
    }
}

/// The network an address belongs to, as stored in `known_networks`.
pub fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// The risk signals of a sign-in, from what the records say about its client: `device`
/// is the browser's device token (`None`: no valid token of this account; `Some(false)`:
/// known from a sign-in without a second factor; `Some(true)`: trusted), `known_network`
/// whether the account signed in from this network before, `recent_failures` the failed
/// attempts on the account before this one. The sign-in reads the records in its own
/// query (`login::begin_sign_in`).
pub fn risk_signals(
    device: Option<bool>,
    known_network: bool,
    recent_failures: i32,
) -> Vec<RiskSignal> {
    let mut signals = Vec::new();
    match device {
        None => signals.push(RiskSignal::NewDevice),
        Some(false) => signals.push(RiskSignal::UntrustedDevice),
        Some(true) => {}
    }
    if !known_network {
        signals.push(RiskSignal::NewNetwork);
    }
    if recent_failures > 0 {
        signals.push(RiskSignal::RecentFailures);
    }
    signals
}

/// Marks this browser as trusted for the account after a second factor; the token goes
/// into the trusted-device cookie and is never stored.
pub async fn trust_device(
    conn: &mut PgConnection,
    user_id: Uuid,
    user_agent: Option<&str>,
) -> Result<SecretString, DomainError> {
    device_token(conn, user_id, user_agent, true).await
}

/// Remembers a browser that completed a sign-in without a second factor: its next sign-in
/// is not from a new device, but it is not trusted. Returns the token for its cookie.
pub async fn remember_device(
    conn: &mut PgConnection,
    user_id: Uuid,
    user_agent: Option<&str>,
) -> Result<SecretString, DomainError> {
    device_token(conn, user_id, user_agent, false).await
}

async fn device_token(
    conn: &mut PgConnection,
    user_id: Uuid,
    user_agent: Option<&str>,
    second_factor: bool,
) -> Result<SecretString, DomainError> {
    let token = random_token();
    sqlx::query(
        "INSERT INTO trusted_devices (user_id, token_hash, user_agent, expires_at, second_factor)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)",
    )
    .bind(user_id)
    .bind(token_hash(&token))
    .bind(user_agent.map(|ua| ua.chars().take(512).collect::<String>()))
    .bind(TRUSTED_DEVICE_LIFETIME.whole_seconds() as f64)
    .bind(second_factor)
    .execute(&mut *conn)
    .await?;
    Ok(SecretString::from(token))
}

/// Forgets every trusted device of a user (password reset, MFA reset).
pub async fn forget_devices(conn: &mut PgConnection, user_id: Uuid) -> Result<u64, DomainError> {
    Ok(
        sqlx::query("DELETE FROM trusted_devices WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_the_slash_24_or_slash_48() {
        assert_eq!(network_of("192.0.2.77".parse().unwrap()), "192.0.2.0/24");
        assert_eq!(
            network_of("2001:db8:abcd:12::1".parse().unwrap()),
            "2001:db8:abcd::/48"
        );
    }

    #[test]
    fn only_a_trusted_device_on_a_known_network_without_failures_is_free_of_risk() {
        use RiskSignal::*;
        assert_eq!(risk_signals(Some(true), true, 0), vec![]);
        assert_eq!(risk_signals(None, true, 0), vec![NewDevice]);
        assert_eq!(risk_signals(Some(false), true, 0), vec![UntrustedDevice]);
        assert_eq!(
            risk_signals(None, false, 2),
            vec![NewDevice, NewNetwork, RecentFailures]
        );
    }
}
