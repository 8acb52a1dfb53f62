//! OAuth clients as the token service sees them: an active key of an active application
//! (its `client_id` is the key's id), with the scopes and grant types a key may carry
//! (FR-SYS-002, SPEC §5). Applications are managed in `apps`; this is the read side the
//! token endpoints need, below `apps` in the layer order.

use crate::{token_hash, DomainError};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// FR-SYS-002: the scopes a key may carry.
pub const SCOPES: &[&str] = &[
    "flag:read",
    "bill:write",
    "bill:read",
    "log:write",
    "log:read",
    "users:read",
    "users:write",
    "tenants:read",
    "tenants:write",
    "apps:read",
    "apps:write",
    "webhooks:read",
    "webhooks:write",
    "admin",
    "openid",
    "profile",
    "email",
    "offline_access",
];
pub const GRANT_TYPES: &[&str] = &["authorization_code", "client_credentials", "refresh_token"];

/// An OAuth client as the token service sees it: an active key of an active application.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub application_id: Uuid,
    pub application_name: String,
    pub secret_hash: Vec<u8>,
    pub scopes: Vec<String>,
    /// The tenant the key is bound to.
    pub key_tenant_id: Option<Uuid>,
    /// The tenants the application may act for (id, domain).
    pub tenants: Vec<(Uuid, String)>,
    /// Acts for every tenant (and platform users); otherwise only for `tenants`.
    pub all_tenants: bool,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub expires_at: Option<OffsetDateTime>,
}

impl Client {
    /// Compares the SHA-256 of the presented secret in constant time.
    pub fn secret_matches(&self, secret: &str) -> bool {
        let presented = token_hash(secret);
        presented.len() == self.secret_hash.len()
            && presented
                .iter()
                .zip(&self.secret_hash)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Whether the application acts for `tenant` (`None`: a platform user or a
    /// tenantless token), as its tenant settings say now.
    pub fn admits_tenant(&self, tenant: Option<Uuid>) -> bool {
        self.all_tenants || tenant.is_some_and(|t| self.tenants.iter().any(|(id, _)| *id == t))
    }

    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }

    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    application_id: Uuid,
    name: String,
    secret_hash: Vec<u8>,
    scopes: Vec<String>,
    tenant_id: Option<Uuid>,
    tenant_ids: Vec<Uuid>,
    tenant_domains: Vec<String>,
    all_tenants: bool,
    grant_types: Vec<String>,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    expires_at: Option<OffsetDateTime>,
}

/// The client behind a client_id when its key is live and its application active.
/// The application of `client_id` when it is disabled (a refused key's owner, for the
/// anomaly detectors; NFR-MON-001). The id is what the caller claimed: anything else is `None`.
pub async fn disabled_application_of(
    pool: &PgPool,
    client_id: &str,
) -> Result<Option<Uuid>, DomainError> {
    Ok(sqlx::query_scalar(
        "SELECT a.id FROM api_keys k JOIN applications a ON a.id = k.application_id
          WHERE k.id = $1 AND a.status = 'disabled'",
    )
    .bind(client_id)
    .fetch_optional(pool)
    .await?)
}

pub async fn load_client(pool: &PgPool, client_id: &str) -> Result<Option<Client>, DomainError> {
    let row: Option<ClientRow> = sqlx::query_as(
        "SELECT k.id, k.application_id, a.name, k.secret_hash, k.scopes, k.tenant_id,
                coalesce(array_agg(t.id ORDER BY t.domain) FILTER (WHERE t.id IS NOT NULL), '{}') AS tenant_ids,
                coalesce(array_agg(t.domain ORDER BY t.domain) FILTER (WHERE t.id IS NOT NULL), '{}') AS tenant_domains,
                a.all_tenants, a.grant_types, a.redirect_uris, a.post_logout_redirect_uris, k.expires_at
           FROM api_keys k
           JOIN applications a ON a.id = k.application_id AND a.status = 'active'
           LEFT JOIN application_tenants at ON at.application_id = a.id
           LEFT JOIN tenants t ON t.id = at.tenant_id
          WHERE k.id = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
          GROUP BY k.id, a.id",
    )
    .bind(client_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Client {
        client_id: r.id,
        application_id: r.application_id,
        application_name: r.name,
        secret_hash: r.secret_hash,
        scopes: r.scopes,
        key_tenant_id: r.tenant_id,
        tenants: r.tenant_ids.into_iter().zip(r.tenant_domains).collect(),
        all_tenants: r.all_tenants,
        grant_types: r.grant_types,
        redirect_uris: r.redirect_uris,
        post_logout_redirect_uris: r.post_logout_redirect_uris,
        expires_at: r.expires_at,
    }))
}

/// Records that keys were used (batched by the server, at most once a minute per key).
pub async fn touch_keys(pool: &PgPool, client_ids: &[String]) -> Result<(), DomainError> {
    sqlx::query("UPDATE api_keys SET last_used_at = now() WHERE id = ANY($1)")
        .bind(client_ids)
        .execute(pool)
        .await?;
    Ok(())
}
