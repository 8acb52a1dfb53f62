//! Email domains a tenant owns (FR-AUTH-003, SPEC §3). Ownership is proven by a DNS TXT
//! record at `_gatehouse-challenge.<domain>` holding the claim's token, or an operator
//! vouches for it. Consumer mail domains cannot be claimed, a domain belongs to at most one
//! tenant once verified, and a pending claim expires after 30 days. Only a verified domain
//! routes sign-ins to the tenant's provider and allows linking or just-in-time accounts.

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::permissions::{Actor, Permission};
use crate::types::EmailDomain;
use crate::DomainError;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{txt_records, DnsFailure, SsoContext};

/// How long a claim waits for its record.
pub const PENDING_DAYS: i64 = 30;

/// The TXT record's value prefix: `gatehouse-domain-verification=<token>`.
pub const TXT_PREFIX: &str = "gatehouse-domain-verification=";

/// Mail providers whose addresses anyone can get: claiming them would route strangers.
const CONSUMER_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.co.jp",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "126.com",
    "zoho.com",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
    "tuta.io",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "softbank.ne.jp",
    "naver.com",
    "orange.fr",
    "free.fr",
    "t-online.de",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainState {
    Pending,
    Verified,
    Expired,
}

impl DomainState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DomainClaim {
    pub domain: String,
    pub state: DomainState,
    /// The DNS name to create the record at.
    pub record_name: String,
    /// The TXT value that proves ownership.
    pub record_value: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub verified_at: Option<OffsetDateTime>,
    pub verified_method: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_checked_at: Option<OffsetDateTime>,
    pub last_check_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    email_domain: String,
    verification_token: String,
    verified_at: Option<OffsetDateTime>,
    verified_method: Option<String>,
    created_at: OffsetDateTime,
    last_checked_at: Option<OffsetDateTime>,
    last_check_error: Option<String>,
}

impl From<ClaimRow> for DomainClaim {
    fn from(r: ClaimRow) -> Self {
        let state = if r.verified_at.is_some() {
            DomainState::Verified
        } else if r.created_at + time::Duration::days(PENDING_DAYS) < OffsetDateTime::now_utc() {
            DomainState::Expired
        } else {
            DomainState::Pending
        };
        DomainClaim {
            record_name: format!("_gatehouse-challenge.{}", r.email_domain),
            record_value: format!("{TXT_PREFIX}{}", r.verification_token),
            domain: r.email_domain,
            state,
            created_at: r.created_at,
            verified_at: r.verified_at,
            verified_method: r.verified_method,
            last_checked_at: r.last_checked_at,
            last_check_error: r.last_check_error,
        }
    }
}

const CLAIM_COLUMNS: &str = "email_domain, verification_token, verified_at, verified_method, created_at, last_checked_at, last_check_error";

/// An owner of `tenant_id`, or an operator (who may act for any tenant).
pub(crate) fn require_sso_admin(actor: &Actor, tenant_id: Uuid) -> Result<(), DomainError> {
    if actor.tenant_id.is_none() {
        actor.require(Permission::TenantsProvision)
    } else {
        actor.require_in_tenant(Permission::TenantManageSso, tenant_id, "tenant")
    }
}

/// The tenant's claimed domains, verified first.
pub async fn list_domains(
    pool: &PgPool,
    actor: &Actor,
    tenant_id: Uuid,
) -> Result<Vec<DomainClaim>, DomainError> {
    require_sso_admin(actor, tenant_id).or_else(|e| {
        if actor.tenant_id.is_none() {
            actor.require(Permission::TenantsReadAll)
        } else {
            Err(e)
        }
    })?;
    let rows: Vec<ClaimRow> = sqlx::query_as(&format!(
        "SELECT {CLAIM_COLUMNS} FROM tenant_email_domains WHERE tenant_id = $1
         ORDER BY verified_at IS NULL, email_domain"
    ))
    .bind(tenant_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(DomainClaim::from).collect())
}

/// Claims `domain` for the tenant. Claiming it again renews an expired claim's token.
pub async fn claim_domain(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    tenant_id: Uuid,
    domain: &str,
) -> Result<Done<DomainClaim>, DomainError> {
    require_sso_admin(actor, tenant_id)?;
    let domain = EmailDomain::parse(domain)?;
    if CONSUMER_DOMAINS.contains(&domain.as_str()) {
        return Err(DomainError::validation(
            "domain",
            format!("{domain} is a public mail provider; only a domain your organisation owns can be claimed"),
        ));
    }
    commit(pool, Effects::NONE, async |conn| {
        let taken: Option<Uuid> = sqlx::query_scalar(
            "SELECT tenant_id FROM tenant_email_domains
             WHERE email_domain = $1 AND verified_at IS NOT NULL",
        )
        .bind(domain.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(owner) = taken {
            return Err(DomainError::Conflict {
                message: if owner == tenant_id {
                    format!("{domain} is already verified for this organisation")
                } else {
                    format!("{domain} is verified by another organisation")
                },
                field: Some("domain".into()),
            });
        }
        let row: ClaimRow = sqlx::query_as(&format!(
            "INSERT INTO tenant_email_domains (tenant_id, email_domain, verification_token)
             VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, email_domain) DO UPDATE
                 SET verification_token = CASE
                         WHEN tenant_email_domains.created_at < now() - interval '{PENDING_DAYS} days'
                         THEN excluded.verification_token
                         ELSE tenant_email_domains.verification_token END,
                     created_at = CASE
                         WHEN tenant_email_domains.created_at < now() - interval '{PENDING_DAYS} days'
                         THEN now() ELSE tenant_email_domains.created_at END
             RETURNING {CLAIM_COLUMNS}"
        ))
        .bind(tenant_id)
        .bind(domain.as_str())
        .bind(crate::random_token())
        .fetch_one(&mut *conn)
        .await?;
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("sso.domain.claimed")
                .tenant(Some(tenant_id))
                .by(Some(actor))
                .resource(format!("domain:{domain}")),
        )
        .await?;
        Ok(DomainClaim::from(row))
    })
    .await
}

async fn load_claim(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    domain: &EmailDomain,
) -> Result<DomainClaim, DomainError> {
    let row: Option<ClaimRow> = sqlx::query_as(&format!(
        "SELECT {CLAIM_COLUMNS} FROM tenant_email_domains WHERE tenant_id = $1 AND email_domain = $2 FOR UPDATE"
    ))
    .bind(tenant_id)
    .bind(domain.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(DomainClaim::from)
        .ok_or(DomainError::NotFound("domain"))
}

/// Marks a claim verified inside `conn`, audited; refused when another tenant holds it.
async fn mark_verified(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: &Actor,
    tenant_id: Uuid,
    domain: &EmailDomain,
    method: &str,
) -> Result<(), DomainError> {
    let taken: Option<Uuid> = sqlx::query_scalar(
        "SELECT tenant_id FROM tenant_email_domains
         WHERE email_domain = $1 AND verified_at IS NOT NULL AND tenant_id <> $2",
    )
    .bind(domain.as_str())
    .bind(tenant_id)
    .fetch_optional(&mut *conn)
    .await?;
    if taken.is_some() {
        return Err(DomainError::Conflict {
            message: format!("{domain} is verified by another organisation"),
            field: Some("domain".into()),
        });
    }
    sqlx::query(
        "UPDATE tenant_email_domains
         SET verified_at = now(), verified_method = $3, last_checked_at = now(), last_check_error = NULL
         WHERE tenant_id = $1 AND email_domain = $2",
    )
    .bind(tenant_id)
    .bind(domain.as_str())
    .bind(method)
    .execute(&mut *conn)
    .await?;
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("sso.domain.verified")
            .tenant(Some(tenant_id))
            .by(Some(actor))
            .resource(format!("domain:{domain}"))
            .meta("method", method),
    )
    .await?;
    Ok(())
}

/// Looks the claim's TXT record up and, when it holds the token, marks the domain
/// verified. A failed check is kept on the claim (shown to the owner) and audited.
pub async fn verify_domain(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    sso: &SsoContext,
    tenant_id: Uuid,
    domain: &str,
) -> Result<Done<DomainClaim>, DomainError> {
    require_sso_admin(actor, tenant_id)?;
    let domain = EmailDomain::parse(domain)?;
    let claim = {
        let mut conn = pool.acquire().await?;
        load_claim(&mut conn, tenant_id, &domain).await?
    };
    if claim.state == DomainState::Verified {
        return Ok(Done::new(claim));
    }
    if claim.state == DomainState::Expired {
        return Err(DomainError::validation(
            "domain",
            format!("the claim on {domain} expired after {PENDING_DAYS} days; claim it again for a new record"),
        ));
    }
    // The lookup happens outside any transaction: DNS may take seconds.
    let looked = txt_records(&sso.dns, &claim.record_name).await;
    let problem = match &looked {
        Ok(values) if values.iter().any(|v| v.trim() == claim.record_value) => None,
        Ok(values) if values.is_empty() => Some(format!("no TXT record at {}", claim.record_name)),
        Ok(_) => Some(format!(
            "the TXT records at {} do not include {}",
            claim.record_name, claim.record_value
        )),
        Err(DnsFailure::NoRecord) => Some(format!("no TXT record at {}", claim.record_name)),
        Err(DnsFailure::Failed(why)) => Some(format!("the DNS lookup failed: {why}")),
    };
    commit(pool, Effects::NONE, async |conn| {
        load_claim(conn, tenant_id, &domain).await?;
        match &problem {
            None => mark_verified(conn, ctx, actor, tenant_id, &domain, "dns").await?,
            Some(why) => {
                sqlx::query(
                    "UPDATE tenant_email_domains SET last_checked_at = now(), last_check_error = $3
                     WHERE tenant_id = $1 AND email_domain = $2",
                )
                .bind(tenant_id)
                .bind(domain.as_str())
                .bind(why)
                .execute(&mut *conn)
                .await?;
                append_audit_entry(
                    conn,
                    ctx,
                    AuditEntry::new("sso.domain.verification_failed")
                        .failure()
                        .tenant(Some(tenant_id))
                        .by(Some(actor))
                        .resource(format!("domain:{domain}"))
                        .meta("reason", why.as_str()),
                )
                .await?;
            }
        }
        load_claim(conn, tenant_id, &domain).await
    })
    .await
}

/// An operator vouches for a tenant's domain (verified out of band), audited.
pub async fn operator_verify_domain(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    tenant_id: Uuid,
    domain: &str,
) -> Result<Done<DomainClaim>, DomainError> {
    actor.require(Permission::TenantsProvision)?;
    if actor.tenant_id.is_some() {
        return Err(DomainError::PermissionDenied(
            "only an operator can vouch for a domain".into(),
        ));
    }
    let domain = EmailDomain::parse(domain)?;
    commit(pool, Effects::NONE, async |conn| {
        load_claim(conn, tenant_id, &domain).await?;
        mark_verified(conn, ctx, actor, tenant_id, &domain, "operator").await?;
        load_claim(conn, tenant_id, &domain).await
    })
    .await
}

/// Removes a claim (verified or not), audited. Sign-ins from it stop routing to SSO.
pub async fn remove_domain(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    tenant_id: Uuid,
    domain: &str,
) -> Result<Done<()>, DomainError> {
    require_sso_admin(actor, tenant_id)?;
    let domain = EmailDomain::parse(domain)?;
    commit(pool, Effects::NONE, async |conn| {
        let claim = load_claim(conn, tenant_id, &domain).await?;
        sqlx::query("DELETE FROM tenant_email_domains WHERE tenant_id = $1 AND email_domain = $2")
            .bind(tenant_id)
            .bind(domain.as_str())
            .execute(&mut *conn)
            .await?;
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("sso.domain.removed")
                .tenant(Some(tenant_id))
                .by(Some(actor))
                .resource(format!("domain:{domain}"))
                .meta("was_verified", claim.state == DomainState::Verified),
        )
        .await?;
        Ok(())
    })
    .await
}

/// Whether `domain` is verified by `tenant_id` (linking and JIT need it).
pub(crate) async fn domain_verified(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    domain: &str,
) -> Result<bool, DomainError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tenant_email_domains
                        WHERE tenant_id = $1 AND email_domain = $2 AND verified_at IS NOT NULL)",
    )
    .bind(tenant_id)
    .bind(domain)
    .fetch_one(&mut *conn)
    .await?)
}

/// Where a sign-in goes when it can go through SSO.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SsoRoute {
    pub connection_id: Uuid,
    pub tenant_id: Uuid,
    pub tenant_name: String,
    pub tenant_domain: String,
    /// Password and passkey sign-in are off for the tenant's people (owners excepted).
    pub enforced: bool,
}

const ROUTE_SELECT: &str = "SELECT c.id AS connection_id, t.id AS tenant_id, t.name AS tenant_name,
        t.domain AS tenant_domain, t.sso_enforced AS enforced
 FROM sso_connections c JOIN tenants t ON t.id = c.tenant_id
 WHERE c.status = 'active' AND t.status = 'active'";

#[derive(sqlx::FromRow)]
struct RouteRow {
    connection_id: Uuid,
    tenant_id: Uuid,
    tenant_name: String,
    tenant_domain: String,
    enforced: bool,
}

impl From<RouteRow> for SsoRoute {
    fn from(r: RouteRow) -> Self {
        SsoRoute {
            connection_id: r.connection_id,
            tenant_id: r.tenant_id,
            tenant_name: r.tenant_name,
            tenant_domain: r.tenant_domain,
            enforced: r.enforced,
        }
    }
}

/// The active connection of an active tenant matching `filter` (on `$1`), if any.
async fn route(pool: &PgPool, filter: &str, value: &str) -> Result<Option<SsoRoute>, DomainError> {
    let row: Option<RouteRow> = sqlx::query_as(&format!("{ROUTE_SELECT} AND {filter}"))
        .bind(value)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(SsoRoute::from))
}

/// The active connection an email address's verified domain routes to, if any.
pub async fn route_email(
    pool: &PgPool,
    email: &crate::types::Email,
) -> Result<Option<SsoRoute>, DomainError> {
    route(
        pool,
        "EXISTS (SELECT 1 FROM tenant_email_domains d
                 WHERE d.tenant_id = t.id AND d.email_domain = $1 AND d.verified_at IS NOT NULL)",
        &email.domain(),
    )
    .await
}

/// The active connection of the tenant named by a login hint (`/t/{domain}/login`).
pub async fn route_tenant(
    pool: &PgPool,
    tenant_domain: &str,
) -> Result<Option<SsoRoute>, DomainError> {
    route(pool, "t.domain = $1", tenant_domain).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_domains_are_lowercase_names() {
        for d in CONSUMER_DOMAINS {
            assert_eq!(
                EmailDomain::parse(d)
                    .map(|e| e.into_inner())
                    .ok()
                    .as_deref(),
                Some(*d)
            );
        }
    }
}
