//! TXT lookups for proving control of an email domain (DNS-verified email domains).
//!
//! A tenant proves it owns a domain by publishing a TXT record; the owner clicks "verify"
//! right after adding it, so nothing here may answer from a cache filled by an earlier
//! attempt. Each call builds its own resolver with no response cache, which is cheap next to
//! the network round trip and keeps one tenant's lookups apart from another's.
//!
//! "No such record" and "could not ask" are kept apart: the first tells the owner to check
//! what they published, the second to try again later.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{Name, RData};
use hickory_resolver::{Resolver, TokioResolver};

/// Where TXT lookups go.
#[derive(Debug, Clone, Default)]
pub struct DnsSettings {
    /// `GATEHOUSE_DNS_SERVER`: one name server asked over UDP and TCP. `None` uses the
    /// system configuration (`/etc/resolv.conf`).
    pub server: Option<SocketAddr>,
}

/// Why a TXT lookup gave no records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsFailure {
    /// The name does not exist (NXDOMAIN) or has no TXT record.
    #[error("no TXT record was found")]
    NoRecord,
    /// Timeout, SERVFAIL, refused, unreachable server, invalid name.
    #[error("the DNS lookup failed: {0}")]
    Failed(String),
}

/// Per query, per attempt.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPTS: usize = 2;
/// A bound on the whole lookup, whatever the system configuration lists: several name
/// servers times attempts times timeouts must not hold a request open for minutes.
const LOOKUP_DEADLINE: Duration = Duration::from_secs(15);

/// The TXT records at `name`, each record's character-strings joined into one string
/// (RFC 7208 §3.3 joins them the same way for long values).
pub async fn txt_records(settings: &DnsSettings, name: &str) -> Result<Vec<String>, DnsFailure> {
    let name = fully_qualified(name)?;
    let resolver = build_resolver(settings)?;
    let lookup = match tokio::time::timeout(LOOKUP_DEADLINE, resolver.txt_lookup(name)).await {
        Err(_) => {
            return Err(DnsFailure::Failed(
                "the DNS servers did not answer in time".into(),
            ))
        }
        // NXDOMAIN, or NOERROR with no answer: hickory reports both as "no records found".
        Ok(Err(e)) if e.is_no_records_found() => return Err(DnsFailure::NoRecord),
        Ok(Err(e)) => return Err(DnsFailure::Failed(e.to_string())),
        Ok(Ok(lookup)) => lookup,
    };
    // The answer may also hold the CNAME records that led to the TXT records.
    let records: Vec<String> = lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|part| String::from_utf8_lossy(part))
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect();
    if records.is_empty() {
        Err(DnsFailure::NoRecord)
    } else {
        Ok(records)
    }
}

/// Makes the name absolute so the resolver never appends a search domain from
/// `/etc/resolv.conf` (`_gatehouse.example.com.corp.internal`).
fn fully_qualified(name: &str) -> Result<Name, DnsFailure> {
    let trimmed = name.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(DnsFailure::Failed("no domain name was given".into()));
    }
    let mut parsed = Name::from_utf8(trimmed)
        .map_err(|_| DnsFailure::Failed(format!("\"{trimmed}\" is not a valid DNS name")))?;
    parsed.set_fqdn(true);
    Ok(parsed)
}

fn build_resolver(settings: &DnsSettings) -> Result<TokioResolver, DnsFailure> {
    let mut builder = match settings.server {
        Some(server) => {
            let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
            for connection in &mut name_server.connections {
                connection.port = server.port();
            }
            let mut builder = Resolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![name_server]),
                TokioRuntimeProvider::default(),
            );
            // The configured server is the only source of truth, not /etc/hosts.
            builder.options_mut().use_hosts_file = ResolveHosts::Never;
            builder
        }
        None => TokioResolver::builder_tokio().map_err(|e| {
            DnsFailure::Failed(format!(
                "the system DNS configuration could not be read: {e}"
            ))
        })?,
    };
    let options = builder.options_mut();
    options.timeout = QUERY_TIMEOUT;
    options.attempts = ATTEMPTS;
    // A record added a moment ago must be seen, and a "not found" a moment ago forgotten.
    options.cache_size = 0;
    // A lost or mangled UDP answer is retried over TCP before the lookup counts as failed
    // (truncated answers go to TCP regardless).
    options.try_tcp_on_error = true;
    builder
        .build()
        .map_err(|e| DnsFailure::Failed(format!("the DNS resolver could not be set up: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_absolute() {
        let name = fully_qualified("_gatehouse.example.com").unwrap();
        assert!(name.is_fqdn());
        assert_eq!(name.to_ascii(), "_gatehouse.example.com.");
        let name = fully_qualified(" example.com. ").unwrap();
        assert_eq!(name.to_ascii(), "example.com.");
    }

    #[test]
    fn empty_names_are_refused() {
        assert!(matches!(fully_qualified("  "), Err(DnsFailure::Failed(_))));
        assert!(matches!(fully_qualified("."), Err(DnsFailure::Failed(_))));
    }

    #[tokio::test]
    async fn a_configured_server_builds_a_resolver() {
        let settings = DnsSettings {
            server: Some("127.0.0.1:5353".parse().unwrap()),
        };
        assert!(build_resolver(&settings).is_ok());
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_failure_not_a_missing_record() {
        // Nothing answers DNS on the discard port; the lookup must end as Failed within the
        // configured timeouts rather than claim the record does not exist.
        let settings = DnsSettings {
            server: Some("127.0.0.1:9".parse().unwrap()),
        };
        let result = txt_records(&settings, "_gatehouse.example.com").await;
        assert!(matches!(result, Err(DnsFailure::Failed(_))), "{result:?}");
    }
}
