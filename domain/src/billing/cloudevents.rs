//! Usage events as CloudEvents 1.0 (JSON format), as OpenMeter takes them, so its clients
//! send to Gatehouse unchanged:
//!
//! - `type` is the event type and `subject` the tenant's domain;
//! - `source` + `id` is the idempotency key, stored as `source#id` (a `#` or `%` in the
//!   source is percent-encoded, so no two pairs share a key);
//! - `time` (RFC 3339, any offset) is when it happened; without one, the receipt time, and
//!   a re-send is then judged without it;
//! - `data.quantity` is the quantity (1 when absent: the event counts once); the other
//!   members of `data` are the metadata (SPEC §9 limits);
//! - extension attributes are allowed and not kept.

use super::events::{quantity, TimeWindow, UsageEvent, MAX_BATCH};
use crate::audit::ingest::{event_name, event_object, metadata_named, text};
use crate::{DomainError, FieldError};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The longest stored key (`billing_events.idempotency_key`).
const MAX_KEY: usize = 200;

/// The idempotency key of a CloudEvent.
fn key(source: &str, id: &str) -> String {
    format!("{}#{id}", source.replace('%', "%25").replace('#', "%23"))
}

/// A valid extension attribute's name (CloudEvents 1.0: lower-case letters and digits).
fn extension(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 20
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Validates one CloudEvent; fields are named after `at` (`""` or `[3].`).
pub fn parse_cloud_event(
    value: &Value,
    at: &str,
    now: OffsetDateTime,
    window: TimeWindow,
    errors: &mut Vec<FieldError>,
) -> Option<UsageEvent> {
    let before = errors.len();
    let obj = event_object(value, at, errors)?;
    for name in obj.keys() {
        let known = matches!(
            name.as_str(),
            "specversion"
                | "id"
                | "source"
                | "type"
                | "subject"
                | "time"
                | "datacontenttype"
                | "dataschema"
                | "data"
        );
        if !known && !extension(name) {
            let shown: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
            errors.push(FieldError::new(
                format!("{at}{shown}"),
                "is not a CloudEvents attribute (extension names are lower-case letters and digits)",
            ));
        }
    }
    match obj.get("specversion") {
        Some(Value::String(v)) if v == "1.0" => {}
        None | Some(Value::Null) => {
            errors.push(FieldError::new(format!("{at}specversion"), "is required"))
        }
        Some(_) => errors.push(FieldError::new(
            format!("{at}specversion"),
            "must be \"1.0\"",
        )),
    }
    let id = text(obj, "id", at, MAX_KEY, true, errors);
    let source = text(obj, "source", at, MAX_KEY, true, errors);
    let event_type = event_name(obj, "type", at, errors);
    let tenant = text(obj, "subject", at, 253, false, errors).map(str::to_ascii_lowercase);
    let time = match text(obj, "time", at, 40, false, errors) {
        None => None,
        Some(raw) => match OffsetDateTime::parse(raw, &Rfc3339) {
            Ok(t) => window.check(
                t.to_offset(time::UtcOffset::UTC),
                now,
                &format!("{at}time"),
                errors,
            ),
            Err(_) => {
                errors.push(FieldError::new(
                    format!("{at}time"),
                    "must be an RFC 3339 time, like 2026-12-06T09:30:00Z",
                ));
                None
            }
        },
    };
    if let Some(ct) = text(obj, "datacontenttype", at, 100, false, errors) {
        if !ct.to_ascii_lowercase().starts_with("application/json") {
            errors.push(FieldError::new(
                format!("{at}datacontenttype"),
                "must be application/json",
            ));
        }
    }
    let mut data = match obj.get("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            errors.push(FieldError::new(format!("{at}data"), "must be an object"));
            Map::new()
        }
    };
    let quantity = match data.remove("quantity") {
        None => Some(1),
        Some(q) => quantity(&q, &format!("{at}data.quantity"), errors),
    };
    let metadata = metadata_named(Some(&Value::Object(data)), &format!("{at}data"), errors);
    let key = match (source, id) {
        (Some(source), Some(id)) => {
            let key = key(source, id);
            if key.chars().count() > MAX_KEY {
                errors.push(FieldError::new(
                    format!("{at}id"),
                    format!(
                        "source and id together must be at most {} characters",
                        MAX_KEY - 1
                    ),
                ));
                None
            } else {
                Some(key)
            }
        }
        _ => None,
    };
    if errors.len() > before {
        return None;
    }
    Some(UsageEvent {
        id: key?,
        tenant,
        timestamp: time.unwrap_or(now),
        event_type: event_type?,
        quantity: quantity?,
        metadata,
        timed: time.is_some(),
    })
}

/// A `POST /api/v1/events` body: one CloudEvent (`application/cloudevents+json`) or an
/// array of 1 to 100 (`application/cloudevents-batch+json`). Every violation is listed;
/// `Err` stores nothing.
pub fn parse_cloud_events(
    body: &Value,
    batch: bool,
    now: OffsetDateTime,
    window: TimeWindow,
) -> Result<Vec<UsageEvent>, DomainError> {
    let mut errors = Vec::new();
    let events = match (batch, body) {
        (false, single) => parse_cloud_event(single, "", now, window, &mut errors)
            .into_iter()
            .collect(),
        (true, Value::Array(items)) if items.is_empty() => {
            errors.push(FieldError::new("body", "must hold at least one event"));
            Vec::new()
        }
        (true, Value::Array(items)) if items.len() > MAX_BATCH => {
            errors.push(FieldError::new(
                "body",
                format!(
                    "must hold at most {MAX_BATCH} events ({} sent); send more through /api/v1/billing/events/bulk",
                    items.len()
                ),
            ));
            Vec::new()
        }
        (true, Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| parse_cloud_event(v, &format!("[{i}]."), now, window, &mut errors))
            .collect(),
        (true, _) => {
            errors.push(FieldError::new(
                "body",
                "must be an array of CloudEvents (application/cloudevents-batch+json)",
            ));
            Vec::new()
        }
    };
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(DomainError::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-12-06T10:00:00Z", &Rfc3339).unwrap()
    }

    fn event() -> Value {
        json!({"specversion": "1.0", "id": "e-1", "source": "svc", "type": "api.call",
               "subject": "Acme.example", "time": "2026-12-06T10:30:00+01:00",
               "data": {"quantity": 4, "model": "m1"}, "traceparent": "00-ab"})
    }

    #[test]
    fn maps_to_a_usage_event() {
        let e = parse_cloud_events(&event(), false, now(), TimeWindow::default()).unwrap();
        assert_eq!(e[0].id, "svc#e-1");
        assert_eq!(e[0].tenant.as_deref(), Some("acme.example"));
        assert_eq!(e[0].quantity, 4);
        assert_eq!(e[0].metadata.get("model"), Some(&json!("m1")));
        assert_eq!(e[0].timestamp, now() - time::Duration::minutes(30));
        assert!(e[0].timed);
    }

    #[test]
    fn keys_never_collide() {
        assert_ne!(key("a#b", "c"), key("a", "b#c"));
        assert_ne!(key("a%23", "c"), key("a#", "c"));
    }

    #[test]
    fn counts_once_without_a_quantity_and_names_every_violation() {
        let mut e = event();
        e["data"] = json!({});
        e.as_object_mut().unwrap().remove("time");
        let ok = parse_cloud_events(&e, false, now(), TimeWindow::default()).unwrap();
        assert_eq!((ok[0].quantity, ok[0].timed), (1, false));
        let bad = json!([event(), {"specversion": "0.3", "type": "Bad", "data": {"quantity": 0}, "Weird": 1}]);
        let Err(DomainError::Validation(d)) =
            parse_cloud_events(&bad, true, now(), TimeWindow::default())
        else {
            panic!("refused");
        };
        let fields: Vec<&str> = d.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "[1].specversion",
            "[1].id",
            "[1].source",
            "[1].type",
            "[1].data.quantity",
            "[1].Weird",
        ] {
            assert!(fields.contains(&f), "{f}: {fields:?}");
        }
    }
}
