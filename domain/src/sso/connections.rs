//! The tenant's connection to its OpenID provider, set up by the owner in a wizard
//! (FR-AUTH-003, UC-TENANT-SSO): discovery through the hardened client, the client id and
//! secret (sealed under the master key with the tenant in the associated data, never shown
//! again), a test sign-in, then activation. Changing the issuer or the client sends the
//! connection back to a draft that must be tested again. Every change is audited with its
//! old and new values, never the secret.

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::crypto::MasterKeys;
use crate::effects::{commit, Done, Effects};
use crate::permissions::Actor;
use crate::types::Role;
use crate::{DomainError, FieldError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domains::require_sso_admin;
use super::{discover, Discovered, SsoContext};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Draft,
    Active,
    Inactive,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "draft" => Ok(Self::Draft),
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            other => Err(anyhow::anyhow!("unknown connection status {other}").into()),
        }
    }
}

/// Who gets which role from the provider's groups (FR-TENANT-004). Never owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMapping {
    pub groups_claim: String,
    pub group_roles: BTreeMap<String, Role>,
    pub default_role: Role,
}

impl RoleMapping {
    /// Admin when any of the groups maps to admin; otherwise the default role.
    /// The platform role the groups give (operator before auditor), if any.
    pub fn platform_role_for(&self, groups: &[String]) -> Option<Role> {
        let mapped: Vec<Role> = groups
            .iter()
            .filter_map(|g| self.group_roles.get(g).copied())
            .collect();
        [Role::Operator, Role::Auditor]
            .into_iter()
            .find(|r| mapped.contains(r))
    }

    pub fn role_for(&self, groups: &[String]) -> Role {
        let mapped: Vec<Role> = groups
            .iter()
            .filter_map(|g| self.group_roles.get(g).copied())
            .collect();
        if mapped.contains(&Role::Admin) {
            Role::Admin
        } else if mapped.contains(&Role::User) {
            Role::User
        } else {
            self.default_role
        }
    }
}

/// What the last test sign-in received: the claims and the role they would give.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TestReport {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub groups: Vec<String>,
    pub amr: Vec<String>,
    pub mapped_role: Role,
    /// The claims as received (ID token), for the owner to read.
    pub claims: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    pub id: Uuid,
    /// `None` for the platform's connection (operators and auditors).
    pub tenant_id: Option<Uuid>,
    pub issuer: String,
    pub discovered: Discovered,
    pub client_id: Option<String>,
    pub has_secret: bool,
    pub status: ConnectionStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    pub tested_at: Option<OffsetDateTime>,
    pub last_test: Option<TestReport>,
    pub jit_enabled: bool,
    pub mapping: RoleMapping,
    pub trust_idp_mfa: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    /// The tenant's "require SSO" switch.
    pub enforced: bool,
}

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    id: Uuid,
    tenant_id: Option<Uuid>,
    issuer: String,
    discovery: Value,
    client_id: Option<String>,
    client_secret_ciphertext: Option<Vec<u8>>,
    status: String,
    tested_at: Option<OffsetDateTime>,
    last_test: Option<Value>,
    jit_enabled: bool,
    default_role: String,
    groups_claim: String,
    group_roles: Value,
    trust_idp_mfa: bool,
    last_login_at: Option<OffsetDateTime>,
    enforced: bool,
}

const SELECT: &str =
    "SELECT c.id, c.tenant_id, c.issuer, c.discovery, c.client_id, c.client_secret_ciphertext,
        c.status, c.tested_at, c.last_test, c.jit_enabled, c.default_role, c.groups_claim,
        c.group_roles, c.trust_idp_mfa, c.last_login_at, coalesce(t.sso_enforced, false) AS enforced
 FROM sso_connections c LEFT JOIN tenants t ON t.id = c.tenant_id";

impl ConnectionRow {
    fn into_connection(self) -> Result<(Connection, Option<Vec<u8>>), DomainError> {
        let group_roles: BTreeMap<String, String> =
            serde_json::from_value(self.group_roles).map_err(anyhow::Error::from)?;
        let group_roles = group_roles
            .into_iter()
            .map(|(g, r)| Ok((g, Role::parse(&r)?)))
            .collect::<Result<_, DomainError>>()?;
        let connection = Connection {
            id: self.id,
            tenant_id: self.tenant_id,
            issuer: self.issuer,
            discovered: serde_json::from_value(self.discovery).map_err(anyhow::Error::from)?,
            client_id: self.client_id,
            has_secret: self.client_secret_ciphertext.is_some(),
            status: ConnectionStatus::parse(&self.status)?,
            tested_at: self.tested_at,
            last_test: self
                .last_test
                .map(serde_json::from_value)
                .transpose()
                .map_err(anyhow::Error::from)?,
            jit_enabled: self.jit_enabled,
            mapping: RoleMapping {
                groups_claim: self.groups_claim,
                group_roles,
                default_role: Role::parse(&self.default_role)?,
            },
            trust_idp_mfa: self.trust_idp_mfa,
            last_login_at: self.last_login_at,
            enforced: self.enforced,
        };
        Ok((connection, self.client_secret_ciphertext))
    }
}

pub(crate) async fn load(
    conn: &mut PgConnection,
    filter: &str,
    id: Uuid,
    lock: bool,
) -> Result<Option<(Connection, Option<Vec<u8>>)>, DomainError> {
    let lock = if lock { " FOR UPDATE OF c" } else { "" };
    let row: Option<ConnectionRow> = sqlx::query_as(&format!("{SELECT} WHERE {filter} = $1{lock}"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(ConnectionRow::into_connection).transpose()
}

/// The tenant's connection, locked for a change in this transaction.
async fn locked(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<(Connection, Option<Vec<u8>>), DomainError> {
    load(conn, "c.tenant_id", tenant_id, true)
        .await?
        .ok_or(DomainError::NotFound("SSO connection"))
}

/// The connection as a change left it.
async fn reload(conn: &mut PgConnection, id: Uuid) -> Result<Connection, DomainError> {
    load(conn, "c.id", id, false)
        .await?
        .map(|(c, _)| c)
        .ok_or(DomainError::NotFound("SSO connection"))
}

/// The associated data sealing a connection's client secret: it names the tenant (or the
/// platform), so a ciphertext copied to another tenant's row does not open.
pub(crate) fn secret_aad(tenant_id: Option<Uuid>) -> String {
    match tenant_id {
        Some(t) => format!("sso_client_secret:{t}"),
        None => "sso_client_secret:platform".into(),
    }
}

pub(crate) fn open_secret(
    keys: &MasterKeys,
    tenant_id: Option<Uuid>,
    sealed: &[u8],
) -> Result<SecretString, DomainError> {
    let plain = keys.decrypt(sealed, &secret_aad(tenant_id))?;
    let text =
        String::from_utf8(plain).map_err(|_| anyhow::anyhow!("client secret is not UTF-8"))?;
    Ok(SecretString::from(text))
}

/// The tenant's connection, if one was started.
pub async fn get_connection(
    pool: &PgPool,
    actor: &Actor,
    tenant_id: Uuid,
) -> Result<Option<Connection>, DomainError> {
    require_sso_admin(actor, tenant_id).or_else(|e| {
        if actor.tenant_id.is_none() {
            actor.require(crate::permissions::Permission::TenantsReadAll)
        } else {
            Err(e)
        }
    })?;
    let mut conn = pool.acquire().await?;
    Ok(load(&mut conn, "c.tenant_id", tenant_id, false)
        .await?
        .map(|(c, _)| c))
}

/// The connection by id, for the sign-in flow (no actor: the flow's own checks apply).
pub async fn connection_by_id(pool: &PgPool, id: Uuid) -> Result<Option<Connection>, DomainError> {
    let mut conn = pool.acquire().await?;
    Ok(load(&mut conn, "c.id", id, false).await?.map(|(c, _)| c))
}

/// The host of the tenant's provider, for people's session lists (not a secret).
pub async fn provider_host(pool: &PgPool, tenant_id: Uuid) -> Result<Option<String>, DomainError> {
    let issuer: Option<String> =
        sqlx::query_scalar("SELECT issuer FROM sso_connections WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_optional(pool)
            .await?;
    Ok(issuer.and_then(|i| {
        url::Url::parse(&i)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    }))
}

fn audit_of(actor: &Actor, tenant_id: Uuid, id: Uuid, action: &str) -> AuditEntry {
    AuditEntry::new(action)
        .tenant(Some(tenant_id))
        .by(Some(actor))
        .resource(format!("sso_connection:{id}"))
}

/// Step 1 of the wizard: runs discovery on `issuer` and keeps what it found. A new issuer
/// starts a new draft (the old client no longer applies); the same issuer refreshes the
/// metadata and keys and keeps the rest. A failed discovery changes nothing and names
/// the failure on the `issuer` field.
pub async fn discover_connection(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    sso: &SsoContext,
    tenant_id: Uuid,
    issuer: &str,
) -> Result<Done<Connection>, DomainError> {
    require_sso_admin(actor, tenant_id)?;
    let found = discover(&sso.http, issuer)
        .await
        .map_err(|f| DomainError::validation("issuer", f.to_string()))?;
    let document = serde_json::to_value(&found).map_err(anyhow::Error::from)?;
    commit(pool, Effects::NONE, async |conn| {
        let before = load(conn, "c.tenant_id", tenant_id, true).await?;
        let id = match &before {
            Some((old, _)) if old.issuer == found.issuer => {
                sqlx::query(
                    "UPDATE sso_connections SET discovery = $2, jwks_fetched_at = now(), updated_at = now()
                     WHERE id = $1",
                )
                .bind(old.id)
                .bind(&document)
                .execute(&mut *conn)
                .await?;
                old.id
            }
            Some((old, _)) => {
                sqlx::query(
                    "UPDATE sso_connections SET issuer = $2, discovery = $3, jwks_fetched_at = now(),
                         client_id = NULL, client_secret_ciphertext = NULL, status = 'draft',
                         tested_at = NULL, last_test = NULL, updated_at = now()
                     WHERE id = $1",
                )
                .bind(old.id)
                .bind(&found.issuer)
                .bind(&document)
                .execute(&mut *conn)
                .await?;
                old.id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO sso_connections (tenant_id, issuer, discovery) VALUES ($1, $2, $3)
                     RETURNING id",
                )
                .bind(tenant_id)
                .bind(&found.issuer)
                .bind(&document)
                .fetch_one(&mut *conn)
                .await?
            }
        };
        let (action, changes) = match &before {
            None => ("sso.connection.created", json!({"issuer": {"new": found.issuer}})),
            Some((old, _)) if old.issuer == found.issuer => ("sso.connection.refreshed", json!({})),
            Some((old, _)) => (
                "sso.connection.updated",
                json!({"issuer": {"old": old.issuer, "new": found.issuer}, "status": {"old": old.status, "new": "draft"}}),
            ),
        };
        append_audit_entry(
            conn,
            ctx,
            audit_of(actor, tenant_id, id, action)
                .meta("changes", changes)
                .meta("keys", found.key_count as i64),
        )
        .await?;
        reload(conn, id).await
    })
    .await
}

/// Step 2: the client registered at the provider. The secret is sealed at rest and only
/// ever replaced; `None` keeps the stored one. A new client needs a new test.
pub async fn set_client(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    keys: &MasterKeys,
    tenant_id: Uuid,
    client_id: &str,
    secret: Option<SecretString>,
) -> Result<Done<Connection>, DomainError> {
    require_sso_admin(actor, tenant_id)?;
    let client_id = client_id.trim();
    let mut errors = Vec::new();
    if client_id.is_empty() || client_id.len() > 500 || client_id.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "client_id",
            "a client id is 1-500 printable characters",
        ));
    }
    let secret = secret.filter(|s| !s.expose_secret().is_empty());
    if let Some(s) = &secret {
        if s.expose_secret().len() > 2000 || s.expose_secret().chars().any(char::is_control) {
            errors.push(FieldError::new(
                "client_secret",
                "a client secret is 1-2000 printable characters",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    commit(pool, Effects::NONE, async |conn| {
        let (old, sealed) = locked(conn, tenant_id).await?;
        let sealed = match &secret {
            Some(s) => Some(keys.encrypt(s.expose_secret().as_bytes(), &secret_aad(Some(tenant_id)))?),
            None => sealed,
        };
        if sealed.is_none() {
            return Err(DomainError::validation("client_secret", "enter the client secret"));
        }
        let changed = old.client_id.as_deref() != Some(client_id) || secret.is_some();
        if !changed {
            return Ok(old);
        }
        sqlx::query(
            "UPDATE sso_connections SET client_id = $2, client_secret_ciphertext = $3, status = 'draft',
                 tested_at = NULL, last_test = NULL, updated_at = now()
             WHERE id = $1",
        )
        .bind(old.id)
        .bind(client_id)
        .bind(&sealed)
        .execute(&mut *conn)
        .await?;
        let mut changes = serde_json::Map::new();
        if old.client_id.as_deref() != Some(client_id) {
            changes.insert("client_id".into(), json!({"old": old.client_id, "new": client_id}));
        }
        if secret.is_some() {
            changes.insert("client_secret".into(), json!("replaced"));
        }
        if old.status != ConnectionStatus::Draft {
            changes.insert("status".into(), json!({"old": old.status, "new": "draft"}));
        }
        append_audit_entry(
            conn,
            ctx,
            audit_of(actor, tenant_id, old.id, "sso.connection.updated").meta("changes", Value::Object(changes)),
        )
        .await?;
        reload(conn, old.id).await
    })
    .await
}

/// The connection's account settings: `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct SsoSettingsChange {
    pub jit_enabled: Option<bool>,
    pub default_role: Option<String>,
    pub groups_claim: Option<String>,
    /// Group name → "admin" | "user".
    pub group_roles: Option<BTreeMap<String, String>>,
    pub trust_idp_mfa: Option<bool>,
}

/// Changes how people are created and which roles they get; every violation is listed.
pub async fn update_sso_settings(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    tenant_id: Uuid,
    change: SsoSettingsChange,
) -> Result<Done<Connection>, DomainError> {
    require_sso_admin(actor, tenant_id)?;
    let mut errors = Vec::new();
    let tenant_role = |field: String, raw: &str, errors: &mut Vec<FieldError>| match raw.trim() {
        "admin" => Some(Role::Admin),
        "user" => Some(Role::User),
        _ => {
            errors.push(FieldError::new(field, "must be one of: admin, user"));
            None
        }
    };
    let default_role = change
        .default_role
        .as_deref()
        .and_then(|r| tenant_role("default_role".into(), r, &mut errors));
    let groups_claim = change
        .groups_claim
        .as_deref()
        .map(str::trim)
        .map(str::to_owned);
    if let Some(c) = &groups_claim {
        if c.is_empty()
            || c.len() > 100
            || c.chars().any(|ch| ch.is_control() || ch.is_whitespace())
        {
            errors.push(FieldError::new(
                "groups_claim",
                "a claim name is 1-100 characters without spaces",
            ));
        }
    }
    let mut group_roles = BTreeMap::new();
    if let Some(map) = &change.group_roles {
        if map.len() > 100 {
            errors.push(FieldError::new(
                "group_roles",
                "at most 100 groups can be mapped",
            ));
        }
        for (group, role) in map {
            let group = group.trim();
            if group.is_empty() || group.len() > 200 {
                errors.push(FieldError::new(
                    "group_roles",
                    "a group name is 1-200 characters",
                ));
                continue;
            }
            if let Some(r) = tenant_role(format!("group_roles.{group}"), role, &mut errors) {
                group_roles.insert(group.to_owned(), r.as_str().to_owned());
            }
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    commit(pool, Effects::NONE, async |conn| {
        let (old, _) = locked(conn, tenant_id).await?;
        let roles_json = change.group_roles.as_ref().map(|_| json!(group_roles));
        sqlx::query(
            "UPDATE sso_connections SET jit_enabled = coalesce($2, jit_enabled),
                 default_role = coalesce($3, default_role), groups_claim = coalesce($4, groups_claim),
                 group_roles = coalesce($5, group_roles), trust_idp_mfa = coalesce($6, trust_idp_mfa),
                 updated_at = now()
             WHERE id = $1",
        )
        .bind(old.id)
        .bind(change.jit_enabled)
        .bind(default_role.map(Role::as_str))
        .bind(&groups_claim)
        .bind(&roles_json)
        .bind(change.trust_idp_mfa)
        .execute(&mut *conn)
        .await?;
        let new = reload(conn, old.id).await?;
        let mut changes = serde_json::Map::new();
        let mut note = |k: &str, a: Value, b: Value| {
            if a != b {
                changes.insert(k.into(), json!({"old": a, "new": b}));
            }
        };
        note("jit_enabled", json!(old.jit_enabled), json!(new.jit_enabled));
        note("default_role", json!(old.mapping.default_role), json!(new.mapping.default_role));
        note("groups_claim", json!(old.mapping.groups_claim), json!(new.mapping.groups_claim));
        note("group_roles", json!(old.mapping.group_roles), json!(new.mapping.group_roles));
        note("trust_idp_mfa", json!(old.trust_idp_mfa), json!(new.trust_idp_mfa));
        if !changes.is_empty() {
            append_audit_entry(
                conn,
                ctx,
                audit_of(actor, tenant_id, old.id, "sso.connection.updated")
                    .meta("changes", Value::Object(changes)),
            )
            .await?;
        }
        Ok(new)
    })
    .await
}

/// Activates a tested connection, or deactivates it (sign-ins fall back to passwords, and
/// "require SSO" is switched off with it, so nobody is locked out).
pub async fn set_connection_active(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    tenant_id: Uuid,
    active: bool,
) -> Result<Done<Connection>, DomainError> {
    require_sso_admin(actor, tenant_id)?;
    commit(pool, Effects::NONE, async |conn| {
        let (old, _) = locked(conn, tenant_id).await?;
        if active && old.tested_at.is_none() {
            return Err(DomainError::Conflict {
                message: "run a successful test sign-in before activating the connection".into(),
                field: Some("status".into()),
            });
        }
        let status = if active { "active" } else { "inactive" };
        sqlx::query("UPDATE sso_connections SET status = $2, updated_at = now() WHERE id = $1")
            .bind(old.id)
            .bind(status)
            .execute(&mut *conn)
            .await?;
        let mut changes = json!({"status": {"old": old.status, "new": status}});
        if !active && old.enforced {
            sqlx::query(
                "UPDATE tenants SET sso_enforced = false, updated_at = now() WHERE id = $1",
            )
            .bind(tenant_id)
            .execute(&mut *conn)
            .await?;
            changes["sso_enforced"] = json!({"old": true, "new": false});
        }
        let action = if active {
            "sso.connection.activated"
        } else {
            "sso.connection.deactivated"
        };
        append_audit_entry(
            conn,
            ctx,
            audit_of(actor, tenant_id, old.id, action).meta("changes", changes),
        )
        .await?;
        reload(conn, old.id).await
    })
    .await
}

/// Deletes the connection and the identities it linked; "require SSO" goes off with it.
pub async fn delete_connection(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    tenant_id: Uuid,
) -> Result<Done<()>, DomainError> {
    require_sso_admin(actor, tenant_id)?;
    commit(pool, Effects::NONE, async |conn| {
        let (old, _) = locked(conn, tenant_id).await?;
        let linked: i64 = sqlx::query_scalar("SELECT count(*) FROM sso_identities WHERE connection_id = $1")
            .bind(old.id)
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM sso_connections WHERE id = $1")
            .bind(old.id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE tenants SET sso_enforced = false, updated_at = now() WHERE id = $1 AND sso_enforced")
            .bind(tenant_id)
            .execute(&mut *conn)
            .await?;
        append_audit_entry(
            conn,
            ctx,
            audit_of(actor, tenant_id, old.id, "sso.connection.deleted")
                .meta("issuer", old.issuer.clone())
                .meta("client_id", old.client_id.clone())
                .meta("identities_removed", linked)
                .meta("was_enforced", old.enforced),
        )
        .await?;
        Ok(())
    })
    .await
}

/// The "require SSO" switch (SPEC §3): password and passkey sign-in off for the tenant's
/// people, owners excepted (break-glass: password plus a second factor). Turning it on
/// needs an active connection and an owner who can break glass, so a provider outage
/// never locks the organisation out.
pub async fn set_sso_enforced(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    tenant_id: Uuid,
    enforced: bool,
) -> Result<Done<Connection>, DomainError> {
    require_sso_admin(actor, tenant_id)?;
    commit(pool, Effects::NONE, async |conn| {
        let (old, _) = locked(conn, tenant_id).await?;
        if enforced {
            if old.status != ConnectionStatus::Active {
                return Err(DomainError::Conflict {
                    message: "activate the connection before requiring SSO".into(),
                    field: Some("enforced".into()),
                });
            }
            let break_glass: bool = sqlx::query_scalar(
                "SELECT EXISTS (
                     SELECT 1 FROM users u
                     WHERE u.tenant_id = $1 AND u.role = 'owner' AND u.status = 'active'
                       AND u.password_hash IS NOT NULL
                       AND (EXISTS (SELECT 1 FROM mfa_totp m WHERE m.user_id = u.id AND m.confirmed_at IS NOT NULL)
                            OR EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id)))",
            )
            .bind(tenant_id)
            .fetch_one(&mut *conn)
            .await?;
            if !break_glass {
                return Err(DomainError::Conflict {
                    message: "at least one owner needs a password and a second factor before SSO can be required (break-glass access)".into(),
                    field: Some("enforced".into()),
                });
            }
        }
        if old.enforced != enforced {
            sqlx::query("UPDATE tenants SET sso_enforced = $2, updated_at = now() WHERE id = $1")
                .bind(tenant_id)
                .bind(enforced)
                .execute(&mut *conn)
                .await?;
            append_audit_entry(
                conn,
                ctx,
                audit_of(actor, tenant_id, old.id, "sso.enforcement.changed")
                    .meta("changes", json!({"sso_enforced": {"old": old.enforced, "new": enforced}})),
            )
            .await?;
        }
        reload(conn, old.id).await
    })
    .await
}
