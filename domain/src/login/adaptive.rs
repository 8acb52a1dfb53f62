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

use super::geo::{impossible_travel, locate, unusual_hour, utc_hour, Country};
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
    /// The sign-in comes from a country the person never signed in from.
    NewCountry,
    /// The last sign-in was from a country no flight reaches in the time since.
    ImpossibleTravel,
    /// The hour is outside the person's usual ones (learned from their last 30 days).
    UnusualHour,
}

impl RiskSignal {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskSignal::NewDevice => "new_device",
            RiskSignal::UntrustedDevice => "untrusted_device",
            RiskSignal::NewNetwork => "new_network",
            RiskSignal::RecentFailures => "recent_failures",
            RiskSignal::NewCountry => "new_country",
            RiskSignal::ImpossibleTravel => "impossible_travel",
            RiskSignal::UnusualHour => "unusual_hour",
        }
    }
}

/// Where a sign-in comes from, against where the person signed in before (NFR-SEC-006):
/// the signals, and the countries that explain them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocationRisk {
    pub signals: Vec<RiskSignal>,
    /// The sign-in's country, when the address is placed.
    pub country: Option<Country>,
    /// The country of the last sign-in, when travel from it is impossible.
    pub from: Option<Country>,
}

impl LocationRisk {
    /// The reasons as recorded on the pending session: `new_country:FR`,
    /// `impossible_travel:JP:FR`, `unusual_hour`.
    pub fn reasons(&self) -> Vec<String> {
        let code = |c: Option<Country>| c.map(|c| c.as_str()).unwrap_or("");
        self.signals
            .iter()
            .map(|s| match s {
                RiskSignal::NewCountry => format!("new_country:{}", code(self.country)),
                RiskSignal::ImpossibleTravel => {
                    format!(
                        "impossible_travel:{}:{}",
                        code(self.from),
                        code(self.country)
                    )
                }
                other => other.as_str().to_owned(),
            })
            .collect()
    }
}

/// Signs-ins weighed for a person's habits: their last 180 days of completed sign-ins.
const HISTORY_DAYS: i32 = 180;
/// The usual hours are learned from the last 30 days.
const USUAL_HOURS_DAYS: i64 = 30;

/// The location signals of a sign-in from `ip` now, among those the tenant has on
/// (`enabled`), from the person's completed sign-ins (their sessions' addresses). A person
/// with no placed sign-in yet has no "new" country: every first sign-in would be one.
pub async fn location_risk(
    pool: &sqlx::PgPool,
    user_id: Uuid,
    ip: Option<IpAddr>,
    enabled: &[String],
) -> Result<LocationRisk, DomainError> {
    let Some(country) = ip.and_then(locate) else {
        return Ok(LocationRisk::default());
    };
    let history: Vec<(String, time::OffsetDateTime)> = sqlx::query_as(
        "SELECT host(ip), created_at FROM sessions
          WHERE user_id = $1 AND mfa_verified_at IS NOT NULL AND ip IS NOT NULL
            AND created_at > now() - make_interval(days => $2)
          ORDER BY created_at DESC LIMIT 500",
    )
    .bind(user_id)
    .bind(HISTORY_DAYS)
    .fetch_all(pool)
    .await?;
    let now = time::OffsetDateTime::now_utc();
    let placed: Vec<(Country, time::OffsetDateTime)> = history
        .iter()
        .filter_map(|(ip, at)| Some((locate(ip.parse().ok()?)?, *at)))
        .collect();
    let on = |s: RiskSignal| enabled.iter().any(|e| e == s.as_str());
    let mut risk = LocationRisk {
        country: Some(country),
        ..LocationRisk::default()
    };
    if on(RiskSignal::NewCountry)
        && !placed.is_empty()
        && !placed.iter().any(|(c, _)| *c == country)
    {
        risk.signals.push(RiskSignal::NewCountry);
    }
    if let Some((last, at)) = placed.first() {
        if on(RiskSignal::ImpossibleTravel) && impossible_travel((*last, *at), (country, now)) {
            risk.signals.push(RiskSignal::ImpossibleTravel);
            risk.from = Some(*last);
        }
    }
    if on(RiskSignal::UnusualHour) {
        let hours: Vec<u8> = history
            .iter()
            .filter(|(_, at)| now - *at < Duration::days(USUAL_HOURS_DAYS))
            .map(|(_, at)| utc_hour(*at))
            .collect();
        if unusual_hour(&hours, utc_hour(now)) {
            risk.signals.push(RiskSignal::UnusualHour);
        }
    }
    Ok(risk)
}

/// A recorded reason in the person's words ("New country: France"), or `None` for the
/// reasons the page says otherwise.
pub fn describe_reason(reason: &str) -> Option<String> {
    let mut parts = reason.split(':');
    let name = |code: Option<&str>| {
        code.and_then(|c| Country::parse(c).ok())
            .map(|c| c.name().to_owned())
            .unwrap_or_else(|| "an unknown country".into())
    };
    Some(match parts.next()? {
        "new_device" => "A device you have not used here before".into(),
        "untrusted_device" => "This browser is not trusted yet".into(),
        "new_network" => "A network you have not signed in from before".into(),
        "recent_failures" => "Recent failed attempts on your account".into(),
        "new_country" => format!("New country: {}", name(parts.next())),
        "impossible_travel" => {
            let from = name(parts.next());
            let to = name(parts.next());
            format!("Impossible travel: {from}, then {to} soon after")
        }
        "unusual_hour" => "An unusual hour for you".into(),
        _ => return None,
    })
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
