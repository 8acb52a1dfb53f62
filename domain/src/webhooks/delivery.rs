//! The worker's side: due deliveries are claimed with a lease (as the mail outbox does),
//! so several instances never send one twice at the same time, and each attempt's outcome
//! is recorded with the rules of SPEC §9: a 2xx delivers; 410 disables the endpoint;
//! anything else is retried on the schedule of [`super::retry_delay`]; 5 days without a
//! success mark the endpoint failing and mail its owners.

use super::endpoints::fail_pending;
use super::{retry_delay, FAILING_AFTER, HISTORY};
use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::email::{enqueue_mail, Mail};
use crate::types::Email;
use crate::DomainError;
use anyhow::Context as _;
use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// A claimed delivery with what the worker needs to send it.
#[derive(Clone, FromRow)]
pub struct DueDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub url: String,
    pub event_id: Uuid,
    /// The exact body to sign and send.
    pub body: String,
    /// This attempt's number (1 for the first).
    pub attempts: i32,
    pub rate_limit_per_second: i32,
    pub secret_ciphertext: Vec<u8>,
    pub previous_secret_ciphertext: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for DueDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueDelivery")
            .field("id", &self.id)
            .field("endpoint_id", &self.endpoint_id)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// How long a worker keeps claimed deliveries (their next attempt moves this far ahead):
/// a whole batch, at worst one 15 s timeout per 64 deliveries in flight, fits well within
/// it.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(120);

/// Takes up to `limit` due deliveries (a disabled endpoint has none: disabling fails them), and leases them
/// for `lease` (their next attempt moves that far ahead and the attempt counts), in one
/// statement with `FOR UPDATE SKIP LOCKED`. Oldest first.
pub async fn claim_due_deliveries(
    pool: &PgPool,
    limit: i64,
    lease: std::time::Duration,
) -> Result<Vec<DueDelivery>, DomainError> {
    let mut claimed: Vec<DueDelivery> = sqlx::query_as(
        "WITH due AS (
             SELECT d.id FROM webhook_deliveries d
             WHERE d.status = 'pending' AND d.next_attempt_at <= now()
             ORDER BY d.next_attempt_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED
         ), leased AS (
             UPDATE webhook_deliveries d
             SET next_attempt_at = now() + make_interval(secs => $2), attempts = d.attempts + 1,
                 leased_until = now() + make_interval(secs => $2)
             FROM due WHERE d.id = due.id
             RETURNING d.id, d.endpoint_id, d.event_id, d.attempts, d.created_at
         )
         SELECT l.id, l.endpoint_id, e.tenant_id, e.url, l.event_id, ev.body::text AS body,
                l.attempts, e.rate_limit_per_second, e.secret_ciphertext,
                e.previous_secret_ciphertext, e.previous_secret_expires_at, l.created_at
         FROM leased l
         JOIN webhook_endpoints e ON e.id = l.endpoint_id
         JOIN webhook_events ev ON ev.id = l.event_id",
    )
    .bind(limit.clamp(1, 1000))
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await
    .context("claiming due webhook deliveries")?;
    claimed.sort_by_key(|d| (d.created_at, d.id));
    Ok(claimed)
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    pub latency_ms: i32,
    /// Why no answer counted (free of secrets).
    pub error: Option<String>,
    /// The answer's first kilobyte.
    pub excerpt: Option<String>,
}

impl AttemptResult {
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What became of the delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Delivered,
    RetryAt(OffsetDateTime),
    /// No attempt is left, or the endpoint was disabled by a 410.
    Failed,
    /// The delivery was no longer pending (deleted, redelivered, endpoint gone).
    Stale,
}

fn cut(text: &str) -> String {
    text.chars().take(1000).collect()
}

/// Records one attempt of a claimed delivery (attempt number `attempt`), and what follows
/// from it, in one transaction.
pub async fn record_attempt(
    pool: &PgPool,
    delivery: &DueDelivery,
    result: &AttemptResult,
) -> Result<Recorded, DomainError> {
    let mut tx = pool.begin().await?;
    // The row is re-read under lock: a redelivery or a deleted endpoint since the claim
    // wins over this attempt's outcome.
    let current: Option<(String, i32)> =
        sqlx::query_as("SELECT status, attempts FROM webhook_deliveries WHERE id = $1 FOR UPDATE")
            .bind(delivery.id)
            .fetch_optional(&mut *tx)
            .await?;
    match current {
        Some((status, attempts)) if status == "pending" && attempts == delivery.attempts => {}
        _ => return Ok(Recorded::Stale),
    }
    let status = result.status.map(|s| s as i16);
    let error = result.error.as_deref().map(cut);
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, status_code, latency_ms, error, response_excerpt)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(delivery.id)
    .bind(status)
    .bind(result.latency_ms.max(0))
    .bind(&error)
    .bind(result.excerpt.as_deref().map(cut))
    .execute(&mut *tx)
    .await?;
    let last_error = error.clone().or_else(|| {
        result
            .status
            .filter(|_| !result.delivered())
            .map(|s| format!("the receiver answered HTTP {s}"))
    });
    let recorded = if result.delivered() {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(),
                    last_status = $2, last_error = NULL, leased_until = NULL WHERE id = $1",
        )
        .bind(delivery.id)
        .bind(status)
        .execute(&mut *tx)
        .await?;
        let recovered = sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = NULL,
                    status = CASE WHEN status = 'failing' THEN 'active' ELSE status END
             WHERE id = $1 AND (failing_since IS NOT NULL OR status = 'failing')",
        )
        .bind(delivery.endpoint_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if recovered {
            // The receiver is back (issue 21, faults): what waits for a later retry is due
            // now, instead of trickling in over the schedule's hours; the endpoint's
            // throttle paces it. A delivery in another worker's hands (its lease running)
            // is left to it.
            sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = now()
                 WHERE endpoint_id = $1 AND status = 'pending' AND next_attempt_at > now()
                   AND (leased_until IS NULL OR leased_until <= now())",
            )
            .bind(delivery.endpoint_id)
            .execute(&mut *tx)
            .await?;
        }
        Recorded::Delivered
    } else if result.status == Some(410) {
        fail(&mut tx, delivery.id, status, last_error.as_deref()).await?;
        disable_gone(&mut tx, delivery).await?;
        Recorded::Failed
    } else {
        let recorded = match retry_delay(delivery.attempts) {
            Some(wait) => {
                let at: OffsetDateTime = sqlx::query_scalar(
                    "UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $2),
                            last_status = $3, last_error = $4, leased_until = NULL
                     WHERE id = $1 RETURNING next_attempt_at",
                )
                .bind(delivery.id)
                .bind(wait.as_seconds_f64())
                .bind(status)
                .bind(&last_error)
                .fetch_one(&mut *tx)
                .await?;
                Recorded::RetryAt(at)
            }
            None => {
                fail(&mut tx, delivery.id, status, last_error.as_deref()).await?;
                Recorded::Failed
            }
        };
        mark_failing(&mut tx, delivery).await?;
        recorded
    };
    tx.commit().await?;
    Ok(recorded)
}

async fn fail(
    conn: &mut PgConnection,
    id: Uuid,
    status: Option<i16>,
    error: Option<&str>,
) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', last_status = $2, last_error = $3,
                leased_until = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A 410 answer: the receiver says the endpoint is gone for good.
async fn disable_gone(conn: &mut PgConnection, delivery: &DueDelivery) -> Result<(), DomainError> {
    let changed = sqlx::query(
        "UPDATE webhook_endpoints SET status = 'disabled', failing_since = NULL,
                disabled_reason = 'the receiver answered 410 Gone', updated_at = now()
         WHERE id = $1 AND status <> 'disabled'",
    )
    .bind(delivery.endpoint_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed > 0 {
        fail_pending(
            conn,
            delivery.endpoint_id,
            "the endpoint was disabled (410 Gone)",
        )
        .await?;
        append_audit_entry(
            conn,
            &RequestContext::default(),
            AuditEntry::new("webhook.disabled")
                .tenant(delivery.tenant_id)
                .resource(format!("webhook:{}", delivery.endpoint_id))
                .meta("reason", "410 Gone")
                .meta("url", delivery.url.clone()),
        )
        .await?;
    }
    Ok(())
}

/// Notes the failure; after 5 days of nothing but failures the endpoint becomes failing,
/// once, and its owners (the tenant's owners and admins, or the operators) are mailed.
async fn mark_failing(conn: &mut PgConnection, delivery: &DueDelivery) -> Result<(), DomainError> {
    // One UPDATE: the row is locked and both columns change together (a second UPDATE of
    // the same row in one statement would be skipped silently).
    let became_failing: Option<OffsetDateTime> = sqlx::query_scalar(
        "UPDATE webhook_endpoints e
         SET failing_since = coalesce(e.failing_since, now()),
             status = CASE WHEN e.status = 'active' AND e.failing_since <= now() - make_interval(secs => $2)
                           THEN 'failing' ELSE e.status END,
             updated_at = CASE WHEN e.status = 'active' AND e.failing_since <= now() - make_interval(secs => $2)
                               THEN now() ELSE e.updated_at END
         FROM (SELECT id, status AS old_status FROM webhook_endpoints WHERE id = $1 FOR UPDATE) old
         WHERE e.id = old.id
         RETURNING CASE WHEN old.old_status = 'active' AND e.status = 'failing' THEN e.failing_since END",
    )
    .bind(delivery.endpoint_id)
    .bind(FAILING_AFTER.as_seconds_f64())
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    let Some(since) = became_failing else {
        return Ok(());
    };
    let recipients: Vec<String> = sqlx::query_scalar(
        "SELECT email FROM users
         WHERE status = 'active' AND CASE WHEN $1::uuid IS NULL THEN role = 'operator'
                                          ELSE tenant_id = $1 AND role IN ('owner', 'admin') END
         ORDER BY email LIMIT 50",
    )
    .bind(delivery.tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    for to in recipients.iter().filter_map(|e| Email::parse(e).ok()) {
        enqueue_mail(
            conn,
            delivery.tenant_id,
            &to,
            Mail::WebhookFailing {
                url: delivery.url.clone(),
                since,
            },
        )
        .await?;
    }
    append_audit_entry(
        conn,
        &RequestContext::default(),
        AuditEntry::new("webhook.failing")
            .tenant(delivery.tenant_id)
            .resource(format!("webhook:{}", delivery.endpoint_id))
            .failure()
            .meta("url", delivery.url.clone())
            .meta("owners_mailed", recipients.len()),
    )
    .await?;
    Ok(())
}

/// Hands a claimed delivery back, due at `at`, without counting the attempt: the
/// endpoint's throttle was full, or the worker is stopping.
pub async fn defer_delivery(
    pool: &PgPool,
    id: Uuid,
    at: OffsetDateTime,
) -> Result<(), DomainError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = $2, attempts = greatest(attempts - 1, 0),
                leased_until = NULL
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes events (with their deliveries and attempts) older than 30 days. Returns how
/// many events went.
pub async fn purge_history(pool: &PgPool) -> Result<u64, DomainError> {
    let gone = sqlx::query(
        "DELETE FROM webhook_events WHERE created_at < now() - make_interval(secs => $1)
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                           WHERE d.event_id = webhook_events.id AND d.status = 'pending')",
    )
    .bind(HISTORY.as_seconds_f64())
    .execute(pool)
    .await?
    .rows_affected();
    Ok(gone)
}
