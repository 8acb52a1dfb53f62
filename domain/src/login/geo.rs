//! Where and when a person signs in (NFR-SEC-006): adaptive authentication weighs the
//! person's location, the time of access and their habits, besides the device and the
//! network that `adaptive` weighs.
//!
//! - [`GeoDb`] maps a client address to its [`Country`] with an offline IP-to-country
//!   database in the MaxMind DB format: `geo-whois-asn-country.mmdb` from the npm
//!   package `@ip-location-db/geo-whois-asn-country-mmdb` (GeoFeed, then the regional
//!   registries' whois, then their ASN data; CC0, with the registry data under CC BY 4.0
//!   by the NRO), whose records are `{"country_code": "FR"}`. It is read with the
//!   `maxminddb` crate; no address leaves the server.
//! - [`impossible_travel`] says whether two sign-ins are further apart than a person can
//!   travel in the time between them.
//! - [`unusual_hour`] says whether a sign-in falls outside the hours the person usually
//!   signs in at.
//!
//! A country is only a risk signal: it makes the sign-in ask for the second factor, never
//! refuses it, so a VPN or a mislocated address block costs a prompt, not an account.
//!
//! The country names and centroids are a static table (`geo_countries.rs`) rather than a
//! dependency: only an English name and a rough centre are needed, for 251 codes. The
//! great-circle distance is the haversine formula, a few lines.

use crate::DomainError;
use anyhow::Context as _;
use maxminddb::{PathElement, Reader};
use serde::{Serialize, Serializer};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::path::Path;
use time::{Duration, OffsetDateTime, UtcOffset};

#[path = "geo_countries.rs"]
mod countries;
use countries::{CountryRow, COUNTRIES};

/// A country or territory, by its ISO 3166-1 alpha-2 code (and `XK`, `AN`, which the
/// regional registries use). Only codes in the table exist, so every country has a name
/// and a centroid.
#[derive(Clone, Copy)]
pub struct Country(&'static CountryRow);

impl Country {
    /// A two-letter code, in either case; the error names the field `country`.
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        let code = code.trim().to_ascii_uppercase();
        COUNTRIES
            .binary_search_by(|row| row.0.cmp(code.as_str()))
            .ok()
            .and_then(|index| COUNTRIES.get(index))
            .map(Country)
            .ok_or_else(|| {
                DomainError::validation("country", "must be an ISO 3166-1 alpha-2 country code")
            })
    }

    /// The upper-case two-letter code, as stored and audited.
    pub fn as_str(&self) -> &'static str {
        let (code, ..) = *self.0;
        code
    }

    /// The English short name, for messages such as "New country: France".
    pub fn name(&self) -> &'static str {
        let (_, name, ..) = *self.0;
        name
    }

    /// An approximate geographic centre, `(latitude, longitude)` in decimal degrees.
    pub fn centroid(&self) -> (f64, f64) {
        let (_, _, lat, lon) = *self.0;
        (lat, lon)
    }
}

impl PartialEq for Country {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Country {}

impl Hash for Country {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Country").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Country {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for Country {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The IP-to-country database, loaded into memory (about 8 MB) once at startup and
/// shared; lookups need no lock.
#[derive(Debug)]
pub struct GeoDb {
    reader: Reader<Vec<u8>>,
}

impl GeoDb {
    /// Reads the database file (`geo-whois-asn-country.mmdb`). Blocking: call it at
    /// startup, not on a request.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DomainError> {
        let path = path.as_ref();
        Reader::open_readfile(path)
            .map_err(anyhow::Error::from)
            .and_then(Self::checked)
            .with_context(|| format!("opening the IP-to-country database {}", path.display()))
            .map_err(DomainError::from)
    }

    /// The same database from bytes already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, DomainError> {
        Reader::from_source(bytes)
            .map_err(anyhow::Error::from)
            .and_then(Self::checked)
            .context("reading the IP-to-country database")
            .map_err(DomainError::from)
    }

    fn checked(reader: Reader<Vec<u8>>) -> anyhow::Result<Self> {
        // The package also ships IPv4-only and IPv6-only files; with the IPv4 one every
        // IPv6 client would silently have no country.
        anyhow::ensure!(
            reader.metadata().ip_version == 6,
            "the database covers IPv4 only; use the combined geo-whois-asn-country.mmdb"
        );
        Ok(Self { reader })
    }

    /// The country the address is registered in, or `None` for an address that is not
    /// publicly routed (loopback, private, link-local, documentation, ...) or that the
    /// database does not place. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a
    /// dual-stack socket reports) is looked up as its IPv4 address.
    pub fn country(&self, ip: IpAddr) -> Option<Country> {
        let ip = ip.to_canonical();
        // Filtered here, not left to the database: its June 2026 build places
        // 192.168.0.0/16, 172.16.0.0/12 and two IPv4 documentation blocks in Australia,
        // and 2001:db8::/32 in Japan.
        if !is_public_address(ip) {
            return None;
        }
        let found = match self.reader.lookup(ip) {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "IP-to-country lookup failed");
                return None;
            }
        };
        match found.decode_path::<&str>(&[PathElement::Key("country_code")]) {
            // A code outside ISO 3166-1 (a registry's `EU`, `AP`) locates nothing.
            Ok(code) => code.and_then(|code| Country::parse(code).ok()),
            Err(error) => {
                tracing::warn!(%error, "IP-to-country record unreadable");
                None
            }
        }
    }
}

static GEO: std::sync::OnceLock<GeoDb> = std::sync::OnceLock::new();

/// Installs the process's IP-to-country database (start-up); the first call wins.
pub fn install_geo(db: GeoDb) {
    let _ = GEO.set(db);
}

/// The country of `ip`, when a database is installed and places the address.
pub fn locate(ip: IpAddr) -> Option<Country> {
    GEO.get()?.country(ip)
}

/// Whether an address can be a client on the internet: not in a block of the IANA
/// special-purpose registries that matters here (roughly what the still unstable
/// `IpAddr::is_global` will say).
fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            let special = a == 0 // 0.0.0.0/8, "this network"
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10, carrier-grade NAT
                || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, protocol assignments
                || v4.is_documentation()
                || (a == 198 && (b & 0xfe) == 18) // 198.18.0.0/15, benchmarking
                || v4.is_multicast()
                || a >= 240; // 240.0.0.0/4, reserved, and the broadcast address
            !special
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let special = v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || (s[0] == 0x2001 && s[1] == 0x0db8) // 2001:db8::/32, documentation
                || (s[0] == 0x3fff && s[1] < 0x1000); // 3fff::/20, documentation
            !special
        }
    }
}

/// The fastest a person travels between two countries: an airliner's cruising speed
/// (about 900 km/h), rounded up to err on the side of a possible journey.
pub const FLIGHT_SPEED_KMH: f64 = 1_000.0;

/// The time a journey by air spends on the ground: getting to and from the airports,
/// check-in, security and boarding.
pub const AIRPORT_ALLOWANCE: Duration = Duration::hours(2);

/// The mean radius of the Earth, for the great-circle distance.
const EARTH_RADIUS_KM: f64 = 6_371.0;

/// The great-circle distance between two countries' centroids (haversine formula).
pub fn centroid_distance_km(a: Country, b: Country) -> f64 {
    let ((lat_a, lon_a), (lat_b, lon_b)) = (a.centroid(), b.centroid());
    let (phi_a, phi_b) = (lat_a.to_radians(), lat_b.to_radians());
    let half_dphi = (phi_b - phi_a) / 2.0;
    let half_dlambda = (lon_b - lon_a).to_radians() / 2.0;
    let h = half_dphi.sin().powi(2) + phi_a.cos() * phi_b.cos() * half_dlambda.sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Whether nobody could have been in both places at those times: the sign-ins are in
/// different countries and less time lies between them than a flight between the two
/// centroids takes ([`FLIGHT_SPEED_KMH`] plus [`AIRPORT_ALLOWANCE`]). The order of the
/// two does not matter. Within one country travel is never impossible.
///
/// Centroids are rough: between neighbours (France and Belgium, 500 km apart by
/// centroid) a sign-in on each side of a border within about 2.5 hours counts as
/// impossible. That is the price of a country-level database, and it costs a second
/// factor only.
pub fn impossible_travel(from: (Country, OffsetDateTime), to: (Country, OffsetDateTime)) -> bool {
    let ((from_country, from_at), (to_country, to_at)) = (from, to);
    if from_country == to_country {
        return false;
    }
    let elapsed_hours = (to_at - from_at).abs().as_seconds_f64() / 3600.0;
    let fastest_hours = centroid_distance_km(from_country, to_country) / FLIGHT_SPEED_KMH
        + AIRPORT_ALLOWANCE.as_seconds_f64() / 3600.0;
    elapsed_hours < fastest_hours
}

/// How many sign-ins the history must hold before hours are judged: with fewer, no habit
/// is known and no hour is unusual.
pub const USUAL_HOURS_MIN_HISTORY: usize = 10;

/// How many sign-ins make an hour of the day one the person usually signs in at: one
/// sign-in could be an accident, two are a habit.
pub const USUAL_HOUR_MIN_SIGN_INS: usize = 2;

/// How many hours, either way, a sign-in may be from a usual hour and still be usual.
pub const USUAL_HOUR_TOLERANCE: u8 = 1;

/// The UTC hour of an instant, as the sign-in history stores it.
pub fn utc_hour(at: OffsetDateTime) -> u8 {
    at.to_offset(UtcOffset::UTC).hour()
}

/// Whether a sign-in at `now_hour` (UTC, 0–23) is at an hour the person does not sign in
/// at. `history_hours` are the UTC hours of their sign-ins in the last 30 days.
///
/// The rule: a *usual hour* holds at least [`USUAL_HOUR_MIN_SIGN_INS`] of the history's
/// sign-ins; the sign-in is unusual when it is more than [`USUAL_HOUR_TOLERANCE`] hour
/// from every usual hour, counted round the clock (23:00 and 00:00 are one hour apart).
/// Never unusual while the history holds fewer than [`USUAL_HOURS_MIN_HISTORY`]
/// sign-ins, nor when no hour is usual yet (sign-ins scattered over the day show no
/// habit to depart from). Hours above 23 in the history are ignored.
pub fn unusual_hour(history_hours: &[u8], now_hour: u8) -> bool {
    let mut per_hour = [0_usize; 24];
    for &hour in history_hours {
        if let Some(count) = per_hour.get_mut(usize::from(hour)) {
            *count += 1;
        }
    }
    if per_hour.iter().sum::<usize>() < USUAL_HOURS_MIN_HISTORY {
        return false;
    }
    let now_hour = now_hour % 24;
    let mut usual_hours = (0_u8..24)
        .zip(per_hour)
        .filter(|&(_, count)| count >= USUAL_HOUR_MIN_SIGN_INS)
        .map(|(hour, _)| hour)
        .peekable();
    if usual_hours.peek().is_none() {
        return false;
    }
    usual_hours.all(|hour| hours_apart(hour, now_hour) > USUAL_HOUR_TOLERANCE)
}

/// The distance between two hours of the day, round the clock.
fn hours_apart(a: u8, b: u8) -> u8 {
    let d = a.abs_diff(b) % 24;
    d.min(24 - d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn country(code: &str) -> Country {
        Country::parse(code).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// A small MaxMind DB laid out as `geo-whois-asn-country.mmdb` is (an IPv6 tree with
    /// the IPv4 space under `::/96`, 24-bit records, `{"country_code": ..}` records), so
    /// that `GeoDb` is tested without the 8 MB file. Networks must not overlap.
    fn country_mmdb(networks: &[(&str, &str)]) -> Vec<u8> {
        #[derive(Clone, Copy)]
        enum Record {
            Empty,
            Node(usize),
            Data(usize),
        }
        fn string(out: &mut Vec<u8>, s: &str) {
            assert!(s.len() < 29);
            out.push(0x40 | s.len() as u8); // type 2, UTF-8 string
            out.extend_from_slice(s.as_bytes());
        }
        fn uint16(out: &mut Vec<u8>, key: &str, value: u16) {
            string(out, key);
            out.push(0xa2); // type 5, 2 bytes
            out.extend_from_slice(&value.to_be_bytes());
        }

        let mut data = Vec::new();
        let mut tree = vec![[Record::Empty; 2]];
        for (cidr, code) in networks {
            let (address, prefix) = cidr.split_once('/').unwrap();
            let prefix: u32 = prefix.parse().unwrap();
            let (bits, prefix) = match ip(address) {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), prefix + 96),
                IpAddr::V6(v6) => (u128::from(v6), prefix),
            };
            let offset = data.len();
            data.push(0xe1); // type 7, a map of one entry
            string(&mut data, "country_code");
            string(&mut data, code);
            let mut node = 0;
            for depth in 0..prefix {
                let bit = ((bits >> (127 - depth)) & 1) as usize;
                if depth + 1 == prefix {
                    tree[node][bit] = Record::Data(offset);
                } else if let Record::Node(next) = tree[node][bit] {
                    node = next;
                } else {
                    tree.push([Record::Empty; 2]);
                    let next = tree.len() - 1;
                    tree[node][bit] = Record::Node(next);
                    node = next;
                }
            }
        }

        let node_count = tree.len();
        let mut db = Vec::new();
        for record in tree.iter().flatten() {
            let value = match *record {
                Record::Empty => node_count,
                Record::Node(next) => next,
                Record::Data(offset) => node_count + 16 + offset,
            };
            db.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
        }
        db.extend_from_slice(&[0; 16]);
        db.extend_from_slice(&data);
        db.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
        db.push(0xe9); // type 7, a map of nine entries
        uint16(&mut db, "binary_format_major_version", 2);
        uint16(&mut db, "binary_format_minor_version", 0);
        string(&mut db, "build_epoch");
        db.extend_from_slice(&[0x08, 0x02]); // extended type 9 (uint64), 8 bytes
        db.extend_from_slice(&1_781_725_900_u64.to_be_bytes());
        string(&mut db, "database_type");
        string(&mut db, "country ipvAll");
        string(&mut db, "description");
        db.push(0xe0); // an empty map
        uint16(&mut db, "ip_version", 6);
        string(&mut db, "languages");
        db.extend_from_slice(&[0x00, 0x04]); // extended type 11 (array), empty
        string(&mut db, "node_count");
        db.push(0xc4); // type 6 (uint32), 4 bytes
        db.extend_from_slice(&(node_count as u32).to_be_bytes());
        uint16(&mut db, "record_size", 24);
        db
    }

    fn test_db() -> GeoDb {
        GeoDb::from_bytes(country_mmdb(&[
            ("193.51.0.0/16", "FR"),
            ("133.0.0.0/8", "JP"),
            ("2a01:e00::/26", "FR"),
            ("2001:240::/32", "JP"),
            // As in the real database, which places these reserved blocks in Australia.
            ("192.168.0.0/16", "AU"),
            ("198.51.100.0/24", "AU"),
            // A registry's region code, not a country.
            ("5.0.0.0/8", "EU"),
        ]))
        .unwrap()
    }

    #[test]
    fn public_addresses_resolve_to_their_country() {
        // NFR-SEC-006: the location of a sign-in.
        let db = test_db();
        let france = db.country(ip("193.51.224.1")).unwrap();
        assert_eq!(france.as_str(), "FR");
        assert_eq!(france.name(), "France");
        assert_eq!(db.country(ip("133.242.0.1")), Some(country("JP")));
        assert_eq!(db.country(ip("2a01:e0a::1")), Some(country("FR")));
        assert_eq!(db.country(ip("2001:240::1")), Some(country("JP")));
    }

    #[test]
    fn an_ipv4_mapped_address_is_looked_up_as_ipv4() {
        let db = test_db();
        assert_eq!(db.country(ip("::ffff:193.51.224.1")), Some(country("FR")));
    }

    #[test]
    fn addresses_that_are_not_on_the_internet_have_no_country() {
        let db = test_db();
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "198.51.100.7",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:192.168.1.1",
        ] {
            assert_eq!(db.country(ip(address)), None, "{address}");
        }
    }

    #[test]
    fn an_address_the_database_does_not_place_in_a_country_has_none() {
        let db = test_db();
        assert_eq!(db.country(ip("8.8.8.8")), None);
        assert_eq!(db.country(ip("2600::1")), None);
        assert_eq!(db.country(ip("5.1.2.3")), None, "EU is not a country");
    }

    #[test]
    fn an_ipv4_only_database_is_refused() {
        let mut bytes = country_mmdb(&[("193.51.0.0/16", "FR")]);
        // Rewrite ip_version 6 as 4 in the metadata.
        let key = b"ip_version\xa2\x00\x06";
        let at = bytes.windows(key.len()).rposition(|w| w == key).unwrap();
        bytes[at + key.len() - 1] = 4;
        assert!(GeoDb::from_bytes(bytes).is_err());
        assert!(GeoDb::open("/nonexistent/geo.mmdb").is_err());
    }

    #[test]
    fn countries_parse_from_their_code_in_either_case() {
        let fr = country("fr");
        assert_eq!(fr, country("FR"));
        assert_eq!(fr.to_string(), "FR");
        assert_eq!(fr.name(), "France");
        assert_eq!(country("JP").name(), "Japan");
        assert_eq!(country("XK").name(), "Kosovo");
        assert_eq!(serde_json::to_string(&fr).unwrap(), "\"FR\"");
        for bad in ["", "F", "FRA", "ZZ", "EU", "1A"] {
            assert!(Country::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_country_table_is_sorted_and_complete() {
        assert_eq!(COUNTRIES.len(), 251, "ISO 3166-1's 249 codes, XK and AN");
        for pair in COUNTRIES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for &(code, name, lat, lon) in COUNTRIES {
            assert!(code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(!name.is_empty());
            assert!((-90.0..=90.0).contains(&lat), "{code}");
            assert!((-180.0..=180.0).contains(&lon), "{code}");
        }
    }

    #[test]
    fn distances_are_great_circle_distances() {
        let paris_tokyo = centroid_distance_km(country("FR"), country("JP"));
        assert!((9_700.0..10_000.0).contains(&paris_tokyo), "{paris_tokyo}");
        // Across the antimeridian: Fiji (178° E) and Samoa (172° W) are neighbours.
        let fiji_samoa = centroid_distance_km(country("FJ"), country("WS"));
        assert!((1_000.0..1_300.0).contains(&fiji_samoa), "{fiji_samoa}");
        assert_eq!(centroid_distance_km(country("FR"), country("FR")), 0.0);
    }

    #[test]
    fn travel_faster_than_a_flight_is_impossible() {
        // NFR-SEC-006: France to Japan is about 9,860 km, a flight of 11.9 hours with
        // the airports.
        let (fr, jp) = (country("FR"), country("JP"));
        let paris = datetime!(2026-03-02 08:00 UTC);
        assert!(impossible_travel(
            (fr, paris),
            (jp, datetime!(2026-03-02 10:00 UTC))
        ));
        assert!(impossible_travel(
            (fr, paris),
            (jp, datetime!(2026-03-02 19:30 UTC))
        ));
        assert!(!impossible_travel(
            (fr, paris),
            (jp, datetime!(2026-03-02 20:00 UTC))
        ));
        // Offsets do not matter, only the instants.
        assert!(impossible_travel(
            (fr, datetime!(2026-03-02 09:00 +01:00)),
            (jp, datetime!(2026-03-02 19:00 +09:00))
        ));
    }

    #[test]
    fn the_order_of_the_two_sign_ins_does_not_matter() {
        let (fr, jp) = (country("FR"), country("JP"));
        let early = datetime!(2026-03-02 08:00 UTC);
        let late = datetime!(2026-03-02 12:00 UTC);
        assert!(impossible_travel((jp, late), (fr, early)));
        assert!(impossible_travel((fr, early), (jp, late)));
    }

    #[test]
    fn travel_within_a_country_is_never_impossible() {
        let us = country("US");
        let now = datetime!(2026-03-02 08:00 UTC);
        assert!(!impossible_travel((us, now), (us, now)));
    }

    #[test]
    fn neighbours_need_the_airport_allowance_too() {
        // France to Belgium: about 510 km between centroids, so 2.5 hours.
        let (fr, be) = (country("FR"), country("BE"));
        let now = datetime!(2026-03-02 08:00 UTC);
        assert!(impossible_travel(
            (fr, now),
            (be, datetime!(2026-03-02 09:00 UTC))
        ));
        assert!(!impossible_travel(
            (fr, now),
            (be, datetime!(2026-03-02 11:00 UTC))
        ));
    }

    #[test]
    fn hours_are_judged_only_with_enough_history() {
        // NFR-SEC-006: time of access. Nine sign-ins at nine o'clock teach nothing yet.
        assert!(!unusual_hour(&[9; 9], 3));
        assert!(unusual_hour(&[9; 10], 3));
        assert!(!unusual_hour(&[], 3));
        // Out-of-range hours do not count towards the history.
        assert!(!unusual_hour(&[9, 9, 9, 9, 9, 9, 9, 9, 9, 24, 99], 3));
    }

    #[test]
    fn a_sign_in_near_a_usual_hour_is_usual() {
        // Office hours, and one evening sign-in that is not a habit.
        let history = [8, 8, 9, 9, 9, 10, 10, 14, 14, 17];
        assert!(!unusual_hour(&history, 9));
        assert!(!unusual_hour(&history, 7), "an hour before 8");
        assert!(!unusual_hour(&history, 11), "an hour after 10");
        assert!(!unusual_hour(&history, 15));
        assert!(unusual_hour(&history, 12), "two hours from 10 and from 14");
        assert!(
            unusual_hour(&history, 17),
            "one sign-in at 17 is not a habit"
        );
        assert!(unusual_hour(&history, 3));
    }

    #[test]
    fn hours_wrap_round_midnight() {
        let night_owl = [23, 23, 23, 23, 23, 22, 22, 1, 1, 1];
        assert!(!unusual_hour(&night_owl, 0));
        assert!(!unusual_hour(&night_owl, 2));
        assert!(unusual_hour(&night_owl, 3));
        assert!(unusual_hour(&night_owl, 12));
        assert!(!unusual_hour(&[0; 10], 23));
        assert!(!unusual_hour(&[23; 10], 0));
        assert!(unusual_hour(&[23; 10], 1));
    }

    #[test]
    fn scattered_sign_ins_show_no_habit() {
        let scattered = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18];
        assert!(!unusual_hour(&scattered, 21));
    }

    #[test]
    fn hours_are_taken_in_utc() {
        assert_eq!(utc_hour(datetime!(2026-03-02 09:30 +09:00)), 0);
        assert_eq!(utc_hour(datetime!(2026-03-02 23:30 -02:00)), 1);
    }
}
