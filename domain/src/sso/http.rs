//! The HTTP client Gatehouse uses to talk to a tenant's identity provider, and to deliver
//! webhooks: both reach URLs that a tenant typed in.
//!
//! The URLs it fetches are typed in by tenant owners, so every request is a potential
//! server-side request forgery: an owner could point discovery at `http://169.254.169.254/`
//! or at a name that resolves to the database host. The defence sits where the address is
//! chosen, not in the URL text:
//!
//! - host names go through `GuardedResolver`, which resolves them itself and refuses the
//!   whole name if any address it resolves to is private or reserved; the connection is then
//!   made to exactly the addresses that were checked, so a rebinding answer between the check
//!   and the connect cannot slip through;
//! - IP literals never reach a resolver (hyper connects to them directly), so they are
//!   checked before the request is sent;
//! - redirects are not followed (a public host could otherwise bounce us to a private one),
//!   proxies from the environment are ignored (a proxy would resolve the name for us), and
//!   the body is read with a size cap under a total deadline.
//!
//! `allow_private` turns the address check off for development and tests, where the identity
//! provider runs on localhost; it also permits plain `http`.

use std::error::Error as StdError;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// How the identity-provider client behaves.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    /// Permits loopback, private and other reserved addresses, and plain `http`. Development
    /// and tests only.
    pub allow_private: bool,
    /// Applies to connecting and, separately, to the whole request including the body.
    pub timeout: Duration,
    /// The largest response body accepted, in bytes.
    pub max_bytes: usize,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(5),
            max_bytes: 512 * 1024,
        }
    }
}

/// Why a request to an identity provider failed. The messages are written for a tenant
/// owner reading a failed connection test.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the host name could not be resolved: {0}")]
    Dns(String),
    #[error("refused to connect to a private or reserved address: {0}")]
    PrivateAddress(String),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("the TLS handshake failed: {0}")]
    Tls(String),
    #[error("the request timed out")]
    Timeout,
    #[error("the server answered with a redirect (HTTP {status}); redirects are not followed")]
    Redirect { status: u16 },
    #[error("the response is larger than the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("the URL is not usable: {0}")]
    BadUrl(String),
    #[error("the request failed: {0}")]
    Other(String),
}

impl FetchError {
    /// A stable snake_case code for audit metadata and tests.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::Dns(_) => "dns",
            FetchError::PrivateAddress(_) => "private_address",
            FetchError::Connect(_) => "connect",
            FetchError::Tls(_) => "tls",
            FetchError::Timeout => "timeout",
            FetchError::Redirect { .. } => "redirect",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::BadUrl(_) => "bad_url",
            FetchError::Other(_) => "http",
        }
    }
}

/// The hardened client. Cloning shares the connection pool.
#[derive(Clone)]
pub struct IdpHttp {
    client: reqwest::Client,
    allow_private: bool,
    max_bytes: usize,
}

impl std::fmt::Debug for IdpHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpHttp")
            .field("allow_private", &self.allow_private)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl IdpHttp {
    pub fn new(policy: &HttpPolicy) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name on our behalf, past the address check.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: policy.allow_private,
            }))
            .https_only(!policy.allow_private)
            .connect_timeout(policy.timeout)
            .timeout(policy.timeout)
            .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Other(format!("the HTTP client could not be built: {e}")))?;
        Ok(Self {
            client,
            allow_private: policy.allow_private,
            max_bytes: policy.max_bytes,
        })
    }

    /// Whether private addresses and plain `http` are permitted (development and tests).
    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// GET with `Accept: application/json`; returns the status and the body, read with the
    /// size cap. A 3xx answer is an error, since redirects are not followed.
    pub async fn get(&self, url: &url::Url) -> Result<(u16, Vec<u8>), FetchError> {
        self.check_url(url)?;
        let response = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| map_reqwest_error(&e))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(FetchError::Redirect {
                status: status.as_u16(),
            });
        }
        let body = self.read_body(response).await?;
        Ok((status.as_u16(), body))
    }

    /// POSTs `body` with `headers` under the same rules (webhook deliveries): answers the
    /// status, whatever it is (a redirect is not followed), and at most the first
    /// `max_bytes` of the answer's body; the rest is never read.
    pub async fn post(
        &self,
        url: &url::Url,
        headers: reqwest::header::HeaderMap,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), FetchError> {
        self.check_url(url)?;
        let mut response = self
            .client
            .post(url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| map_reqwest_error(&e))?;
        let status = response.status().as_u16();
        let mut excerpt = Vec::new();
        while excerpt.len() < self.max_bytes {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                // The answer's status is what counts; a body cut short is only an excerpt.
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(self.max_bytes);
        Ok((status, excerpt))
    }

    /// Refuses schemes other than https (and http when private addresses are allowed) and IP
    /// literals in refused ranges: hyper connects to an IP literal without asking the
    /// resolver, so [`GuardedResolver`] never sees it.
    fn check_url(&self, url: &url::Url) -> Result<(), FetchError> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            "http" => {
                return Err(FetchError::BadUrl(
                    "plain http is refused; the identity provider must use https".into(),
                ))
            }
            other => {
                return Err(FetchError::BadUrl(format!(
                    "the scheme \"{other}\" is not supported; use https"
                )))
            }
        }
        let ip = match url.host() {
            None => return Err(FetchError::BadUrl("the URL has no host".into())),
            Some(url::Host::Domain(_)) => return Ok(()),
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        };
        if address_allowed(ip, self.allow_private) {
            Ok(())
        } else {
            Err(FetchError::PrivateAddress(ip.to_string()))
        }
    }

    /// Reads the body chunk by chunk, refusing it as soon as it passes the cap, so a hostile
    /// server cannot make us buffer an unbounded answer. The client's total timeout also
    /// covers this read.
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let limit = self.max_bytes;
        // Refused before reading when the server declares the size up front.
        if response
            .content_length()
            .is_some_and(|declared| declared > limit as u64)
        {
            return Err(FetchError::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| map_reqwest_error(&e))? {
            if body.len().saturating_add(chunk.len()) > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Sends a request built by openidconnect/oauth2 under the same rules as [`Self::get`].
    async fn send(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, FetchError> {
        let request = reqwest::Request::try_from(request)
            .map_err(|e| FetchError::BadUrl(root_cause_message(&e)))?;
        self.check_url(request.url())?;
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|e| map_reqwest_error(&e))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(FetchError::Redirect {
                status: status.as_u16(),
            });
        }
        let version = response.version();
        let headers = response.headers().clone();
        let body = self.read_body(response).await?;
        let mut out = openidconnect::HttpResponse::new(body);
        *out.status_mut() = status;
        *out.version_mut() = version;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// Lets openidconnect/oauth2 send the token request (and any other request it makes)
/// through the same guarded client.
impl<'c> openidconnect::AsyncHttpClient<'c> for IdpHttp {
    type Error = FetchError;
    type Future =
        Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, FetchError>> + Send + 'c>>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// Whether a connection to `ip` is permitted. Refused unless `allow_private`: loopback,
/// RFC 1918 private, link-local, CGNAT (100.64/10), unspecified and "this network",
/// multicast, broadcast and the reserved 240/4, benchmarking (198.18/15), IETF protocol
/// assignments (192.0.0/24), the documentation ranges, unique-local and site-local IPv6,
/// IPv6 discard-only, and every IPv6 form that embeds an IPv4 address (IPv4-mapped,
/// IPv4-compatible, NAT64, 6to4) when the embedded address is refused.
pub fn address_allowed(ip: IpAddr, allow_private: bool) -> bool {
    if allow_private {
        return true;
    }
    match ip {
        IpAddr::V4(v4) => ipv4_public(v4),
        IpAddr::V6(v6) => ipv6_public(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    let [a, b, c, d, e, f, g, h] = net;
    (u128::from(ip) & mask) == (u128::from(Ipv6Addr::new(a, b, c, d, e, f, g, h)) & mask)
}

fn ipv4_public(ip: Ipv4Addr) -> bool {
    const REFUSED: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this network", includes the unspecified address
        ([10, 0, 0, 0], 8),      // RFC 1918
        ([100, 64, 0, 0], 10),   // carrier-grade NAT (RFC 6598)
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local, cloud metadata services
        ([172, 16, 0, 0], 12),   // RFC 1918
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
        ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
        ([192, 168, 0, 0], 16),  // RFC 1918
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
        ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, includes the broadcast 255.255.255.255
    ];
    !REFUSED.iter().any(|(net, prefix)| in_v4(ip, *net, *prefix))
}

fn ipv6_public(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    // IPv4-mapped (::ffff:0:0/96): the connection really goes to the IPv4 address.
    if in_v6(ip, [0, 0, 0, 0, 0, 0xffff, 0, 0], 96) {
        return ipv4_public(Ipv4Addr::from(bits as u32));
    }
    // NAT64 (64:ff9b::/96): a NAT64 gateway would forward to the embedded IPv4 address.
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return ipv4_public(Ipv4Addr::from(bits as u32));
    }
    // 6to4 (2002::/16): the embedded IPv4 address sits in bits 16..48.
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        return ipv4_public(Ipv4Addr::from((bits >> 80) as u32));
    }
    const REFUSED: &[([u16; 8], u32)] = &[
        // ::/96: unspecified, loopback and the deprecated IPv4-compatible addresses.
        ([0, 0, 0, 0, 0, 0, 0, 0], 96),
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), // local-use NAT64 (RFC 8215)
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64),     // discard-only
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),    // documentation (RFC 9637)
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),     // unique local
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),    // link-local
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),    // site-local (deprecated)
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),     // multicast
    ];
    !REFUSED.iter().any(|(net, prefix)| in_v6(ip, *net, *prefix))
}

/// Why [`GuardedResolver`] refused a name. Travels inside reqwest's error as a source, where
/// [`map_reqwest_error`] finds it again.
#[derive(Debug, thiserror::Error)]
enum ResolveRefusal {
    #[error("{host}: {detail}")]
    Lookup { host: String, detail: String },
    #[error("{host} has no addresses")]
    NoAddress { host: String },
    #[error("{host} resolves to {address}")]
    Private { host: String, address: IpAddr },
}

/// Resolves with the system resolver and refuses the name outright if any address is
/// disallowed, rather than dropping the bad ones: a name that mixes public and private
/// addresses is itself a sign of an attack (or of a misconfiguration the owner should see).
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let allow_private = self.allow_private;
        Box::pin(async move {
            match resolve_checked(&host, allow_private).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Err(refusal) => Err(Box::new(refusal) as Box<dyn StdError + Send + Sync>),
            }
        })
    }
}

async fn resolve_checked(
    host: &str,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, ResolveRefusal> {
    // Port 0 is replaced by the scheme's port (or the URL's) by reqwest.
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| ResolveRefusal::Lookup {
            host: host.to_owned(),
            detail: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(ResolveRefusal::NoAddress {
            host: host.to_owned(),
        });
    }
    if let Some(bad) = addrs
        .iter()
        .find(|addr| !address_allowed(addr.ip(), allow_private))
    {
        return Err(ResolveRefusal::Private {
            host: host.to_owned(),
            address: bad.ip(),
        });
    }
    Ok(addrs)
}

/// Every error in the cause chain, outermost first. `io::Error::source` skips the error it
/// wraps (it returns the wrapped error's source), and rustls errors arrive wrapped in
/// `io::Error`s, so wrapped errors are unpacked with `get_ref` as well.
fn cause_chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut chain = Vec::new();
    let mut next = Some(err);
    // Bounded: a cyclic or absurdly deep chain must not hang a request.
    while let Some(current) = next {
        if chain.len() >= 32 {
            break;
        }
        chain.push(current);
        next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
            None => current.source(),
        };
    }
    chain
}

/// The innermost message, which names the actual cause ("Connection refused") where the
/// outer layers only say "error sending request".
fn root_cause_message(err: &(dyn StdError + 'static)) -> String {
    cause_chain(err)
        .last()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

fn map_reqwest_error(err: &reqwest::Error) -> FetchError {
    let chain = cause_chain(err);
    for cause in &chain {
        if let Some(refusal) = cause.downcast_ref::<ResolveRefusal>() {
            return match refusal {
                ResolveRefusal::Private { .. } => FetchError::PrivateAddress(refusal.to_string()),
                ResolveRefusal::Lookup { .. } | ResolveRefusal::NoAddress { .. } => {
                    FetchError::Dns(refusal.to_string())
                }
            };
        }
    }
    if err.is_timeout() {
        return FetchError::Timeout;
    }
    for cause in &chain {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return FetchError::Tls(tls.to_string());
        }
    }
    let detail = root_cause_message(err);
    if err.is_connect() {
        FetchError::Connect(detail)
    } else if err.is_builder() {
        FetchError::BadUrl(detail)
    } else {
        FetchError::Other(detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        let ip: IpAddr = s.parse().unwrap();
        !address_allowed(ip, false)
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:81b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!refused(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn loopback_and_unspecified_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.255.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "::1",
            "::",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn rfc1918_private_ranges_are_refused() {
        for ip in [
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "192.168.255.255",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn link_local_and_metadata_are_refused() {
        for ip in ["169.254.169.254", "169.254.0.1", "fe80::1", "febf::1"] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn cgnat_is_refused() {
        for ip in ["100.64.0.1", "100.127.255.255"] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn multicast_broadcast_and_reserved_are_refused() {
        for ip in [
            "224.0.0.1",
            "239.255.255.255",
            "255.255.255.255",
            "240.0.0.1",
            "ff02::1",
            "ff0e::1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn documentation_and_benchmark_ranges_are_refused() {
        for ip in [
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.255",
            "192.0.0.8",
            "2001:db8::1",
            "3fff::1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn unique_local_and_site_local_ipv6_are_refused() {
        for ip in ["fc00::1", "fd12:3456:789a::1", "fec0::1", "100::1"] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn ipv6_forms_embedding_a_refused_ipv4_are_refused() {
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:192.168.1.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn allow_private_permits_everything() {
        for ip in ["127.0.0.1", "10.0.0.1", "::1", "fd00::1", "169.254.169.254"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(address_allowed(ip, true));
        }
    }

    #[test]
    fn default_policy_is_strict() {
        let policy = HttpPolicy::default();
        assert!(!policy.allow_private);
        assert_eq!(policy.timeout, Duration::from_secs(5));
        assert_eq!(policy.max_bytes, 512 * 1024);
    }

    #[test]
    fn url_check_refuses_ip_literals_and_plain_http() {
        let http = IdpHttp::new(&HttpPolicy::default()).unwrap();
        let check = |s: &str| http.check_url(&url::Url::parse(s).unwrap());
        assert_eq!(
            check("https://127.0.0.1/x").unwrap_err().code(),
            "private_address"
        );
        assert_eq!(
            check("https://[::ffff:10.0.0.1]/").unwrap_err().code(),
            "private_address"
        );
        // The url crate normalises the decimal form to 127.0.0.1.
        assert_eq!(
            check("https://2130706433/").unwrap_err().code(),
            "private_address"
        );
        assert_eq!(
            check("http://idp.example.com/").unwrap_err().code(),
            "bad_url"
        );
        assert_eq!(
            check("ftp://idp.example.com/").unwrap_err().code(),
            "bad_url"
        );
        assert!(check("https://idp.example.com/").is_ok());
        assert!(check("https://8.8.8.8/").is_ok());

        let dev = IdpHttp::new(&HttpPolicy {
            allow_private: true,
            ..HttpPolicy::default()
        })
        .unwrap();
        assert!(dev
            .check_url(&url::Url::parse("http://127.0.0.1:8080/").unwrap())
            .is_ok());
    }

    #[tokio::test]
    async fn resolver_refuses_a_name_resolving_to_loopback() {
        let refusal = resolve_checked("localhost", false).await.unwrap_err();
        // Either refused as private, or (on a host without a localhost entry) not resolved;
        // it must never be accepted.
        assert!(matches!(
            refusal,
            ResolveRefusal::Private { .. } | ResolveRefusal::Lookup { .. }
        ));
    }
}
