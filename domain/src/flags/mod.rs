//! Feature flags (SPEC §6; FR-FLAG-001/002, DAT-FLAG, API-FLAG).
//!
//! A flag's effective value for a tenant is override ?? plan default ?? (rollout) ??
//! default. A percentage rollout (beyond the spec) decides only when neither an override
//! nor a plan default does: it is sticky, hashing the flag key with the targeting key —
//! the user id given in the evaluation context, else the tenant id.
//!
//! Every change is audited with its old and new value in the same transaction and
//! announced with `NOTIFY gatehouse_flags` (payload: the tenant id, or `*` for a change
//! that concerns every tenant), which the servers' flag caches listen to.

mod evaluate;
pub use evaluate::*;

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::permissions::{Actor, Permission};
use crate::types::{FlagKey, Plan};
use crate::{DomainError, FieldError};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// NOTIFY channel for flag changes.
pub const CHANNEL: &str = "gatehouse_flags";

/// A feature flag's definition: its default, its rollout and the plans' defaults.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FlagDefinition {
    /// The flag's key (`^[a-z][a-z0-9_]{0,63}$`); it never changes.
    pub key: String,
    /// What the flag is for.
    pub description: String,
    /// The value where no override, plan default or rollout decides.
    pub default_value: bool,
    /// A sticky percentage rollout (0-100): the share of targeting keys (users, else
    /// tenants) that get `true` where no override or plan default decides. Null: none.
    pub rollout_percentage: Option<i16>,
    /// Plan → value, for the plans that set one.
    pub plan_defaults: HashMap<String, bool>,
    /// When a server last served the flag (recorded once a minute); null if never.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_evaluated_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Tells every server's flag cache that a tenant changed (plan, status, overrides).
pub async fn notify_tenant(conn: &mut PgConnection, tenant_id: Uuid) -> Result<(), DomainError> {
    notify(conn, &tenant_id.to_string()).await
}

async fn notify(conn: &mut PgConnection, payload: &str) -> Result<(), DomainError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn require(actor: Option<&Actor>) -> Result<(), DomainError> {
    match actor {
        Some(a) => a.require(Permission::FlagsManage),
        None => Ok(()),
    }
}

/// A definition as typed; `None` leaves a field as it is (update) or takes the default.
#[derive(Debug, Clone, Default)]
pub struct FlagInput {
    pub key: Option<String>,
    pub description: Option<String>,
    pub default_value: Option<bool>,
    /// `Some(None)` clears the rollout.
    pub rollout_percentage: Option<Option<i16>>,
}

fn check_common(input: &FlagInput, errors: &mut Vec<FieldError>) {
    if input
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1000)
    {
        errors.push(FieldError::new("description", "at most 1000 characters"));
    }
    if let Some(Some(p)) = input.rollout_percentage {
        if !(0..=100).contains(&p) {
            errors.push(FieldError::new(
                "rollout_percentage",
                "must be between 0 and 100",
            ));
        }
    }
}

const SELECT_DEFINITION: &str = "
    SELECT d.key, d.description, d.default_value, d.rollout_percentage, d.last_evaluated_at,
           d.created_at, d.updated_at,
           coalesce((SELECT jsonb_object_agg(pd.plan, pd.value) FROM flag_plan_defaults pd
                      WHERE pd.flag_key = d.key), '{}'::jsonb) AS plan_defaults
      FROM flag_definitions d";

#[derive(sqlx::FromRow)]
struct DefinitionRow {
    key: String,
    description: String,
    default_value: bool,
    rollout_percentage: Option<i16>,
    last_evaluated_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    plan_defaults: Value,
}

impl From<DefinitionRow> for FlagDefinition {
    fn from(r: DefinitionRow) -> Self {
        let plan_defaults = r
            .plan_defaults
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_bool().map(|b| (k.clone(), b)))
                    .collect()
            })
            .unwrap_or_default();
        FlagDefinition {
            key: r.key,
            description: r.description,
            default_value: r.default_value,
            rollout_percentage: r.rollout_percentage,
            plan_defaults,
            last_evaluated_at: r.last_evaluated_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

async fn definition(conn: &mut PgConnection, key: &str) -> Result<FlagDefinition, DomainError> {
    let row: Option<DefinitionRow> = sqlx::query_as(&format!(
        "{SELECT_DEFINITION} WHERE d.key = $1 AND d.archived_at IS NULL"
    ))
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(FlagDefinition::from)
        .ok_or(DomainError::NotFound("flag"))
}

pub async fn list_flags(
    pool: &PgPool,
    actor: Option<&Actor>,
) -> Result<Vec<FlagDefinition>, DomainError> {
    if let Some(a) = actor {
        // Operators manage flags; auditors read everything.
        if a.require(Permission::FlagsManage).is_err() {
            a.require(Permission::TenantsReadAll)?;
        }
    }
    let rows: Vec<DefinitionRow> = sqlx::query_as(&format!(
        "{SELECT_DEFINITION} WHERE d.archived_at IS NULL ORDER BY d.key LIMIT 1000"
    ))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(FlagDefinition::from).collect())
}

pub async fn get_flag(
    pool: &PgPool,
    actor: Option<&Actor>,
    key: &str,
) -> Result<FlagDefinition, DomainError> {
    if let Some(a) = actor {
        if a.require(Permission::FlagsManage).is_err() {
            a.require(Permission::TenantsReadAll)?;
        }
    }
    let mut conn = pool.acquire().await?;
    definition(&mut conn, key).await
}

/// What a flag change records of a definition in its audit entry.
fn audited(definition: &FlagDefinition) -> serde_json::Value {
    json!({
        "default_value": definition.default_value,
        "rollout_percentage": definition.rollout_percentage,
        "description": definition.description,
    })
}

/// FR-FLAG-001: defines a flag (key, description, default, optional rollout).
pub async fn create_flag(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    input: FlagInput,
) -> Result<Done<FlagDefinition>, DomainError> {
    commit(pool, Effects::ALL_FLAGS, async |conn| {
        create_flag_in(conn, ctx, actor, input).await
    })
    .await
}

/// [`create_flag`] inside the caller's transaction.
pub(crate) async fn create_flag_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    input: FlagInput,
) -> Result<FlagDefinition, DomainError> {
    require(actor)?;
    let mut errors = Vec::new();
    let key = match input.key.as_deref().map(FlagKey::parse) {
        Some(Ok(k)) => Some(k),
        Some(Err(DomainError::Validation(e))) => {
            errors.extend(e);
            None
        }
        _ => {
            errors.push(FieldError::new("key", "a key is required"));
            None
        }
    };
    check_common(&input, &mut errors);
    let Some(key) = key.filter(|_| errors.is_empty()) else {
        return Err(DomainError::Validation(errors));
    };
    sqlx::query(
        "INSERT INTO flag_definitions (key, description, default_value, rollout_percentage)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(key.as_str())
    .bind(input.description.as_deref().map(str::trim).unwrap_or(""))
    .bind(input.default_value.unwrap_or(false))
    .bind(input.rollout_percentage.flatten())
    .execute(&mut *conn)
    .await
    .map_err(|e| match crate::error::unique_violation(&e) {
        Some(_) => DomainError::conflict("key", format!("a flag '{key}' already exists")),
        None => e.into(),
    })?;
    let created = definition(conn, key.as_str()).await?;
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("flag.create")
            .by(actor)
            .resource(format!("flag:{key}"))
            .meta("new", audited(&created)),
    )
    .await?;
    notify(conn, "*").await?;
    Ok(created)
}

/// Changes a definition's description, default or rollout (old and new audited).
pub async fn update_flag(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    key: &str,
    input: FlagInput,
) -> Result<Done<FlagDefinition>, DomainError> {
    commit(pool, Effects::ALL_FLAGS, async |conn| {
        require(actor)?;
        let mut errors = Vec::new();
        check_common(&input, &mut errors);
        if input.key.is_some() {
            errors.push(FieldError::new("key", "a flag's key cannot change"));
        }
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        let before = definition(conn, key).await?;
        sqlx::query(
            "UPDATE flag_definitions SET
                description = coalesce($2, description),
                default_value = coalesce($3, default_value),
                rollout_percentage = CASE WHEN $4 THEN $5 ELSE rollout_percentage END,
                updated_at = now()
              WHERE key = $1",
        )
        .bind(key)
        .bind(input.description.as_deref().map(str::trim))
        .bind(input.default_value)
        .bind(input.rollout_percentage.is_some())
        .bind(input.rollout_percentage.flatten())
        .execute(&mut *conn)
        .await?;
        let after = definition(conn, key).await?;
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("flag.update")
                .by(actor)
                .resource(format!("flag:{key}"))
                .meta("old", audited(&before))
                .meta("new", audited(&after)),
        )
        .await?;
        notify(conn, "*").await?;
        Ok(after)
    })
    .await
}

/// Sets (or, with `None`, clears) a plan's default for a flag.
pub async fn set_plan_default(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    key: &str,
    plan: Plan,
    value: Option<bool>,
) -> Result<Done<FlagDefinition>, DomainError> {
    commit(pool, Effects::ALL_FLAGS, async |conn| {
        set_plan_default_in(conn, ctx, actor, key, plan, value).await
    })
    .await
}

/// [`set_plan_default`] inside the caller's transaction.
pub(crate) async fn set_plan_default_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    key: &str,
    plan: Plan,
    value: Option<bool>,
) -> Result<FlagDefinition, DomainError> {
    require(actor)?;
    let before = definition(conn, key).await?;
    let old = before.plan_defaults.get(plan.as_str()).copied();
    match value {
        Some(v) => {
            sqlx::query(
                "INSERT INTO flag_plan_defaults (flag_key, plan, value) VALUES ($1, $2, $3)
                 ON CONFLICT (flag_key, plan) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(plan.as_str())
            .bind(v)
            .execute(&mut *conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM flag_plan_defaults WHERE flag_key = $1 AND plan = $2")
                .bind(key)
                .bind(plan.as_str())
                .execute(&mut *conn)
                .await?;
        }
    }
    if old != value {
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("flag.plan_default.set")
                .by(actor)
                .resource(format!("flag:{key}"))
                .meta("plan", plan.as_str())
                .meta("old", json!(old))
                .meta("new", json!(value)),
        )
        .await?;
        notify(conn, "*").await?;
    }
    definition(conn, key).await
}

/// Sets (or, with `None`, clears) a tenant's override of a flag.
pub async fn set_override(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    tenant_id: Uuid,
    key: &str,
    value: Option<bool>,
) -> Result<Done<Option<bool>>, DomainError> {
    commit(pool, Effects::tenant_flags(tenant_id), async |conn| {
        require(actor)?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)")
            .bind(tenant_id)
            .fetch_one(&mut *conn)
            .await?;
        if !exists {
            return Err(DomainError::NotFound("tenant"));
        }
        definition(conn, key).await?;
        let old: Option<bool> = sqlx::query_scalar(
            "SELECT value FROM flag_overrides WHERE tenant_id = $1 AND flag_key = $2 FOR UPDATE",
        )
        .bind(tenant_id)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        match value {
            Some(v) => {
                sqlx::query(
                    "INSERT INTO flag_overrides (tenant_id, flag_key, value, updated_by) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (tenant_id, flag_key) DO UPDATE
                       SET value = excluded.value, updated_by = excluded.updated_by, updated_at = now()",
                )
                .bind(tenant_id)
                .bind(key)
                .bind(v)
                .bind(actor.map(|a| a.user_id))
                .execute(&mut *conn)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM flag_overrides WHERE tenant_id = $1 AND flag_key = $2")
                    .bind(tenant_id)
                    .bind(key)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        if old != value {
            append_audit_entry(
                conn,
                ctx,
                AuditEntry::new(if value.is_some() {
                    "flag.override.set"
                } else {
                    "flag.override.clear"
                })
                .tenant(Some(tenant_id))
                .by(actor)
                .resource(format!("flag:{key}"))
                .meta("old", json!(old))
                .meta("new", json!(value)),
            )
            .await?;
            notify(conn, &tenant_id.to_string()).await?;
        }
        Ok(value)
    })
    .await
}

/// One change in a flag's history (from the audit trail).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlagChange {
    /// What changed: `flag.create`, `flag.update`, `flag.plan_default.set`,
    /// `flag.override.set` or `flag.override.clear`.
    pub action: String,
    /// The tenant, for an override; null for a change that concerns every tenant.
    pub tenant_id: Option<Uuid>,
    /// Who made the change; null for the system.
    pub actor_id: Option<Uuid>,
    /// The email address of who made the change.
    pub actor_email: Option<String>,
    /// The value before: a boolean or null for a plan default or an override; for a
    /// definition, its `default_value`, `rollout_percentage` and `description`.
    pub old: Value,
    /// The value after, in the same form as `old`.
    pub new: Value,
    /// The plan, for a plan default.
    pub plan: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
}

/// The history of every change to a flag, newest first (at most `limit`).
pub async fn flag_history(
    pool: &PgPool,
    actor: Option<&Actor>,
    key: &str,
    limit: i64,
) -> Result<Vec<FlagChange>, DomainError> {
    if let Some(a) = actor {
        if a.require(Permission::FlagsManage).is_err() {
            a.require(Permission::AuditReadAll)?;
        }
    }
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT l.action, l.tenant_id, l.actor_id, u.email AS actor_email, l.metadata, l.occurred_at
               FROM audit_log l LEFT JOIN users u ON u.id = l.actor_id
              WHERE l.resource = $1 AND l.action LIKE 'flag.%'
              ORDER BY l.occurred_at DESC, l.seq DESC LIMIT $2",
    )
    .bind(format!("flag:{key}"))
    .bind(limit.clamp(1, 500))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FlagChange {
            old: r.metadata.get("old").cloned().unwrap_or(Value::Null),
            new: r.metadata.get("new").cloned().unwrap_or(Value::Null),
            plan: r
                .metadata
                .get("plan")
                .and_then(Value::as_str)
                .map(str::to_owned),
            action: r.action,
            tenant_id: r.tenant_id,
            actor_id: r.actor_id,
            actor_email: r.actor_email,
            occurred_at: r.occurred_at,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    action: String,
    tenant_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    actor_email: Option<String>,
    metadata: Value,
    occurred_at: OffsetDateTime,
}

/// Flags never evaluated, or not in `days` days (the stale-flags view).
pub async fn stale_flags(
    pool: &PgPool,
    actor: Option<&Actor>,
    days: i64,
) -> Result<Vec<FlagDefinition>, DomainError> {
    let all = list_flags(pool, actor).await?;
    let horizon = OffsetDateTime::now_utc() - time::Duration::days(days);
    Ok(all
        .into_iter()
        .filter(|f| f.last_evaluated_at.is_none_or(|t| t < horizon))
        .collect())
}

/// Records that flags were evaluated (batched by the server).
pub async fn record_evaluations(pool: &PgPool, keys: &[String]) -> Result<(), DomainError> {
    sqlx::query("UPDATE flag_definitions SET last_evaluated_at = now() WHERE key = ANY($1)")
        .bind(keys)
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        override_value: Option<bool>,
        plan_value: Option<bool>,
        rollout: Option<i16>,
    ) -> FlagRule {
        FlagRule {
            key: "new_checkout".into(),
            default_value: false,
            plan_value,
            override_value,
            rollout_percentage: rollout,
        }
    }

    #[test]
    fn override_beats_plan_beats_rollout_beats_default() {
        assert_eq!(
            rule(Some(false), Some(true), Some(100)).evaluate("t"),
            (false, Source::Override)
        );
        assert_eq!(
            rule(None, Some(true), Some(0)).evaluate("t"),
            (true, Source::Plan)
        );
        assert_eq!(
            rule(None, None, Some(100)).evaluate("t"),
            (true, Source::Rollout)
        );
        assert_eq!(
            rule(None, None, Some(0)).evaluate("t"),
            (false, Source::Rollout)
        );
        assert_eq!(
            rule(None, None, None).evaluate("t"),
            (false, Source::Default)
        );
    }

    #[test]
    fn rollouts_are_sticky_and_roughly_proportional() {
        let r = rule(None, None, Some(30));
        let on = (0..10_000)
            .filter(|i| r.evaluate(&format!("user-{i}")).0)
            .count();
        assert!((2_700..3_300).contains(&on), "{on}");
        assert_eq!(r.evaluate("user-42"), r.evaluate("user-42"));
        assert_eq!(bucket("a", "b"), bucket("a", "b"));
    }
}
