//! Tenants (DAT-TENANT). Provisioning here is the core used by the CLI and demo data; the
//! Operator Console issue adds the lifecycle around it (UC-PROV-001, FR-OPS-001).

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::error::unique_violation;
use crate::permissions::{Actor, Permission};
use crate::types::{DisplayName, Plan, TenantDomain, TenantStatus};
use crate::DomainError;
use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub domain: String,
    pub plan: Plan,
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

/// The audit actor for an operation started by `actor`, or by the system (CLI, demo).
pub(crate) fn audit_actor(actor: Option<&Actor>) -> (ActorType, Option<Uuid>) {
    match actor {
        Some(a) if a.role.is_platform() => (ActorType::Operator, Some(a.user_id)),
        Some(a) => (ActorType::User, Some(a.user_id)),
        None => (ActorType::System, None),
    }
}

/// Creates a tenant inside the caller's transaction. `actor` is `None` for the system.
pub async fn provision_tenant(
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
    let (actor_type, actor_id) = audit_actor(actor);
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("tenant.create")
            .tenant(Some(id))
            .actor(actor_type, actor_id)
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
