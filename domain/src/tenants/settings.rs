//! Tenant settings (CON-SEC-001, CON-SEC-005, FR-AUTH-006, SPEC §3): the
//! password policy, the MFA policy and the session idle timeout. Owners and admins change
//! them (`TenantManagePolicies`); operators may too. Every change is audited with old and
//! new values in the same transaction.

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::passwords::PasswordPolicy;
use crate::permissions::{Actor, Permission};
use crate::types::MfaPolicy;
use crate::{DomainError, FieldError};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Idle timeout bounds (the database CHECK): 1 minute to 24 hours.
pub const IDLE_TIMEOUT_SECS: std::ops::RangeInclusive<i32> = 60..=86_400;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TenantSettings {
    pub password_policy: PasswordPolicy,
    pub mfa_policy: MfaPolicy,
    pub session_idle_timeout_secs: i32,
    /// The location signals that ask for the second factor (NFR-SEC-006).
    pub location_signals: Vec<String>,
}

/// The location signals a tenant can turn on or off, in their order.
pub const LOCATION_SIGNALS: [&str; 3] = ["new_country", "impossible_travel", "unusual_hour"];

/// A change: `None` keeps a setting.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    /// A JSON object of password-policy fields (missing fields take the defaults).
    pub password_policy: Option<Value>,
    pub mfa_policy: Option<String>,
    pub session_idle_timeout_secs: Option<i64>,
    /// The whole set of location signals that are on.
    pub location_signals: Option<Vec<String>>,
}

async fn read(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    lock: bool,
) -> Result<TenantSettings, DomainError> {
    let sql = format!(
        "SELECT password_policy, mfa_policy, session_idle_timeout_secs, location_signals
           FROM tenants WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row: Option<(Value, String, i32, Vec<String>)> = sqlx::query_as(&sql)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await?;
    let (policy, mfa, idle, location) = row.ok_or(DomainError::NotFound("tenant"))?;
    Ok(TenantSettings {
        password_policy: PasswordPolicy::from_stored(&policy)?,
        mfa_policy: MfaPolicy::parse(&mfa)?,
        session_idle_timeout_secs: idle,
        location_signals: LOCATION_SIGNALS
            .iter()
            .filter(|s| location.iter().any(|l| l == *s))
            .map(|s| (*s).to_owned())
            .collect(),
    })
}

pub async fn get_settings(
    pool: &PgPool,
    actor: &Actor,
    tenant_id: Uuid,
) -> Result<TenantSettings, DomainError> {
    actor
        .require_in_tenant(Permission::TenantRead, tenant_id, "tenant")
        .or_else(|e| {
            if actor.tenant_id.is_none() {
                actor.require(Permission::TenantsReadAll)
            } else {
                Err(e)
            }
        })?;
    let mut conn = pool.acquire().await?;
    read(&mut conn, tenant_id, false).await
}

/// Validates every field (all violations listed), then writes and audits the change.
pub async fn update_settings(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    tenant_id: Uuid,
    change: SettingsChange,
) -> Result<Done<TenantSettings>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
        actor
            .require_in_tenant(Permission::TenantManagePolicies, tenant_id, "tenant")
            .or_else(|e| {
                if actor.tenant_id.is_none() {
                    actor.require(Permission::TenantsProvision)
                } else {
                    Err(e)
                }
            })?;
        let mut errors: Vec<FieldError> = Vec::new();
        let policy =
            change
                .password_policy
                .as_ref()
                .and_then(|v| match PasswordPolicy::parse_input(v) {
                    Ok(p) => Some(p),
                    Err(DomainError::Validation(e)) => {
                        errors.extend(e.into_iter().map(|f| {
                            FieldError::new(
                                if f.field == "password_policy" {
                                    f.field
                                } else {
                                    format!("password_policy.{}", f.field)
                                },
                                f.message,
                            )
                        }));
                        None
                    }
                    Err(_) => None,
                });
        let mfa = change
            .mfa_policy
            .as_deref()
            .and_then(|m| match MfaPolicy::parse(m) {
                Ok(m) => Some(m),
                Err(DomainError::Validation(e)) => {
                    errors.extend(e);
                    None
                }
                Err(_) => None,
            });
        let idle = change.session_idle_timeout_secs.and_then(|s| {
            match i32::try_from(s)
                .ok()
                .filter(|s| IDLE_TIMEOUT_SECS.contains(s))
            {
                Some(s) => Some(s),
                None => {
                    errors.push(FieldError::new(
                        "session_idle_timeout_secs",
                        "must be between 60 (1 minute) and 86400 (24 hours)",
                    ));
                    None
                }
            }
        });
        let location: Option<Vec<String>> = change.location_signals.as_ref().map(|asked| {
            let mut on = Vec::new();
            for signal in asked {
                let signal = signal.trim().to_ascii_lowercase();
                if !LOCATION_SIGNALS.contains(&signal.as_str()) {
                    errors.push(FieldError::new(
                        "location_signals",
                        format!("must hold only: {}", LOCATION_SIGNALS.join(", ")),
                    ));
                } else if !on.contains(&signal) {
                    on.push(signal);
                }
            }
            on
        });
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        let before = read(conn, tenant_id, true).await?;
        sqlx::query(
            "UPDATE tenants SET password_policy = coalesce($2, password_policy),
                            mfa_policy = coalesce($3, mfa_policy),
                            session_idle_timeout_secs = coalesce($4, session_idle_timeout_secs),
                            location_signals = coalesce($5, location_signals),
                            updated_at = now()
          WHERE id = $1",
        )
        .bind(tenant_id)
        .bind(policy.as_ref().map(|p| json!(p)))
        .bind(mfa.map(MfaPolicy::as_str))
        .bind(idle)
        .bind(location)
        .execute(&mut *conn)
        .await?;
        let after = read(conn, tenant_id, false).await?;
        if after != before {
            append_audit_entry(
                conn,
                ctx,
                AuditEntry::new("tenant.settings.update")
                    .tenant(Some(tenant_id))
                    .by(Some(actor))
                    .resource(format!("tenant:{tenant_id}"))
                    .meta("old", json!(before))
                    .meta("new", json!(after)),
            )
            .await?;
        }
        Ok(after)
    })
    .await
}
