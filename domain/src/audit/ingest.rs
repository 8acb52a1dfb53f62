//! Applications' audit events (FR-LOG-001, API-LOG; SPEC §8, §9).
//!
//! An event is validated whole before anything is stored: every violation is named with
//! its field (`events[3].actor.id`), unknown fields included, and a batch with one bad
//! event stores nothing. Valid events join the one tamper-evident chain with
//! `actor_type = application` and the application's id, a whole batch under one
//! acquisition of the chain head's lock (`audit_ingest`, migration 0018). The
//! application's own `id` makes a re-sent event a `duplicate`, stored once, for as long as
//! the entry itself is kept.
//!
//! What the application reports about its actor, the person's IP address and browser and
//! its own metadata go into the entry's metadata (`actor`, `ip`, `user_agent`, `data`), so
//! the console, the exports and verification treat them like every other entry.

use crate::types::EventType;
use crate::{DomainError, FieldError};
use anyhow::Context as _;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{PgPool, Row};
use std::net::IpAddr;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// Events in one `POST /api/v1/audit-logs` (SPEC §9: arrays ≤ 100 items).
pub const MAX_BATCH: usize = 100;
/// Events committed together by the bulk (NDJSON) ingestion.
pub const BULK_BATCH: usize = 1000;
/// SPEC §9's metadata limits.
const MAX_META_KEYS: usize = 20;
const MAX_META_TEXT: usize = 500;
/// How far ahead of the server's clock an event may claim to have happened.
const FUTURE_SLACK: time::Duration = time::Duration::minutes(5);

const FIELDS: &[&str] = &[
    "id",
    "occurred_at",
    "actor",
    "action",
    "resource",
    "outcome",
    "ip_address",
    "user_agent",
    "metadata",
    "tenant",
];

/// One validated event, ready to append. `tenant` is still the domain the application
/// named (if any); [`ingest`] resolves it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub event_id: String,
    pub occurred_at: OffsetDateTime,
    pub action: String,
    pub resource: String,
    pub outcome: &'static str,
    pub tenant: Option<String>,
    /// `actor`, `ip`, `user_agent` and the application's `data`.
    pub metadata: Map<String, Value>,
}

/// How one event of a batch was taken: `accepted` (stored now), or `duplicate` (its `id`
/// was sent before: stored once, not again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = AuditEventStatus)]
pub enum Taken {
    Accepted,
    Duplicate,
}

/// What became of one audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = AuditEventResult)]
pub struct TakenEvent {
    /// The event's `id`, as sent.
    pub id: String,
    pub status: Taken,
    /// The entry's position in the chain (the first one's, for a duplicate).
    pub seq: i64,
}

/// Who sends: the application, the tenant its token is bound to (if any), and the
/// tenants it is enabled for (domain, id).
#[derive(Debug, Clone)]
pub struct Sender {
    pub application_id: Uuid,
    pub token_tenant: Option<Uuid>,
    pub tenants: Vec<(Uuid, String)>,
}

pub(crate) fn text<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    at: &str,
    max: usize,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    let field = format!("{at}{key}");
    match obj.get(key) {
        None | Some(Value::Null) => {
            if required {
                errors.push(FieldError::new(field, "is required"));
            }
            None
        }
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                if required {
                    errors.push(FieldError::new(field, "is required"));
                }
                None
            } else if s.chars().count() > max {
                errors.push(FieldError::new(
                    field,
                    format!("must be at most {max} characters"),
                ));
                None
            } else if s.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    field,
                    "must not contain control characters",
                ));
                None
            } else {
                Some(s)
            }
        }
        Some(_) => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

pub(crate) fn unknown(
    obj: &Map<String, Value>,
    known: &[&str],
    at: &str,
    errors: &mut Vec<FieldError>,
) {
    for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        // The name is the application's text: shown only when it is printable and short.
        let name: String = key.chars().filter(|c| !c.is_control()).take(64).collect();
        errors.push(FieldError::new(
            format!("{at}{name}"),
            "is not a known field",
        ));
    }
}

pub(crate) fn object<'a>(
    value: Option<&'a Value>,
    field: &str,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> Option<&'a Map<String, Value>> {
    match value {
        Some(Value::Object(map)) => Some(map),
        None | Some(Value::Null) if !required => None,
        None | Some(Value::Null) => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new(field, "must be an object"));
            None
        }
    }
}

/// The object of one event, or a violation named after `at` (`body` for a lone event).
pub(crate) fn event_object<'a>(
    value: &'a Value,
    at: &str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a Map<String, Value>> {
    match value {
        Value::Object(obj) => Some(obj),
        _ => {
            let field = if at.is_empty() {
                "body".to_owned()
            } else {
                at.trim_end_matches('.').to_owned()
            };
            errors.push(FieldError::new(field, "must be an object"));
            None
        }
    }
}

/// A required time (SPEC §9: ISO 8601 in UTC, ending in `Z`).
pub(crate) fn utc_time(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    errors: &mut Vec<FieldError>,
) -> Option<OffsetDateTime> {
    let raw = text(obj, key, at, 40, true, errors)?;
    parse_utc(raw).or_else(|| {
        errors.push(FieldError::new(format!("{at}{key}"), UTC_TIME));
        None
    })
}

/// What a time must look like (SPEC §9).
pub const UTC_TIME: &str = "must be an ISO 8601 time in UTC, like 2026-12-06T09:30:00Z";

/// An ISO 8601 (RFC 3339) time in UTC (SPEC §9): ending in `Z`, or with the offset
/// `+00:00` that many languages' formatters write for UTC; `None` for any other offset.
pub fn parse_utc(raw: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .ok()
        .filter(|t| t.offset().is_utc())
}

/// A required event name (`^[a-z][a-z0-9_.]{0,63}$`: an audit action, a billing event
/// type), checked as [`EventType`] checks it.
pub(crate) fn event_name(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let raw = text(obj, key, at, 64, true, errors)?;
    match EventType::parse(raw) {
        Ok(name) => Some(name.into_inner()),
        Err(DomainError::Validation(details)) => {
            let message = details
                .into_iter()
                .next()
                .map(|d| d.message)
                .unwrap_or_default();
            errors.push(FieldError::new(format!("{at}{key}"), message));
            None
        }
        Err(_) => None,
    }
}

/// A type name: `user`, `api_key`, `service-account`.
fn valid_kind(kind: &str) -> bool {
    kind.len() <= 64
        && kind
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The application's metadata (SPEC §9: at most 20 keys; keys and values ≤ 500 characters;
/// values are strings, numbers or booleans). Keys that look like secrets keep their name
/// and lose their value, as in the control plane's own entries.
pub(crate) fn metadata(
    value: Option<&Value>,
    at: &str,
    errors: &mut Vec<FieldError>,
) -> Map<String, Value> {
    metadata_named(value, &format!("{at}metadata"), errors)
}

/// [`metadata`] under another name (a CloudEvent's `data`).
pub(crate) fn metadata_named(
    value: Option<&Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Map<String, Value> {
    let field = field.to_owned();
    let Some(map) = object(value, &field, false, errors) else {
        return Map::new();
    };
    if map.len() > MAX_META_KEYS {
        errors.push(FieldError::new(
            field.clone(),
            format!("must have at most {MAX_META_KEYS} keys"),
        ));
        return Map::new();
    }
    let mut out = Map::new();
    for (key, value) in map {
        let name: String = key.chars().filter(|c| !c.is_control()).take(64).collect();
        if key.trim().is_empty() || key.chars().count() > MAX_META_TEXT {
            errors.push(FieldError::new(
                field.clone(),
                format!("keys must be 1 to {MAX_META_TEXT} characters"),
            ));
            continue;
        }
        let value = match value {
            Value::String(s) if s.chars().count() > MAX_META_TEXT => {
                errors.push(FieldError::new(
                    format!("{field}.{name}"),
                    format!("must be at most {MAX_META_TEXT} characters"),
                ));
                continue;
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => value.clone(),
            _ => {
                errors.push(FieldError::new(
                    format!("{field}.{name}"),
                    "must be a string, a number or a boolean",
                ));
                continue;
            }
        };
        out.insert(key.clone(), super::redacted(key, value));
    }
    out
}

/// Validates one event (`value`); fields are named after `at` (`""` or `events[3].`).
/// Every violation is added to `errors`; `None` when there was any.
pub fn parse_event(
    value: &Value,
    at: &str,
    now: OffsetDateTime,
    errors: &mut Vec<FieldError>,
) -> Option<LogEvent> {
    let before = errors.len();
    let obj = event_object(value, at, errors)?;
    unknown(obj, FIELDS, at, errors);
    let event_id = text(obj, "id", at, 200, true, errors);
    let occurred_at = utc_time(obj, "occurred_at", at, errors).and_then(|t| {
        if t > now + FUTURE_SLACK {
            errors.push(FieldError::new(
                format!("{at}occurred_at"),
                "must not be in the future",
            ));
            None
        } else {
            Some(t)
        }
    });
    let action = event_name(obj, "action", at, errors);
    let outcome = text(obj, "outcome", at, 20, true, errors).and_then(|o| {
        match o.to_ascii_lowercase().as_str() {
            "success" => Some("success"),
            "failure" => Some("failure"),
            _ => {
                errors.push(FieldError::new(
                    format!("{at}outcome"),
                    "must be one of: success, failure",
                ));
                None
            }
        }
    });
    let ip = text(obj, "ip_address", at, 64, true, errors).and_then(|raw| {
        raw.parse::<IpAddr>().ok().or_else(|| {
            errors.push(FieldError::new(
                format!("{at}ip_address"),
                "must be an IPv4 or IPv6 address",
            ));
            None
        })
    });
    let user_agent = text(obj, "user_agent", at, 500, false, errors);
    let tenant = text(obj, "tenant", at, 253, false, errors).map(str::to_ascii_lowercase);
    let actor = object(obj.get("actor"), &format!("{at}actor"), true, errors).and_then(|a| {
        let at = format!("{at}actor.");
        unknown(a, &["id", "type", "name"], &at, errors);
        let id = text(a, "id", &at, 200, true, errors);
        let kind = text(a, "type", &at, 64, true, errors).and_then(|k| {
            valid_kind(k).then_some(k).or_else(|| {
                errors.push(FieldError::new(
                    format!("{at}type"),
                    "must be letters, digits, '_', '-' and '.' (at most 64)",
                ));
                None
            })
        });
        let name = text(a, "name", &at, 200, false, errors);
        let mut actor = Map::new();
        actor.insert("id".into(), Value::String(id?.to_owned()));
        actor.insert("type".into(), Value::String(kind?.to_ascii_lowercase()));
        if let Some(name) = name {
            actor.insert("name".into(), Value::String(name.to_owned()));
        }
        Some(actor)
    });
    let resource =
        object(obj.get("resource"), &format!("{at}resource"), true, errors).and_then(|r| {
            let at = format!("{at}resource.");
            unknown(r, &["id", "type"], &at, errors);
            let id = text(r, "id", &at, 200, true, errors);
            let kind = text(r, "type", &at, 64, true, errors).and_then(|k| {
                valid_kind(k).then_some(k).or_else(|| {
                    errors.push(FieldError::new(
                        format!("{at}type"),
                        "must be letters, digits, '_', '-' and '.' (at most 64)",
                    ));
                    None
                })
            });
            Some(format!("{}:{}", kind?.to_ascii_lowercase(), id?))
        });
    let data = metadata(obj.get("metadata"), at, errors);
    if errors.len() > before {
        return None;
    }
    let mut metadata = Map::new();
    metadata.insert("actor".into(), Value::Object(actor?));
    metadata.insert("ip".into(), Value::String(ip?.to_string()));
    if let Some(ua) = user_agent {
        metadata.insert("user_agent".into(), Value::String(ua.to_owned()));
    }
    if !data.is_empty() {
        metadata.insert("data".into(), Value::Object(data));
    }
    metadata.insert("event_id".into(), Value::String(event_id?.to_owned()));
    Some(LogEvent {
        event_id: event_id?.to_owned(),
        occurred_at: occurred_at?,
        action: action?,
        resource: resource?,
        outcome: outcome?,
        tenant,
        metadata,
    })
}

/// A `POST /api/v1/audit-logs` body: one event, or `{"events": [...]}` with 1 to
/// [`MAX_BATCH`]. Every violation of every event is listed; `Err` stores nothing.
pub fn parse_batch(body: &Value, now: OffsetDateTime) -> Result<Vec<LogEvent>, DomainError> {
    parse_envelope(
        body,
        MAX_BATCH,
        "; send more through /api/v1/audit-logs/bulk",
        |v, at, errors| parse_event(v, at, now, errors),
    )
}

/// A batch endpoint's body: one item, or `{"events": [...]}` with 1 to `max`, each parsed
/// by `parse` with its field prefix (`""` or `events[3].`). Every violation of every item
/// is listed; `Err` when there is any.
pub(crate) fn parse_envelope<T>(
    body: &Value,
    max: usize,
    beyond: &str,
    mut parse: impl FnMut(&Value, &str, &mut Vec<FieldError>) -> Option<T>,
) -> Result<Vec<T>, DomainError> {
    let mut errors = Vec::new();
    let items = match body {
        Value::Object(obj) if obj.contains_key("events") => {
            unknown(obj, &["events"], "", &mut errors);
            match obj.get("events") {
                Some(Value::Array(items)) if items.is_empty() => {
                    errors.push(FieldError::new("events", "must hold at least one event"));
                    Vec::new()
                }
                Some(Value::Array(items)) if items.len() > max => {
                    errors.push(FieldError::new(
                        "events",
                        format!(
                            "must hold at most {max} events ({} sent){beyond}",
                            items.len()
                        ),
                    ));
                    Vec::new()
                }
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| parse(item, &format!("events[{i}]."), &mut errors))
                    .collect(),
                _ => {
                    errors.push(FieldError::new("events", "must be an array of events"));
                    Vec::new()
                }
            }
        }
        single => parse(single, "", &mut errors).into_iter().collect(),
    };
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(DomainError::Validation(errors))
    }
}

/// The tenant of each event: the token's own (an event naming another is refused), or
/// one of the application's enabled tenants, named by domain. Errors name the field of
/// each event (`field(i)` gives `events[i].tenant` or `tenant`).
pub fn assign_tenants(
    sender: &Sender,
    events: &[LogEvent],
    field: impl Fn(usize) -> String,
) -> Result<Vec<Uuid>, Vec<FieldError>> {
    sender.assign(events.iter().map(|e| e.tenant.as_deref()), field)
}

/// The domains `asked` names, when every one names a domain (see [`sender`]).
pub fn named_tenants<'a>(asked: impl Iterator<Item = Option<&'a str>>) -> Option<Vec<&'a str>> {
    asked.collect()
}

impl Sender {
    /// The tenant of each event that names `asked` (a domain, or none): the token's own,
    /// or one of the application's tenants; errors name `field(i)`.
    pub fn assign<'a>(
        &self,
        asked: impl Iterator<Item = Option<&'a str>>,
        field: impl Fn(usize) -> String,
    ) -> Result<Vec<Uuid>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut out = Vec::new();
        let by_domain = |d: &str| self.tenants.iter().find(|(_, name)| name == d).map(|t| t.0);
        for (i, asked) in asked.enumerate() {
            let tenant = match (self.token_tenant, asked) {
                (Some(own), None) => Some(own),
                (Some(own), Some(d)) => by_domain(d).filter(|id| *id == own),
                (None, Some(d)) => by_domain(d),
                (None, None) if self.tenants.len() == 1 => Some(self.tenants[0].0),
                (None, None) => {
                    errors.push(FieldError::new(
                        field(i),
                        "this application acts for several tenants: name one (tenant)",
                    ));
                    continue;
                }
            };
            match tenant {
                Some(t) => out.push(t),
                None => errors.push(FieldError::new(
                    field(i),
                    "is not a tenant this application is enabled for",
                )),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

/// Appends `events` (already validated, with their tenants) in one transaction, under one
/// lock of the chain head, and answers each one's fate only after the commit.
pub async fn ingest(
    pool: &PgPool,
    sender: &Sender,
    request_id: Option<&str>,
    events: &[LogEvent],
    tenants: &[Uuid],
) -> Result<Vec<TakenEvent>, DomainError> {
    // Sealed outside the batch's transaction: a new subject's key commits at once, so two
    // batches creating the same keys in another order never wait on each other (they did,
    // and deadlocked, when each held its new keys until its commit).
    let mut conn = pool.acquire().await?;
    let mut rows: Vec<Value> = Vec::with_capacity(events.len());
    for (e, tenant) in events.iter().zip(tenants) {
        let mut metadata = e.metadata.clone();
        let ip =
            super::personal::seal_event(&mut conn, sender.application_id, &mut metadata).await?;
        let mut row = serde_json::json!({
            "id": Uuid::now_v7(),
            "event_id": e.event_id,
            "tenant_id": tenant,
            "occurred_at": e.occurred_at.format(&Rfc3339).unwrap_or_default(),
            "action": e.action,
            "resource": e.resource,
            "outcome": e.outcome,
            "metadata": Value::Object(metadata),
        });
        if let (Some(ip_ref), Some(subject)) = (ip.ip_ref, ip.subject) {
            row["ip_ref"] = Value::String(hex::encode(ip_ref));
            row["ip_subject"] = Value::String(subject);
        }
        rows.push(row);
    }
    drop(conn);
    let mut tx = pool.begin().await?;
    let answers = sqlx::query(
        "SELECT out_idx, out_seq, out_duplicate FROM audit_ingest($1, $2, $3) ORDER BY out_idx",
    )
    .bind(sender.application_id)
    .bind(request_id)
    .bind(Value::Array(rows))
    .fetch_all(&mut *tx)
    .await
    .context("appending the application's events")?;
    tx.commit().await?;
    answers
        .iter()
        .zip(events)
        .map(|(row, e)| {
            let duplicate: bool = row.try_get("out_duplicate").context("duplicate")?;
            Ok(TakenEvent {
                id: e.event_id.clone(),
                status: if duplicate {
                    Taken::Duplicate
                } else {
                    Taken::Accepted
                },
                seq: row.try_get("out_seq").context("seq")?,
            })
        })
        .collect()
}

/// The sender of an application's token: its enabled, active tenants (every active
/// tenant for an application enabled for all), or only those of them `named` (the
/// domains a batch names, when each of its events names one). A disabled application is
/// refused (its tokens stop at once anyway); a suspended tenant is not among the tenants.
pub async fn sender(
    pool: &PgPool,
    application_id: Uuid,
    token_tenant: Option<Uuid>,
    named: Option<&[&str]>,
) -> Result<Sender, DomainError> {
    let app: Option<(bool, bool)> =
        sqlx::query_as("SELECT status = 'active', all_tenants FROM applications WHERE id = $1")
            .bind(application_id)
            .fetch_optional(pool)
            .await?;
    let Some((true, all_tenants)) = app else {
        return Err(DomainError::PermissionDenied(
            "the application is disabled".into(),
        ));
    };
    // A key bound to a tenant writes only there: that one row is all that is needed; a
    // batch that names its tenants needs only those (an application enabled for all
    // tenants would otherwise load every one per request).
    let tenants: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT t.id, t.domain FROM tenants t
          WHERE t.status = 'active'
            AND ($3::uuid IS NULL OR t.id = $3)
            AND ($3::uuid IS NOT NULL OR $4::text[] IS NULL OR t.domain = ANY($4))
            AND ($2 OR EXISTS (SELECT 1 FROM application_tenants at
                                WHERE at.application_id = $1 AND at.tenant_id = t.id))",
    )
    .bind(application_id)
    .bind(all_tenants)
    .bind(token_tenant)
    .bind(named.map(|n| n.iter().map(|d| (*d).to_owned()).collect::<Vec<String>>()))
    .fetch_all(pool)
    .await?;
    if let Some(own) = token_tenant {
        if !tenants.iter().any(|(id, _)| *id == own) {
            return Err(DomainError::PermissionDenied(
                "the tenant is suspended: its events are not taken".into(),
            ));
        }
    }
    Ok(Sender {
        application_id,
        token_tenant,
        tenants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "id": "evt-1", "occurred_at": "2026-12-06T09:30:00Z",
            "actor": {"id": "u-7", "type": "user", "name": "Ann"},
            "action": "document.download", "resource": {"id": "doc-9", "type": "document"},
            "outcome": "success", "ip_address": "203.0.113.9",
            "metadata": {"size": 12, "api_token": "s3cret"}
        })
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-12-06T10:00:00Z", &Rfc3339).unwrap()
    }

    #[test]
    fn a_good_event_becomes_an_entry_with_secrets_redacted() {
        let events = parse_batch(&good(), now()).unwrap();
        let e = &events[0];
        assert_eq!(e.resource, "document:doc-9");
        assert_eq!(e.metadata["actor"]["id"], "u-7");
        assert_eq!(e.metadata["data"]["api_token"], "[redacted]");
        assert_eq!(e.metadata["ip"], "203.0.113.9");
    }

    #[test]
    fn every_violation_of_every_event_is_named() {
        let mut bad = good();
        bad["action"] = json!("Login!");
        bad["bogus"] = json!(1);
        bad["occurred_at"] = json!("2026-12-06T09:30:00+02:00");
        bad["actor"] = json!({"type": "user"});
        let body = json!({"events": [good(), bad]});
        let Err(DomainError::Validation(details)) = parse_batch(&body, now()) else {
            panic!("refused");
        };
        let fields: Vec<&str> = details.iter().map(|d| d.field.as_str()).collect();
        for f in [
            "events[1].bogus",
            "events[1].action",
            "events[1].occurred_at",
            "events[1].actor.id",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        assert!(!fields.iter().any(|f| f.starts_with("events[0]")));
    }

    #[test]
    fn batches_hold_one_to_a_hundred() {
        let many = json!({"events": vec![good(); 101]});
        assert!(parse_batch(&many, now()).is_err());
        assert!(parse_batch(&json!({"events": []}), now()).is_err());
        assert_eq!(
            parse_batch(&json!({"events": vec![good(); 100]}), now())
                .unwrap()
                .len(),
            100
        );
    }

    #[test]
    fn single_word_actions_and_the_future_bound() {
        let mut e = good();
        e["action"] = json!("login");
        assert!(parse_batch(&e, now()).is_ok());
        e["occurred_at"] = json!("2026-12-06T10:06:00Z");
        assert!(parse_batch(&e, now()).is_err());
    }
}
