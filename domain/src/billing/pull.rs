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
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = PulledUsageEvent)]
pub struct PulledEvent {
    /// The application's id of the event (for a void, of the event it voids).
    pub id: Option<String>,
    /// `event`, or `void`: the event of this `id` no longer counts (subtract it).
    #[schema(pattern = "^(event|void)$", examples("event", "void"))]
    pub kind: String,
    /// The tenant's domain.
    pub tenant: String,
    pub event_type: String,
    /// The event's quantity (for a void, the quantity to subtract).
    pub quantity: i64,
    /// When it happened (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// When it was stored (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The event's metadata (for a void, its `reason`).
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

/// A page of a pull, in ingestion order.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = UsageEventPage)]
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
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UsageTotal {
    /// The tenant's domain.
    pub tenant: String,
    pub event_type: String,
    /// The window's first day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub period: String,
    /// Exact (the sum of whole quantities may pass 2^53, so it is a decimal string).
    #[schema(pattern = "^-?[0-9]+$", examples("1200"))]
    pub quantity: String,
    /// Events counted (voids subtracted).
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

/// Exact totals per tenant × type × day or month, from the rollups kept with the events
/// (voids subtracted). In UTC a window is a whole number of rollup rows: month totals read
/// the monthly rollup (when the range starts and ends on a month), day totals the daily
/// one. In another time zone, a UTC day that lies whole inside one window (and inside the
/// range) is read from the daily rollup, and the few that a window's edge cuts are summed
/// from the events themselves, so a total is exact in every time zone.
pub async fn usage(
    pool: &PgPool,
    readable: &Readable,
    q: &UsageQuery,
) -> Result<Vec<UsageTotal>, DomainError> {
    let unit = match q.window {
        UsageWindow::Day => "day",
        UsageWindow::Month => "month",
    };
    let mut b = match q.tz.as_deref() {
        None | Some("UTC") => utc_totals(readable, q, unit),
        Some(tz) => zoned_totals(readable, q, unit, tz),
    };
    // Sorted and cut on the plain columns (domains and types are ASCII: byte order), the
    // text made only for the rows kept.
    b.push(format!(
        " SELECT y.domain AS tenant, y.event_type, to_char(y.w, 'YYYY-MM-DD') AS period,
                y.quantity::text AS quantity, y.events::bigint AS events
           FROM (SELECT t.domain, x.* FROM totals x JOIN tenants t ON t.id = x.tenant_id
                  ORDER BY t.domain COLLATE \"C\", x.event_type COLLATE \"C\", x.w
                  LIMIT {}) y
          ORDER BY y.domain COLLATE \"C\", y.event_type COLLATE \"C\", y.w",
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

/// `WITH totals AS (...)` in UTC: sums of whole rollup rows.
fn utc_totals<'a>(readable: &Readable, q: &UsageQuery, unit: &str) -> QueryBuilder<'a, Postgres> {
    let first_of_month = |d: Option<time::Date>| d.is_none_or(|d| d.day() == 1);
    let (table, col) =
        if q.window == UsageWindow::Month && first_of_month(q.from) && first_of_month(q.until) {
            ("billing_usage_monthly", "month")
        } else {
            ("billing_usage_daily", "day")
        };
    // A rollup row of the window's own size is a total already.
    let whole = col == unit;
    let mut b = QueryBuilder::new(if whole {
        format!(
            "WITH totals AS (
                 SELECT e.tenant_id, e.event_type, e.{col} AS w, e.quantity, e.events
                   FROM {table} e WHERE e.events <> 0"
        )
    } else {
        format!(
            "WITH totals AS (
                 SELECT e.tenant_id, e.event_type, date_trunc('{unit}', e.{col})::date AS w,
                        sum(e.quantity) AS quantity, sum(e.events) AS events
                   FROM {table} e WHERE true"
        )
    });
    push_scope(&mut b, readable, q.tenant);
    if let Some(t) = &q.event_type {
        b.push(" AND e.event_type = ").push_bind(t.clone());
    }
    if let Some(from) = q.from {
        b.push(format!(" AND e.{col} >= ")).push_bind(from);
    }
    if let Some(until) = q.until {
        b.push(format!(" AND e.{col} < ")).push_bind(until);
    }
    b.push(if whole {
        ")"
    } else {
        " GROUP BY 1, 2, 3 HAVING sum(e.events) <> 0)"
    });
    b
}

/// `WITH ... totals AS (...)` in the time zone `tz`: whole UTC days from the daily rollup,
/// the days a window's edge cuts from their events (an index range each).
fn zoned_totals<'a>(
    readable: &Readable,
    q: &UsageQuery,
    unit: &str,
    tz: &str,
) -> QueryBuilder<'a, Postgres> {
    let mut b = QueryBuilder::new("WITH r AS (SELECT ");
    b.push_bind(tz.to_owned())
        .push("::text AS tz, ")
        .push_bind(q.from)
        .push("::date::timestamp AT TIME ZONE ")
        .push_bind(tz.to_owned())
        .push(" AS lo, ")
        .push_bind(q.until)
        .push("::date::timestamp AT TIME ZONE ")
        .push_bind(tz.to_owned())
        .push(
            " AS hi),
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
        "), c AS MATERIALIZED (
                SELECT d.*, date_trunc('{unit}', d.d_lo AT TIME ZONE r.tz) AS w,
                       date_trunc('{unit}', d.d_lo AT TIME ZONE r.tz)
                         = date_trunc('{unit}', (d.d_hi - interval '1 microsecond') AT TIME ZONE r.tz)
                       AND (r.lo IS NULL OR d.d_lo >= r.lo) AND (r.hi IS NULL OR d.d_hi <= r.hi) AS whole
                  FROM d, r),
              parts AS (
                  SELECT tenant_id, event_type, w, quantity, events FROM c WHERE whole
                  UNION ALL
                  SELECT c.tenant_id, c.event_type, x.w, x.quantity, x.events
                    FROM c CROSS JOIN r CROSS JOIN LATERAL (
                         SELECT date_trunc('{unit}', e.occurred_at AT TIME ZONE r.tz) AS w,
                                sum(CASE e.kind WHEN 'void' THEN -e.quantity ELSE e.quantity END) AS quantity,
                                sum(CASE e.kind WHEN 'void' THEN -1 ELSE 1 END) AS events
                           FROM billing_events e
                          WHERE e.tenant_id = c.tenant_id AND e.event_type = c.event_type
                            AND e.occurred_at >= greatest(c.d_lo, coalesce(r.lo, c.d_lo))
                            AND e.occurred_at < least(c.d_hi, coalesce(r.hi, c.d_hi))
                          GROUP BY 1) x
                   WHERE NOT c.whole),
              totals AS (
                  SELECT tenant_id, event_type, w::date AS w, sum(quantity) AS quantity, sum(events) AS events
                    FROM parts GROUP BY 1, 2, 3 HAVING sum(events) <> 0)"
    ));
    b
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
