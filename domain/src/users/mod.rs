//! Users (DAT-USER): tenant users and platform users (operators, auditors).

mod account;
mod admin;
mod email_change;
mod erasure;
mod export;
mod invitations;
pub use account::*;
pub use admin::*;
pub use email_change::*;
pub use erasure::*;
pub use export::*;
pub use invitations::*;

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::error::unique_violation;
use crate::passwords::hash_password;
use crate::permissions::{Actor, Permission};
use crate::types::{DisplayName, Email, Role, UserStatus};
use crate::DomainError;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub status: UserStatus,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    /// `None` for platform users.
    pub tenant_id: Option<Uuid>,
    pub email: Email,
    pub name: Option<DisplayName>,
    pub role: Role,
    pub status: UserStatus,
    pub password: Option<SecretString>,
}

/// Creates a user inside the caller's transaction. Tenant roles need a tenant and platform
/// roles none; a second live account with the same address in the tenant is a conflict.
pub async fn create_user(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    new: NewUser,
) -> Result<Done<User>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
        create_user_in(conn, ctx, actor, new).await
    })
    .await
}

/// [`create_user`] inside the caller's transaction.
pub(crate) async fn create_user_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    new: NewUser,
) -> Result<User, DomainError> {
    if new.role.is_platform() != new.tenant_id.is_none() {
        return Err(DomainError::validation(
            "role",
            "operators and auditors are platform users; tenant users are owner, admin or user",
        ));
    }
    if let Some(actor) = actor {
        match new.tenant_id {
            Some(tenant) => {
                actor.require_in_tenant(Permission::UsersInvite, tenant, "tenant")?;
                actor.may_manage_user(Role::User, Some(new.role))?;
            }
            None => {
                return Err(DomainError::PermissionDenied(
                    "platform users are created with the gatehouse CLI".into(),
                ))
            }
        }
    }
    // CON-SEC-001: the tenant's password policy (the default for platform users) applies
    // to a password chosen at creation too, and is checked before the costly hashing.
    if let Some(pw) = &new.password {
        let (policy, inputs) = crate::passwords::policy_for_new_user(
            conn,
            new.tenant_id,
            new.email.as_str(),
            new.name.as_ref().map(DisplayName::as_str),
        )
        .await?;
        crate::passwords::check_new_password_off_runtime(policy, pw.clone(), inputs).await?;
    }
    let password_hash = match &new.password {
        Some(pw) => Some(hash_password(pw).await?),
        None => None,
    };
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, name, role, status, password_hash, archived_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $6 = 'archived' THEN now() END)",
    )
    .bind(id)
    .bind(new.tenant_id)
    .bind(new.email.as_str())
    .bind(new.name.as_ref().map(DisplayName::as_str))
    .bind(new.role.as_str())
    .bind(new.status.as_str())
    .bind(&password_hash)
    .execute(&mut *conn)
    .await
    .map_err(|e| match unique_violation(&e) {
        Some("users_tenant_email_key") => {
            DomainError::conflict("email", "an account with this email address already exists")
        }
        _ => e.into(),
    })?;
    if let Some(hash) = &password_hash {
        sqlx::query("INSERT INTO password_history (user_id, password_hash) VALUES ($1, $2)")
            .bind(id)
            .bind(hash)
            .execute(&mut *conn)
            .await?;
    }
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("user.create")
            .tenant(new.tenant_id)
            .by(actor)
            .resource(format!("user:{id}"))
            .meta("email", new.email.as_str())
            .meta("role", new.role.as_str())
            .meta("status", new.status.as_str()),
    )
    .await?;
    Ok(User {
        id,
        tenant_id: new.tenant_id,
        email: new.email.into_inner(),
        name: new.name.map(DisplayName::into_inner),
        role: new.role,
        status: new.status,
    })
}

/// Looks up a live (not archived) account by tenant and address, case-insensitively.
pub async fn find_user_by_email(
    conn: &mut PgConnection,
    tenant_id: Option<Uuid>,
    email: &Email,
) -> Result<Option<User>, DomainError> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, tenant_id, email, name, role, status FROM users
         WHERE tenant_id IS NOT DISTINCT FROM $1 AND lower(email) = lower($2) AND status <> 'archived'",
    )
    .bind(tenant_id)
    .bind(email.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(User::try_from).transpose()
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    tenant_id: Option<Uuid>,
    email: String,
    name: Option<String>,
    role: String,
    status: String,
}

impl TryFrom<UserRow> for User {
    type Error = DomainError;

    fn try_from(r: UserRow) -> Result<Self, Self::Error> {
        Ok(User {
            id: r.id,
            tenant_id: r.tenant_id,
            email: r.email,
            name: r.name,
            role: Role::parse(&r.role)?,
            status: UserStatus::parse(&r.status)?,
        })
    }
}

/// Why an account whose password or passkey was right still cannot sign in. Typed, so a
/// door never recovers the reason from a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    InvitationPending,
    UserDisabled,
    /// Deleted: answered as a failed proof, the account no longer exists for sign-in.
    UserArchived,
    TenantSuspended,
    /// The organisation signs in through its own identity provider (owners excepted).
    SsoEnforced,
    /// Platform staff sign in through the vendor's identity provider.
    PlatformSso,
}

impl SignInRefusal {
    /// The refusal for an account's status and its tenant's, if any.
    pub fn of(user: UserStatus, tenant: Option<crate::types::TenantStatus>) -> Option<Self> {
        match (user, tenant) {
            (UserStatus::Invited, _) => Some(Self::InvitationPending),
            (UserStatus::Disabled, _) => Some(Self::UserDisabled),
            (UserStatus::Archived, _) => Some(Self::UserArchived),
            (UserStatus::Active, Some(crate::types::TenantStatus::Suspended)) => {
                Some(Self::TenantSuspended)
            }
            (UserStatus::Active, _) => None,
        }
    }

    /// The stable code: the audit entry's `reason`, the sign-in page's `?error=`.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvitationPending => "invitation_pending",
            Self::UserDisabled => "user_disabled",
            Self::UserArchived => "user_archived",
            Self::TenantSuspended => "tenant_suspended",
            Self::SsoEnforced => "sso_enforced",
            Self::PlatformSso => "platform_sso",
        }
    }

    /// What the person is told; `None` for an archived account, which is answered as a
    /// failed proof.
    pub fn message(self) -> Option<&'static str> {
        match self {
            Self::InvitationPending => {
                Some("accept your invitation first; use the link in the invitation email")
            }
            Self::UserDisabled => {
                Some("this account is disabled; ask an administrator of your organisation")
            }
            Self::UserArchived => None,
            Self::TenantSuspended => {
                Some("your organisation's access is suspended; contact the service provider")
            }
            Self::PlatformSso => Some(
                "platform staff sign in through the vendor's identity provider; use single sign-on",
            ),
            Self::SsoEnforced => Some(
                "your organisation signs in through its own identity provider; use single sign-on",
            ),
        }
    }
}
