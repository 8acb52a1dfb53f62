//! The one context every page and server function reaches on the server: the database,
//! the key ring, the web settings, and the caches of this instance, which an operation's
//! effects update after its commit (ARCHITECTURE.md §4). The server builds it once and
//! keeps the same value in its `AppState`, so a console action and the equivalent REST
//! call have the same consistency: the very next request on this instance sees it.

use crate::auth::ssr::WebConfig;
use gatehouse_domain::audit::CheckpointSigner;
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
    /// The audit checkpoints' key, loaded (or made) on first use.
    checkpoints: tokio::sync::OnceCell<Arc<CheckpointSigner>>,
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
            checkpoints: tokio::sync::OnceCell::new(),
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
    /// The key that signs the audit trail's checkpoints. A new key is named after the
    /// public URL's host (`gatehouse.example.com/audit`), the checkpoints' origin.
    pub async fn checkpoint_signer(&self) -> Result<Arc<CheckpointSigner>, DomainError> {
        self.0
            .checkpoints
            .get_or_try_init(|| async {
                let host = url::Url::parse(&self.0.web.public_url)
                    .ok()
                    .and_then(|u| {
                        u.host_str()
                            .map(|h| u.port().map_or(h.to_owned(), |p| format!("{h}:{p}")))
                    })
                    .unwrap_or_else(|| "gatehouse".to_owned());
                let signer =
                    CheckpointSigner::load(&self.0.pool, &self.0.keys, &format!("{host}/audit"))
                        .await?;
                Ok(Arc::new(signer))
            })
            .await
            .cloned()
    }

    pub async fn apply<T>(&self, done: Result<Done<T>, DomainError>) -> Result<T, DomainError> {
        let done = done?;
        if done.effects != Effects::NONE {
            self.0.caches.apply(done.effects).await?;
        }
        Ok(done.value)
    }
}
