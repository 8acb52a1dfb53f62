//! A tenant's own audit trail for its owners and admins (SPEC §8; FR-LOG-001,
//! `TenantAuditRead`): newest first, filtered by action prefix, actor email, outcome and
//! time, in cursor pages for the console and as a row stream for the CSV download. Only
//! the tenant's rows, whoever asks.

use crate::permissions::{Actor, Permission};
use crate::DomainError;
use futures_util::stream::BoxStream;
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// The filters (all optional) and the page.
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

/// One page, newest first.
pub async fn tenant_audit_page(
    pool: &PgPool,
    actor: &Actor,
    tenant_id: Uuid,
    q: AuditQuery,
) -> Result<AuditPage, DomainError> {
    check(actor, tenant_id, &q)?;
    if !(1..=100).contains(&q.limit) {
        return Err(DomainError::validation(
            "limit",
            "must be between 1 and 100",
        ));
    }
    let after = q.cursor.as_deref().map(crate::cursor::decode).transpose()?;
    let mut data: Vec<AuditRecord> = sqlx::query_as(&format!(
        "{SELECT} AND ($7::timestamptz IS NULL OR (l.recorded_at, l.id) < ($7, $8))
          ORDER BY l.recorded_at DESC, l.id DESC LIMIT $9"
    ))
    .bind(tenant_id)
    .bind(prefix(q.action_prefix.as_deref()))
    .bind(crate::contains_pattern(q.actor.as_deref()))
    .bind(q.outcome.as_deref())
    .bind(q.from)
    .bind(q.until)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(q.limit + 1)
    .fetch_all(pool)
    .await?;
    let next_cursor = if data.len() as i64 > q.limit {
        data.truncate(q.limit as usize);
        data.last()
            .map(|last| crate::cursor::encode(last.recorded_at, last.id))
    } else {
        None
    };
    Ok(AuditPage { data, next_cursor })
}

/// Every matching row, newest first, as a stream (the CSV download: constant memory).
pub fn tenant_audit_rows<'a>(
    pool: &'a PgPool,
    actor: &Actor,
    tenant_id: Uuid,
    q: &'a AuditQuery,
) -> Result<BoxStream<'a, Result<AuditRecord, sqlx::Error>>, DomainError> {
    check(actor, tenant_id, q)?;
    static ROWS: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!("{SELECT} ORDER BY l.recorded_at DESC, l.id DESC"));
    Ok(sqlx::query_as::<_, AuditRecord>(ROWS.as_str())
        .bind(tenant_id)
        .bind(prefix(q.action_prefix.as_deref()))
        .bind(crate::contains_pattern(q.actor.as_deref()))
        .bind(q.outcome.clone())
        .bind(q.from)
        .bind(q.until)
        .fetch(pool))
}
