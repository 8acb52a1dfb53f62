//! Billing events out (FR-BILL-003, UC-SYS-BILL-EXPORT): incremental pulls that never skip
//! an event, and exact usage totals.
//!
//! A pull walks the events in `(txid, seq)` order — the inserting transaction, then the
//! ingestion order within it — and stops below the oldest transaction still running in
//! this database when the pull's snapshot was taken (in progress in the snapshot, and not
//! known to belong to another database: those cannot write here). Every transaction below
//! that watermark has ended, and every later transaction gets a larger id, so nothing can
//! appear behind a cursor once it has passed: an ingestion that took its sequence numbers
//! first and commits last is held back until it commits, then comes in the next pull.

use crate::DomainError;
use anyhow::Context as _;
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

/// Who reads: every tenant (`None`: an application enabled for all, bound to none) or
/// these tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readable(pub Option<Vec<Uuid>>);

/// A pull's filters and position.
#[derive(Debug, Clone, Default)]
pub struct PullQuery {
    pub tenant: Option<Uuid>,
    pub event_type: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub after: Option<String>,
    pub limit: i64,
}

/// One event as the billing system reads it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PulledEvent {
    /// The application's id of the event (for a void, of the event it voids).
    pub id: Option<String>,
    /// `event`, or `void`: the event of this `id` no longer counts (subtract it).
    pub kind: String,
    pub tenant: String,
    pub event_type: String,
    pub quantity: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub metadata: serde_json::Value,
    #[serde(skip)]
    pub txid: String,
    #[serde(skip)]
    pub seq: i64,
}

impl PulledEvent {
    /// The position just after this event: a pull from here goes on with the next one.
    pub fn cursor(&self) -> String {
        crate::cursor::encode_pair(&self.txid, self.seq)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PullPage {
    pub data: Vec<PulledEvent>,
    /// Where the next pull starts: always given (the same cursor when nothing was new), so
    /// the billing system keeps it and asks again.
    pub next_cursor: Option<String>,
    /// More events are ready now.
    pub has_more: bool,
}

fn push_scope(q: &mut QueryBuilder<'_, Postgres>, readable: &Readable, tenant: Option<Uuid>) {
    if let Some(t) = tenant {
        q.push(" AND e.tenant_id = ").push_bind(t);
    }
    if let Readable(Some(tenants)) = readable {
        q.push(" AND e.tenant_id = ANY(")
            .push_bind(tenants.clone())
            .push(")");
    }
}

/// The next page of events after `q.after`, below the commit watermark.
pub async fn pull(
    pool: &PgPool,
    readable: &Readable,
    q: &PullQuery,
) -> Result<PullPage, DomainError> {
    if !(1..=1000).contains(&q.limit) {
        return Err(DomainError::validation(
            "limit",
            "must be between 1 and 1000",
        ));
    }
    let after = q
        .after
        .as_deref()
        .map(|a| crate::cursor::decode_pair::<i64, i64>(a, "after"))
        .transpose()?;
    let mut b = QueryBuilder::new(
        "WITH s AS (SELECT pg_current_snapshot() AS snap),
              mark AS (SELECT coalesce(
                  (SELECT min(x) FROM s, pg_snapshot_xip(s.snap) AS x
                    WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                       WHERE a.datname IS DISTINCT FROM current_database()
                                         AND a.backend_xid IS NOT NULL
                                         AND a.backend_xid::text::bigint = x::text::bigint % 4294967296)),
                  (SELECT pg_snapshot_xmax(snap) FROM s)) AS xid)
         SELECT coalesce(e.idempotency_key, o.idempotency_key) AS id, e.kind, t.domain AS tenant,
                e.event_type, e.quantity, e.occurred_at AS timestamp, e.received_at, e.metadata,
                e.txid::text AS txid, e.seq
           FROM billing_events e JOIN tenants t ON t.id = e.tenant_id
                LEFT JOIN billing_events o ON o.id = e.voids, mark
          WHERE e.txid < mark.xid",
    );
    push_scope(&mut b, readable, q.tenant);
    if let Some((txid, seq)) = after {
        b.push(" AND (e.txid, e.seq) > (")
            .push_bind(txid.to_string())
            .push("::xid8, ")
            .push_bind(seq)
            .push(")");
    }
    if let Some(t) = &q.event_type {
        b.push(" AND e.event_type = ").push_bind(t.clone());
    }
    if let Some(from) = q.from {
        b.push(" AND e.occurred_at >= ").push_bind(from);
    }
    if let Some(until) = q.until {
        b.push(" AND e.occurred_at < ").push_bind(until);
    }
    b.push(" ORDER BY e.txid, e.seq LIMIT ")
        .push_bind(q.limit + 1);
    let mut data: Vec<PulledEvent> = b
        .build_query_as()
        .fetch_all(pool)
        .await
        .context("pulling billing events")?;
    let has_more = data.len() as i64 > q.limit;
    data.truncate(q.limit as usize);
    let next_cursor = data
        .last()
        .map(PulledEvent::cursor)
        .or_else(|| q.after.clone());
    Ok(PullPage {
        data,
        next_cursor,
        has_more,
    })
}

/// A usage window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageWindow {
    Day,
    Month,
}

/// One total: a tenant's quantity and event count of a type in a window (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct UsageTotal {
    pub tenant: String,
    pub event_type: String,
    /// The window's first day, `YYYY-MM-DD`.
    pub period: String,
    /// Exact (the sum of whole quantities may pass 2^53, so it is a decimal string).
    pub quantity: String,
    pub events: i64,
}

/// Totals one usage answer holds; [`usage`] reads one more, so the caller can tell the
/// answer was cut.
pub const MAX_TOTALS: usize = 10_000;

/// What a usage query asks for. `from` and `until` are days in `tz` (UTC when `None`),
/// `until` exclusive.
#[derive(Debug, Clone)]
pub struct UsageQuery {
    pub tenant: Option<Uuid>,
    pub event_type: Option<String>,
    pub from: Option<time::Date>,
    pub until: Option<time::Date>,
    pub window: UsageWindow,
    /// An IANA time zone (`Europe/Berlin`): windows start at its midnights.
    pub tz: Option<String>,
}

/// Exact totals per tenant × type × day or month. A UTC day that lies whole inside one
/// window (and inside the range) is read from the rollup kept with the events; the few
/// that a window's edge in another time zone cuts are summed from the events themselves
/// (voids subtract), so a total is exact in every time zone.
pub async fn usage(
    pool: &PgPool,
    readable: &Readable,
    q: &UsageQuery,
) -> Result<Vec<UsageTotal>, DomainError> {
    let unit = match q.window {
        UsageWindow::Day => "day",
        UsageWindow::Month => "month",
    };
    let mut b = QueryBuilder::new("WITH p AS (SELECT ");
    b.push_bind(q.tz.clone().unwrap_or_else(|| "UTC".to_owned()))
        .push("::text AS tz, ")
        .push_bind(q.from)
        .push("::date AS from_day, ")
        .push_bind(q.until)
        .push(
            "::date AS until_day),
              r AS (SELECT tz, from_day::timestamp AT TIME ZONE tz AS lo,
                           until_day::timestamp AT TIME ZONE tz AS hi FROM p),
              d AS (SELECT e.tenant_id, e.event_type, e.quantity, e.events,
                           e.day::timestamp AT TIME ZONE 'UTC' AS d_lo,
                           (e.day + 1)::timestamp AT TIME ZONE 'UTC' AS d_hi
                      FROM billing_usage_daily e, r
                     WHERE (r.lo IS NULL OR e.day >= (r.lo AT TIME ZONE 'UTC')::date)
                       AND (r.hi IS NULL OR e.day <= ((r.hi AT TIME ZONE 'UTC') - interval '1 microsecond')::date)",
        );
    push_scope(&mut b, readable, q.tenant);
    if let Some(t) = &q.event_type {
        b.push(" AND e.event_type = ").push_bind(t.clone());
    }
    b.push(format!(
        "), c AS (SELECT d.*, date_trunc('{unit}', d.d_lo AT TIME ZONE r.tz) AS w,
                         date_trunc('{unit}', d.d_lo AT TIME ZONE r.tz)
                           = date_trunc('{unit}', (d.d_hi - interval '1 microsecond') AT TIME ZONE r.tz)
                         AND (r.lo IS NULL OR d.d_lo >= r.lo) AND (r.hi IS NULL OR d.d_hi <= r.hi) AS whole
                    FROM d, r),
              parts AS (
                  SELECT tenant_id, event_type, w, quantity, events FROM c WHERE whole
                  UNION ALL
                  SELECT e.tenant_id, e.event_type, date_trunc('{unit}', e.occurred_at AT TIME ZONE r.tz),
                         CASE e.kind WHEN 'void' THEN -e.quantity ELSE e.quantity END,
                         CASE e.kind WHEN 'void' THEN -1 ELSE 1 END
                    FROM c JOIN billing_events e
                           ON e.tenant_id = c.tenant_id AND e.event_type = c.event_type
                          AND e.occurred_at >= c.d_lo AND e.occurred_at < c.d_hi, r
                   WHERE NOT c.whole
                     AND (r.lo IS NULL OR e.occurred_at >= r.lo)
                     AND (r.hi IS NULL OR e.occurred_at < r.hi))
         SELECT t.domain AS tenant, parts.event_type, to_char(parts.w, 'YYYY-MM-DD') AS period,
                sum(parts.quantity)::text AS quantity, sum(parts.events)::bigint AS events
           FROM parts JOIN tenants t ON t.id = parts.tenant_id
          GROUP BY 1, 2, 3 HAVING sum(parts.events) <> 0
          ORDER BY 1, 2, 3 LIMIT {}",
        MAX_TOTALS + 1
    ));
    match b.build_query_as().fetch_all(pool).await {
        Ok(rows) => Ok(rows),
        // 22023: the time zone is not one PostgreSQL knows.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("22023") => Err(
            DomainError::validation("tz", "must be an IANA time zone, like Europe/Berlin"),
        ),
        Err(e) => Err(e.into()),
    }
}

/// What an application's token may read: its bound tenant; else every tenant when it is
/// enabled for all; else its enabled tenants.
pub async fn readable_by(
    pool: &PgPool,
    application_id: Uuid,
    token_tenant: Option<Uuid>,
) -> Result<Readable, DomainError> {
    if let Some(t) = token_tenant {
        return Ok(Readable(Some(vec![t])));
    }
    let all: Option<bool> = sqlx::query_scalar(
        "SELECT all_tenants FROM applications WHERE id = $1 AND status = 'active'",
    )
    .bind(application_id)
    .fetch_optional(pool)
    .await?;
    match all {
        None => Err(DomainError::PermissionDenied(
            "the application is disabled".into(),
        )),
        Some(true) => Ok(Readable(None)),
        Some(false) => Ok(Readable(Some(
            sqlx::query_scalar(
                "SELECT tenant_id FROM application_tenants WHERE application_id = $1",
            )
            .bind(application_id)
            .fetch_all(pool)
            .await?,
        ))),
    }
}
