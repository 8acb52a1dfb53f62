//! Adaptive authentication (NFR-SEC-006; SPEC §3): the signals that make a sign-in ask
//! for the second factor even when the tenant's policy would not — a device without the
//! trusted-device cookie, a network the account has not signed in from, recent failed
//! attempts — and the trusted-device and known-network records behind them.
//!
//! A trusted device is a browser that completed a second factor: it gets a random 256-bit
//! token in a long-lived cookie, stored here only as SHA-256, valid for 30 days. A network
//! is the client address's /24 (IPv4) or /48 (IPv6), remembered at each full sign-in.

use crate::{random_token, token_hash, DomainError};
use secrecy::SecretString;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use std::net::IpAddr;
use time::Duration;
use uuid::Uuid;

/// How long a device stays trusted after a second factor.
pub const TRUSTED_DEVICE_LIFETIME: Duration = Duration::days(30);

/// Why a sign-in was asked for the second factor; recorded in the audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskSignal {
    /// The browser does not carry a valid trusted-device cookie for this account.
    NewDevice,
    /// The account has not signed in from this network before.
    NewNetwork,
    /// Failed attempts on this account within the throttling window.
    RecentFailures,
}

impl RiskSignal {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskSignal::NewDevice => "new_device",
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

/// The risk signals of a sign-in by `user_id` from `ip` with the given trusted-device
/// cookie, after `recent_failures` failed attempts on the account.
pub async fn risk_signals(
    pool: &PgPool,
    user_id: Uuid,
    ip: Option<IpAddr>,
    device_token: Option<&str>,
    recent_failures: i32,
) -> Result<Vec<RiskSignal>, DomainError> {
    let trusted: bool = match device_token {
        Some(token) => {
            sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM trusted_devices
                            WHERE token_hash = $1 AND user_id = $2 AND expires_at > now())",
            )
            .bind(token_hash(token))
            .bind(user_id)
            .fetch_one(pool)
            .await?
        }
        None => false,
    };
    let known_network: bool = match ip {
        Some(ip) => sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM known_networks WHERE user_id = $1 AND network = $2::cidr)",
        )
        .bind(user_id)
        .bind(network_of(ip))
        .fetch_one(pool)
        .await?,
        None => true,
    };
    let mut signals = Vec::new();
    if !trusted {
        signals.push(RiskSignal::NewDevice);
    }
    if !known_network {
        signals.push(RiskSignal::NewNetwork);
    }
    if recent_failures > 0 {
        signals.push(RiskSignal::RecentFailures);
    }
    Ok(signals)
}

/// Remembers the network of a completed sign-in.
pub async fn remember_network(
    conn: &mut PgConnection,
    user_id: Uuid,
    ip: Option<IpAddr>,
) -> Result<(), DomainError> {
    let Some(ip) = ip else { return Ok(()) };
    sqlx::query(
        "INSERT INTO known_networks (user_id, network) VALUES ($1, $2::cidr)
         ON CONFLICT (user_id, network) DO UPDATE SET last_seen = now()",
    )
    .bind(user_id)
    .bind(network_of(ip))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks this browser as trusted for the account after a second factor; the token goes
/// into the trusted-device cookie and is never stored.
pub async fn trust_device(
    conn: &mut PgConnection,
    user_id: Uuid,
    user_agent: Option<&str>,
) -> Result<SecretString, DomainError> {
    let token = random_token();
    sqlx::query(
        "INSERT INTO trusted_devices (user_id, token_hash, user_agent, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(user_id)
    .bind(token_hash(&token))
    .bind(user_agent.map(|ua| ua.chars().take(512).collect::<String>()))
    .bind(TRUSTED_DEVICE_LIFETIME.whole_seconds() as f64)
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
}
