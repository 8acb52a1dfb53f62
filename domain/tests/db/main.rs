//! Domain operations against a real PostgreSQL: every test gets its own fresh database
//! with the migrations applied (`#[sqlx::test]`, DATABASE_URL from the test command).

use gatehouse_domain::audit::{
    append_audit_entry, verify_audit_chain, ActorType, AuditEntry, RequestContext,
};
use gatehouse_domain::crypto::MasterKeys;
use gatehouse_domain::permissions::Actor;
use gatehouse_domain::sessions::{create_session, IssuedSession, NewSession};
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
mod maintenance;
mod mfa;
mod oauth;
mod passwords;
mod security;
mod sessions;
mod sso;
mod tenants;
mod users;
mod webhooks;

async fn tenant(pool: &PgPool, domain: &str) -> Tenant {
    provision_tenant(
        pool,
        &RequestContext::default(),
        None,
        NewTenant {
            name: DisplayName::parse(&format!("Tenant {domain}")).unwrap(),
            domain: TenantDomain::parse(domain).unwrap(),
            plan: Plan::Pro,
        },
    )
    .await
    .unwrap()
    .value
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
    create_user(pool, &RequestContext::default(), actor, new)
        .await
        .map(|done| done.value)
}

/// A password (or any secret) from a literal.
fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// An active person of `tenant_id` (or the platform) without a password.
async fn member(pool: &PgPool, tenant_id: Option<Uuid>, email: &str, role: Role) -> User {
    user(pool, None, new_user(tenant_id, email, role))
        .await
        .unwrap()
}

fn actor_of(u: &User) -> Actor {
    Actor {
        user_id: u.id,
        tenant_id: u.tenant_id,
        role: u.role,
    }
}

/// A committed, MFA-verified password session of `user_id`.
async fn session_for(pool: &PgPool, user_id: Uuid) -> IssuedSession {
    let mut tx = pool.begin().await.unwrap();
    let session = create_session(
        &mut tx,
        NewSession {
            user_id,
            ip: None,
            user_agent: None,
            auth_methods: vec!["pwd".into()],
            mfa_verified: true,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    session
}

/// Sets a user's `status` in the database directly, behind the domain's back.
async fn set_user_status(pool: &PgPool, user_id: Uuid, status: &str) {
    sqlx::query("UPDATE users SET status = $2 WHERE id = $1")
        .bind(user_id)
        .bind(status)
        .execute(pool)
        .await
        .unwrap();
}

/// Marks a tenant suspended in the database directly, behind the domain's back.
async fn mark_suspended(pool: &PgPool, tenant_id: Uuid) {
    sqlx::query("UPDATE tenants SET status = 'suspended', suspended_at = now() WHERE id = $1")
        .bind(tenant_id)
        .execute(pool)
        .await
        .unwrap();
}

/// The `reason` in the metadata of every `action` entry, oldest first.
async fn audit_reasons(pool: &PgPool, action: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT metadata->>'reason' FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn audit_count(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}
