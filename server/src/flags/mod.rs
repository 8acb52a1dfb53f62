//! The flag cache behind the Flag API, OFREP and the change stream (SPEC §6, API-FLAG):
//! per tenant, the rules and the serialised tenant-level answer with its strong ETag, so a
//! request is a hash lookup and a copy. Kept coherent with every other instance through
//! `LISTEN gatehouse_flags` (a tenant id, or `*` for all); subscribers of the change stream
//! hear the same notices. Evaluations are recorded for the stale-flags view once a minute.

pub mod delivery;
pub mod ofrep;

use crate::notify::{follow, Follower};
use bytes::Bytes;
use gatehouse_domain::flags::{self, EffectiveFlag, TenantFlags, CHANNEL};
use gatehouse_domain::DomainError;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgNotification;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{broadcast, OnceCell};
use uuid::Uuid;

/// One tenant's flags, ready to serve.
pub struct CachedTenant {
    pub flags: TenantFlags,
    /// The Flag API body for tenant-level evaluation, and its strong ETag.
    pub body: Bytes,
    pub etag: String,
    /// Set when served; cleared when the evaluation is recorded.
    used: AtomicBool,
}

/// A strong ETag over a body.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(body))[..32])
}

/// A tenant's effective feature flags (the Flag API's answer).
// The shape `flags_body` writes; it builds the bytes itself (their ETag must not change).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EffectiveFlags {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The tenant's plan.
    pub plan: gatehouse_domain::types::Plan,
    /// Every flag's value, by key.
    pub flags: std::collections::BTreeMap<String, bool>,
    /// Every flag's value with the rule that decided it, ordered by key.
    pub details: Vec<EffectiveFlag>,
}

/// The Flag API body for a tenant's evaluated flags.
pub fn flags_body(tenant: &TenantFlags, evaluated: &[EffectiveFlag]) -> Bytes {
    let flags: serde_json::Map<String, serde_json::Value> = evaluated
        .iter()
        .map(|f| (f.key.clone(), json!(f.value)))
        .collect();
    let body = json!({
        "tenant_id": tenant.tenant_id,
        "plan": tenant.plan,
        "flags": flags,
        "details": evaluated,
    });
    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

pub struct FlagCache {
    pool: PgPool,
    tenants: RwLock<HashMap<Uuid, Arc<CachedTenant>>>,
    changes: broadcast::Sender<Option<Uuid>>,
}

fn poisoned() -> DomainError {
    DomainError::Unexpected(anyhow::anyhow!("the flag cache lock was poisoned"))
}

impl FlagCache {
    /// The tenant's cached flags (loaded on a miss). `None` for an unknown tenant.
    pub async fn tenant(&self, tenant_id: Uuid) -> Result<Option<Arc<CachedTenant>>, DomainError> {
        if let Some(hit) = self.tenants.read().map_err(|_| poisoned())?.get(&tenant_id) {
            hit.used.store(true, Ordering::Relaxed);
            return Ok(Some(hit.clone()));
        }
        let Some(flags) = flags::tenant_flags(&self.pool, tenant_id).await? else {
            return Ok(None);
        };
        let body = flags_body(&flags, &flags.evaluate(None));
        let entry = Arc::new(CachedTenant {
            etag: etag_of(&body),
            body,
            flags,
            used: AtomicBool::new(true),
        });
        self.tenants
            .write()
            .map_err(|_| poisoned())?
            .insert(tenant_id, entry.clone());
        Ok(Some(entry))
    }

    /// Change notices: `Some(tenant)` or `None` for every tenant.
    pub fn subscribe(&self) -> broadcast::Receiver<Option<Uuid>> {
        self.changes.subscribe()
    }

    fn invalidate(&self, payload: &str) {
        let target = payload.parse::<Uuid>().ok();
        if let Ok(mut t) = self.tenants.write() {
            match target {
                Some(id) => {
                    t.remove(&id);
                }
                None => t.clear(),
            }
        }
        let _ = self.changes.send(target);
    }

    /// Records which flags were served since the last call (the stale-flags view).
    async fn record_evaluations(&self) -> Result<(), DomainError> {
        let keys: HashSet<String> = self
            .tenants
            .read()
            .map_err(|_| poisoned())?
            .values()
            .filter(|t| t.used.swap(false, Ordering::Relaxed))
            .flat_map(|t| t.flags.flags.iter().map(|r| r.key.clone()))
            .collect();
        if !keys.is_empty() {
            flags::record_evaluations(&self.pool, &keys.into_iter().collect::<Vec<_>>()).await?;
        }
        Ok(())
    }
}

/// Started on first use, with its listener and the minute's bookkeeping.
pub struct Flags {
    cell: OnceCell<Arc<FlagCache>>,
    pool: PgPool,
    listen: bool,
    /// Open change streams per caller (API key or user).
    streams: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

/// Change streams one caller (an API key, or a user) may hold open at once: a leaked
/// key cannot pin down the server with idle connections (NFR-SEC-005).
pub const STREAMS_PER_CALLER: usize = 20;

/// One open change stream, counted against its caller until dropped.
pub struct StreamSlot {
    caller: String,
    streams: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.streams.lock() {
            if let Some(n) = open.get_mut(&self.caller) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&self.caller);
                }
            }
        }
    }
}

impl Flags {
    /// `listen`: follow other instances' changes (off only in tests: `--no-listen`).
    pub fn new(pool: PgPool, listen: bool) -> Self {
        Self {
            cell: OnceCell::new(),
            pool,
            listen,
            streams: Arc::default(),
        }
    }

    /// A place for one more change stream of `caller`, or `None` at the cap.
    pub fn open_stream(&self, caller: &str) -> Option<StreamSlot> {
        let mut open = self.streams.lock().ok()?;
        let n = open.entry(caller.to_owned()).or_default();
        if *n >= STREAMS_PER_CALLER {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            caller: caller.to_owned(),
            streams: self.streams.clone(),
        })
    }

    pub async fn get(&self) -> Arc<FlagCache> {
        self.cell
            .get_or_init(|| async {
                let (changes, _) = broadcast::channel(256);
                let cache = Arc::new(FlagCache {
                    pool: self.pool.clone(),
                    tenants: RwLock::new(HashMap::new()),
                    changes,
                });
                if self.listen {
                    tokio::spawn(follow(self.pool.clone(), cache.clone()));
                }
                tokio::spawn(record(self.pool.clone(), cache.clone()));
                cache
            })
            .await
            .clone()
    }

    /// After a change this instance made: applied here at once (others hear NOTIFY).
    pub async fn changed(&self, tenant: Option<Uuid>) {
        let payload = tenant.map(|t| t.to_string()).unwrap_or_else(|| "*".into());
        self.get().await.invalidate(&payload);
    }
}

impl Follower for FlagCache {
    const NAME: &'static str = "flag";
    const CHANNELS: &'static [&'static str] = &[CHANNEL];

    /// Anything missed while not listening: start from scratch.
    async fn resync(&self) {
        self.invalidate("*");
    }

    async fn notice(&self, notification: PgNotification) {
        self.invalidate(notification.payload());
    }
}

async fn record(pool: PgPool, cache: Arc<FlagCache>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = cache.record_evaluations().await {
            tracing::warn!(error = %e, "recording flag evaluations failed");
        }
    }
}
