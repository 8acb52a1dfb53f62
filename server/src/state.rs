//! The one state every handler and server function reaches (`State<AppState>`). It is an
//! `Arc`, so extracting it per request is a reference-count increment, not a copy of the
//! Leptos options and settings (that copy showed up in the flag benchmark's profile).

use crate::config::Settings;
use axum::extract::FromRef;
use gatehouse_app::services::{Caches, Services};
use gatehouse_domain::crypto::MasterKeys;
use gatehouse_domain::effects::{Effects, FlagScope};
use gatehouse_domain::DomainError;
use leptos::config::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub keys: Arc<MasterKeys>,
    pub metrics: PrometheusHandle,
    /// The token service (started on first use).
    pub tokens: Arc<crate::oauth::service::Tokens>,
    /// The flag cache (started on first use).
    pub flags: Arc<crate::flags::Flags>,
    /// Rate limits of /api and /ofrep (SPEC §9).
    pub rate_limits: crate::rate_limit::RateLimits,
    /// Places for running audit CSV downloads (global and per tenant).
    pub exports: crate::audit::ExportLimits,
    /// The proxies whose forwarding headers name the client (`GATEHOUSE_TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<crate::client_ip::TrustedProxies>,
    /// The events stream's feed (`/api/v1/events/stream`).
    pub events: Arc<crate::webhooks::stream::Feed>,
    /// What pages and handlers share: pool, keys, web settings, and the caches above as
    /// an operation's effects reach them (the pages' one context).
    pub services: Services,
}

/// This instance's caches, as operations' effects reach them.
pub struct InstanceCaches {
    pub tokens: Arc<crate::oauth::service::Tokens>,
    pub flags: Arc<crate::flags::Flags>,
}

impl Caches for InstanceCaches {
    fn apply(
        &self,
        effects: Effects,
    ) -> Pin<Box<dyn Future<Output = Result<(), DomainError>> + Send + '_>> {
        Box::pin(async move {
            match effects.flags {
                Some(FlagScope::Tenant(tenant)) => self.flags.changed(Some(tenant)).await,
                Some(FlagScope::All) => self.flags.changed(None).await,
                None => {}
            }
            if effects.tokens {
                self.tokens.changed().await?;
            }
            Ok(())
        })
    }
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// leptos_axum serves pages with `LeptosOptions: FromRef<S>`.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
