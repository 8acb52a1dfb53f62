//! The permission matrix of SPEC §2 (DAT-ROLE, CON-SEC-007 least privilege), as data, and
//! the checks every domain operation makes. The consoles hide what a role cannot do, but
//! the decision is always taken here.

use crate::types::Role;
use crate::DomainError;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Own profile, password, MFA devices and sessions.
    AccountManageSelf,
    /// Read the own tenant's settings and plan.
    TenantRead,
    /// FR-TENANT-003: change the tenant's plan.
    TenantManagePlan,
    /// FR-AUTH-003: configure the tenant's SSO.
    TenantManageSso,
    /// FR-AUTH-006, CON-SEC-005: password, MFA and session policies.
    TenantManagePolicies,
    UsersRead,
    /// FR-TENANT-001.
    UsersInvite,
    /// FR-TENANT-002/004/006: delete, change role, change status.
    UsersManage,
    /// UC-TENANT-SESSION-REVOKE.
    SessionsRevoke,
    /// Audit entries of the own tenant.
    TenantAuditRead,
    TenantWebhooksManage,
    /// UC-PROV-001, FR-OPS-001: create, suspend, reactivate tenants, change any plan.
    TenantsProvision,
    /// Read every tenant and its users.
    TenantsReadAll,
    /// FR-FLAG-001.
    FlagsManage,
    /// FR-SYS-001..003.
    ApplicationsManage,
    /// Read the audit trail of every tenant and the platform.
    AuditReadAll,
    /// FR-LOG-002: download the audit trail as CSV.
    AuditExport,
    PlatformWebhooksManage,
}

use Permission::*;

const OWNER: &[Permission] = &[
    AccountManageSelf,
    TenantRead,
    TenantManagePlan,
    TenantManageSso,
    TenantManagePolicies,
    UsersRead,
    UsersInvite,
    UsersManage,
    SessionsRevoke,
    TenantAuditRead,
    TenantWebhooksManage,
];
const ADMIN: &[Permission] = &[
    AccountManageSelf,
    TenantRead,
    TenantManagePolicies,
    UsersRead,
    UsersInvite,
    UsersManage,
    SessionsRevoke,
    TenantAuditRead,
    TenantWebhooksManage,
];
const USER: &[Permission] = &[AccountManageSelf];
const OPERATOR: &[Permission] = &[
    AccountManageSelf,
    TenantsProvision,
    TenantsReadAll,
    FlagsManage,
    ApplicationsManage,
    AuditReadAll,
    PlatformWebhooksManage,
    // Operators act across tenants (SPEC §2): they may manage any tenant's users and sessions.
    UsersRead,
    UsersInvite,
    UsersManage,
    SessionsRevoke,
    TenantRead,
];
const AUDITOR: &[Permission] = &[AccountManageSelf, AuditReadAll, AuditExport, TenantsReadAll];

/// The matrix: what each role may do.
pub fn permissions_of(role: Role) -> &'static [Permission] {
    match role {
        Role::Owner => OWNER,
        Role::Admin => ADMIN,
        Role::User => USER,
        Role::Operator => OPERATOR,
        Role::Auditor => AUDITOR,
    }
}

pub fn role_has(role: Role, permission: Permission) -> bool {
    permissions_of(role).contains(&permission)
}

/// Who is acting: a signed-in user (or a token on their behalf).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    /// `None` for platform users.
    pub tenant_id: Option<Uuid>,
    pub role: Role,
}

impl Actor {
    /// Refuses with ERR_PERMISSION_DENIED when the role lacks the permission.
    pub fn require(&self, permission: Permission) -> Result<(), DomainError> {
        if role_has(self.role, permission) {
            Ok(())
        } else {
            Err(DomainError::PermissionDenied(format!(
                "the {} role is not allowed to do this",
                self.role
            )))
        }
    }

    /// Requires the permission on a resource of `tenant_id`. Tenant users reach only their
    /// own tenant; another tenant's resource answers NotFound, never "denied", so its
    /// existence does not leak (SPEC §2).
    pub fn require_in_tenant(
        &self,
        permission: Permission,
        tenant_id: Uuid,
        resource: &'static str,
    ) -> Result<(), DomainError> {
        match self.tenant_id {
            Some(own) if own != tenant_id => Err(DomainError::NotFound(resource)),
            _ => self.require(permission),
        }
    }

    /// SPEC §2: an admin cannot grant or remove owner and cannot act on owners; operators
    /// and owners can. Platform roles are never assigned through tenant management.
    pub fn may_manage_user(
        &self,
        target_role: Role,
        new_role: Option<Role>,
    ) -> Result<(), DomainError> {
        self.require(UsersManage)?;
        if target_role.is_platform() || new_role.is_some_and(Role::is_platform) {
            return Err(DomainError::PermissionDenied(
                "platform roles are managed with the gatehouse CLI".into(),
            ));
        }
        if self.role == Role::Admin && (target_role == Role::Owner || new_role == Some(Role::Owner))
        {
            return Err(DomainError::PermissionDenied(
                "only an owner can grant, remove or act on the owner role".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, tenant: Option<Uuid>) -> Actor {
        Actor {
            user_id: Uuid::nil(),
            tenant_id: tenant,
            role,
        }
    }

    #[test]
    fn matrix_matches_spec_section_2() {
        assert!(role_has(Role::Owner, TenantManagePlan) && role_has(Role::Owner, TenantManageSso));
        assert!(
            !role_has(Role::Admin, TenantManagePlan) && !role_has(Role::Admin, TenantManageSso)
        );
        assert!(role_has(Role::Admin, UsersInvite) && role_has(Role::Admin, SessionsRevoke));
        assert_eq!(permissions_of(Role::User), &[AccountManageSelf]);
        assert!(
            role_has(Role::Operator, TenantsProvision) && role_has(Role::Operator, FlagsManage)
        );
        assert!(!role_has(Role::Operator, AuditExport));
        for p in permissions_of(Role::Auditor) {
            assert!(
                matches!(
                    p,
                    AccountManageSelf | AuditReadAll | AuditExport | TenantsReadAll
                ),
                "auditor is read-only"
            );
        }
    }

    #[test]
    fn other_tenant_is_not_found_not_forbidden() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let admin = actor(Role::Admin, Some(a));
        assert!(admin.require_in_tenant(UsersRead, a, "user").is_ok());
        assert!(matches!(
            admin.require_in_tenant(UsersRead, b, "user"),
            Err(DomainError::NotFound("user"))
        ));
        let user = actor(Role::User, Some(a));
        assert!(matches!(
            user.require_in_tenant(UsersRead, a, "user"),
            Err(DomainError::PermissionDenied(_))
        ));
        assert!(actor(Role::Operator, None)
            .require_in_tenant(UsersManage, b, "user")
            .is_ok());
        assert!(matches!(
            actor(Role::Auditor, None).require_in_tenant(UsersManage, b, "user"),
            Err(DomainError::PermissionDenied(_))
        ));
    }

    #[test]
    fn admins_cannot_touch_owners() {
        let admin = actor(Role::Admin, Some(Uuid::nil()));
        assert!(admin.may_manage_user(Role::User, Some(Role::Admin)).is_ok());
        assert!(admin.may_manage_user(Role::Owner, None).is_err());
        assert!(admin
            .may_manage_user(Role::User, Some(Role::Owner))
            .is_err());
        let owner = actor(Role::Owner, Some(Uuid::nil()));
        assert!(owner
            .may_manage_user(Role::Owner, Some(Role::Admin))
            .is_ok());
        assert!(owner
            .may_manage_user(Role::User, Some(Role::Operator))
            .is_err());
        assert!(actor(Role::User, Some(Uuid::nil()))
            .may_manage_user(Role::User, None)
            .is_err());
    }
}
