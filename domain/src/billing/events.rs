//! Billing events in (API-BILL): validation, and the one transaction that stores a batch
//! and its daily and monthly rollups.

use crate::audit::ingest::{
    event_name, event_object, metadata, parse_envelope, text, unknown, utc_time,
};
use crate::audit::Sender;
use crate::{DomainError, FieldError};
use anyhow::Context as _;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Events in one `POST /api/v1/billing/events` (SPEC §9: arrays ≤ 100 items).
pub const MAX_BATCH: usize = 100;
/// The largest quantity: JSON's safe integers (2^53 − 1).
pub const MAX_QUANTITY: i64 = (1 << 53) - 1;

const FIELDS: &[&str] = &[
    "id",
    "tenant",
    "timestamp",
    "event_type",
    "quantity",
    "metadata",
];

/// How far back and ahead an event's time may be (`GATEHOUSE_BILLING_MAX_AGE_DAYS`,
/// `GATEHOUSE_BILLING_MAX_AHEAD_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub max_age: Duration,
    pub max_ahead: Duration,
}

impl TimeWindow {
    /// `t` when it is inside the window around `now`; else the violation, named `field`.
    pub fn check(
        &self,
        t: OffsetDateTime,
        now: OffsetDateTime,
        field: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<OffsetDateTime> {
        if t > now + self.max_ahead {
            let ahead = self.max_ahead.whole_seconds();
            errors.push(FieldError::new(
                field,
                format!("must not be more than {ahead} s ahead"),
            ));
            None
        } else if t < now - self.max_age {
            let days = self.max_age.whole_days();
            errors.push(FieldError::new(
                field,
                format!("must not be more than {days} days old"),
            ));
            None
        } else {
            Some(t)
        }
    }
}

impl Default for TimeWindow {
    fn default() -> Self {
        Self {
            max_age: Duration::days(35),
            max_ahead: Duration::minutes(5),
        }
    }
}

/// One validated event; `tenant` is still the domain the application named, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageEvent {
    pub id: String,
    pub tenant: Option<String>,
    pub timestamp: OffsetDateTime,
    pub event_type: String,
    pub quantity: i64,
    pub metadata: Map<String, Value>,
    /// The sender gave the time (a CloudEvent may leave it to the receiver: then a
    /// re-send is judged without it).
    pub timed: bool,
}

impl UsageEvent {
    /// What makes a re-sent event the same event: type, quantity, time and metadata.
    fn content_hash(&self) -> Vec<u8> {
        let time = if self.timed {
            Value::String(self.timestamp.unix_timestamp_nanos().to_string())
        } else {
            Value::Null
        };
        let canonical = serde_json::json!([
            self.event_type,
            self.quantity,
            time,
            Value::Object(self.metadata.clone()),
        ]);
        Sha256::digest(canonical.to_string().as_bytes()).to_vec()
    }
}

/// Validates one event; fields are named after `at` (`""` or `events[3].`).
pub fn parse_event(
    value: &Value,
    at: &str,
    now: OffsetDateTime,
    window: TimeWindow,
    errors: &mut Vec<FieldError>,
) -> Option<UsageEvent> {
    let before = errors.len();
    let obj = event_object(value, at, errors)?;
    unknown(obj, FIELDS, at, errors);
    let id = text(obj, "id", at, 200, true, errors);
    let tenant = text(obj, "tenant", at, 253, false, errors).map(str::to_ascii_lowercase);
    let timestamp = utc_time(obj, "timestamp", at, errors)
        .and_then(|t| window.check(t, now, &format!("{at}timestamp"), errors));
    let event_type = event_name(obj, "event_type", at, errors);
    let quantity = match obj.get("quantity") {
        None | Some(Value::Null) => {
            errors.push(FieldError::new(format!("{at}quantity"), "is required"));
            None
        }
        Some(q) => quantity(q, &format!("{at}quantity"), errors),
    };
    let metadata = metadata(obj.get("metadata"), at, errors);
    if errors.len() > before {
        return None;
    }
    Some(UsageEvent {
        id: id?.to_owned(),
        tenant,
        timestamp: timestamp?,
        event_type: event_type?,
        quantity: quantity?,
        metadata,
        timed: true,
    })
}

/// A quantity: a whole number from 1 to [`MAX_QUANTITY`].
pub(crate) fn quantity(value: &Value, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(q) if (1..=MAX_QUANTITY).contains(&q) => Some(q),
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!("must be a whole number from 1 to {MAX_QUANTITY}"),
                ));
                None
            }
        },
        _ => {
            errors.push(FieldError::new(field, "must be a number"));
            None
        }
    }
}

/// A `POST /api/v1/billing/events` body: one event or `{"events": [...]}` (1 to 100).
/// Every violation of every event is listed; `Err` stores nothing.
pub fn parse_batch(
    body: &Value,
    now: OffsetDateTime,
    window: TimeWindow,
) -> Result<Vec<UsageEvent>, DomainError> {
    parse_envelope(body, MAX_BATCH, "", |v, at, errors| {
        parse_event(v, at, now, window, errors)
    })
}

/// The fate of one event of a batch: `accepted` (stored now), `duplicate` (its `id` was
/// sent before with the same content: stored once, not again) or `conflict` (its `id` was
/// sent before with other content: refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = UsageEventStatus)]
pub enum Fate {
    Accepted,
    Duplicate,
    Conflict,
}

/// What became of one usage event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = UsageEventResult)]
pub struct EventFate {
    /// The event's `id`, as sent.
    pub id: String,
    pub status: Fate,
}

/// The tenant of each event (see [`Sender::assign`]).
pub fn assign_tenants(
    sender: &Sender,
    events: &[UsageEvent],
    field: impl Fn(usize) -> String,
) -> Result<Vec<Uuid>, Vec<FieldError>> {
    sender.assign(events.iter().map(|e| e.tenant.as_deref()), field)
}

/// Stores `events` (validated, with their tenants) and their rollup in one transaction
/// and answers each one's fate after the commit. The same id twice in one batch is judged
/// against its first occurrence. Rows are written in key order, so concurrent batches
/// that share ids or rollup rows wait for each other instead of deadlocking.
pub async fn ingest(
    pool: &PgPool,
    application_id: Uuid,
    events: &[UsageEvent],
    tenants: &[Uuid],
) -> Result<Vec<EventFate>, DomainError> {
    let hashes: Vec<Vec<u8>> = events.iter().map(UsageEvent::content_hash).collect();
    // The first occurrence of each (tenant, id) goes to the database.
    let mut first: std::collections::HashMap<(Uuid, &str), usize> =
        std::collections::HashMap::new();
    let mut sent = Vec::new();
    for (i, (e, t)) in events.iter().zip(tenants).enumerate() {
        if let std::collections::hash_map::Entry::Vacant(slot) = first.entry((*t, e.id.as_str())) {
            slot.insert(i);
            sent.push(i);
        }
    }
    let mut tx = pool.begin().await?;
    let inserted: Vec<(Uuid, String)> = sqlx::query_as(
        "WITH input AS (
             SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::bigint[], $5::timestamptz[],
                                  $6::jsonb[], $7::bytea[])
                      WITH ORDINALITY AS i(key, tenant_id, event_type, quantity, occurred_at, metadata, hash, ord)),
         inserted AS (
             INSERT INTO billing_events (tenant_id, application_id, event_type, quantity, occurred_at,
                                         idempotency_key, metadata, content_hash)
             SELECT tenant_id, $8, event_type, quantity, occurred_at, key, metadata, hash
               FROM input ORDER BY tenant_id, key
             ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
             RETURNING tenant_id, idempotency_key, event_type, quantity, occurred_at),
         rolled AS (
             INSERT INTO billing_usage_daily (tenant_id, event_type, day, quantity, events)
             SELECT tenant_id, event_type, (occurred_at AT TIME ZONE 'UTC')::date, sum(quantity), count(*)
               FROM inserted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
             ON CONFLICT (tenant_id, event_type, day) DO UPDATE
                SET quantity = billing_usage_daily.quantity + EXCLUDED.quantity,
                    events = billing_usage_daily.events + EXCLUDED.events),
         monthly AS (
             INSERT INTO billing_usage_monthly (tenant_id, event_type, month, quantity, events)
             SELECT tenant_id, event_type, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date,
                    sum(quantity), count(*)
               FROM inserted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
             ON CONFLICT (tenant_id, event_type, month) DO UPDATE
                SET quantity = billing_usage_monthly.quantity + EXCLUDED.quantity,
                    events = billing_usage_monthly.events + EXCLUDED.events)
         SELECT tenant_id, idempotency_key FROM inserted",
    )
    .bind(sent.iter().map(|&i| events[i].id.clone()).collect::<Vec<_>>())
    .bind(sent.iter().map(|&i| tenants[i]).collect::<Vec<_>>())
    .bind(sent.iter().map(|&i| events[i].event_type.clone()).collect::<Vec<_>>())
    .bind(sent.iter().map(|&i| events[i].quantity).collect::<Vec<_>>())
    .bind(sent.iter().map(|&i| events[i].timestamp).collect::<Vec<_>>())
    .bind(sent.iter().map(|&i| Value::Object(events[i].metadata.clone())).collect::<Vec<_>>())
    .bind(sent.iter().map(|&i| hashes[i].clone()).collect::<Vec<_>>())
    .bind(application_id)
    .fetch_all(&mut *tx)
    .await
    .context("storing billing events")?;
    let accepted: std::collections::HashSet<(Uuid, String)> = inserted.into_iter().collect();
    // Ids stored before (or by a transaction that committed while this one waited): a
    // new statement sees them.
    let stored: Vec<(Uuid, String, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT e.tenant_id, e.idempotency_key, e.content_hash
           FROM billing_events e
           JOIN unnest($1::uuid[], $2::text[]) AS k(tenant_id, key)
             ON e.tenant_id = k.tenant_id AND e.idempotency_key = k.key",
    )
    .bind(tenants.to_vec())
    .bind(events.iter().map(|e| e.id.clone()).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let hash_of: std::collections::HashMap<(Uuid, String), Option<Vec<u8>>> =
        stored.into_iter().map(|(t, k, h)| ((t, k), h)).collect();
    Ok(events
        .iter()
        .zip(tenants)
        .enumerate()
        .map(|(i, (e, t))| {
            let key = (*t, e.id.clone());
            let status = if first.get(&(*t, e.id.as_str())) == Some(&i) && accepted.contains(&key) {
                Fate::Accepted
            } else if hash_of.get(&key).and_then(|h| h.as_deref()) == Some(hashes[i].as_slice()) {
                Fate::Duplicate
            } else {
                Fate::Conflict
            };
            EventFate {
                id: e.id.clone(),
                status,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::format_description::well_known::Rfc3339;

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-12-06T10:00:00Z", &Rfc3339).unwrap()
    }

    fn good() -> Value {
        json!({"id": "u-1", "timestamp": "2026-12-06T09:00:00Z", "event_type": "api.call", "quantity": 3})
    }

    #[test]
    fn quantities_are_whole_positive_and_safe() {
        for (q, ok) in [
            (json!(1), true),
            (json!(0), false),
            (json!(-2), false),
            (json!(1.5), false),
            (json!(9_007_199_254_740_992_i64), false),
            (json!("3"), false),
        ] {
            let mut e = good();
            e["quantity"] = q.clone();
            assert_eq!(
                parse_batch(&e, now(), TimeWindow::default()).is_ok(),
                ok,
                "{q}"
            );
        }
    }

    #[test]
    fn times_are_utc_within_the_window() {
        for (t, ok) in [
            ("2026-12-06T09:00:00Z", true),
            ("2026-11-02T10:00:00Z", true),
            ("2026-10-31T10:00:00Z", false),
            ("2026-12-06T10:06:00Z", false),
            ("2026-12-06T09:00:00+01:00", false),
            ("yesterday", false),
        ] {
            let mut e = good();
            e["timestamp"] = json!(t);
            assert_eq!(
                parse_batch(&e, now(), TimeWindow::default()).is_ok(),
                ok,
                "{t}"
            );
        }
    }

    #[test]
    fn every_violation_is_named_per_event() {
        let body = json!({"events": [good(), {"id": "", "quantity": 0, "bogus": 1}]});
        let Err(DomainError::Validation(d)) = parse_batch(&body, now(), TimeWindow::default())
        else {
            panic!("refused");
        };
        let fields: Vec<&str> = d.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "events[1].bogus",
            "events[1].id",
            "events[1].timestamp",
            "events[1].event_type",
            "events[1].quantity",
        ] {
            assert!(fields.contains(&f), "{f}: {fields:?}");
        }
    }
}
