//! Domain operations against a real PostgreSQL: every test gets its own fresh database
//! with the migrations applied (`#[sqlx::test]`, DATABASE_URL from the test command).

use gatehouse_domain::audit::{
    append_audit_entry, verify_audit_chain, ActorType, AuditEntry, RequestContext,
};
use gatehouse_domain::crypto::MasterKeys;
use gatehouse_domain::permissions::Actor;
use gatehouse_domain::tenants::{provision_tenant, NewTenant, Tenant};
use gatehouse_domain::types::{
    DisplayName, Email, Plan, Role, TenantDomain, TenantStatus, UserStatus,
};
use gatehouse_domain::users::{create_user, NewUser, User};
use gatehouse_domain::DomainError;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use uuid::Uuid;

mod audit;
mod crypto;
mod email;
mod flags;
mod login;
mod mfa;
mod oauth;
mod passwords;
mod security;
mod sessions;
mod tenants;
mod users;

async fn tenant(pool: &PgPool, domain: &str) -> Tenant {
    let mut tx = pool.begin().await.unwrap();
    let t = provision_tenant(
        &mut tx,
        &RequestContext::default(),
        None,
        NewTenant {
            name: DisplayName::parse(&format!("Tenant {domain}")).unwrap(),
            domain: TenantDomain::parse(domain).unwrap(),
            plan: Plan::Pro,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    t
}

fn new_user(tenant_id: Option<Uuid>, email: &str, role: Role) -> NewUser {
    NewUser {
        tenant_id,
        email: Email::parse(email).unwrap(),
        name: None,
        role,
        status: UserStatus::Active,
        password: None,
    }
}

async fn user(pool: &PgPool, actor: Option<&Actor>, new: NewUser) -> Result<User, DomainError> {
    let mut tx = pool.begin().await.unwrap();
    let result = create_user(&mut tx, &RequestContext::default(), actor, new).await;
    if result.is_ok() {
        tx.commit().await.unwrap();
    }
    result
}

fn actor_of(u: &User) -> Actor {
    Actor {
        user_id: u.id,
        tenant_id: u.tenant_id,
        role: u.role,
    }
}

async fn audit_count(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}
