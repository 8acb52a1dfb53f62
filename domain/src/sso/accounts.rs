//! Who a verified ID token is (FR-AUTH-003, FR-TENANT-004, SPEC §3). People are keyed by
//! (connection, `iss`, `sub`), never by email alone, so a provider that lets people edit
//! their address cannot take over an account. At the first SSO sign-in an existing
//! account is linked only when the provider says `email_verified`, the tenant has verified
//! the address's domain, and exactly one account in the tenant has the address.
//! Otherwise the person is refused, or created just in time when the connection allows it.
//! The role follows the provider's groups at every sign-in (never owner); a change ends
//! the person's other sessions.

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::sessions::{revoke_user_sessions, RevokeReason, Revoker};
use crate::types::{Email, Role, TenantStatus, UserStatus};
use crate::users::SignInRefusal;
use crate::DomainError;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domains::domain_verified;
use super::{Connection, IdClaims, TestReport};

/// Why verified claims do not open an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRefusal {
    NoEmail,
    EmailUnverified,
    /// The address's domain is not verified by this tenant.
    DomainUnverified,
    /// Nobody in the tenant has the address and just-in-time creation is off.
    UnknownUser,
    /// The account is already linked to another identity at this provider.
    LinkedElsewhere,
    /// The platform's provider gave no operator or auditor group.
    NoPlatformRole,
    Status(SignInRefusal),
}

impl AccountRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::NoEmail => "no_email",
            Self::EmailUnverified => "email_unverified",
            Self::DomainUnverified => "domain_unverified",
            Self::UnknownUser => "unknown_user",
            Self::LinkedElsewhere => "linked_elsewhere",
            Self::NoPlatformRole => "no_platform_role",
            Self::Status(s) => s.code(),
        }
    }
}

/// The account the claims opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub user_id: Uuid,
    pub role: Role,
    pub created: bool,
    pub linked: bool,
    /// (old, new) when the groups changed the role.
    pub role_change: Option<(Role, Role)>,
}

#[derive(sqlx::FromRow)]
struct Account {
    id: Uuid,
    role: String,
    status: String,
    tenant_status: String,
}

const ACCOUNT: &str = "SELECT u.id, u.role, u.status, coalesce(t.status, 'active') AS tenant_status
 FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id";

fn refusal_of(account: &Account) -> Result<Option<SignInRefusal>, DomainError> {
    Ok(SignInRefusal::of(
        UserStatus::parse(&account.status)?,
        Some(TenantStatus::parse(&account.tenant_status)?),
    ))
}

/// The role the claims would give `current` (owners stay owners). On the platform's
/// connection only the operator and auditor groups give a role; none refuses.
fn role_after(connection: &Connection, current: Option<Role>, claims: &IdClaims) -> Option<Role> {
    match (connection.tenant_id, current) {
        (None, _) => connection.mapping.platform_role_for(&claims.groups),
        (Some(_), Some(Role::Owner)) => Some(Role::Owner),
        (Some(_), _) => Some(connection.mapping.role_for(&claims.groups)),
    }
}

/// The claims of a test sign-in, and the role they would give: nothing is written.
pub async fn preview(
    conn: &mut PgConnection,
    connection: &Connection,
    claims: &IdClaims,
) -> Result<TestReport, DomainError> {
    let current: Option<String> = sqlx::query_scalar(
        "SELECT u.role FROM sso_identities i JOIN users u ON u.id = i.user_id
         WHERE i.connection_id = $1 AND i.issuer = $2 AND i.subject = $3",
    )
    .bind(connection.id)
    .bind(&claims.issuer)
    .bind(&claims.subject)
    .fetch_optional(&mut *conn)
    .await?;
    let current = current.as_deref().map(Role::parse).transpose()?;
    Ok(TestReport {
        at: time::OffsetDateTime::now_utc(),
        subject: claims.subject.clone(),
        email: claims.email.clone(),
        email_verified: claims.email_verified,
        groups: claims.groups.clone(),
        amr: claims.amr.clone(),
        mapped_role: role_after(connection, current, claims).unwrap_or(Role::User),
        claims: claims.raw.clone(),
    })
}

/// Finds, links or creates the account for verified claims, and brings its role up to
/// date, inside the caller's transaction. A refusal writes nothing.
pub async fn resolve_account(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    connection: &Connection,
    claims: &IdClaims,
) -> Result<Result<Resolved, AccountRefusal>, DomainError> {
    // A tenant suspended while the person was at the provider lets nobody in, not even a
    // person created just in time.
    if let Some(tenant) = connection.tenant_id {
        let tenant_status: String =
            sqlx::query_scalar("SELECT status FROM tenants WHERE id = $1 FOR SHARE")
                .bind(tenant)
                .fetch_one(&mut *conn)
                .await?;
        if let Some(refused) = SignInRefusal::of(
            UserStatus::Active,
            Some(TenantStatus::parse(&tenant_status)?),
        ) {
            return Ok(Err(AccountRefusal::Status(refused)));
        }
    }
    if role_after(connection, None, claims).is_none() {
        return Ok(Err(AccountRefusal::NoPlatformRole));
    }
    let known: Option<Account> = sqlx::query_as(&format!(
        "{ACCOUNT} JOIN sso_identities i ON i.user_id = u.id
         WHERE i.connection_id = $1 AND i.issuer = $2 AND i.subject = $3
           AND u.tenant_id IS NOT DISTINCT FROM $4
         FOR UPDATE OF u"
    ))
    .bind(connection.id)
    .bind(&claims.issuer)
    .bind(&claims.subject)
    .bind(connection.tenant_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (account, created, linked) = match known {
        Some(account) => (account, false, false),
        None => match first_sign_in(conn, ctx, connection, claims).await? {
            Ok(found) => found,
            Err(refused) => return Ok(Err(refused)),
        },
    };
    if let Some(refused) = refusal_of(&account)? {
        return Ok(Err(AccountRefusal::Status(refused)));
    }
    let old = Role::parse(&account.role)?;
    let new =
        role_after(connection, Some(old), claims).ok_or_else(|| anyhow::anyhow!("no role"))?;
    let role_change = if new != old && !created {
        sqlx::query("UPDATE users SET role = $2, updated_at = now() WHERE id = $1")
            .bind(account.id)
            .bind(new.as_str())
            .execute(&mut *conn)
            .await?;
        // FR-TENANT-004: a role change ends the person's sessions (the new one starts after).
        revoke_user_sessions(
            conn,
            ctx,
            Revoker::SYSTEM,
            account.id,
            RevokeReason::RoleChange,
        )
        .await?;
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("user.role.change")
                .tenant(connection.tenant_id)
                .actor(ActorType::System, None)
                .resource(format!("user:{}", account.id))
                .meta("old", old.as_str())
                .meta("new", new.as_str())
                .meta("source", "sso_groups")
                .meta("connection", connection.id.to_string()),
        )
        .await?;
        Some((old, new))
    } else {
        None
    };
    sqlx::query(
        "UPDATE sso_identities SET last_login_at = now()
         WHERE connection_id = $1 AND issuer = $2 AND subject = $3",
    )
    .bind(connection.id)
    .bind(&claims.issuer)
    .bind(&claims.subject)
    .execute(&mut *conn)
    .await?;
    Ok(Ok(Resolved {
        user_id: account.id,
        role: new,
        created,
        linked,
        role_change,
    }))
}

/// A first sign-in of this identity: link the one matching account, or create one.
async fn first_sign_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    connection: &Connection,
    claims: &IdClaims,
) -> Result<Result<(Account, bool, bool), AccountRefusal>, DomainError> {
    let Some(email) = claims.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
        return Ok(Err(AccountRefusal::NoEmail));
    };
    if !claims.email_verified {
        return Ok(Err(AccountRefusal::EmailUnverified));
    }
    // The platform's provider is the deployment's own: its addresses need no domain proof.
    if let Some(tenant) = connection.tenant_id {
        if !domain_verified(conn, tenant, &email.domain()).await? {
            return Ok(Err(AccountRefusal::DomainUnverified));
        }
    }
    let matches: Vec<Account> = sqlx::query_as(&format!(
        "{ACCOUNT} WHERE u.tenant_id IS NOT DISTINCT FROM $1 AND lower(u.email) = lower($2)
           AND u.status <> 'archived'
         FOR UPDATE OF u"
    ))
    .bind(connection.tenant_id)
    .bind(email.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let (account, created) = match matches.len() {
        1 => {
            let account = matches
                .into_iter()
                .next()
                .ok_or(DomainError::NotFound("user"))?;
            if let Some(refused) = refusal_of(&account)? {
                return Ok(Err(AccountRefusal::Status(refused)));
            }
            let taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM sso_identities WHERE connection_id = $1 AND user_id = $2)",
            )
            .bind(connection.id)
            .bind(account.id)
            .fetch_one(&mut *conn)
            .await?;
            if taken {
                return Ok(Err(AccountRefusal::LinkedElsewhere));
            }
            (account, false)
        }
        0 if connection.jit_enabled => {
            let role =
                role_after(connection, None, claims).ok_or_else(|| anyhow::anyhow!("no role"))?;
            let name = claims
                .name
                .as_deref()
                .and_then(|n| crate::types::DisplayName::parse(n).ok());
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO users (id, tenant_id, email, name, role, status, email_verified_at)
                 VALUES ($1, $2, $3, $4, $5, 'active', now())",
            )
            .bind(id)
            .bind(connection.tenant_id)
            .bind(email.as_str())
            .bind(name.as_ref().map(|n| n.as_str()))
            .bind(role.as_str())
            .execute(&mut *conn)
            .await?;
            append_audit_entry(
                conn,
                ctx,
                AuditEntry::new("user.create")
                    .tenant(connection.tenant_id)
                    .actor(ActorType::System, None)
                    .resource(format!("user:{id}"))
                    .meta("role", role.as_str())
                    .meta("source", "sso_jit")
                    .meta("connection", connection.id.to_string()),
            )
            .await?;
            let account = Account {
                id,
                role: role.as_str().to_owned(),
                status: "active".into(),
                tenant_status: "active".into(),
            };
            (account, true)
        }
        0 => return Ok(Err(AccountRefusal::UnknownUser)),
        // The unique index allows one live account per address and tenant; be safe anyway.
        _ => return Ok(Err(AccountRefusal::UnknownUser)),
    };
    sqlx::query(
        "INSERT INTO sso_identities (connection_id, issuer, subject, user_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(connection.id)
    .bind(&claims.issuer)
    .bind(&claims.subject)
    .bind(account.id)
    .execute(&mut *conn)
    .await?;
    if !created {
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("sso.identity.linked")
                .tenant(connection.tenant_id)
                .actor(ActorType::System, None)
                .resource(format!("user:{}", account.id))
                .meta("connection", connection.id.to_string())
                .meta("subject", claims.subject.clone()),
        )
        .await?;
    }
    Ok(Ok((account, created, !created)))
}

/// Records a successful test sign-in on the connection: it may now be activated.
pub async fn record_test(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    tester_id: Uuid,
    connection: &Connection,
    report: &TestReport,
) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE sso_connections SET tested_at = now(), last_test = $2, updated_at = now() WHERE id = $1",
    )
    .bind(connection.id)
    .bind(serde_json::to_value(report).map_err(anyhow::Error::from)?)
    .execute(&mut *conn)
    .await?;
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("sso.connection.tested")
            .tenant(connection.tenant_id)
            .actor(ActorType::User, Some(tester_id))
            .resource(format!("sso_connection:{}", connection.id))
            .meta("subject", report.subject.clone())
            .meta("mapped_role", report.mapped_role.as_str()),
    )
    .await?;
    Ok(())
}
