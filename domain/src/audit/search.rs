//! Searching the whole trail (SPEC §8; FR-LOG-002, CON-SEC-002): the Auditor Console's
//! filters, its pages and detail view, and the walk behind its exports.
//!
//! A filter is parsed from the console's URL (so a view can be bookmarked, shared and
//! saved) into [`AuditFilter`]; every violation is named with its field. Each query is
//! built with only the conditions asked for, so each filter meets the index made for it
//! (migration 0018), all ordered `recorded_at DESC, seq DESC` — the chain's own order,
//! since `recorded_at` never goes backwards along the chain.
//!
//! Who sees what: auditors and operators (`AuditReadAll`) the whole trail; a tenant's
//! owners and admins (`TenantAuditRead`) only their tenant's entries, whatever they ask.

use crate::permissions::{Actor, Permission};
use crate::{DomainError, FieldError};
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, QueryBuilder};
use std::net::IpAddr;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

/// The quick time ranges of the console, with their length.
pub const QUICK_RANGES: &[(&str, &str, Duration)] = &[
    ("1h", "Last hour", Duration::hours(1)),
    ("24h", "Last 24 hours", Duration::hours(24)),
    ("7d", "Last 7 days", Duration::days(7)),
    ("30d", "Last 30 days", Duration::days(30)),
    ("90d", "Last 90 days", Duration::days(90)),
];

/// The filter names, in the order of the console's URL.
pub const FILTER_NAMES: &[&str] = &[
    "range",
    "from",
    "to",
    "tenant",
    "actor",
    "actor_type",
    "action",
    "outcome",
    "resource",
    "request_id",
    "ip",
];

/// Which part of the trail an actor may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Tenant(Uuid),
}

impl Scope {
    /// The whole trail for auditors and operators, the own tenant's for its owners and
    /// admins; anyone else is refused.
    pub fn of(actor: &Actor) -> Result<Self, DomainError> {
        if actor.require(Permission::AuditReadAll).is_ok() {
            return Ok(Scope::All);
        }
        actor.require(Permission::TenantAuditRead)?;
        actor
            .tenant_id
            .map(Scope::Tenant)
            .ok_or_else(|| DomainError::PermissionDenied("no tenant".into()))
    }
}

/// The console's filter, validated. Blank values mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// A tenant's domain, or `platform` for entries of no tenant.
    pub tenant: Option<String>,
    /// An email, a person's id, or the id an application reported for its actor.
    pub actor: Option<String>,
    pub actor_type: Option<String>,
    /// `user.` matches `user.invite`, `user.archive`, ...
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub resource: Option<String>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    /// The keyed reference of `ip`, which is what the trail can be searched by (its
    /// addresses are sealed; CON-COMP-001). Filled by the search and the export.
    #[serde(skip)]
    pub ip_ref: Option<Vec<u8>>,
}

/// A time given in the console (`2026-12-06T09:30`, from a datetime field, is UTC), in
/// the API (`2026-12-06T09:30:00Z`) or as a day (`2026-12-06`).
fn moment(raw: &str) -> Option<OffsetDateTime> {
    use time::macros::format_description;
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(t);
    }
    if let Ok(t) = PrimitiveDateTime::parse(
        raw,
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ) {
        return Some(t.assume_utc());
    }
    if let Ok(t) = PrimitiveDateTime::parse(
        raw,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    ) {
        return Some(t.assume_utc());
    }
    time::Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|d| d.midnight().assume_utc())
}

impl AuditFilter {
    /// The filter of `get(name)` for each of [`FILTER_NAMES`], as of `now` (quick ranges
    /// end now). Every bad value is named.
    pub fn parse(
        get: impl Fn(&str) -> Option<String>,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        let given = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut errors = Vec::new();
        let mut f = AuditFilter::default();
        match given("range").as_deref() {
            None | Some("custom") => {
                for (name, slot) in [("from", &mut f.from), ("to", &mut f.until)] {
                    if let Some(raw) = given(name) {
                        match moment(&raw) {
                            Some(t) => *slot = Some(t),
                            None => errors.push(FieldError::new(
                                name,
                                "must be a time like 2026-12-06T09:30 (UTC) or a day like 2026-12-06",
                            )),
                        }
                    }
                }
            }
            Some(quick) => match QUICK_RANGES.iter().find(|r| r.0 == quick) {
                Some((_, _, length)) => f.from = Some(now - *length),
                None => errors.push(FieldError::new(
                    "range",
                    "must be one of: 1h, 24h, 7d, 30d, 90d, custom",
                )),
            },
        }
        if let (Some(from), Some(until)) = (f.from, f.until) {
            if until <= from {
                errors.push(FieldError::new("to", "must be after the start"));
            }
        }
        f.tenant = given("tenant").map(|t| t.to_ascii_lowercase());
        f.actor = given("actor").filter(|a| a.len() <= 320);
        f.actor_type = given("actor_type").map(|t| t.to_ascii_lowercase());
        if let Some(t) = f.actor_type.as_deref() {
            if !matches!(t, "user" | "operator" | "system" | "application") {
                errors.push(FieldError::new(
                    "actor_type",
                    "must be one of: user, operator, system, application",
                ));
            }
        }
        f.action = given("action").map(|a| a.to_ascii_lowercase());
        if let Some(a) = f.action.as_deref() {
            if a.len() > 100
                || !a
                    .chars()
                    .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '.'))
            {
                errors.push(FieldError::new(
                    "action",
                    "must be the start of an action, like user. or auth.login",
                ));
            }
        }
        f.outcome = given("outcome").map(|o| o.to_ascii_lowercase());
        if let Some(o) = f.outcome.as_deref() {
            if !matches!(o, "success" | "failure") {
                errors.push(FieldError::new(
                    "outcome",
                    "must be one of: success, failure",
                ));
            }
        }
        f.resource = given("resource").filter(|r| r.len() <= 500);
        f.request_id = given("request_id").filter(|r| r.len() <= 128);
        f.ip = match given("ip") {
            Some(raw) => match raw.parse::<IpAddr>() {
                Ok(ip) => Some(ip.to_string()),
                Err(_) => {
                    errors.push(FieldError::new("ip", "must be an IPv4 or IPv6 address"));
                    None
                }
            },
            None => None,
        };
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(DomainError::Validation(errors))
        }
    }

    /// Only a time range: the export is a contiguous stretch of the chain.
    pub fn is_time_only(&self) -> bool {
        let AuditFilter {
            from: _,
            until: _,
            tenant,
            actor,
            actor_type,
            action,
            outcome,
            resource,
            request_id,
            ip,
            ip_ref: _,
        } = self;
        [
            tenant, actor, actor_type, action, outcome, resource, request_id, ip,
        ]
        .iter()
        .all(|v| v.is_none())
    }

    /// The filter as short `name=value` text, for the audit entry of a search or export.
    pub fn describe(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                map.insert(k.into(), serde_json::Value::String(v));
            }
        };
        put("from", self.from.and_then(|t| t.format(&Rfc3339).ok()));
        put("to", self.until.and_then(|t| t.format(&Rfc3339).ok()));
        put("tenant", self.tenant.clone());
        put("actor", self.actor.clone());
        put("actor_type", self.actor_type.clone());
        put("action", self.action.clone());
        put("outcome", self.outcome.clone());
        put("resource", self.resource.clone());
        put("request_id", self.request_id.clone());
        put("ip", self.ip.clone());
        serde_json::Value::Object(map)
    }
}

/// The columns every read of the trail selects, joined with the tenant, the acting user
/// and the application for their names.
pub(crate) const ENTRY_COLUMNS: &str = "
    SELECT l.seq, l.id, l.recorded_at, l.occurred_at, l.tenant_id, t.domain AS tenant_domain,
           l.actor_id, l.actor_type,
           coalesce(u.email, CASE WHEN jsonb_typeof(l.metadata->'actor'->'name') = 'string'
                                  THEN l.metadata->'actor'->>'name' END,
                    l.metadata->'actor'->>'id') AS actor_label,
           l.action, l.resource, l.outcome, l.request_id, l.source, l.application_id,
           a.name AS application_name, l.metadata, l.prev_hash, l.hash
      FROM audit_log l
      LEFT JOIN tenants t ON t.id = l.tenant_id
      LEFT JOIN users u ON u.id = l.actor_id
      LEFT JOIN applications a ON a.id = l.application_id
     WHERE true";

/// One entry, every field.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AuditEntryRow {
    pub seq: i64,
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub tenant_id: Option<Uuid>,
    pub tenant_domain: Option<String>,
    pub actor_id: Option<Uuid>,
    pub actor_type: String,
    pub actor_label: Option<String>,
    pub action: String,
    pub resource: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub source: String,
    pub application_id: Option<Uuid>,
    pub application_name: Option<String>,
    pub metadata: serde_json::Value,
    #[serde(with = "hex::serde")]
    pub prev_hash: Vec<u8>,
    #[serde(with = "hex::serde")]
    pub hash: Vec<u8>,
}

fn like_prefix(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 1);
    for c in raw.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Adds the conditions of `scope` and `f` to `q` (which ends in a `WHERE`), each only
/// when asked for. A tenant that does not exist (or is not the scope's) matches nothing.
pub(crate) fn push_conditions(q: &mut QueryBuilder<'_, Postgres>, scope: Scope, f: &AuditFilter) {
    if let Scope::Tenant(id) = scope {
        q.push(" AND l.tenant_id = ").push_bind(id);
    }
    if let Some(from) = f.from {
        q.push(" AND l.recorded_at >= ").push_bind(from);
    }
    if let Some(until) = f.until {
        q.push(" AND l.recorded_at < ").push_bind(until);
    }
    match f.tenant.as_deref() {
        None => {}
        Some("platform") => {
            q.push(" AND l.tenant_id IS NULL");
        }
        Some(domain) => {
            q.push(" AND l.tenant_id = (SELECT id FROM tenants WHERE domain = ")
                .push_bind(domain.to_owned())
                .push(")");
        }
    }
    if let Some(actor) = f.actor.as_deref() {
        // One expression names every entry's actor (migration 0019's index): Gatehouse's
        // own entries by the acting person's id, applications' events by the id they
        // reported. An email stands for the people with that address (and for an
        // application's actor reported by email).
        q.push(" AND ").push(ACTOR_KEY);
        if actor.contains('@') {
            q.push(" = ANY(ARRAY(SELECT id::text FROM users WHERE lower(email) = lower(")
                .push_bind(actor.to_owned())
                .push(")) || ")
                .push_bind(actor.to_owned())
                .push("::text)");
        } else {
            let key = actor
                .parse::<Uuid>()
                .map_or_else(|_| actor.to_owned(), |id| id.to_string());
            q.push(" = ").push_bind(key);
        }
    }
    if let Some(t) = f.actor_type.as_deref() {
        q.push(" AND l.actor_type = ").push_bind(t.to_owned());
    }
    if let Some(a) = f.action.as_deref() {
        q.push(" AND l.action LIKE ").push_bind(like_prefix(a));
    }
    if let Some(o) = f.outcome.as_deref() {
        q.push(" AND l.outcome = ").push_bind(o.to_owned());
    }
    if let Some(r) = f.resource.as_deref() {
        q.push(" AND l.resource = ").push_bind(r.to_owned());
    }
    if let Some(r) = f.request_id.as_deref() {
        q.push(" AND l.request_id = ").push_bind(r.to_owned());
    }
    if f.ip.is_some() {
        // Unresolved, an address matches nothing rather than everything.
        q.push(" AND l.seq IN (SELECT r.seq FROM audit_ip_refs r WHERE r.ip_ref = ")
            .push_bind(f.ip_ref.clone().unwrap_or_default())
            .push(")");
    }
}

/// The actor of an entry as one text (indexed by migration 0019, written exactly so).
const ACTOR_KEY: &str =
    "(CASE WHEN l.source = 'application' THEN l.metadata->'actor'->>'id' ELSE l.actor_id::text END)";

/// A page position: the `(recorded_at, seq)` of the last entry served.
fn encode_cursor(at: OffsetDateTime, seq: i64) -> String {
    crate::cursor::encode_at(at, seq)
}

fn decode_cursor(raw: &str) -> Result<(OffsetDateTime, i64), DomainError> {
    crate::cursor::decode_at(raw)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryPage {
    pub data: Vec<AuditEntryRow>,
    pub next_cursor: Option<String>,
}

/// One page of the matching entries, newest first. Reading the trail is itself recorded
/// by the caller (see [`record_read`]).
pub async fn search(
    pool: &PgPool,
    actor: &Actor,
    filter: &AuditFilter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<EntryPage, DomainError> {
    let scope = Scope::of(actor)?;
    if !(1..=100).contains(&limit) {
        return Err(DomainError::validation(
            "limit",
            "must be between 1 and 100",
        ));
    }
    let after = cursor.map(decode_cursor).transpose()?;
    let filter = &resolved(pool, filter).await?;
    let mut q = QueryBuilder::new(ENTRY_COLUMNS);
    push_conditions(&mut q, scope, filter);
    if let Some((at, seq)) = after {
        q.push(" AND (l.recorded_at, l.seq) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(seq)
            .push(")");
    }
    q.push(" ORDER BY l.recorded_at DESC, l.seq DESC LIMIT ")
        .push_bind(limit + 1);
    let mut data: Vec<AuditEntryRow> = q
        .build_query_as()
        .fetch_all(pool)
        .await
        .context("searching the audit trail")?;
    let next_cursor = if data.len() as i64 > limit {
        data.truncate(limit as usize);
        data.last().map(|l| encode_cursor(l.recorded_at, l.seq))
    } else {
        None
    };
    open_rows(pool, &mut data).await?;
    Ok(EntryPage { data, next_cursor })
}

/// `filter` with its address's reference, so the search can find it.
pub(crate) async fn resolved(
    pool: &PgPool,
    filter: &AuditFilter,
) -> Result<AuditFilter, DomainError> {
    let mut filter = filter.clone();
    if let Some(ip) = filter.ip.as_deref() {
        let mut conn = pool.acquire().await?;
        filter.ip_ref = Some(super::personal::ip_reference(&mut conn, ip).await?);
    }
    Ok(filter)
}

/// Opens the rows' sealed personal values (one key query for them all).
async fn open_rows(pool: &PgPool, rows: &mut [AuditEntryRow]) -> Result<(), DomainError> {
    let mut metadata: Vec<&mut serde_json::Value> =
        rows.iter_mut().map(|r| &mut r.metadata).collect();
    super::personal::open_all(pool, &mut metadata).await?;
    // An application's actor is named by its (sealed) name when it still reads.
    for row in rows.iter_mut().filter(|r| r.source == "application") {
        if let Some(name) = row.metadata["actor"]["name"].as_str() {
            if name != super::personal::ERASED {
                row.actor_label = Some(name.to_owned());
            }
        }
    }
    Ok(())
}

/// One entry with the entries of the same request, for the detail view; another
/// tenant's entry is "not found".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryDetail {
    pub entry: AuditEntryRow,
    pub same_request: Vec<AuditEntryRow>,
}

pub async fn entry(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<EntryDetail, DomainError> {
    let scope = Scope::of(actor)?;
    let mut q = QueryBuilder::new(ENTRY_COLUMNS);
    push_conditions(&mut q, scope, &AuditFilter::default());
    q.push(" AND l.id = ").push_bind(id).push(" LIMIT 1");
    let entry: AuditEntryRow = q
        .build_query_as()
        .fetch_optional(pool)
        .await?
        .ok_or(DomainError::NotFound("audit entry"))?;
    let mut entry = entry;
    open_rows(pool, std::slice::from_mut(&mut entry)).await?;
    let same_request = match entry.request_id.as_deref() {
        Some(rid) => {
            let f = AuditFilter {
                request_id: Some(rid.to_owned()),
                ..AuditFilter::default()
            };
            let mut q = QueryBuilder::new(ENTRY_COLUMNS);
            push_conditions(&mut q, scope, &f);
            q.push(" AND l.id <> ").push_bind(id);
            q.push(" ORDER BY l.recorded_at DESC, l.seq DESC LIMIT 50");
            let mut rows: Vec<AuditEntryRow> = q.build_query_as().fetch_all(pool).await?;
            open_rows(pool, &mut rows).await?;
            rows
        }
        None => Vec::new(),
    };
    Ok(EntryDetail {
        entry,
        same_request,
    })
}

/// Records that `actor` read personal data or the trail itself (CON-SEC-002): one entry
/// per request, naming what was read (`ids`: up to 100 shown, and how many there were),
/// in the actor's own tenant's trail (platform staff: the platform's).
pub async fn record_read(
    pool: &PgPool,
    ctx: &super::RequestContext,
    actor: &Actor,
    action: &str,
    resource: Option<String>,
    details: serde_json::Value,
) -> Result<(), DomainError> {
    record_read_in(pool, ctx, actor, actor.tenant_id, action, resource, details).await
}

/// [`record_read`] in `tenant`'s trail: an operator reading a tenant's people is on that
/// tenant's record, where its owners see it.
pub async fn record_read_in(
    pool: &PgPool,
    ctx: &super::RequestContext,
    actor: &Actor,
    tenant: Option<Uuid>,
    action: &str,
    resource: Option<String>,
    details: serde_json::Value,
) -> Result<(), DomainError> {
    let mut entry = super::AuditEntry::new(action)
        .by(Some(actor))
        .tenant(tenant);
    if let Some(r) = resource {
        entry = entry.resource(r);
    }
    if let serde_json::Value::Object(map) = details {
        entry.metadata.extend(map);
    }
    let mut conn = pool.acquire().await?;
    super::append_audit_entry(&mut conn, ctx, entry).await?;
    Ok(())
}

/// The ids list of a read entry: at most 100, and the count.
pub fn read_ids<I: IntoIterator<Item = Uuid>>(ids: I) -> serde_json::Value {
    let all: Vec<Uuid> = ids.into_iter().collect();
    serde_json::json!({
        "count": all.len(),
        "ids": all.iter().take(100).map(Uuid::to_string).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-12-06T10:00:00Z", &Rfc3339).unwrap()
    }

    #[test]
    fn a_quick_range_ends_now_and_custom_times_are_utc() {
        let f = AuditFilter::parse(|k| (k == "range").then(|| "24h".into()), now()).unwrap();
        assert_eq!(f.from, Some(now() - Duration::hours(24)));
        let f = AuditFilter::parse(
            |k| match k {
                "from" => Some("2026-12-01T08:00".into()),
                "to" => Some("2026-12-02".into()),
                "ip" => Some("2001:db8::0:1".into()),
                _ => None,
            },
            now(),
        )
        .unwrap();
        assert_eq!(f.from.unwrap().hour(), 8);
        assert_eq!(f.ip.as_deref(), Some("2001:db8::1"));
        assert!(!f.is_time_only());
    }

    #[test]
    fn every_bad_filter_is_named() {
        let Err(DomainError::Validation(d)) = AuditFilter::parse(
            |k| match k {
                "range" => Some("custom".into()),
                "from" => Some("yesterday".into()),
                "outcome" => Some("maybe".into()),
                "actor_type" => Some("robot".into()),
                "ip" => Some("1.2.3".into()),
                _ => None,
            },
            now(),
        ) else {
            panic!("refused");
        };
        let fields: Vec<&str> = d.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["from", "actor_type", "outcome", "ip"]);
    }

    #[test]
    fn cursors_round_trip() {
        let at = now();
        assert_eq!(decode_cursor(&encode_cursor(at, 42)).unwrap(), (at, 42));
        assert!(decode_cursor("nope").is_err());
    }
}
