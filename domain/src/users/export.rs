//! The rights of access and portability (CON-COMP-001; GDPR art. 15 and 20, APPI art. 33):
//! everything Gatehouse holds about a person, as one JSON document.
//!
//! The person downloads their own from `/account/data`; their tenant's owners and admins,
//! and platform auditors and operators, download anyone's in their reach. Every download
//! is audited (`user.data.export`, in the person's tenant, where its owners see it).
//! Secrets are never part of it: no password hash, TOTP seed, recovery code, token or
//! session id — second factors are described, not copied.

use crate::audit::{append_audit_entry, personal, AuditEntry, RequestContext};
use crate::permissions::{Actor, Permission};
use crate::DomainError;
use serde_json::{json, Value};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// Audit entries in an export, newest first; an export says when there were more.
pub const EXPORT_ENTRIES: i64 = 10_000;

/// One query's rows as a JSON array (`to_jsonb` of each row).
async fn rows(pool: &PgPool, sql: &str, user_id: Uuid) -> Result<Value, DomainError> {
    let rows: Vec<Value> = sqlx::query_scalar(&format!(
        "SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]'::jsonb) FROM ({sql}) x"
    ))
    .bind(user_id)
    .fetch_one(pool)
    .await
    .map(|v: Value| match v {
        Value::Array(items) => items,
        _ => Vec::new(),
    })?;
    Ok(Value::Array(rows))
}

/// Everything held about `user_id`, if `actor` may read it: the person, an owner or admin
/// of their tenant, or platform staff who read the whole trail.
pub async fn person_data(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    user_id: Uuid,
) -> Result<Value, DomainError> {
    let tenant: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    let tenant = tenant.ok_or(DomainError::NotFound("user"))?;
    if actor.user_id == user_id {
        actor.require(Permission::AccountManageSelf)?;
    } else if actor.require(Permission::AuditReadAll).is_err() {
        let tenant = tenant.ok_or(DomainError::NotFound("user"))?;
        actor.require_in_tenant(Permission::UsersManage, tenant, "user")?;
    }
    let profile = rows(
        pool,
        "SELECT u.id, u.email, u.name, u.role, u.status, t.domain AS tenant, t.name AS tenant_name,
                u.created_at, u.updated_at, u.last_login_at, u.email_verified_at, u.archived_at,
                u.erased_at
           FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1",
        user_id,
    )
    .await?;
    let sessions = rows(
        pool,
        "SELECT created_at, last_seen_at, expires_at, auth_methods, mfa_verified_at IS NOT NULL AS mfa_verified,
                host(ip) AS ip, user_agent, revoked_at, revoked_reason
           FROM sessions WHERE user_id = $1 ORDER BY created_at DESC",
        user_id,
    )
    .await?;
    let authenticators = rows(
        pool,
        "SELECT label, confirmed_at, created_at FROM mfa_totp WHERE user_id = $1 ORDER BY created_at",
        user_id,
    )
    .await?;
    let passkeys = rows(
        pool,
        "SELECT name, created_at, last_used_at FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at",
        user_id,
    )
    .await?;
    let recovery_codes = rows(
        pool,
        "SELECT count(*) FILTER (WHERE used_at IS NULL) AS unused, count(*) FILTER (WHERE used_at IS NOT NULL) AS used,
                max(created_at) AS created_at
           FROM recovery_codes WHERE user_id = $1 HAVING count(*) > 0",
        user_id,
    )
    .await?;
    let trusted_devices = rows(
        pool,
        "SELECT user_agent, created_at, last_used_at, expires_at FROM trusted_devices
          WHERE user_id = $1 ORDER BY created_at",
        user_id,
    )
    .await?;
    let networks = rows(
        pool,
        "SELECT host(network) || '/' || masklen(network) AS network, first_seen, last_seen
           FROM known_networks WHERE user_id = $1 ORDER BY first_seen",
        user_id,
    )
    .await?;
    // Consents: the applications the person signed in to and the scopes they granted.
    let applications = rows(
        pool,
        "SELECT a.name AS application, r.client_id, string_agg(DISTINCT r.scope, ' ') AS scopes,
                min(r.created_at) AS first_used, max(r.created_at) AS last_used,
                bool_or(r.revoked_at IS NULL AND r.used_at IS NULL AND r.expires_at > now()) AS active
           FROM oauth_refresh_tokens r LEFT JOIN applications a ON a.id = r.application_id
          WHERE r.user_id = $1 GROUP BY a.name, r.client_id ORDER BY min(r.created_at)",
        user_id,
    )
    .await?;
    let sso = rows(
        pool,
        "SELECT issuer, subject, created_at, last_login_at FROM sso_identities WHERE user_id = $1",
        user_id,
    )
    .await?;
    let email_changes = rows(
        pool,
        "SELECT new_email, created_at, expires_at, used_at FROM email_changes WHERE user_id = $1
          ORDER BY created_at",
        user_id,
    )
    .await?;
    let erasure_requests = rows(
        pool,
        "SELECT requested_at, status, decided_at, reason FROM erasure_requests WHERE user_id = $1
          ORDER BY requested_at",
        user_id,
    )
    .await?;
    let mut entries: Vec<Value> = sqlx::query_scalar(
        "SELECT jsonb_build_object('seq', l.seq, 'recorded_at', l.recorded_at, 'action', l.action,
                    'outcome', l.outcome, 'actor_type', l.actor_type, 'actor_id', l.actor_id,
                    'resource', l.resource, 'request_id', l.request_id, 'metadata', l.metadata)
           FROM audit_log l
          WHERE l.actor_id = $1 OR l.resource = 'user:' || $1::text
          ORDER BY l.recorded_at DESC, l.seq DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(EXPORT_ENTRIES + 1)
    .fetch_all(pool)
    .await?;
    let truncated = entries.len() as i64 > EXPORT_ENTRIES;
    entries.truncate(EXPORT_ENTRIES as usize);
    {
        let mut metadata: Vec<&mut Value> = entries
            .iter_mut()
            .filter_map(|e| e.get_mut("metadata"))
            .collect();
        personal::open_all(pool, &mut metadata).await?;
    }
    let mut conn = pool.acquire().await?;
    append_audit_entry(
        &mut conn,
        ctx,
        AuditEntry::new("user.data.export")
            .by(Some(actor))
            .tenant(tenant)
            .resource(format!("user:{user_id}"))
            .meta("entries", entries.len())
            .meta("self", actor.user_id == user_id),
    )
    .await?;
    Ok(json!({
        "format": "gatehouse.person-data/1",
        "exported_at": OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "profile": profile.get(0).cloned().unwrap_or(Value::Null),
        "sessions": sessions,
        "second_factors": {
            "authenticator_apps": authenticators,
            "passkeys": passkeys,
            "recovery_codes": recovery_codes.get(0).cloned().unwrap_or(Value::Null),
            "trusted_devices": trusted_devices,
        },
        "known_networks": networks,
        "applications": applications,
        "sso_identities": sso,
        "email_changes": email_changes,
        "erasure_requests": erasure_requests,
        "audit_entries": entries,
        "audit_entries_truncated": truncated,
    }))
}
