//! Webhooks (SPEC §9; Standard Webhooks 1.0): endpoints a tenant's owners and admins, or
//! the platform's operators, register to receive the event catalog
//! ([`crate::audit::EventType`]). Events are written with the change that causes them
//! (`audit::publish`); the server's worker signs and delivers them through
//! [`delivery`]'s leased claims, retrying on the Standard Webhooks schedule.
//!
//! An endpoint belongs to one [`Owner`]: a tenant (it receives that tenant's events) or
//! the platform (every tenant's). Another owner's endpoint answers 404.

mod delivery;
mod endpoints;
mod signing;
pub use delivery::*;
pub use endpoints::*;
pub use signing::{new_secret, sign, signature_header};

use crate::permissions::{Actor, Permission};
use crate::DomainError;
use uuid::Uuid;

/// Whose endpoints: a tenant's, or the platform's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Tenant(Uuid),
    Platform,
}

impl Owner {
    /// The endpoints' `tenant_id` column value.
    pub fn tenant_id(self) -> Option<Uuid> {
        match self {
            Owner::Tenant(id) => Some(id),
            Owner::Platform => None,
        }
    }

    /// Whose endpoints `actor` manages: owners and admins their own tenant's; operators the
    /// platform's, or a tenant's they name (`asked`). Anyone else is refused.
    pub fn of(actor: &Actor, asked: Option<Uuid>) -> Result<Owner, DomainError> {
        if actor.role.is_platform() {
            actor.require(Permission::PlatformWebhooksManage)?;
            return Ok(asked.map_or(Owner::Platform, Owner::Tenant));
        }
        actor.require(Permission::TenantWebhooksManage)?;
        match (actor.tenant_id, asked) {
            (Some(own), None) => Ok(Owner::Tenant(own)),
            (Some(own), Some(asked)) if asked == own => Ok(Owner::Tenant(own)),
            // Another tenant's endpoints do not exist for this person.
            _ => Err(DomainError::NotFound("tenant")),
        }
    }
}

/// The wait after the `attempt`-th failed attempt (Standard Webhooks' schedule): 5 s,
/// 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. `None` after the eighth: the delivery failed.
pub fn retry_delay(attempt: i32) -> Option<time::Duration> {
    use time::Duration;
    const SCHEDULE: [Duration; 7] = [
        Duration::seconds(5),
        Duration::minutes(5),
        Duration::minutes(30),
        Duration::hours(2),
        Duration::hours(5),
        Duration::hours(10),
        Duration::hours(10),
    ];
    usize::try_from(attempt - 1)
        .ok()
        .and_then(|i| SCHEDULE.get(i).copied())
}

/// Attempts a delivery gets before it fails.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long an endpoint fails without one success before it is marked failing and its
/// owners are mailed.
pub const FAILING_AFTER: time::Duration = time::Duration::days(5);
/// How long events, deliveries and attempts are kept.
pub const HISTORY: time::Duration = time::Duration::days(30);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Role;

    #[test]
    fn the_schedule_has_seven_retries() {
        assert_eq!(retry_delay(1), Some(time::Duration::seconds(5)));
        assert_eq!(retry_delay(7), Some(time::Duration::hours(10)));
        assert_eq!(retry_delay(MAX_ATTEMPTS), None);
        assert_eq!(retry_delay(0), None);
    }

    #[test]
    fn a_url_is_measured_as_it_is_stored() {
        // 2000 characters as typed; the stored form adds the path's "/".
        let host = format!(
            "{}{}",
            format!("{}.", "a".repeat(62)).repeat(31),
            "a".repeat(39)
        );
        let typed = format!("https://{host}");
        assert_eq!(typed.len(), 2000);
        assert!(check_url(&typed, false).is_err());
        assert!(check_url(&typed[..1999], false).is_ok());
    }

    #[test]
    fn owners_follow_the_role() {
        let t = Uuid::now_v7();
        let person = |role| Actor {
            user_id: Uuid::now_v7(),
            tenant_id: Some(t),
            role,
        };
        assert_eq!(
            Owner::of(&person(Role::Owner), None).unwrap(),
            Owner::Tenant(t)
        );
        assert_eq!(
            Owner::of(&person(Role::Admin), Some(t)).unwrap(),
            Owner::Tenant(t)
        );
        assert!(matches!(
            Owner::of(&person(Role::Admin), Some(Uuid::now_v7())),
            Err(DomainError::NotFound(_))
        ));
        assert!(matches!(
            Owner::of(&person(Role::User), None),
            Err(DomainError::PermissionDenied(_))
        ));
        let operator = Actor {
            user_id: Uuid::now_v7(),
            tenant_id: None,
            role: Role::Operator,
        };
        assert_eq!(Owner::of(&operator, None).unwrap(), Owner::Platform);
        assert_eq!(Owner::of(&operator, Some(t)).unwrap(), Owner::Tenant(t));
        let auditor = Actor {
            role: Role::Auditor,
            ..operator
        };
        assert!(Owner::of(&auditor, None).is_err());
    }
}
