//! Tenants (DAT-TENANT). Provisioning here is the core used by the CLI and demo data; the
//! Operator Console issue adds the lifecycle around it (UC-PROV-001, FR-OPS-001).

mod alerts;
mod maintenance;
mod overview;
mod settings;
pub use alerts::*;
pub use maintenance::*;
pub use overview::*;
pub use settings::*;

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::error::unique_violation;
use crate::permissions::{Actor, Permission};
use crate::types::{DisplayName, Plan, TenantDomain, TenantStatus};
use crate::DomainError;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// A tenant: one customer organisation, with its people, settings and plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tenant {
    pub id: Uuid,
    /// The display name.
    #[schema(max_length = 200)]
    pub name: String,
    /// The tenant's unique slug.
    #[schema(value_type = TenantDomain)]
    pub domain: String,
    pub plan: Plan,
    /// `suspended`: nobody of the tenant signs in, and its tokens are refused.
    pub status: TenantStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewTenant {
    pub name: DisplayName,
    pub domain: TenantDomain,
    pub plan: Plan,
}

/// Creates a tenant inside the caller's transaction. `actor` is `None` for the system.
pub async fn provision_tenant(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    new: NewTenant,
) -> Result<Done<Tenant>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
        provision_tenant_in(conn, ctx, actor, new).await
    })
    .await
}

/// [`provision_tenant`] inside the caller's transaction.
pub(crate) async fn provision_tenant_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    new: NewTenant,
) -> Result<Tenant, DomainError> {
    if let Some(actor) = actor {
        actor.require(Permission::TenantsProvision)?;
    }
    let id = Uuid::now_v7();
    let created_at: OffsetDateTime = sqlx::query_scalar(
        "INSERT INTO tenants (id, name, domain, plan) VALUES ($1, $2, $3, $4) RETURNING created_at",
    )
    .bind(id)
    .bind(new.name.as_str())
    .bind(new.domain.as_str())
    .bind(new.plan.as_str())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match unique_violation(&e) {
        Some("tenants_domain_key") => DomainError::conflict(
            "domain",
            format!("the domain '{}' is already taken", new.domain),
        ),
        _ => e.into(),
    })?;
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("tenant.create")
            .tenant(Some(id))
            .by(actor)
            .resource(format!("tenant:{id}"))
            .meta("name", new.name.as_str())
            .meta("domain", new.domain.as_str())
            .meta("plan", new.plan.as_str()),
    )
    .await?;
    Ok(Tenant {
        id,
        name: new.name.into_inner(),
        domain: new.domain.into_inner(),
        plan: new.plan,
        status: TenantStatus::Active,
        created_at,
    })
}

pub async fn find_tenant_by_domain(
    conn: &mut PgConnection,
    domain: &TenantDomain,
) -> Result<Option<Tenant>, DomainError> {
    let row: Option<TenantRow> = sqlx::query_as(
        "SELECT id, name, domain, plan, status, created_at FROM tenants WHERE domain = $1",
    )
    .bind(domain.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Tenant::try_from).transpose()
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: Uuid,
    name: String,
    domain: String,
    plan: String,
    status: String,
    created_at: OffsetDateTime,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = DomainError;

    fn try_from(r: TenantRow) -> Result<Self, Self::Error> {
        Ok(Tenant {
            id: r.id,
            name: r.name,
            domain: r.domain,
            plan: Plan::parse(&r.plan)?,
            status: TenantStatus::parse(&r.status)?,
            created_at: r.created_at,
        })
    }
}

/// UC-TENANT-SUSPEND, FR-OPS-001: suspends a tenant with every effect of SPEC §2 at once,
/// in one transaction: logins refused (status), sessions revoked, refresh tokens revoked,
/// access tokens refused from the next request (token cutoff + NOTIFY). Suspending a
/// suspended tenant changes nothing. Returns the tenant.
pub async fn suspend_tenant(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    tenant_id: Uuid,
    reason: Option<&str>,
) -> Result<Done<Tenant>, DomainError> {
    commit(
        pool,
        Effects::TOKENS.and(Effects::tenant_flags(tenant_id)),
        async |conn| suspend_tenant_in(conn, ctx, actor, tenant_id, reason).await,
    )
    .await
}

/// [`suspend_tenant`] inside the caller's transaction.
pub(crate) async fn suspend_tenant_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    tenant_id: Uuid,
    reason: Option<&str>,
) -> Result<Tenant, DomainError> {
    if let Some(actor) = actor {
        actor.require(Permission::TenantsProvision)?;
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(DomainError::validation("reason", "at most 500 characters"));
    }
    let changed = sqlx::query(
        "UPDATE tenants SET status = 'suspended', suspended_at = now(), updated_at = now()
          WHERE id = $1 AND status = 'active'",
    )
    .bind(tenant_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let tenant = tenant_by_id(conn, tenant_id).await?;
    if changed == 0 {
        return Ok(tenant);
    }
    crate::flags::notify_tenant(conn, tenant_id).await?;
    let sessions = crate::sessions::revoke_tenant_sessions(
        conn,
        ctx,
        crate::sessions::Revoker::of(actor),
        tenant_id,
        crate::sessions::RevokeReason::TenantSuspended,
    )
    .await?;
    // Revoking the tenant's sessions also ends its tokens (refresh tokens revoked, access
    // tokens cut off), even when no session was live.
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("tenant.suspend")
            .tenant(Some(tenant_id))
            .by(actor)
            .resource(format!("tenant:{tenant_id}"))
            .meta("reason", reason)
            .meta("sessions_revoked", sessions),
    )
    .await?;
    Ok(tenant)
}

/// Reactivates a suspended tenant: login works again (revoked sessions stay revoked).
pub async fn reactivate_tenant(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    tenant_id: Uuid,
) -> Result<Done<Tenant>, DomainError> {
    commit(
        pool,
        Effects::TOKENS.and(Effects::tenant_flags(tenant_id)),
        async |conn| reactivate_tenant_in(conn, ctx, actor, tenant_id).await,
    )
    .await
}

/// [`reactivate_tenant`] inside the caller's transaction.
pub(crate) async fn reactivate_tenant_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    tenant_id: Uuid,
) -> Result<Tenant, DomainError> {
    if let Some(actor) = actor {
        actor.require(Permission::TenantsProvision)?;
    }
    let changed = sqlx::query(
        "UPDATE tenants SET status = 'active', suspended_at = NULL, updated_at = now()
          WHERE id = $1 AND status = 'suspended'",
    )
    .bind(tenant_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let tenant = tenant_by_id(conn, tenant_id).await?;
    if changed > 0 {
        crate::oauth::notify_tenants_changed(conn).await?;
        crate::flags::notify_tenant(conn, tenant_id).await?;
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("tenant.reactivate")
                .tenant(Some(tenant_id))
                .by(actor)
                .resource(format!("tenant:{tenant_id}")),
        )
        .await?;
    }
    Ok(tenant)
}

async fn tenant_by_id(conn: &mut PgConnection, id: Uuid) -> Result<Tenant, DomainError> {
    let row: Option<TenantRow> = sqlx::query_as(
        "SELECT id, name, domain, plan, status, created_at FROM tenants WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Tenant::try_from)
        .transpose()?
        .ok_or(DomainError::NotFound("tenant"))
}

/// Changes a tenant's plan (operators: UC-PROV; owners: FR-TENANT-003, through the same
/// operation). Plan defaults apply from now on; overrides are untouched.
pub async fn change_plan(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    tenant_id: Uuid,
    plan: Plan,
) -> Result<Done<Tenant>, DomainError> {
    commit(pool, Effects::tenant_flags(tenant_id), async |conn| {
        if let Some(actor) = actor {
            actor
                .require_in_tenant(Permission::TenantManagePlan, tenant_id, "tenant")
                .or_else(|_| actor.require(Permission::TenantsProvision))?;
        }
        let old: Option<String> =
            sqlx::query_scalar("SELECT plan FROM tenants WHERE id = $1 FOR UPDATE")
                .bind(tenant_id)
                .fetch_optional(&mut *conn)
                .await?;
        let old = old.ok_or(DomainError::NotFound("tenant"))?;
        if old != plan.as_str() {
            sqlx::query("UPDATE tenants SET plan = $2, updated_at = now() WHERE id = $1")
                .bind(tenant_id)
                .bind(plan.as_str())
                .execute(&mut *conn)
                .await?;
            append_audit_entry(
                conn,
                ctx,
                AuditEntry::new("tenant.plan.change")
                    .tenant(Some(tenant_id))
                    .by(actor)
                    .resource(format!("tenant:{tenant_id}"))
                    .meta("old", old)
                    .meta("new", plan.as_str()),
            )
            .await?;
            crate::flags::notify_tenant(conn, tenant_id).await?;
        }
        tenant_by_id(conn, tenant_id).await
    })
    .await
}

/// One page of tenants for the Operator Console and `GET /api/v1/tenants`: newest first,
/// filtered by a search over name and domain, status and plan. The cursor is opaque.
#[derive(Debug, Clone, Default)]
pub struct TenantQuery {
    pub search: Option<String>,
    pub status: Option<TenantStatus>,
    pub plan: Option<Plan>,
    pub cursor: Option<String>,
    pub limit: i64,
}

/// A page of tenants, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TenantPage {
    pub data: Vec<Tenant>,
    /// The `cursor` of the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

pub async fn list_tenants(
    pool: &sqlx::PgPool,
    actor: Option<&Actor>,
    query: TenantQuery,
) -> Result<TenantPage, DomainError> {
    if let Some(actor) = actor {
        actor.require(Permission::TenantsReadAll)?;
    }
    let after = crate::cursor::page_start(query.limit, query.cursor.as_deref())?;
    let search = crate::contains_pattern(query.search.as_deref());
    let rows: Vec<TenantRow> = sqlx::query_as(
        "SELECT id, name, domain, plan, status, created_at FROM tenants
          WHERE ($1::text IS NULL OR lower(name) LIKE $1 OR domain LIKE $1)
            AND ($2::text IS NULL OR status = $2)
            AND ($3::text IS NULL OR plan = $3)
            AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5))
          ORDER BY created_at DESC, id DESC
          LIMIT $6",
    )
    .bind(search)
    .bind(query.status.map(TenantStatus::as_str))
    .bind(query.plan.map(Plan::as_str))
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(query.limit + 1)
    .fetch_all(pool)
    .await?;
    let mut data = rows
        .into_iter()
        .map(Tenant::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if data.len() as i64 > query.limit {
        data.truncate(query.limit as usize);
        data.last()
            .map(|last| crate::cursor::encode(last.created_at, last.id))
    } else {
        None
    };
    Ok(TenantPage { data, next_cursor })
}

pub async fn get_tenant(
    pool: &sqlx::PgPool,
    actor: Option<&Actor>,
    tenant_id: Uuid,
) -> Result<Tenant, DomainError> {
    if let Some(actor) = actor {
        actor
            .require_in_tenant(Permission::TenantRead, tenant_id, "tenant")
            .or_else(|_| actor.require(Permission::TenantsReadAll))?;
    }
    let mut conn = pool.acquire().await?;
    tenant_by_id(&mut conn, tenant_id).await
}

/// UC-PROV-001 input: the tenant, its owner and the applications to enable.
#[derive(Debug, Clone)]
pub struct Provisioning {
    pub name: DisplayName,
    pub domain: TenantDomain,
    pub plan: Plan,
    pub owner_email: crate::types::Email,
    pub applications: Vec<Uuid>,
}

impl Provisioning {
    /// The provisioning form or request as typed (`None` and blank alike mean "not given";
    /// the plan defaults to free): every field checked, every problem listed by field.
    pub fn parse(
        name: Option<&str>,
        domain: Option<&str>,
        plan: Option<&str>,
        owner_email: Option<&str>,
        applications: Vec<Uuid>,
    ) -> Result<Self, DomainError> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|s| !s.is_empty())
        }
        fn required<'a>(
            v: Option<&'a str>,
            field: &str,
            errors: &mut Vec<crate::FieldError>,
        ) -> Option<&'a str> {
            let v = given(v);
            if v.is_none() {
                errors.push(crate::FieldError::new(field, "is required"));
            }
            v
        }
        fn take(e: DomainError, errors: &mut Vec<crate::FieldError>) {
            if let DomainError::Validation(details) = e {
                errors.extend(details);
            }
        }
        let mut errors = Vec::new();
        let name = required(name, "name", &mut errors)
            .and_then(|n| DisplayName::parse(n).map_err(|e| take(e, &mut errors)).ok());
        let domain = required(domain, "domain", &mut errors).and_then(|d| {
            TenantDomain::parse(&d.to_ascii_lowercase())
                .map_err(|e| take(e, &mut errors))
                .ok()
        });
        let owner = required(owner_email, "owner_email", &mut errors).and_then(|e| {
            crate::types::Email::parse(e)
                .map_err(|_| {
                    errors.push(crate::FieldError::new(
                        "owner_email",
                        format!("'{e}' is not a valid email address"),
                    ))
                })
                .ok()
        });
        let plan = match given(plan) {
            None => Some(Plan::Free),
            Some(p) => Plan::parse(p).map_err(|e| take(e, &mut errors)).ok(),
        };
        match (name, domain, owner, plan) {
            (Some(name), Some(domain), Some(owner_email), Some(plan)) if errors.is_empty() => {
                Ok(Provisioning {
                    name,
                    domain,
                    plan,
                    owner_email,
                    applications,
                })
            }
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// UC-PROV-001: in one transaction (the caller's) the tenant, its owner as an invited user
/// with the invitation mail in the outbox, the applications enabled, and the audit entries.
/// The plan's flags are in effect at once (effective values read the plan's defaults).
pub async fn provision_with_owner(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    input: Provisioning,
    base_url: &str,
) -> Result<Done<Tenant>, DomainError> {
    commit(pool, Effects::TOKENS, async |conn| {
        let tenant = provision_tenant_in(
            conn,
            ctx,
            actor,
            NewTenant {
                name: input.name,
                domain: input.domain,
                plan: input.plan,
            },
        )
        .await?;
        // The owner is invited by whoever provisions the tenant (SPEC §2: operators may
        // manage any tenant's users), so the invitation's audit entry names them.
        crate::users::invite_user_in(
            conn,
            ctx,
            actor,
            crate::users::NewInvitation {
                tenant_id: tenant.id,
                email: input.owner_email,
                role: crate::types::Role::Owner,
                lifetime: crate::users::DEFAULT_LIFETIME,
            },
            base_url,
        )
        .await?;
        for (i, app) in input.applications.iter().enumerate() {
            let enabled = sqlx::query(
                "INSERT INTO application_tenants (application_id, tenant_id)
             SELECT id, $2 FROM applications WHERE id = $1 ON CONFLICT DO NOTHING",
            )
            .bind(app)
            .bind(tenant.id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if enabled == 0 {
                return Err(DomainError::validation(
                    format!("applications[{i}]"),
                    "no such application",
                ));
            }
        }
        if !input.applications.is_empty() {
            crate::oauth::notify_clients_changed(conn).await?;
        }
        Ok(tenant)
    })
    .await
}
