//! The operation layer's one rule (ARCHITECTURE.md §4): an operation opens and commits its
//! own transaction, and answers what it changed for the caches of the instance that made
//! the change. The instance applies those effects at once, so the very next request sees
//! the change whichever door made it (REST, console, CLI); other instances hear the same
//! change through the NOTIFY the operation sent inside its transaction.

use crate::DomainError;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Whose flags changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagScope {
    Tenant(Uuid),
    All,
}

/// What a committed change means for this instance's caches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// The token service's state changed: revocations, cutoffs, suspended tenants,
    /// clients.
    pub tokens: bool,
    /// Flag values changed for one tenant or for all.
    pub flags: Option<FlagScope>,
}

impl Effects {
    pub const NONE: Effects = Effects {
        tokens: false,
        flags: None,
    };
    pub const TOKENS: Effects = Effects {
        tokens: true,
        flags: None,
    };
    pub const ALL_FLAGS: Effects = Effects {
        tokens: false,
        flags: Some(FlagScope::All),
    };

    pub fn tenant_flags(tenant: Uuid) -> Effects {
        Effects {
            tokens: false,
            flags: Some(FlagScope::Tenant(tenant)),
        }
    }

    /// Both changes; flags of two different tenants widen to all.
    pub fn and(self, other: Effects) -> Effects {
        let flags = match (self.flags, other.flags) {
            (None, f) | (f, None) => f,
            (Some(a), Some(b)) if a == b => Some(a),
            _ => Some(FlagScope::All),
        };
        Effects {
            tokens: self.tokens || other.tokens,
            flags,
        }
    }
}

/// An operation's committed result and the effects its change has on caches.
/// Doors hand it to `Services::apply`; the CLI, which holds no caches, takes `.value`.
#[derive(Debug)]
pub struct Done<T> {
    pub value: T,
    pub effects: Effects,
}

impl<T> Done<T> {
    /// A result that changed nothing cached.
    pub fn new(value: T) -> Self {
        Done {
            value,
            effects: Effects::NONE,
        }
    }
}

/// Runs `op` in a transaction of its own and commits it: the shape of every operation
/// whose pieces compose inside one transaction.
pub(crate) async fn commit<T>(
    pool: &PgPool,
    effects: Effects,
    op: impl AsyncFnOnce(&mut PgConnection) -> Result<T, DomainError>,
) -> Result<Done<T>, DomainError> {
    let mut tx = pool.begin().await?;
    let value = op(&mut tx).await?;
    tx.commit().await?;
    Ok(Done { value, effects })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_combine() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let both = Effects::TOKENS.and(Effects::tenant_flags(a));
        assert!(both.tokens);
        assert_eq!(both.flags, Some(FlagScope::Tenant(a)));
        assert_eq!(
            Effects::tenant_flags(a).and(Effects::tenant_flags(b)).flags,
            Some(FlagScope::All)
        );
        assert_eq!(Effects::NONE.and(Effects::NONE), Effects::NONE);
    }
}
