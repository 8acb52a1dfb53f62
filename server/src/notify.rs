//! One LISTEN loop for the caches that follow other instances' changes (the token service,
//! the flag cache): it connects, listens on the cache's channels, reads everything again
//! (whatever happened before LISTEN took effect, or while the connection was lost), then
//! hands each notification to the cache. A lost connection is retried every second; a
//! closed pool ends the loop.

use sqlx::postgres::{PgListener, PgNotification};
use sqlx::PgPool;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A cache kept coherent by NOTIFY.
pub trait Follower: Send + Sync + 'static {
    /// Its name in the logs ("token", "flag").
    const NAME: &'static str;
    /// The channels it listens on.
    const CHANNELS: &'static [&'static str];
    /// Reads everything again.
    fn resync(&self) -> impl Future<Output = ()> + Send;
    /// Applies one notification.
    fn notice(&self, notification: PgNotification) -> impl Future<Output = ()> + Send;
}

/// Follows the channels of `cache` until the pool closes (spawn it).
pub async fn follow<F: Follower>(pool: PgPool, cache: Arc<F>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "{} listener cannot connect; retrying", F::NAME);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen_all(F::CHANNELS.iter().copied()).await {
            tracing::warn!(error = %e, "{} listener cannot LISTEN; retrying", F::NAME);
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        cache.resync().await;
        loop {
            match listener.recv().await {
                Ok(notification) => cache.notice(notification).await,
                Err(e) => {
                    if pool.is_closed() {
                        return;
                    }
                    tracing::warn!(error = %e, "{} listener lost its connection", F::NAME);
                    break;
                }
            }
        }
    }
}
