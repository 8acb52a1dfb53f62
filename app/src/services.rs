//! The one context every page and server function reaches on the server: the database,
//! the key ring, the web settings, and the caches of this instance, which an operation's
//! effects update after its commit (ARCHITECTURE.md §4). The server builds it once and
//! keeps the same value in its `AppState`, so a console action and the equivalent REST
//! call have the same consistency: the very next request on this instance sees it.

use crate::auth::ssr::WebConfig;
use gatehouse_domain::crypto::MasterKeys;
use gatehouse_domain::effects::{Done, Effects};
use gatehouse_domain::sso::SsoContext;
use gatehouse_domain::DomainError;
use sqlx::PgPool;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The instance's caches an operation's effects reach (the token service, the flag
/// cache). The server implements it; the CLI, which has none, applies nothing.
pub trait Caches: Send + Sync {
    fn apply(
        &self,
        effects: Effects,
    ) -> Pin<Box<dyn Future<Output = Result<(), DomainError>> + Send + '_>>;
}

#[derive(Clone)]
pub struct Services(Arc<Inner>);

struct Inner {
    pool: PgPool,
    keys: Arc<MasterKeys>,
    web: WebConfig,
    sso: SsoContext,
    caches: Arc<dyn Caches>,
}

impl Services {
    pub fn new(
        pool: PgPool,
        keys: Arc<MasterKeys>,
        web: WebConfig,
        sso: SsoContext,
        caches: Arc<dyn Caches>,
    ) -> Self {
        Self(Arc::new(Inner {
            pool,
            keys,
            web,
            sso,
            caches,
        }))
    }

    pub fn pool(&self) -> &PgPool {
        &self.0.pool
    }

    pub fn keys(&self) -> &Arc<MasterKeys> {
        &self.0.keys
    }

    pub fn web(&self) -> &WebConfig {
        &self.0.web
    }

    /// The client and resolver tenant SSO talks to identity providers and DNS with.
    pub fn sso(&self) -> &SsoContext {
        &self.0.sso
    }

    /// Applies a committed operation's effects to this instance's caches and answers its
    /// value: `services.apply(tenants::suspend_tenant(services.pool(), ..).await).await?`.
    pub async fn apply<T>(&self, done: Result<Done<T>, DomainError>) -> Result<T, DomainError> {
        let done = done?;
        if done.effects != Effects::NONE {
            self.0.caches.apply(done.effects).await?;
        }
        Ok(done.value)
    }
}
