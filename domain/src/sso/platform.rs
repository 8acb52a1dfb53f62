//! Platform staff through the vendor's own OpenID provider (SPEC §3: operators and
//! auditors "through a platform OIDC provider configured by the deployment"). The
//! deployment names the issuer, the client and which groups make an operator or an
//! auditor; at startup Gatehouse runs discovery and keeps the result as the one connection
//! without a tenant. Sign-ins then take the same relying-party path as tenants' people
//! (`flow`, `accounts`): keyed by (connection, `iss`, `sub`), linked to an existing
//! platform account only with `email_verified`, created just in time otherwise, and the
//! role follows the groups at every sign-in.

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::crypto::MasterKeys;
use crate::DomainError;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::connections::secret_aad;
use super::{discover, SsoContext};

/// The deployment's platform provider (`GATEHOUSE_PLATFORM_OIDC_*`).
#[derive(Debug, Clone)]
pub struct PlatformOidc {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// The claim that carries the groups (`groups` by default).
    pub role_claim: String,
    pub operator_values: Vec<String>,
    pub auditor_values: Vec<String>,
}

/// Runs discovery and stores the platform's connection (active: the deployment vouches
/// for it). Audited when it changes. Returns the connection's id.
pub async fn configure_platform(
    pool: &PgPool,
    keys: &MasterKeys,
    sso: &SsoContext,
    config: &PlatformOidc,
) -> Result<Uuid, DomainError> {
    if config.operator_values.is_empty() && config.auditor_values.is_empty() {
        return Err(DomainError::validation(
            "platform_oidc",
            "name the groups that make an operator or an auditor",
        ));
    }
    let found = discover(&sso.http, &config.issuer)
        .await
        .map_err(|f| DomainError::validation("platform_oidc_issuer", f.to_string()))?;
    let document = serde_json::to_value(&found).map_err(anyhow::Error::from)?;
    let sealed = keys.encrypt(
        config.client_secret.expose_secret().as_bytes(),
        &secret_aad(None),
    )?;
    let mut roles = serde_json::Map::new();
    for v in &config.auditor_values {
        roles.insert(v.clone(), json!("auditor"));
    }
    for v in &config.operator_values {
        roles.insert(v.clone(), json!("operator"));
    }
    let mut tx = pool.begin().await?;
    let before: Option<(String, Option<String>, serde_json::Value)> = sqlx::query_as(
        "SELECT issuer, client_id, group_roles FROM sso_connections WHERE tenant_id IS NULL FOR UPDATE",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO sso_connections (tenant_id, issuer, discovery, client_id, client_secret_ciphertext,
                                      status, tested_at, jit_enabled, groups_claim, group_roles)
         VALUES (NULL, $1, $2, $3, $4, 'active', now(), true, $5, $6)
         ON CONFLICT ((tenant_id IS NULL)) WHERE tenant_id IS NULL DO UPDATE
             SET issuer = excluded.issuer, discovery = excluded.discovery, jwks_fetched_at = now(),
                 client_id = excluded.client_id, client_secret_ciphertext = excluded.client_secret_ciphertext,
                 status = 'active', groups_claim = excluded.groups_claim,
                 group_roles = excluded.group_roles, updated_at = now()
         RETURNING id",
    )
    .bind(&found.issuer)
    .bind(&document)
    .bind(&config.client_id)
    .bind(&sealed)
    .bind(&config.role_claim)
    .bind(serde_json::Value::Object(roles.clone()))
    .fetch_one(&mut *tx)
    .await?;
    let now = (
        found.issuer.clone(),
        Some(config.client_id.clone()),
        serde_json::Value::Object(roles),
    );
    if before.as_ref() != Some(&now) {
        append_audit_entry(
            &mut tx,
            &RequestContext::default(),
            AuditEntry::new("sso.platform.configured")
                .actor(ActorType::System, None)
                .resource(format!("sso_connection:{id}"))
                .meta("issuer", found.issuer.clone())
                .meta("client_id", config.client_id.clone())
                .meta("group_roles", now.2.clone()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The platform's active connection, if the deployment configured one.
pub async fn platform_connection(pool: &PgPool) -> Result<Option<Uuid>, DomainError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM sso_connections WHERE tenant_id IS NULL AND status = 'active'",
    )
    .fetch_optional(pool)
    .await?)
}
