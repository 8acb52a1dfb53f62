//! Opaque cursors for newest-first pages (SPEC §9): the position `(created_at, id)` of the
//! last row served, base64url-encoded. Clients treat them as opaque strings.

use crate::DomainError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use time::OffsetDateTime;
use uuid::Uuid;

pub fn encode(created_at: OffsetDateTime, id: Uuid) -> String {
    encode_at(created_at, id)
}

/// The position a cursor stands for; a cursor that was not made by `encode` is a
/// validation error on the `cursor` field.
pub fn decode(raw: &str) -> Result<(OffsetDateTime, Uuid), DomainError> {
    decode_at(raw)
}

/// A cursor for the position `(at, key)`, whatever the key (an id, a sequence number).
pub fn encode_at(at: OffsetDateTime, key: impl std::fmt::Display) -> String {
    encode_pair(at.unix_timestamp_nanos(), key)
}

/// The position of a cursor made by [`encode_at`]; anything else is a validation error on
/// the `cursor` field.
pub fn decode_at<K: std::str::FromStr>(raw: &str) -> Result<(OffsetDateTime, K), DomainError> {
    let (nanos, key): (i128, K) = decode_pair(raw, "cursor")?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|_| DomainError::validation("cursor", "the cursor is not valid"))?;
    Ok((at, key))
}

/// A cursor for any two-part position (e.g. a transaction id and a sequence number).
pub fn encode_pair(first: impl std::fmt::Display, second: impl std::fmt::Display) -> String {
    URL_SAFE_NO_PAD.encode(format!("{first}|{second}"))
}

/// The position of a cursor made by [`encode_pair`]; anything else is a validation error
/// on `field`.
pub fn decode_pair<A: std::str::FromStr, B: std::str::FromStr>(
    raw: &str,
    field: &str,
) -> Result<(A, B), DomainError> {
    let bad = || DomainError::validation(field, "the cursor is not valid");
    let text = URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (first, second) = text.split_once('|').ok_or_else(bad)?;
    Ok((
        first.parse().map_err(|_| bad())?,
        second.parse().map_err(|_| bad())?,
    ))
}

/// Where a page of `limit` rows (1 to 100, SPEC §9) starts: after `cursor`'s position, or
/// at the newest row.
pub fn page_start(
    limit: i64,
    cursor: Option<&str>,
) -> Result<Option<(OffsetDateTime, Uuid)>, DomainError> {
    if !(1..=100).contains(&limit) {
        return Err(DomainError::validation(
            "limit",
            "must be between 1 and 100",
        ));
    }
    cursor.map(decode).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = OffsetDateTime::now_utc();
        let id = Uuid::now_v7();
        assert_eq!(decode(&encode(at, id)).unwrap(), (at, id));
        assert!(decode("garbage").is_err());
        assert!(decode("").is_err());
    }

    #[test]
    fn a_page_is_1_to_100_rows() {
        assert!(page_start(0, None).is_err());
        assert!(page_start(101, None).is_err());
        assert_eq!(page_start(100, None).unwrap(), None);
        assert!(page_start(25, Some("garbage")).is_err());
    }
}
