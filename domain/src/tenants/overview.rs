//! What the Operator Console reads in one go (FR-OPS-001, UC-PROV-001): the dashboard —
//! tenants by status and plan, recent control-plane events, the email outbox's backlog —
//! and a tenant's page — owners, user counts by status, effective flags with where each
//! value comes from, applications enabled, recent audit entries. Reads only; every change
//! goes through the operations of `tenants` and `flags`.

use crate::audit::{AuditLine, AUDIT_LINE, RECENT};
use crate::flags::Source;
use crate::permissions::{Actor, Permission};
use crate::tenants::Tenant;
use crate::DomainError;
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// One group and its size (tenants per status, users per status, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Count {
    pub label: String,
    pub count: i64,
}

/// The email outbox's state: what waits, what gave up, and how long the oldest has waited.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Outbox {
    pub pending: i64,
    pub failed: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub oldest_pending: Option<OffsetDateTime>,
    /// Why the latest attempt of waiting mail failed (e.g. the SMTP server unreachable),
    /// free of secrets.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub tenants_total: i64,
    pub tenants_by_status: Vec<Count>,
    pub tenants_by_plan: Vec<Count>,
    pub users_total: i64,
    pub recent: Vec<AuditLine>,
    pub outbox: Outbox,
    /// How long a trivial query took, in milliseconds (the database's health).
    pub database_ms: f64,
    /// The last backup and verify.
    pub backups: Vec<BackupStatus>,
}

/// A person of the tenant as its page lists them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Person {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub status: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
}

/// A flag's effective value for the tenant, where it comes from, and the tenant's override.
#[derive(Debug, Clone, Serialize)]
pub struct TenantFlag {
    pub key: String,
    pub description: String,
    pub value: bool,
    pub source: Source,
    pub override_value: Option<bool>,
    pub plan_value: Option<bool>,
    pub default_value: bool,
    pub rollout_percentage: Option<i16>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EnabledApplication {
    pub id: Uuid,
    pub name: String,
    pub environment: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantOverview {
    pub tenant: Tenant,
    pub suspended_at: Option<OffsetDateTime>,
    pub owners: Vec<Person>,
    pub users_by_status: Vec<Count>,
    pub flags: Vec<TenantFlag>,
    pub applications: Vec<EnabledApplication>,
    pub recent: Vec<AuditLine>,
}

fn require(actor: Option<&Actor>) -> Result<(), DomainError> {
    match actor {
        Some(a) => a.require(Permission::TenantsReadAll),
        None => Ok(()),
    }
}

/// The Operator Console's dashboard (operators and auditors).
pub async fn dashboard(pool: &PgPool, actor: Option<&Actor>) -> Result<Dashboard, DomainError> {
    require(actor)?;
    let started = std::time::Instant::now();
    sqlx::query("SELECT 1").execute(pool).await?;
    let database_ms = started.elapsed().as_secs_f64() * 1000.0;
    let by_status: Vec<Count> = sqlx::query_as(
        "SELECT status AS label, count(*) AS count FROM tenants GROUP BY status ORDER BY status",
    )
    .fetch_all(pool)
    .await?;
    let by_plan: Vec<Count> = sqlx::query_as(
        "SELECT plan AS label, count(*) AS count FROM tenants GROUP BY plan
          ORDER BY array_position(ARRAY['free', 'pro', 'enterprise'], plan)",
    )
    .fetch_all(pool)
    .await?;
    let users_total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE tenant_id IS NOT NULL AND status <> 'archived'",
    )
    .fetch_one(pool)
    .await?;
    let recent: Vec<AuditLine> = sqlx::query_as(&format!(
        "{AUDIT_LINE} WHERE l.source = 'control_plane'
          ORDER BY l.recorded_at DESC, l.seq DESC LIMIT $1"
    ))
    .bind(RECENT)
    .fetch_all(pool)
    .await?;
    let outbox: Outbox = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
                count(*) FILTER (WHERE status = 'failed') AS failed,
                min(created_at) FILTER (WHERE status = 'pending') AS oldest_pending,
                (SELECT last_error FROM email_outbox
                  WHERE status = 'pending' AND last_error IS NOT NULL
                  ORDER BY next_attempt_at DESC LIMIT 1) AS last_error
           FROM email_outbox WHERE status <> 'sent'",
    )
    .fetch_one(pool)
    .await?;
    Ok(Dashboard {
        tenants_total: by_status.iter().map(|c| c.count).sum(),
        tenants_by_status: by_status,
        tenants_by_plan: by_plan,
        users_total,
        recent,
        outbox,
        database_ms,
        backups: backup_status(pool).await?,
    })
}

/// The newest backup and verify (`gatehouse backup`, the schedule; `backup_runs`): per
/// kind, the last success and how the newest finished run ended.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BackupStatus {
    /// `create` or `verify`.
    pub kind: String,
    pub backup: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success_at: Option<OffsetDateTime>,
    pub size_bytes: Option<i64>,
    /// `None`: never finished.
    pub last_ok: Option<bool>,
    /// Why the newest finished run failed.
    pub last_failure: Option<String>,
}

async fn backup_status(pool: &PgPool) -> Result<Vec<BackupStatus>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT k.kind, s.backup, s.finished_at AS last_success_at, s.size_bytes,
                l.ok AS last_ok, CASE WHEN l.ok THEN NULL ELSE l.detail END AS last_failure
           FROM (VALUES ('create'), ('verify')) AS k (kind)
           LEFT JOIN LATERAL (SELECT backup, finished_at, size_bytes FROM backup_runs
                               WHERE kind = k.kind AND ok
                               ORDER BY started_at DESC LIMIT 1) s ON true
           LEFT JOIN LATERAL (SELECT ok, detail FROM backup_runs
                               WHERE kind = k.kind AND finished_at IS NOT NULL
                               ORDER BY started_at DESC LIMIT 1) l ON true
          ORDER BY k.kind",
    )
    .fetch_all(pool)
    .await?)
}

/// Everything a tenant's page shows.
pub async fn tenant_overview(
    pool: &PgPool,
    actor: Option<&Actor>,
    tenant_id: Uuid,
) -> Result<TenantOverview, DomainError> {
    require(actor)?;
    let tenant = crate::tenants::get_tenant(pool, None, tenant_id).await?;
    let suspended_at: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT suspended_at FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_one(pool)
            .await?;
    let owners: Vec<Person> = sqlx::query_as(
        "SELECT id, email, name, status, last_login_at FROM users
          WHERE tenant_id = $1 AND role = 'owner' AND status <> 'archived'
          ORDER BY created_at",
    )
    .bind(tenant_id)
    .fetch_all(pool)
    .await?;
    let users_by_status: Vec<Count> = sqlx::query_as(
        "SELECT status AS label, count(*) AS count FROM users WHERE tenant_id = $1
          GROUP BY status
          ORDER BY array_position(ARRAY['active', 'invited', 'disabled', 'archived'], status)",
    )
    .bind(tenant_id)
    .fetch_all(pool)
    .await?;
    let rules = crate::flags::tenant_flags(pool, tenant_id)
        .await?
        .ok_or(DomainError::NotFound("tenant"))?;
    let descriptions: Vec<(String, String)> =
        sqlx::query_as("SELECT key, description FROM flag_definitions WHERE archived_at IS NULL")
            .fetch_all(pool)
            .await?;
    let tenant_key = tenant_id.to_string();
    let flags = rules
        .flags
        .iter()
        .map(|rule| {
            let (value, source) = rule.evaluate(&tenant_key);
            TenantFlag {
                key: rule.key.clone(),
                description: descriptions
                    .iter()
                    .find(|(k, _)| *k == rule.key)
                    .map(|(_, d)| d.clone())
                    .unwrap_or_default(),
                value,
                source,
                override_value: rule.override_value,
                plan_value: rule.plan_value,
                default_value: rule.default_value,
                rollout_percentage: rule.rollout_percentage,
            }
        })
        .collect();
    let applications: Vec<EnabledApplication> = sqlx::query_as(
        "SELECT a.id, a.name, a.environment, a.status FROM applications a
           JOIN application_tenants at ON at.application_id = a.id
          WHERE at.tenant_id = $1 ORDER BY a.name",
    )
    .bind(tenant_id)
    .fetch_all(pool)
    .await?;
    let recent: Vec<AuditLine> = sqlx::query_as(&format!(
        "{AUDIT_LINE} WHERE l.tenant_id = $1 ORDER BY l.recorded_at DESC, l.seq DESC LIMIT $2"
    ))
    .bind(tenant_id)
    .bind(RECENT)
    .fetch_all(pool)
    .await?;
    Ok(TenantOverview {
        tenant,
        suspended_at,
        owners,
        users_by_status,
        flags,
        applications,
        recent,
    })
}
