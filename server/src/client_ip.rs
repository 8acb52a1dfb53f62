//! The client's IP address when Gatehouse sits behind reverse proxies. The address feeds
//! the sign-in throttles, adaptive authentication, the audit trail, sessions and the API
//! rate limits, so a caller must not be able to choose it.
//!
//! Only a connection from a peer in `GATEHOUSE_TRUSTED_PROXIES` has its `Forwarded`
//! (RFC 7239) or, without one, `X-Forwarded-For` header believed. The hops it names are
//! walked from the right (the entry the nearest proxy added) past every trusted proxy;
//! the first untrusted address is the client. Everything to its left was written by the
//! client itself and is ignored. Without trusted proxies the peer is the client and the
//! headers are never read.
//!
//! Hand-written rather than taken from `axum-client-ip`: that crate takes the single
//! right-most entry (one proxy, no chain of trusted networks) and offers no walk past
//! several trusted hops, which is what a load balancer in front of an ingress needs.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::FORWARDED;
use axum::http::{HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use gatehouse_app::auth::ssr::ClientIp;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The networks whose connections may say who the client is (`GATEHOUSE_TRUSTED_PROXIES`),
/// and the one header they write (`GATEHOUSE_FORWARDED_HEADER`). Empty: nobody, the peer
/// address is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardHeader,
}

/// Which forwarding header the trusted proxies write. Only that one is read: a proxy
/// that appends to `X-Forwarded-For` passes a client's own `Forwarded` through untouched
/// (nginx, AWS ALB), so believing both would let the client name any address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardHeader {
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded`.
    Forwarded,
}

impl ForwardHeader {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            other => Err(format!(
                "`{other}` is not a forwarding header: x-forwarded-for or forwarded"
            )),
        }
    }
}

impl TrustedProxies {
    /// A comma-separated list of CIDRs (`10.0.0.0/8`, `fd00::/8`) or bare addresses (one
    /// host: /32 or /128). Blank entries are skipped; an empty list trusts nobody.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut networks = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let network = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!(
                        "trusted proxy `{entry}` is neither a network in CIDR notation \
                         (10.0.0.0/8, fd00::/8) nor an IP address"
                    )
                })?;
            networks.push(network.trunc());
        }
        Ok(Self {
            networks,
            header: ForwardHeader::default(),
        })
    }

    /// The same proxies, writing `header`.
    pub fn reading(self, header: ForwardHeader) -> Self {
        Self { header, ..self }
    }

    /// No proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `ip` (an IPv4-mapped IPv6 address counting as its IPv4 address) is in one
    /// of the trusted networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|network| network.contains(&ip))
    }
}

/// The client of a connection from `peer` that carried `headers`.
///
/// A peer outside the trusted networks is the client. From a trusted peer the hops of
/// the configured header (`X-Forwarded-For`, every header line in order, or the `for=`
/// of `Forwarded`) are walked from the right: trusted addresses are skipped, the first
/// untrusted one is the client; when every hop is trusted, the left-most is.
///
/// A hop that names no address (`unknown`, an obfuscated `_identifier`, a `Forwarded`
/// element without `for=`) or cannot be parsed ends the walk at the last trusted hop
/// before it. That is the conservative answer: the hops further left were written by
/// someone we do not trust to have checked them, so the requests are attributed to the
/// proxy, sharing its throttle, rather than to an address a client may have invented.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let hops = match trusted.header {
        ForwardHeader::XForwardedFor => x_forwarded_for_hops(headers),
        ForwardHeader::Forwarded => forwarded_hops(headers).unwrap_or_default(),
    };
    let mut last_trusted = peer;
    for hop in hops.iter().rev() {
        match *hop {
            Hop::Addr(ip) if trusted.contains(ip) => last_trusted = ip,
            Hop::Addr(ip) => return ip,
            Hop::Opaque => return last_trusted,
        }
    }
    last_trusted
}

/// Puts the request's [`ClientIp`] in its extensions, for everything that needs the
/// client's address. A request without a connection address (a test calling the router
/// directly) gets none.
pub async fn resolve(
    State(trusted): State<Arc<TrustedProxies>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let ip = client_ip(peer, req.headers(), &trusted);
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// One hop named by a forwarding header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    Addr(IpAddr),
    /// `unknown`, an obfuscated identifier, or nothing we can read.
    Opaque,
}

/// The `for=` hops of every `Forwarded` line, left to right; `None` when no element
/// has a `for=` parameter (a proxy that only sets `proto=`), so `X-Forwarded-For` speaks.
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Hop>> {
    let mut hops = Vec::new();
    let mut names_a_node = false;
    for value in headers.get_all(FORWARDED) {
        let Ok(text) = value.to_str() else {
            // Not visible ASCII: unreadable, and it may have been meant as a hop.
            hops.push(Hop::Opaque);
            names_a_node = true;
            continue;
        };
        for element in split_unquoted(text, ',') {
            if element.trim().is_empty() {
                continue;
            }
            let node = split_unquoted(element, ';').into_iter().find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim())
            });
            match node {
                Some(node) => {
                    names_a_node = true;
                    hops.push(unquote(node).map_or(Hop::Opaque, |n| parse_node(&n)));
                }
                None => hops.push(Hop::Opaque),
            }
        }
    }
    names_a_node.then_some(hops)
}

/// The hops of every `X-Forwarded-For` line, left to right.
fn x_forwarded_for_hops(headers: &HeaderMap) -> Vec<Hop> {
    let mut hops = Vec::new();
    for value in headers.get_all(&X_FORWARDED_FOR) {
        let Ok(text) = value.to_str() else {
            hops.push(Hop::Opaque);
            continue;
        };
        hops.extend(
            text.split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(parse_node),
        );
    }
    hops
}

/// Splits at `separator` outside double-quoted strings (RFC 7230 `quoted-string`, with
/// backslash escapes), so `for="[::1]:80";proto=https` splits where it should.
fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A token as is, or a quoted string's content; `None` for an unterminated quote.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return Some(value.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next()? } else { c });
    }
    Some(out)
}

/// An RFC 7239 node: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`
/// (the port may be obfuscated, `_p1`). A bare IPv6 address is accepted too, as
/// `X-Forwarded-For` writes it. `unknown`, `_hidden` and anything else are opaque.
fn parse_node(node: &str) -> Hop {
    let node = node.trim();
    if let Some(rest) = node.strip_prefix('[') {
        let Some((addr, tail)) = rest.split_once(']') else {
            return Hop::Opaque;
        };
        let port_ok = tail.is_empty() || tail.strip_prefix(':').is_some_and(is_port);
        return match addr.parse::<Ipv6Addr>() {
            Ok(ip) if port_ok => Hop::Addr(IpAddr::V6(ip).to_canonical()),
            _ => Hop::Opaque,
        };
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Hop::Addr(ip.to_canonical());
    }
    match node.split_once(':') {
        Some((addr, port)) if is_port(port) => addr
            .parse::<Ipv4Addr>()
            .map_or(Hop::Opaque, |ip| Hop::Addr(IpAddr::V4(ip))),
        _ => Hop::Opaque,
    }
}

/// RFC 7239 `node-port`: 1-5 digits, or an obfuscated `_` identifier.
fn is_port(port: &str) -> bool {
    let digits = (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit());
    let obfuscated = port.len() > 1
        && port.starts_with('_')
        && port
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    digits || obfuscated
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    fn rfc7239(list: &str) -> TrustedProxies {
        proxies(list).reading(ForwardHeader::Forwarded)
    }

    #[test]
    fn the_list_takes_networks_and_single_addresses() {
        let trusted = proxies(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8, 2001:db8::1,");
        assert!(trusted.contains(ip("10.20.30.40")));
        assert!(trusted.contains(ip("192.0.2.7")));
        assert!(!trusted.contains(ip("192.0.2.8")));
        assert!(trusted.contains(ip("fd12::5")));
        assert!(trusted.contains(ip("2001:db8::1")));
        assert!(!trusted.contains(ip("2001:db8::2")));
        assert!(proxies("").is_empty());
        assert!(proxies(" , ").is_empty());
    }

    #[test]
    fn a_bad_entry_is_named() {
        let err = TrustedProxies::parse("10.0.0.0/8, 10.0.0.0/33").unwrap_err();
        assert!(err.contains("`10.0.0.0/33`"), "{err}");
        let err = TrustedProxies::parse("proxy.internal").unwrap_err();
        assert!(err.contains("`proxy.internal`"), "{err}");
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let spoofed = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.10"),
        ]);
        // Nobody trusted.
        assert_eq!(
            client_ip(ip("198.51.100.4"), &spoofed, &TrustedProxies::default()),
            ip("198.51.100.4")
        );
        // Trusted proxies, but this peer is not one of them.
        assert_eq!(
            client_ip(ip("198.51.100.4"), &spoofed, &proxies("10.0.0.0/8")),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn trusted_hops_are_walked_from_the_right() {
        let trusted = proxies("10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 10.1.1.1")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        // Several header lines count as one list, in order.
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "10.1.1.1, 10.2.2.2"),
        ]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn entries_a_client_prepended_are_ignored() {
        let trusted = proxies("10.0.0.1");
        // The client sent `X-Forwarded-For: 1.2.3.4`; the proxy appended the real address.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        let h = headers(&[("forwarded", "for=1.2.3.4, for=203.0.113.9;proto=https")]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h, &rfc7239("10.0.0.1")),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn all_trusted_means_the_left_most_and_no_header_means_the_peer() {
        let trusted = proxies("10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "10.3.3.3, 10.2.2.2")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.3.3.3"));
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_with_quoted_ipv6_and_ports() {
        let trusted = rfc7239("10.0.0.0/8, 2001:db8:cafe::/48");
        let h = headers(&[(
            "forwarded",
            r#"for="[2001:db8::17]:4711";proto=https, For="[2001:db8:cafe::1]", for=10.9.9.9:8080"#,
        )]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("2001:db8::17"));
        let h = headers(&[("forwarded", r#"for="192.0.2.60:_port1";by=10.0.0.1"#)]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("192.0.2.60"));
    }

    /// Only the configured header is read: a proxy appending to one passes the client's
    /// own copy of the other through, so believing it would let the client choose.
    #[test]
    fn only_the_header_the_proxy_writes_is_read() {
        let both = headers(&[
            ("forwarded", "for=192.0.2.60"),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        let xff = proxies("10.0.0.0/8");
        assert_eq!(client_ip(ip("10.0.0.1"), &both, &xff), ip("198.51.100.1"));
        let h = headers(&[("forwarded", "for=192.0.2.60")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &xff), ip("10.0.0.1"));
        let fwd = rfc7239("10.0.0.0/8");
        assert_eq!(client_ip(ip("10.0.0.1"), &both, &fwd), ip("192.0.2.60"));
        // A Forwarded without any `for=` names nobody: the proxy is the client.
        let h = headers(&[
            ("forwarded", "proto=https;host=example.com"),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &fwd), ip("10.0.0.1"));
        assert_eq!(
            ForwardHeader::parse("Forwarded"),
            Ok(ForwardHeader::Forwarded)
        );
        assert!(ForwardHeader::parse("x-real-ip").is_err());
    }

    #[test]
    fn unknown_obfuscated_or_unreadable_hops_stop_at_the_last_trusted_one() {
        let trusted = rfc7239("10.0.0.0/8");
        for value in [
            "for=203.0.113.9, for=unknown, for=10.2.2.2",
            "for=203.0.113.9, for=_hidden, for=10.2.2.2",
            r#"for=203.0.113.9, for="[not-an-address]", for=10.2.2.2"#,
            r#"for=203.0.113.9, for="unterminated, for=10.2.2.2"#,
            "for=203.0.113.9, proto=https, for=10.2.2.2",
        ] {
            let h = headers(&[("forwarded", value)]);
            let got = client_ip(ip("10.0.0.1"), &h, &trusted);
            let expected = if value.contains("unterminated") {
                // The quote swallows the rest of the line: nothing trusted was read past it.
                ip("10.0.0.1")
            } else {
                ip("10.2.2.2")
            };
            assert_eq!(got, expected, "{value}");
        }
        let trusted = proxies("10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "203.0.113.9, garbage, 10.2.2.2")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.2.2.2"));
        // Right next to the peer: the peer itself.
        let h = headers(&[("x-forwarded-for", "203.0.113.9, unknown")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn ipv4_mapped_ipv6_addresses_are_ipv4() {
        let trusted = proxies("127.0.0.1/32");
        let h = headers(&[("x-forwarded-for", "::ffff:203.0.113.9")]);
        // A dual-stack listener reports the IPv4 proxy as ::ffff:127.0.0.1.
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &h, &trusted),
            ip("203.0.113.9")
        );
        // And an untrusted mapped peer is reported as plain IPv4.
        assert_eq!(
            client_ip(ip("::ffff:198.51.100.4"), &h, &trusted),
            ip("198.51.100.4")
        );
        let h = headers(&[("forwarded", r#"for="[::ffff:203.0.113.9]:80""#)]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &h, &rfc7239("127.0.0.1/32")),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn nodes_parse_as_rfc_7239_writes_them() {
        assert_eq!(parse_node("192.0.2.1"), Hop::Addr(ip("192.0.2.1")));
        assert_eq!(parse_node("192.0.2.1:4711"), Hop::Addr(ip("192.0.2.1")));
        assert_eq!(parse_node("[2001:db8::1]"), Hop::Addr(ip("2001:db8::1")));
        assert_eq!(
            parse_node("[2001:db8::1]:443"),
            Hop::Addr(ip("2001:db8::1"))
        );
        assert_eq!(parse_node("2001:db8::1"), Hop::Addr(ip("2001:db8::1")));
        assert_eq!(parse_node("unknown"), Hop::Opaque);
        assert_eq!(parse_node("_gazonk"), Hop::Opaque);
        assert_eq!(parse_node("192.0.2.1:"), Hop::Opaque);
        assert_eq!(parse_node("192.0.2.1:123456"), Hop::Opaque);
        assert_eq!(parse_node("[2001:db8::1]x"), Hop::Opaque);
        assert_eq!(unquote(r#""a\"b""#).as_deref(), Some(r#"a"b"#));
    }
}
