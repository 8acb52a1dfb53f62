//! The token service's place in the server: started once per process (lazily, so a server
//! whose database is not migrated yet still answers `/readyz`), kept coherent with every
//! other instance through `LISTEN gatehouse_tokens, gatehouse_signing_keys`, and
//! maintained in the background (pruning, key-usage bookkeeping, scheduled rotation).

use crate::config::Settings;
use crate::notify::{follow, Follower};
use gatehouse_domain::crypto::MasterKeys;
use gatehouse_domain::oauth::CHANNEL;
use gatehouse_domain::oauth::{self, SigningAlg, KEYS_CHANNEL};
use gatehouse_domain::oauth::{TokenService, TokenSettings};
use gatehouse_domain::DomainError;
use sqlx::postgres::PgNotification;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

pub struct Tokens {
    cell: OnceCell<Arc<TokenService>>,
    pool: PgPool,
    keys: Arc<MasterKeys>,
    settings: TokenSettings,
    rotation: time::Duration,
    /// Follow other instances' changes (off only in tests: `--no-listen`).
    listen: bool,
}

impl Tokens {
    pub fn new(pool: PgPool, keys: Arc<MasterKeys>, settings: &Settings) -> Self {
        Self {
            cell: OnceCell::new(),
            pool,
            keys,
            settings: TokenSettings {
                issuer: settings.public_url(),
                access_token_alg: SigningAlg::parse(&settings.access_token_alg)
                    .unwrap_or(SigningAlg::Es256),
            },
            rotation: time::Duration::days(i64::from(settings.key_rotation_days)),
            listen: !settings.no_listen,
        }
    }

    /// The running service; the first call starts it and its listener.
    pub async fn get(&self) -> Result<Arc<TokenService>, DomainError> {
        self.cell
            .get_or_try_init(|| async {
                let service = Arc::new(
                    TokenService::start(
                        self.pool.clone(),
                        self.keys.clone(),
                        self.settings.clone(),
                    )
                    .await?,
                );
                if self.listen {
                    tokio::spawn(follow(self.pool.clone(), service.clone()));
                }
                tokio::spawn(maintain(
                    self.pool.clone(),
                    self.keys.clone(),
                    service.clone(),
                    self.rotation,
                ));
                Ok(service)
            })
            .await
            .cloned()
    }
}

impl Tokens {
    /// After a change this instance made (a key revoked, an application disabled, a tenant
    /// suspended): applies it here at once, so the very next request sees it; other
    /// instances hear it through NOTIFY.
    pub async fn changed(&self) -> Result<(), DomainError> {
        self.get().await?.reload_all().await
    }
}

/// Applies every notification; after a lost connection, reloads all.
impl Follower for TokenService {
    const NAME: &'static str = "token";
    const CHANNELS: &'static [&'static str] = &[CHANNEL, KEYS_CHANNEL];

    async fn resync(&self) {
        if let Err(e) = self.reload_all().await {
            tracing::warn!(error = %e, "reloading the token state failed");
        }
    }

    async fn notice(&self, notification: PgNotification) {
        let applied = if notification.channel() == KEYS_CHANNEL {
            self.reload_keys().await
        } else {
            self.on_notice(notification.payload()).await
        };
        if let Err(e) = applied {
            tracing::warn!(error = %e, "applying a token notice failed");
        }
    }
}

/// Every minute: forget expired denials, record key use. Every hour: prune stored
/// denials, retire keys past publication and rotate keys older than the configured age.
async fn maintain(
    pool: PgPool,
    keys: Arc<MasterKeys>,
    service: Arc<TokenService>,
    rotation: time::Duration,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    let mut minutes = 0u64;
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = service.housekeeping().await {
            tracing::warn!(error = %e, "token housekeeping failed");
        }
        if minutes.is_multiple_of(60) {
            if let Err(e) = oauth::prune_stored(&pool).await {
                tracing::warn!(error = %e, "pruning token denials failed");
            }
            match oauth::rotate_if_due(&pool, &keys, rotation).await {
                Ok(true) => tracing::info!("signing keys rotated on schedule"),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "scheduled key rotation failed"),
            }
        }
        minutes += 1;
    }
}
