//! The webhook delivery worker (SPEC §9; Standard Webhooks 1.0) and the events stream.
//!
//! Events and their deliveries are written with the change that causes them
//! (`gatehouse_domain::audit::publish`). This worker claims due deliveries with a lease
//! (several instances never send one at the same time), signs each at send time
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`), POSTs it through the
//! SSRF-guarded client (https only; private, loopback and link-local addresses refused
//! after DNS resolution unless `GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE`), and records the outcome.
//! A 2xx within 15 s delivers; the domain decides the retry, the 410 and the failing mark.
//!
//! It wakes on the events channel's NOTIFY (sent at commit) and polls every 2 s as well.
//! Each endpoint's throttle (messages per second) is kept per instance.

pub mod stream;

use crate::config::Settings;
use anyhow::Result;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use futures_util::StreamExt as _;
use gatehouse_domain::audit::EVENTS_CHANNEL;
use gatehouse_domain::crypto::MasterKeys;
use gatehouse_domain::sso::{HttpPolicy, IdpHttp};
use gatehouse_domain::webhooks::{self, AttemptResult, DueDelivery, Recorded};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use sqlx::postgres::PgNotification;
use sqlx::PgPool;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// Deliveries claimed at once.
const BATCH: i64 = 200;
/// Deliveries in flight at once.
const CONCURRENCY: usize = 64;
/// A 2xx within this counts as delivered (Standard Webhooks).
const TIMEOUT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_secs(2);
/// The answer's excerpt kept in the history.
const EXCERPT: usize = 1024;
/// How often history older than 30 days is deleted.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
const STOP_GRACE: Duration = Duration::from_secs(20);

/// The running worker; [`WebhookWorker::stop`] finishes the deliveries in flight.
pub struct WebhookWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WebhookWorker {
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(STOP_GRACE, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!("the webhook worker did not stop in time; abandoning it");
            self.task.abort();
        }
    }
}

/// The client deliveries go through.
pub fn delivery_client(settings: &Settings) -> Result<IdpHttp> {
    IdpHttp::new(&HttpPolicy {
        allow_private: settings.webhooks_allow_private,
        timeout: TIMEOUT,
        max_bytes: EXCERPT,
    })
    .map_err(|e| anyhow::anyhow!("webhook HTTP client: {e}"))
}

pub fn spawn_webhooks(
    pool: PgPool,
    keys: Arc<MasterKeys>,
    settings: &Settings,
) -> Result<WebhookWorker> {
    let worker = Arc::new(Worker {
        http: delivery_client(settings)?,
        keys,
        throttles: Mutex::new(HashMap::new()),
    });
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(worker.run(pool, stopped));
    Ok(WebhookWorker { stop, task })
}

struct Worker {
    http: IdpHttp,
    keys: Arc<MasterKeys>,
    /// Per endpoint: its rate and its limiter.
    throttles: Mutex<HashMap<uuid::Uuid, (u32, Arc<DefaultDirectRateLimiter>)>>,
}

/// Wakes the worker on every committed event (and on a reconnect).
struct Wake(Notify);

impl crate::notify::Follower for Wake {
    const NAME: &'static str = "webhook";
    const CHANNELS: &'static [&'static str] = &[EVENTS_CHANNEL];
    async fn resync(&self) {
        self.0.notify_one();
    }
    async fn notice(&self, _: PgNotification) {
        self.0.notify_one();
    }
}

impl Worker {
    async fn run(self: Arc<Self>, pool: PgPool, mut stop: watch::Receiver<bool>) {
        let wake = Arc::new(Wake(Notify::new()));
        let listener = tokio::spawn(crate::notify::follow(pool.clone(), wake.clone()));
        let mut last_purge = Instant::now() - PURGE_EVERY;
        loop {
            self.deliver_due(&pool, &stop).await;
            if last_purge.elapsed() >= PURGE_EVERY {
                last_purge = Instant::now();
                match webhooks::purge_history(&pool).await {
                    Ok(n) if n > 0 => {
                        tracing::info!(events = n, "webhook history older than 30 days deleted")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "deleting old webhook history failed"),
                }
            }
            if *stop.borrow() {
                break;
            }
            tokio::select! {
                _ = wake.0.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => break,
            }
        }
        listener.abort();
        let _ = listener.await;
        tracing::info!("webhook worker stopped");
    }

    /// Delivers batches until nothing is due.
    async fn deliver_due(self: &Arc<Self>, pool: &PgPool, stop: &watch::Receiver<bool>) {
        loop {
            let batch = match webhooks::claim_due_deliveries(pool, BATCH, webhooks::LEASE).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming due webhook deliveries failed; trying again later");
                    return;
                }
            };
            if batch.is_empty() {
                return;
            }
            let full = batch.len() as i64 == BATCH;
            futures_util::stream::iter(batch)
                .for_each_concurrent(CONCURRENCY, |delivery| {
                    let worker = self.clone();
                    let stopping = *stop.borrow();
                    async move { worker.deliver_one(pool, delivery, stopping).await }
                })
                .await;
            if !full || *stop.borrow() {
                return;
            }
        }
    }

    /// The endpoint's limiter, made again when its rate changed.
    fn throttle(&self, d: &DueDelivery) -> Arc<DefaultDirectRateLimiter> {
        let rate = u32::try_from(d.rate_limit_per_second).unwrap_or(1).max(1);
        let mut map = self.throttles.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&d.endpoint_id) {
            Some((r, limiter)) if *r == rate => limiter.clone(),
            _ => {
                let quota = Quota::per_second(NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN));
                let limiter = Arc::new(RateLimiter::direct(quota));
                map.insert(d.endpoint_id, (rate, limiter.clone()));
                limiter
            }
        }
    }

    async fn deliver_one(&self, pool: &PgPool, delivery: DueDelivery, stopping: bool) {
        let wait = if stopping {
            Some(Duration::ZERO)
        } else {
            self.throttle(&delivery).check().err().map(|not_until| {
                not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ))
            })
        };
        if let Some(wait) = wait {
            let at = OffsetDateTime::now_utc() + wait.max(Duration::from_millis(50));
            if let Err(e) = webhooks::defer_delivery(pool, delivery.id, at).await {
                tracing::warn!(error = %e, "deferring a throttled delivery failed; it is retried when its lease ends");
            }
            return;
        }
        let result = self.attempt(&delivery).await;
        let outcome = if result.delivered() {
            "delivered"
        } else {
            "failed"
        };
        metrics::counter!("gatehouse_webhook_attempts_total", "outcome" => outcome).increment(1);
        match webhooks::record_attempt(pool, &delivery, &result).await {
            Ok(Recorded::Delivered) => {
                let delay = (OffsetDateTime::now_utc() - delivery.created_at).as_seconds_f64();
                metrics::histogram!("gatehouse_webhook_delivery_delay_seconds").record(delay);
            }
            Ok(Recorded::RetryAt(at)) => tracing::info!(
                delivery_id = %delivery.id, attempt = delivery.attempts, next = %at,
                error = result.error.as_deref().unwrap_or(""), status = ?result.status,
                "webhook delivery failed; retrying later"
            ),
            Ok(Recorded::Failed) => tracing::warn!(
                delivery_id = %delivery.id, attempt = delivery.attempts, status = ?result.status,
                "webhook delivery failed for good"
            ),
            Ok(Recorded::Stale) => {}
            Err(e) => tracing::warn!(
                delivery_id = %delivery.id, error = %e,
                "recording a webhook attempt failed; it is retried when its lease ends"
            ),
        }
    }

    /// Signs and sends one delivery.
    async fn attempt(&self, d: &DueDelivery) -> AttemptResult {
        let started = Instant::now();
        let failed = |error: String| AttemptResult {
            status: None,
            latency_ms: elapsed_ms(started),
            error: Some(error),
            excerpt: None,
        };
        let secrets = match webhooks::live_secrets(
            &self.keys,
            d.endpoint_id,
            &d.secret_ciphertext,
            d.previous_secret_ciphertext
                .as_deref()
                .zip(d.previous_secret_expires_at),
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, endpoint_id = %d.endpoint_id, "a webhook secret cannot be opened");
                return failed("the endpoint's secret cannot be opened".into());
            }
        };
        let url = match url::Url::parse(&d.url) {
            Ok(url) => url,
            Err(_) => return failed("the endpoint's URL is not usable".into()),
        };
        let id = d.event_id.to_string();
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let body = d.body.as_bytes().to_vec();
        let signature = webhooks::signature_header(&secrets, &id, timestamp, &body);
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        };
        put("content-type", "application/json".into());
        put("webhook-id", id);
        put("webhook-timestamp", timestamp.to_string());
        put("webhook-signature", signature);
        match self.http.post(&url, headers, body).await {
            Ok((status, excerpt)) => AttemptResult {
                status: Some(status),
                latency_ms: elapsed_ms(started),
                error: None,
                excerpt: Some(String::from_utf8_lossy(&excerpt).into_owned())
                    .filter(|s| !s.is_empty()),
            },
            Err(e) => failed(e.to_string()),
        }
    }
}

fn elapsed_ms(started: Instant) -> i32 {
    i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)
}

/// The document's `webhooks` section (OpenAPI 3.1): one entry per catalog type, each the
/// POST a receiver gets, with the Standard Webhooks headers and the body's `data` fields.
pub fn openapi_webhooks() -> utoipa::openapi::Paths {
    use gatehouse_domain::audit::EventType;
    use serde_json::{json, Map, Value};
    let header = |name: &str, description: &str| {
        json!({"name": name, "in": "header", "required": true, "description": description,
               "schema": {"type": "string"}})
    };
    let mut paths = Map::new();
    for t in EventType::ALL {
        let (fields, changes) = t.data_fields();
        let mut properties = Map::new();
        for f in &fields {
            let schema = match *f {
                "email" => json!({"type": "string", "format": "email"}),
                "previous" | "value" => json!({
                    "type": ["string", "number", "boolean", "object", "null"],
                    "description": "The value before or after the change",
                }),
                "endpoint_id" | "application_id" => json!({"type": "string", "format": "uuid"}),
                "starts_at" | "ends_at" => json!({"type": "string", "format": "date-time"}),
                _ => json!({"type": "string"}),
            };
            properties.insert((*f).to_owned(), schema);
        }
        if !changes.is_empty() {
            properties.insert(
                "change".into(),
                json!({"type": "string", "enum": changes, "description": "Which change it was"}),
            );
        }
        let name = t.as_str();
        let audience = if t.reaches_every_tenant() {
            "every tenant's, and the platform's"
        } else {
            "the tenant's, and the platform's"
        };
        let item = json!({"post": {
            "operationId": format!("webhook_{}", name.replace('.', "_")),
            "tags": ["webhooks"],
            "summary": name,
            "description": format!(
                "{} Sent to the endpoints subscribed to `{name}` ({audience}). \
                 Verify the signature with any Standard Webhooks library and the endpoint's `whsec_` secret; \
                 `webhook-id` is the same on every attempt, so it deduplicates.",
                t.description()
            ),
            "parameters": [
                header("webhook-id", "The event's id, the same on every attempt"),
                header("webhook-timestamp", "When this attempt was signed, in seconds since 1970-01-01T00:00:00Z"),
                header("webhook-signature", "`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`; during a secret rotation two, space-separated"),
            ],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
                "allOf": [
                    {"$ref": "#/components/schemas/WebhookEvent"},
                    {"type": "object", "properties": {
                        "type": {"type": "string", "enum": [name]},
                        "data": {"type": "object", "properties": Value::Object(properties)},
                    }},
                ],
            }}}},
            "responses": {
                "2XX": {"description": "Delivered (within 15 s)"},
                "410": {"description": "The endpoint is gone: it is disabled and receives nothing more"},
                "default": {"description": "Retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h"},
            },
        }});
        paths.insert(name.to_owned(), item);
    }
    let mut out = utoipa::openapi::Paths::new();
    for (name, item) in paths {
        match serde_json::from_value::<utoipa::openapi::PathItem>(item) {
            Ok(item) => {
                out.paths.insert(name, item);
            }
            // A unit test proves every type is documented.
            Err(e) => {
                tracing::error!(event = %name, error = %e, "a webhook is not documented");
                #[cfg(test)]
                panic!("{name}: {e}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_type_is_documented() {
        use gatehouse_domain::audit::EventType;
        for t in EventType::ALL {
            let (fields, _) = t.data_fields();
            let item = openapi_webhooks();
            let item = item.paths.get(t.as_str());
            assert!(item.is_some(), "{} is missing ({fields:?})", t.as_str());
        }
    }
}

/// The body every webhook and stream event carries.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct WebhookEvent {
    /// The catalog type.
    #[schema(value_type = gatehouse_domain::audit::EventType)]
    r#type: String,
    /// When the change was committed (UTC).
    #[schema(format = DateTime)]
    timestamp: String,
    data: EventData,
}

/// What changed. Every type carries these; each adds its own fields.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EventData {
    /// The changed resource's id (a tenant, a person, a flag's key, a connection, a key).
    id: Option<String>,
    /// The tenant it belongs to; `null` for platform-wide changes (a flag's definition).
    tenant_id: Option<uuid::Uuid>,
    actor: EventActor,
}

/// Who made the change.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EventActor {
    /// `user`, `operator`, `application` or `system`.
    r#type: String,
    /// The person or application; `null` for the system.
    id: Option<uuid::Uuid>,
}
