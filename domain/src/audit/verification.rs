//! The Auditor Console's integrity panel (FR-LOG-001): verifications run as background
//! jobs with their progress kept in `audit_verifications`, so a page can follow them and
//! the last result stays on record; and the auditors' saved views.

use super::checkpoints::{verify_checkpoints, Verifier};
use super::{verify_audit_chain_with, AuditEntry, RequestContext};
use crate::permissions::{Actor, Permission};
use crate::{DomainError, FieldError};
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// One verification, running or done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Verification {
    pub id: Uuid,
    pub started_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    pub total: i64,
    pub checked: i64,
    /// `running`, `intact`, `broken` or `failed`.
    pub status: String,
    pub problem: Option<String>,
    pub broken_seq: Option<i64>,
}

/// Records a new verification started by `actor` (auditors and operators) and its audit
/// entry; the caller runs it with [`run_verification`]. One at a time: while one runs,
/// that one is answered.
pub async fn start_verification(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
) -> Result<Uuid, DomainError> {
    actor.require(Permission::AuditReadAll)?;
    let mut tx = pool.begin().await?;
    // Serialises starts, so two clicks make one job.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('audit_verification'))")
        .execute(&mut *tx)
        .await?;
    let running: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM audit_verifications WHERE status = 'running'
            AND started_at > now() - interval '1 hour' ORDER BY started_at DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = running {
        return Ok(id);
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO audit_verifications (id, started_by, total)
         VALUES ($1, $2, (SELECT greatest(h.seq - s.seq + 1, 0) FROM audit_chain_head h, audit_chain_start s))",
    )
    .bind(id)
    .bind(actor.user_id)
    .execute(&mut *tx)
    .await?;
    super::append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("audit.verify")
            .by(Some(actor))
            .resource(format!("audit_verification:{id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Runs verification `id`: the chain, then every signed checkpoint against it, writing
/// progress as it goes and the verdict at the end.
pub async fn run_verification(
    pool: &PgPool,
    id: Uuid,
    verifier: &Verifier,
) -> Result<(), DomainError> {
    let progress_pool = pool.clone();
    let (tx, mut rx) = tokio::sync::watch::channel(0u64);
    let writer = tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let checked = *rx.borrow_and_update();
            let _ = sqlx::query("UPDATE audit_verifications SET checked = $2 WHERE id = $1")
                .bind(id)
                .bind(checked as i64)
                .execute(&progress_pool)
                .await;
        }
    });
    let outcome = verify_audit_chain_with(pool, |n| {
        let _ = tx.send(n);
    })
    .await;
    drop(tx);
    let _ = writer.await;
    let (status, problem, broken_seq, checked) = match outcome {
        Ok(report) if report.is_intact() => match verify_checkpoints(pool, verifier).await? {
            None => ("intact", None, None, report.entries),
            Some(problem) => ("broken", Some(problem), None, report.entries),
        },
        Ok(report) => ("broken", report.problem, report.broken_seq, report.entries),
        Err(e) => {
            tracing::error!(error = %e, "audit verification failed");
            (
                "failed",
                Some("the verification could not finish".to_owned()),
                None,
                0,
            )
        }
    };
    sqlx::query(
        "UPDATE audit_verifications SET status = $2, problem = $3, broken_seq = $4,
                checked = greatest(checked, $5), finished_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(problem)
    .bind(broken_seq)
    .bind(checked as i64)
    .execute(pool)
    .await?;
    Ok(())
}

const VERIFICATION: &str = "
    SELECT v.id, u.email AS started_by, v.started_at, v.finished_at, v.total, v.checked, v.status,
           v.problem, v.broken_seq
      FROM audit_verifications v LEFT JOIN users u ON u.id = v.started_by";

/// One verification (auditors and operators).
pub async fn verification(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
) -> Result<Verification, DomainError> {
    actor.require(Permission::AuditReadAll)?;
    sqlx::query_as(&format!("{VERIFICATION} WHERE v.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(DomainError::NotFound("verification"))
}

/// The newest verification, if any.
pub async fn last_verification(
    pool: &PgPool,
    actor: &Actor,
) -> Result<Option<Verification>, DomainError> {
    actor.require(Permission::AuditReadAll)?;
    Ok(sqlx::query_as(&format!(
        "{VERIFICATION} ORDER BY v.started_at DESC LIMIT 1"
    ))
    .fetch_optional(pool)
    .await?)
}

/// A saved filter of one auditor or operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SavedView {
    pub id: Uuid,
    pub name: String,
    /// The console's query string, e.g. `range=24h&outcome=failure`.
    pub query: String,
}

/// At most this many views per person.
pub const MAX_VIEWS: i64 = 50;

pub async fn saved_views(pool: &PgPool, actor: &Actor) -> Result<Vec<SavedView>, DomainError> {
    actor.require(Permission::AuditReadAll)?;
    Ok(sqlx::query_as(
        "SELECT id, name, query FROM audit_saved_views WHERE user_id = $1 ORDER BY lower(name)",
    )
    .bind(actor.user_id)
    .fetch_all(pool)
    .await?)
}

/// Saves the console's current `query` under `name` (a name already used is replaced).
pub async fn save_view(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    name: &str,
    query: &str,
) -> Result<SavedView, DomainError> {
    actor.require(Permission::AuditReadAll)?;
    let name = name.trim();
    let mut errors = Vec::new();
    if name.is_empty() || name.chars().count() > 80 {
        errors.push(FieldError::new("name", "must be 1 to 80 characters"));
    }
    if query.len() > 2000 {
        errors.push(FieldError::new("query", "is too long"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    let mut tx = pool.begin().await?;
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_saved_views WHERE user_id = $1 AND name <> $2",
    )
    .bind(actor.user_id)
    .bind(name)
    .fetch_one(&mut *tx)
    .await?;
    if count >= MAX_VIEWS {
        return Err(DomainError::validation(
            "name",
            format!("at most {MAX_VIEWS} views can be saved; delete one first"),
        ));
    }
    let view: SavedView = sqlx::query_as(
        "INSERT INTO audit_saved_views (id, user_id, name, query) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, name) DO UPDATE SET query = EXCLUDED.query
         RETURNING id, name, query",
    )
    .bind(Uuid::now_v7())
    .bind(actor.user_id)
    .bind(name)
    .bind(query)
    .fetch_one(&mut *tx)
    .await?;
    super::append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("audit.view.saved")
            .by(Some(actor))
            .resource(format!("audit_view:{}", view.id))
            .meta("name", name)
            .meta("query", query),
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

pub async fn delete_view(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    id: Uuid,
) -> Result<(), DomainError> {
    actor.require(Permission::AuditReadAll)?;
    let mut tx = pool.begin().await?;
    let name: Option<String> = sqlx::query_scalar(
        "DELETE FROM audit_saved_views WHERE id = $1 AND user_id = $2 RETURNING name",
    )
    .bind(id)
    .bind(actor.user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let name = name.ok_or(DomainError::NotFound("view"))?;
    super::append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("audit.view.deleted")
            .by(Some(actor))
            .resource(format!("audit_view:{id}"))
            .meta("name", name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
