//! A tenant's own audit trail for its owners and admins (SPEC §8; FR-LOG-001,
//! `TenantAuditRead`): newest first, filtered by action prefix, actor email, outcome and
//! time, in cursor pages for the console and in larger keyset pages for the CSV download.
//! Only the tenant's rows, whoever asks.
//!
//! Every read is one short query on the pool: a connection is held while a page is read,
//! never across pages, so a download that a slow (or stalled) client drains page by page
//! cannot keep a connection from everyone else.

use crate::permissions::{Actor, Permission};
use crate::DomainError;
use futures_util::stream::BoxStream;
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// The filters (all optional) and the page.
/// How many recent audit entries the dashboard and a tenant's page show.
pub const RECENT: i64 = 12;

/// The query of [`AuditLine`]s, to be followed by a `WHERE`.
pub(crate) const AUDIT_LINE: &str = "
    SELECT l.occurred_at, l.action, l.outcome, l.actor_type, u.email AS actor_email, l.resource,
           t.domain AS tenant_domain
      FROM audit_log l
      LEFT JOIN users u ON u.id = l.actor_id
      LEFT JOIN tenants t ON t.id = l.tenant_id";

/// One audit entry as the console lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditLine {
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub action: String,
    pub outcome: String,
    pub actor_type: String,
    pub actor_email: Option<String>,
    pub resource: Option<String>,
    pub tenant_domain: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// `user.` matches `user.invite`, `user.archive`, ...
    pub action_prefix: Option<String>,
    /// Part of the actor's email address, case-insensitive.
    pub actor: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub cursor: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    pub action: String,
    pub outcome: String,
    pub actor_type: String,
    pub actor_email: Option<String>,
    pub resource: Option<String>,
    pub request_id: Option<String>,
    pub metadata: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub data: Vec<AuditRecord>,
    pub next_cursor: Option<String>,
}

const SELECT: &str = "
    SELECT l.id, l.occurred_at, l.recorded_at, l.action, l.outcome, l.actor_type,
           u.email AS actor_email, l.resource, l.request_id, l.metadata
      FROM audit_log l LEFT JOIN users u ON u.id = l.actor_id
     WHERE l.tenant_id = $1
       AND ($2::text IS NULL OR l.action LIKE $2)
       AND ($3::text IS NULL OR lower(u.email) LIKE $3)
       AND ($4::text IS NULL OR l.outcome = $4)
       AND ($5::timestamptz IS NULL OR l.recorded_at >= $5)
       AND ($6::timestamptz IS NULL OR l.recorded_at < $6)";

fn check(actor: &Actor, tenant_id: Uuid, q: &AuditQuery) -> Result<(), DomainError> {
    actor.require_in_tenant(Permission::TenantAuditRead, tenant_id, "tenant")?;
    if let Some(o) = q.outcome.as_deref() {
        if !matches!(o, "success" | "failure") {
            return Err(DomainError::validation(
                "outcome",
                "must be one of: success, failure",
            ));
        }
    }
    Ok(())
}

fn prefix(raw: Option<&str>) -> Option<String> {
    raw.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        let escaped: String = s
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        format!("{escaped}%")
    })
}

impl AuditQuery {
    /// The filters as typed on the page or in the CSV link (blank = no filter; days are
    /// `YYYY-MM-DD`, UTC; `to` includes its whole day). A bad day is a validation error on
    /// its field.
    pub fn from_filters(
        action: Option<&str>,
        actor: Option<&str>,
        outcome: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Self, DomainError> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|s| !s.is_empty())
        }
        fn day(
            raw: Option<&str>,
            field: &'static str,
            next: bool,
        ) -> Result<Option<OffsetDateTime>, DomainError> {
            let Some(raw) = given(raw) else {
                return Ok(None);
            };
            let bad = || DomainError::validation(field, "must be a date like 2026-11-22");
            let date = time::Date::parse(
                raw,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| bad())?;
            let date = if next {
                date.next_day().ok_or_else(bad)?
            } else {
                date
            };
            Ok(Some(date.midnight().assume_utc()))
        }
        Ok(AuditQuery {
            action_prefix: given(action).map(str::to_owned),
            actor: given(actor).map(str::to_owned),
            outcome: given(outcome).map(str::to_lowercase),
            from: day(from, "from", false)?,
            until: day(to, "to", true)?,
            cursor: given(cursor).map(str::to_owned),
            limit,
        })
    }
}

/// Up to `limit` matching rows after the position `after` (`(recorded_at, id)` of the last
/// row already read), newest first: the one keyset query behind every read of the trail.
async fn rows_after(
    pool: &PgPool,
    tenant_id: Uuid,
    q: &AuditQuery,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    static PAGE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "{SELECT} AND ($7::timestamptz IS NULL OR (l.recorded_at, l.id) < ($7, $8))
              ORDER BY l.recorded_at DESC, l.id DESC LIMIT $9"
        )
    });
    let mut rows: Vec<AuditRecord> = sqlx::query_as(PAGE.as_str())
        .bind(tenant_id)
        .bind(prefix(q.action_prefix.as_deref()))
        .bind(crate::contains_pattern(q.actor.as_deref()))
        .bind(q.outcome.as_deref())
        .bind(q.from)
        .bind(q.until)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    let mut metadata: Vec<&mut serde_json::Value> =
        rows.iter_mut().map(|r| &mut r.metadata).collect();
    super::personal::open_all(pool, &mut metadata)
        .await
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(rows)
}

/// One page, newest first.
pub async fn tenant_audit_page(
    pool: &PgPool,
    actor: &Actor,
    tenant_id: Uuid,
    q: AuditQuery,
) -> Result<AuditPage, DomainError> {
    check(actor, tenant_id, &q)?;
    let after = crate::cursor::page_start(q.limit, q.cursor.as_deref())?;
    let mut data = rows_after(pool, tenant_id, &q, after, q.limit + 1).await?;
    let next_cursor = if data.len() as i64 > q.limit {
        data.truncate(q.limit as usize);
        data.last()
            .map(|last| crate::cursor::encode(last.recorded_at, last.id))
    } else {
        None
    };
    Ok(AuditPage { data, next_cursor })
}

/// Rows per page of the CSV download: large enough that a page is one cheap round trip,
/// small enough that a page in memory stays small.
pub const EXPORT_PAGE_ROWS: i64 = 500;

/// The CSV download's walk through a tenant's trail, newest first, in pages of
/// [`EXPORT_PAGE_ROWS`]. Made only by [`AuditExport::start`], which checks the permission
/// and the filters without touching the database, so a refusal comes before anything is
/// sent. Each [`AuditExport::next_page`] is its own short query: between pages no
/// connection is held. The whole filtered trail is read (the query's `cursor` and `limit`
/// are the console's and are ignored); rows recorded after the first page are not
/// included, since they sort before the position already reached.
#[derive(Debug, Clone)]
pub struct AuditExport {
    tenant_id: Uuid,
    query: AuditQuery,
    after: Option<(OffsetDateTime, Uuid)>,
    finished: bool,
}

impl AuditExport {
    pub fn start(actor: &Actor, tenant_id: Uuid, query: AuditQuery) -> Result<Self, DomainError> {
        check(actor, tenant_id, &query)?;
        Ok(Self {
            tenant_id,
            query,
            after: None,
            finished: false,
        })
    }

    /// The next page; empty once every row has been read.
    pub async fn next_page(&mut self, pool: &PgPool) -> Result<Vec<AuditRecord>, DomainError> {
        Ok(self.next_rows(pool).await?)
    }

    async fn next_rows(&mut self, pool: &PgPool) -> Result<Vec<AuditRecord>, sqlx::Error> {
        if self.finished {
            return Ok(Vec::new());
        }
        let rows = rows_after(
            pool,
            self.tenant_id,
            &self.query,
            self.after,
            EXPORT_PAGE_ROWS,
        )
        .await?;
        self.finished = (rows.len() as i64) < EXPORT_PAGE_ROWS;
        if let Some(last) = rows.last() {
            self.after = Some((last.recorded_at, last.id));
        }
        Ok(rows)
    }
}

/// Every matching row, newest first, as a stream read in [`AuditExport`] pages (constant
/// memory, and no connection held between pages).
pub fn tenant_audit_rows<'a>(
    pool: &'a PgPool,
    actor: &Actor,
    tenant_id: Uuid,
    q: &'a AuditQuery,
) -> Result<BoxStream<'a, Result<AuditRecord, sqlx::Error>>, DomainError> {
    let export = AuditExport::start(actor, tenant_id, q.clone())?;
    let pages = futures_util::stream::try_unfold(export, move |mut export| async move {
        let rows = export.next_rows(pool).await?;
        Ok::<_, sqlx::Error>((!rows.is_empty()).then(|| {
            let rows = futures_util::stream::iter(rows.into_iter().map(Ok::<_, sqlx::Error>));
            (rows, export)
        }))
    });
    Ok(Box::pin(pages.try_flatten()))
}

/// The recent audit entries about one of a tenant's users (their own actions and those on
/// them), for the Tenant Administration user page; the actor must read the tenant's audit
/// trail (owners, admins) — another tenant's user is "not found".
pub async fn entries_about_user(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
) -> Result<Vec<AuditLine>, DomainError> {
    let tenant: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    let tenant = tenant.flatten().ok_or(DomainError::NotFound("user"))?;
    actor.require_in_tenant(Permission::TenantAuditRead, tenant, "user")?;
    Ok(sqlx::query_as(&format!(
        "{} WHERE l.tenant_id = $1 AND (l.actor_id = $2 OR l.resource = $3)
          ORDER BY l.recorded_at DESC, l.seq DESC LIMIT $4",
        AUDIT_LINE
    ))
    .bind(tenant)
    .bind(user_id)
    .bind(format!("user:{user_id}"))
    .bind(RECENT)
    .fetch_all(pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_trim_blank_to_none_and_days_are_whole_utc_days() {
        let q = AuditQuery::from_filters(
            Some(" user. "),
            Some(""),
            Some("FAILURE"),
            Some("2026-11-22"),
            Some("2026-11-22"),
            None,
            50,
        )
        .unwrap();
        assert_eq!(q.action_prefix.as_deref(), Some("user."));
        assert_eq!(q.actor, None);
        assert_eq!(q.outcome.as_deref(), Some("failure"));
        let (from, until) = (q.from.unwrap(), q.until.unwrap());
        assert_eq!(from.unix_timestamp(), 1_795_305_600);
        assert_eq!(until.unix_timestamp() - from.unix_timestamp(), 86_400);
        let Err(DomainError::Validation(e)) =
            AuditQuery::from_filters(None, None, None, None, Some("22/11/2026"), None, 50)
        else {
            panic!("a bad day is refused");
        };
        assert_eq!(e[0].field, "to");
    }
}
