//! Managing endpoints and reading their deliveries: the operations behind the consoles and
//! `/api/v1/webhooks`. Secrets are shown once, when made (creation, rotation).

use super::{signing, Owner};
use crate::audit::{append_audit_entry, event_body, AuditEntry, EventType};
use crate::audit::{RequestContext, EVENTS_CHANNEL};
use crate::crypto::MasterKeys;
use crate::cursor;
use crate::effects::{commit, Done};
use crate::permissions::Actor;
use crate::sso::address_allowed;
use crate::{DomainError, FieldError};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use std::net::IpAddr;
use time::OffsetDateTime;
use uuid::Uuid;

/// An endpoint as the console and the API show it (never its secret).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: Uuid,
    /// The endpoint's tenant; `null` for a platform endpoint (every tenant's events).
    pub tenant_id: Option<Uuid>,
    #[schema(format = "uri")]
    pub url: String,
    pub description: Option<String>,
    /// The event types it receives.
    #[schema(value_type = Vec<EventType>)]
    pub event_types: Vec<String>,
    /// At most this many messages a second are sent to it.
    pub rate_limit_per_second: i32,
    #[schema(value_type = EndpointStatus)]
    pub status: String,
    /// Since when every attempt has failed (the endpoint is marked failing after 5 days).
    #[serde(with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    /// Why it is disabled (a 410 answer, or a person).
    pub disabled_reason: Option<String>,
    /// Until when the previous secret still signs too (a rotation's overlap).
    #[serde(with = "time::serde::rfc3339::option")]
    pub previous_secret_expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// An endpoint's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EndpointStatus {
    /// Receiving events.
    Active,
    /// Every attempt for 5 days has failed; events are still sent.
    Failing,
    /// Receives nothing (after a 410 answer, or turned off).
    Disabled,
}

/// An endpoint with its secret, the one time it is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// The `whsec_` signing secret. It is shown only now.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String, example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: SecretString,
}

fn expose<S: serde::Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose_secret())
}

/// A new endpoint, as validated by the caller's door.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub rate_limit_per_second: Option<i32>,
}

/// A change (merge semantics: `None` leaves a field as it is).
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub event_types: Option<Vec<String>>,
    pub rate_limit_per_second: Option<i32>,
    /// Turns the endpoint off, or back on (which also clears a failing mark).
    pub enabled: Option<bool>,
}

/// Endpoints per owner.
const MAX_ENDPOINTS: i64 = 50;

const COLUMNS: &str = "id, tenant_id, url, description, event_types, rate_limit_per_second, \
     status, failing_since, disabled_reason, previous_secret_expires_at, created_at, updated_at";

/// Checks an endpoint URL: absolute, `https` (plain `http` only when private addresses are
/// allowed, in development), no credentials or fragment, at most 2000 characters, and no
/// IP literal in a private or reserved range. Host names are checked again after DNS
/// resolution at every delivery.
pub fn check_url(raw: &str, allow_private: bool) -> Result<String, String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let url = url::Url::parse(raw).map_err(|_| "must be an absolute https URL".to_owned())?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err("must use https".into()),
        _ => return Err("must be an absolute https URL".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    // The URL as stored (normalised, international names in punycode) can be longer than
    // the URL as typed.
    if url.as_str().len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let ip = match url.host() {
        None => return Err("must name a host".into()),
        Some(url::Host::Domain(_)) => None,
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
    };
    if ip.is_some_and(|ip| !address_allowed(ip, allow_private)) {
        return Err("must not point at a private, loopback or link-local address".into());
    }
    Ok(url.to_string())
}

/// Checks the subscribed types: 1 to 50 of the catalog, case-insensitive, duplicates
/// folded. Every unknown name is reported.
pub fn check_event_types(raw: &[String]) -> Result<Vec<String>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut types: Vec<String> = Vec::new();
    for (i, name) in raw.iter().enumerate() {
        match EventType::parse(name).filter(|t| *t != EventType::WebhookTest) {
            Some(t) if !types.iter().any(|x| x == t.as_str()) => types.push(t.as_str().into()),
            Some(_) => {}
            None => errors.push(FieldError::new(
                format!("event_types[{i}]"),
                format!(
                    "must be one of: {}",
                    EventType::subscribable()
                        .map(EventType::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    if raw.is_empty() {
        errors.push(FieldError::new(
            "event_types",
            "must name at least one event type",
        ));
    }
    if raw.len() > 50 {
        errors.push(FieldError::new(
            "event_types",
            "must name at most 50 event types",
        ));
    }
    if errors.is_empty() {
        Ok(types)
    } else {
        Err(errors)
    }
}

fn check_rate(rate: i32) -> Result<i32, FieldError> {
    if (1..=1000).contains(&rate) {
        Ok(rate)
    } else {
        Err(FieldError::new(
            "rate_limit_per_second",
            "must be between 1 and 1000",
        ))
    }
}

fn check_description(d: Option<String>) -> Result<Option<String>, FieldError> {
    let d = d.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    match d {
        Some(d) if d.chars().count() > 500 => Err(FieldError::new(
            "description",
            "must be at most 500 characters",
        )),
        d => Ok(d),
    }
}

fn secret_aad(id: Uuid) -> String {
    format!("webhook:{id}")
}

/// Registers an endpoint for `owner`. Its secret is in the answer, and nowhere else.
pub async fn create_endpoint(
    pool: &PgPool,
    keys: &MasterKeys,
    ctx: &RequestContext,
    actor: &Actor,
    owner: Owner,
    new: NewEndpoint,
    allow_private: bool,
) -> Result<Done<EndpointWithSecret>, DomainError> {
    let mut errors = Vec::new();
    let url = check_url(&new.url, allow_private)
        .map_err(|m| errors.push(FieldError::new("url", m)))
        .ok();
    let types = check_event_types(&new.event_types)
        .map_err(|e| errors.extend(e))
        .ok();
    let rate = check_rate(new.rate_limit_per_second.unwrap_or(20))
        .map_err(|e| errors.push(e))
        .ok();
    let description = check_description(new.description)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(url), Some(types), Some(rate), Some(description)) = (url, types, rate, description)
    else {
        return Err(DomainError::Validation(errors));
    };
    let id = Uuid::now_v7();
    let secret = signing::new_secret();
    let sealed = keys.encrypt(secret.expose_secret().as_bytes(), &secret_aad(id))?;
    commit(pool, crate::effects::Effects::NONE, async |conn| {
        ensure_tenant(conn, owner).await?;
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_endpoints WHERE tenant_id IS NOT DISTINCT FROM $1",
        )
        .bind(owner.tenant_id())
        .fetch_one(&mut *conn)
        .await?;
        if count >= MAX_ENDPOINTS {
            return Err(DomainError::conflict(
                "url",
                format!("at most {MAX_ENDPOINTS} endpoints can be registered"),
            ));
        }
        let endpoint: Endpoint = sqlx::query_as(&format!(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, description, event_types,
                                            secret_ciphertext, rate_limit_per_second, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(owner.tenant_id())
        .bind(&url)
        .bind(&description)
        .bind(&types)
        .bind(&sealed)
        .bind(rate)
        .bind(actor.user_id)
        .fetch_one(&mut *conn)
        .await?;
        audit(conn, ctx, actor, &endpoint, "webhook.create")
            .await
            .map(|_| ())?;
        Ok(EndpointWithSecret {
            endpoint,
            secret: secret.clone(),
        })
    })
    .await
}

/// A tenant that does not exist has no endpoints (an operator naming a wrong id).
async fn ensure_tenant(conn: &mut PgConnection, owner: Owner) -> Result<(), DomainError> {
    if let Owner::Tenant(id) = owner {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)")
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
        if !exists {
            return Err(DomainError::NotFound("tenant"));
        }
    }
    Ok(())
}

/// The audit entry of a person's action on an endpoint.
fn entry(action: &str, actor: &Actor, endpoint: &Endpoint) -> AuditEntry {
    AuditEntry::new(action)
        .tenant(endpoint.tenant_id)
        .by(Some(actor))
        .resource(format!("webhook:{}", endpoint.id))
}

/// Audits a change to the endpoint itself, with its new state.
async fn audit(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: &Actor,
    endpoint: &Endpoint,
    action: &str,
) -> Result<crate::audit::AppendedEntry, DomainError> {
    append_audit_entry(
        conn,
        ctx,
        entry(action, actor, endpoint)
            .meta("url", endpoint.url.clone())
            .meta("event_types", endpoint.event_types.clone())
            .meta("status", endpoint.status.clone()),
    )
    .await
}

/// A page of endpoints, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointPage {
    pub data: Vec<Endpoint>,
    pub next_cursor: Option<String>,
}

/// A page of `limit` rows from `rows` (fetched with `limit + 1`), and the cursor of the
/// next page when there is one.
fn page_of<T>(
    mut rows: Vec<T>,
    limit: i64,
    position: impl Fn(&T) -> (OffsetDateTime, Uuid),
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(0);
    if rows.len() <= limit {
        return (rows, None);
    }
    rows.truncate(limit);
    let next = rows.last().map(|r| {
        let (at, id) = position(r);
        cursor::encode(at, id)
    });
    (rows, next)
}

pub async fn list_endpoints(
    pool: &PgPool,
    owner: Owner,
    limit: i64,
    after: Option<&str>,
) -> Result<EndpointPage, DomainError> {
    let after = cursor::page_start(limit, after)?;
    let rows: Vec<Endpoint> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
         WHERE tenant_id IS NOT DISTINCT FROM $1
           AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
         ORDER BY created_at, id LIMIT $4"
    ))
    .bind(owner.tenant_id())
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    let (data, next_cursor) = page_of(rows, limit, |e| (e.created_at, e.id));
    Ok(EndpointPage { data, next_cursor })
}

async fn fetch(
    conn: &mut PgConnection,
    owner: Owner,
    id: Uuid,
    lock: bool,
) -> Result<Endpoint, DomainError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
         WHERE id = $1 AND tenant_id IS NOT DISTINCT FROM $2 {}",
        if lock { "FOR UPDATE" } else { "" }
    ))
    .bind(id)
    .bind(owner.tenant_id())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound("webhook endpoint"))
}

pub async fn get_endpoint(pool: &PgPool, owner: Owner, id: Uuid) -> Result<Endpoint, DomainError> {
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, owner, id, false).await
}

/// Changes an endpoint (merge semantics). Turning it back on clears its failing mark.
pub async fn update_endpoint(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    owner: Owner,
    id: Uuid,
    changes: EndpointChanges,
    allow_private: bool,
) -> Result<Done<Endpoint>, DomainError> {
    let mut errors = Vec::new();
    let url = changes
        .url
        .map(|u| check_url(&u, allow_private))
        .transpose()
        .map_err(|m| errors.push(FieldError::new("url", m)))
        .ok()
        .flatten();
    let types = changes
        .event_types
        .map(|t| check_event_types(&t))
        .transpose()
        .map_err(|e| errors.extend(e))
        .ok()
        .flatten();
    let rate = changes
        .rate_limit_per_second
        .map(check_rate)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let description = changes
        .description
        .map(check_description)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    commit(pool, crate::effects::Effects::NONE, async |conn| {
        let before = fetch(conn, owner, id, true).await?;
        let status = match changes.enabled {
            Some(false) => Some("disabled"),
            Some(true) => Some("active"),
            None => None,
        };
        let after: Endpoint = sqlx::query_as(&format!(
            "UPDATE webhook_endpoints SET
                 url = coalesce($2, url),
                 description = CASE WHEN $3 THEN $4 ELSE description END,
                 event_types = coalesce($5, event_types),
                 rate_limit_per_second = coalesce($6, rate_limit_per_second),
                 status = coalesce($7, status),
                 failing_since = CASE WHEN $7 IS NULL THEN failing_since ELSE NULL END,
                 disabled_reason = CASE WHEN $7 = 'disabled' THEN coalesce(disabled_reason, 'turned off by a person')
                                        WHEN $7 = 'active' THEN NULL ELSE disabled_reason END,
                 updated_at = now()
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(&url)
        .bind(description.is_some())
        .bind(description.clone().flatten())
        .bind(&types)
        .bind(rate)
        .bind(status)
        .fetch_one(&mut *conn)
        .await?;
        if after != before {
            if after.status == "disabled" && before.status != "disabled" {
                fail_pending(conn, id, "the endpoint was turned off").await?;
            }
            audit(conn, ctx, actor, &after, "webhook.update").await?;
        }
        Ok(after)
    })
    .await
}

/// Ends the pending deliveries of an endpoint that will receive nothing more.
pub(super) async fn fail_pending(
    conn: &mut PgConnection,
    endpoint_id: Uuid,
    why: &str,
) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = $2
         WHERE endpoint_id = $1 AND status = 'pending'",
    )
    .bind(endpoint_id)
    .bind(why)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes an endpoint with its delivery history.
pub async fn delete_endpoint(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    owner: Owner,
    id: Uuid,
) -> Result<Done<()>, DomainError> {
    commit(pool, crate::effects::Effects::NONE, async |conn| {
        let endpoint = fetch(conn, owner, id, true).await?;
        sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        audit(conn, ctx, actor, &endpoint, "webhook.delete").await?;
        Ok(())
    })
    .await
}

/// Makes a new secret. The old one keeps signing beside it for `overlap` (0 ends it now),
/// so receivers can switch without losing a message.
pub async fn rotate_secret(
    pool: &PgPool,
    keys: &MasterKeys,
    ctx: &RequestContext,
    actor: &Actor,
    owner: Owner,
    id: Uuid,
    overlap: time::Duration,
) -> Result<Done<EndpointWithSecret>, DomainError> {
    if overlap.is_negative() || overlap > time::Duration::days(7) {
        return Err(DomainError::validation(
            "overlap_hours",
            "must be between 0 and 168",
        ));
    }
    let secret = signing::new_secret();
    let sealed = keys.encrypt(secret.expose_secret().as_bytes(), &secret_aad(id))?;
    commit(pool, crate::effects::Effects::NONE, async |conn| {
        fetch(conn, owner, id, true).await?;
        let endpoint: Endpoint = sqlx::query_as(&format!(
            "UPDATE webhook_endpoints SET
                 previous_secret_ciphertext = CASE WHEN $3 > 0 THEN secret_ciphertext END,
                 previous_secret_expires_at = CASE WHEN $3 > 0 THEN now() + make_interval(secs => $3) END,
                 secret_ciphertext = $2, updated_at = now()
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(&sealed)
        .bind(overlap.as_seconds_f64())
        .fetch_one(&mut *conn)
        .await?;
        append_audit_entry(
            conn,
            ctx,
            entry("webhook.secret.rotate", actor, &endpoint)
                .meta("overlap_seconds", overlap.whole_seconds()),
        )
        .await?;
        Ok(EndpointWithSecret {
            endpoint,
            secret: secret.clone(),
        })
    })
    .await
}

/// The secrets that sign a message now: the current one, and the previous one during a
/// rotation's overlap.
pub fn live_secrets(
    keys: &MasterKeys,
    id: Uuid,
    current: &[u8],
    previous: Option<(&[u8], OffsetDateTime)>,
) -> Result<Vec<SecretString>, DomainError> {
    let open = |blob: &[u8]| -> Result<SecretString, DomainError> {
        let bytes = keys.decrypt(blob, &secret_aad(id))?;
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| DomainError::Unexpected(anyhow::anyhow!("a webhook secret is not text")))
    };
    let mut secrets = vec![open(current)?];
    if let Some((blob, until)) = previous {
        if until > OffsetDateTime::now_utc() {
            secrets.push(open(blob)?);
        }
    }
    Ok(secrets)
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow, utoipa::ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The `webhook-id` the receiver sees (the same on every attempt).
    pub event_id: Uuid,
    #[schema(value_type = EventType)]
    pub event_type: String,
    #[schema(value_type = DeliveryStatus)]
    pub status: String,
    /// Attempts in the current schedule (a redelivery starts a new one; the delivery's
    /// detail lists every attempt ever made).
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The last answer's HTTP status, if one came.
    pub last_status: Option<i16>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// A 2xx answer came.
    Delivered,
    /// Every attempt failed, or the endpoint was disabled.
    Failed,
}

/// One attempt: what the receiver answered, and how fast.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow, utoipa::ToSchema)]
pub struct Attempt {
    #[serde(with = "time::serde::rfc3339")]
    pub attempted_at: OffsetDateTime,
    pub status_code: Option<i16>,
    pub latency_ms: i32,
    /// Why no answer counted (timeout, refused address, connection error).
    pub error: Option<String>,
    /// The first kilobyte of the answer's body.
    pub response_excerpt: Option<String>,
}

/// A delivery with the message sent and every attempt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: Delivery,
    /// The body sent (the same bytes on every attempt).
    pub body: serde_json::Value,
    pub attempts_made: Vec<Attempt>,
}

const DELIVERY_COLUMNS: &str =
    "d.id, d.endpoint_id, d.event_id, ev.event_type, d.status, d.attempts, \
     CASE WHEN d.status = 'pending' THEN d.next_attempt_at END AS next_attempt_at, \
     d.last_status, d.last_error, d.created_at, d.delivered_at";

/// A page of an endpoint's deliveries, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryPage {
    pub data: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

pub async fn list_deliveries(
    pool: &PgPool,
    owner: Owner,
    endpoint_id: Uuid,
    status: Option<DeliveryStatus>,
    limit: i64,
    after: Option<&str>,
) -> Result<DeliveryPage, DomainError> {
    let after = cursor::page_start(limit, after)?;
    get_endpoint(pool, owner, endpoint_id).await?;
    let status = status.map(|s| match s {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Failed => "failed",
    });
    let rows: Vec<Delivery> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
         WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2)
           AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3, $4))
         ORDER BY d.created_at DESC, d.id DESC LIMIT $5"
    ))
    .bind(endpoint_id)
    .bind(status)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    let (data, next_cursor) = page_of(rows, limit, |d| (d.created_at, d.id));
    Ok(DeliveryPage { data, next_cursor })
}

async fn fetch_delivery(
    conn: &mut PgConnection,
    endpoint_id: Uuid,
    id: Uuid,
) -> Result<Delivery, DomainError> {
    sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
         WHERE d.id = $1 AND d.endpoint_id = $2"
    ))
    .bind(id)
    .bind(endpoint_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound("delivery"))
}

pub async fn get_delivery(
    pool: &PgPool,
    owner: Owner,
    endpoint_id: Uuid,
    id: Uuid,
) -> Result<DeliveryDetail, DomainError> {
    let mut conn = pool.acquire().await?;
    fetch(&mut conn, owner, endpoint_id, false).await?;
    let delivery = fetch_delivery(&mut conn, endpoint_id, id).await?;
    let body: serde_json::Value =
        sqlx::query_scalar("SELECT body FROM webhook_events WHERE id = $1")
            .bind(delivery.event_id)
            .fetch_one(&mut *conn)
            .await?;
    let attempts_made = sqlx::query_as(
        "SELECT attempted_at, status_code, latency_ms, error, response_excerpt
         FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempted_at",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(DeliveryDetail {
        delivery,
        body,
        attempts_made,
    })
}

/// Sends the delivery again at once, with a fresh schedule of attempts (its history stays).
pub async fn redeliver(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    owner: Owner,
    endpoint_id: Uuid,
    id: Uuid,
) -> Result<Done<Delivery>, DomainError> {
    commit(pool, crate::effects::Effects::NONE, async |conn| {
        let endpoint = fetch(conn, owner, endpoint_id, true).await?;
        if endpoint.status == "disabled" {
            return Err(DomainError::conflict(
                "status",
                "the endpoint is disabled; turn it on before redelivering",
            ));
        }
        fetch_delivery(conn, endpoint_id, id).await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(),
                    delivered_at = NULL, leased_until = NULL
             WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        wake(conn).await?;
        append_audit_entry(
            conn,
            ctx,
            entry("webhook.redeliver", actor, &endpoint).meta("delivery_id", id.to_string()),
        )
        .await?;
        fetch_delivery(conn, endpoint_id, id).await
    })
    .await
}

/// Wakes the delivery workers at commit.
async fn wake(conn: &mut PgConnection) -> Result<(), DomainError> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(EVENTS_CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sends a `webhook.test` event to this endpoint only (whatever it subscribes to, unless
/// it is disabled).
pub async fn send_test(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    owner: Owner,
    endpoint_id: Uuid,
) -> Result<Done<Delivery>, DomainError> {
    commit(pool, crate::effects::Effects::NONE, async |conn| {
        let endpoint = fetch(conn, owner, endpoint_id, false).await?;
        if endpoint.status == "disabled" {
            return Err(DomainError::conflict(
                "status",
                "the endpoint is disabled; turn it on before testing it",
            ));
        }
        let event_id = Uuid::now_v7();
        let body = event_body(
            EventType::WebhookTest,
            OffsetDateTime::now_utc(),
            json!({"endpoint_id": endpoint_id, "tenant_id": endpoint.tenant_id,
                   "message": "This is a test event from Gatehouse.",
                   "actor": {"type": crate::audit::actor_of(Some(actor)).0, "id": actor.user_id}}),
        );
        let delivery_id: Uuid = sqlx::query_scalar(
            "WITH ev AS (
                 INSERT INTO webhook_events (id, tenant_id, event_type, body)
                 VALUES ($1, $2, 'webhook.test', $3) RETURNING id
             )
             INSERT INTO webhook_deliveries (endpoint_id, event_id)
             SELECT $4, ev.id FROM ev RETURNING id",
        )
        .bind(event_id)
        .bind(endpoint.tenant_id)
        .bind(body)
        .bind(endpoint_id)
        .fetch_one(&mut *conn)
        .await?;
        wake(conn).await?;
        append_audit_entry(
            conn,
            ctx,
            entry("webhook.test", actor, &endpoint).meta("delivery_id", delivery_id.to_string()),
        )
        .await?;
        fetch_delivery(conn, endpoint_id, delivery_id).await
    })
    .await
}
