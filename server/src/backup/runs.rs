//! The record of backup runs (`backup_runs`): a row when a run starts — so instances
//! sharing the database take a scheduled slot once — completed when it ends, with its
//! audit entry in the same transaction. The operators' dashboard and `/metrics` read it,
//! so a backup made by the command line or by another instance shows as well.

use super::BackupError;
use gatehouse_domain::audit::{append_audit_entry, AuditEntry, RequestContext};
use serde::Serialize;
use sqlx::PgPool;
use std::time::Instant;
use time::OffsetDateTime;
use uuid::Uuid;

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Create,
    Verify,
    Restore,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Verify => "verify",
            Self::Restore => "restore",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [Self::Create, Self::Verify, Self::Restore]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }

    fn action(self) -> &'static str {
        match self {
            Self::Create => "backup.create",
            Self::Verify => "backup.verify",
            Self::Restore => "backup.restore",
        }
    }
}

/// Who started a run: a person at the command line, or the schedule for one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    Manual,
    Scheduled { slot: OffsetDateTime },
}

/// A run in progress.
pub(super) struct Run {
    id: Uuid,
    kind: RunKind,
    scheduled: bool,
    started: Instant,
}

/// How a run ended.
pub(super) struct Outcome<'a> {
    pub ok: bool,
    pub backup: Option<&'a str>,
    pub size: Option<u64>,
    pub detail: String,
}

/// Records the start of a run. A scheduled run takes its slot only if no scheduled run of
/// its kind started since the slot began (`None` otherwise): with several instances, one
/// runs it.
pub(super) async fn start(
    pool: &PgPool,
    kind: RunKind,
    trigger: Trigger,
) -> Result<Option<Run>, BackupError> {
    let mut tx = pool.begin().await?;
    if let Trigger::Scheduled { slot } = trigger {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('backup_runs'))")
            .execute(&mut *tx)
            .await?;
        let taken: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM backup_runs
                             WHERE kind = $1 AND scheduled AND started_at >= $2)",
        )
        .bind(kind.as_str())
        .bind(slot)
        .fetch_one(&mut *tx)
        .await?;
        if taken {
            return Ok(None);
        }
    }
    let id = Uuid::now_v7();
    let scheduled = matches!(trigger, Trigger::Scheduled { .. });
    sqlx::query("INSERT INTO backup_runs (id, kind, scheduled) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(kind.as_str())
        .bind(scheduled)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(Run {
        id,
        kind,
        scheduled,
        started: Instant::now(),
    }))
}

/// Completes a run and appends its audit entry, in one transaction.
pub(super) async fn finish(
    pool: &PgPool,
    run: Run,
    outcome: &Outcome<'_>,
) -> Result<(), BackupError> {
    let mut tx = pool.begin().await?;
    complete(&mut tx, &run, outcome).await?;
    tx.commit().await?;
    Ok(())
}

/// Records the run's outcome and its audit entry in the caller's transaction.
async fn complete(
    tx: &mut sqlx::PgConnection,
    run: &Run,
    outcome: &Outcome<'_>,
) -> Result<(), BackupError> {
    let duration_ms = u64::try_from(run.started.elapsed().as_millis()).unwrap_or(u64::MAX);
    sqlx::query(
        "UPDATE backup_runs SET finished_at = now(), ok = $2, backup = $3, size_bytes = $4,
                detail = $5
          WHERE id = $1",
    )
    .bind(run.id)
    .bind(outcome.ok)
    .bind(outcome.backup)
    .bind(outcome.size.map(|s| i64::try_from(s).unwrap_or(i64::MAX)))
    .bind(clip(&outcome.detail, 2000))
    .execute(&mut *tx)
    .await?;
    append_audit_entry(
        tx,
        &RequestContext::default(),
        entry(run.kind, run.id, run.scheduled, duration_ms, outcome),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// Records a restore in the database it restored (when that database has the table: a
/// backup older than it does not), with its audit entry: the restored trail says it was
/// restored, and from what.
pub(super) async fn record_restore(
    target: &PgPool,
    started: Instant,
    outcome: &Outcome<'_>,
) -> Result<(), BackupError> {
    if !super::postgres::has_table(target, "backup_runs").await? {
        return Ok(());
    }
    let run = Run {
        id: Uuid::now_v7(),
        kind: RunKind::Restore,
        scheduled: false,
        started,
    };
    let mut tx = target.begin().await?;
    sqlx::query(
        "INSERT INTO backup_runs (id, kind, started_at)
         VALUES ($1, 'restore', now() - make_interval(secs => $2))",
    )
    .bind(run.id)
    .bind(started.elapsed().as_secs_f64())
    .execute(&mut *tx)
    .await?;
    complete(&mut tx, &run, outcome).await?;
    tx.commit().await?;
    Ok(())
}

fn entry(
    kind: RunKind,
    id: Uuid,
    scheduled: bool,
    duration_ms: u64,
    outcome: &Outcome<'_>,
) -> AuditEntry {
    let mut entry = AuditEntry::new(kind.action())
        .meta("run", id.to_string())
        .meta("scheduled", scheduled)
        .meta("duration_ms", duration_ms);
    if let Some(name) = outcome.backup {
        entry = entry.resource(format!("backup:{name}"));
    }
    if let Some(size) = outcome.size {
        entry = entry.meta("size_bytes", size);
    }
    if outcome.ok {
        entry
    } else {
        entry.failure().meta("detail", clip(&outcome.detail, 500))
    }
}

fn clip(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// One run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RunLine {
    pub id: Uuid,
    pub kind: String,
    pub backup: Option<String>,
    pub scheduled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// `None` while it runs (or if it died without finishing).
    pub ok: Option<bool>,
    pub size_bytes: Option<i64>,
    pub detail: Option<String>,
}

/// The newest runs, newest first.
pub async fn recent_runs(pool: &PgPool, limit: i64) -> Result<Vec<RunLine>, BackupError> {
    Ok(sqlx::query_as(
        "SELECT id, kind, backup, scheduled, started_at, finished_at, ok, size_bytes, detail
           FROM backup_runs ORDER BY started_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Sets the backup gauges from the record, at every scrape of `/metrics`:
/// `gatehouse_backup_last_success_timestamp_seconds{kind}`,
/// `gatehouse_backup_duration_seconds{kind}` and `gatehouse_backup_last_ok{kind}` (the
/// newest finished run's), and `gatehouse_backup_size_bytes` (the newest good backup's).
/// Read from the database rather than kept in memory, so runs of the command line and of
/// other instances count. Alert on the timestamp's age (see the README).
pub async fn publish_metrics(pool: &PgPool) {
    type Row = (
        String,
        Option<OffsetDateTime>,
        Option<f64>,
        Option<bool>,
        Option<i64>,
    );
    let query = sqlx::query_as::<_, Row>(
        "SELECT kind,
                max(finished_at) FILTER (WHERE ok),
                (array_agg(extract(epoch FROM finished_at - started_at)::float8
                           ORDER BY started_at DESC) FILTER (WHERE finished_at IS NOT NULL))[1],
                (array_agg(ok ORDER BY started_at DESC) FILTER (WHERE finished_at IS NOT NULL))[1],
                (array_agg(size_bytes ORDER BY started_at DESC) FILTER (WHERE ok))[1]
           FROM backup_runs GROUP BY kind",
    )
    .fetch_all(pool);
    // A scrape never waits long on a database in trouble: the gauges keep their values.
    let rows: Vec<Row> = match tokio::time::timeout(std::time::Duration::from_secs(2), query).await
    {
        Ok(Ok(rows)) => rows,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "reading backup runs for the metrics failed");
            return;
        }
        Err(_) => {
            tracing::debug!("reading backup runs for the metrics timed out");
            return;
        }
    };
    for (kind, last_success, duration, last_ok, size) in rows {
        let Some(kind) = RunKind::parse(&kind) else {
            continue;
        };
        let label = kind.as_str();
        if let Some(at) = last_success {
            metrics::gauge!("gatehouse_backup_last_success_timestamp_seconds", "kind" => label)
                .set(at.unix_timestamp() as f64);
        }
        if let Some(seconds) = duration {
            metrics::gauge!("gatehouse_backup_duration_seconds", "kind" => label).set(seconds);
        }
        if let Some(ok) = last_ok {
            metrics::gauge!("gatehouse_backup_last_ok", "kind" => label).set(if ok {
                1.0
            } else {
                0.0
            });
        }
        if let (RunKind::Create, Some(size)) = (kind, size) {
            metrics::gauge!("gatehouse_backup_size_bytes").set(size as f64);
        }
    }
}
