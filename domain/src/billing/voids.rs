//! Corrections (FR-BILL-002, SPEC §7): an application voids an event it reported, within
//! the backdating window. The void is a record of its own (migration 0021), appended in
//! ingestion order, so the billing system's next pull carries it; the totals subtract it
//! in the same transaction, and the audit trail records it. Nothing is edited or deleted.

use super::events::TimeWindow;
use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::{DomainError, FieldError};
use anyhow::Context as _;
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// The longest reason kept with a void.
pub const MAX_REASON: usize = 500;

/// What a void did: `voided` now, or `already_voided` before (nothing changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoidStatus {
    /// Voided now.
    Voided,
    /// It was voided before: nothing changed.
    AlreadyVoided,
}

/// The answer to a void: the event as it was reported, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Voided {
    /// The event's `id`, as reported.
    pub id: String,
    pub status: VoidStatus,
    pub event_type: String,
    /// The quantity that no longer counts.
    pub quantity: i64,
    /// When the event happened (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

/// What to void: the event the application reported to `tenant` with its `id`.
#[derive(Debug, Clone)]
pub struct VoidRequest<'a> {
    pub application_id: Uuid,
    pub tenant_id: Uuid,
    pub id: &'a str,
    pub reason: Option<&'a str>,
}

/// Voids one event. Another application's event, or one never reported, is not found;
/// an event older than the window can no longer be voided.
pub async fn void(
    pool: &PgPool,
    ctx: &RequestContext,
    req: &VoidRequest<'_>,
    window: TimeWindow,
    now: OffsetDateTime,
) -> Result<Voided, DomainError> {
    if let Some(reason) = req.reason {
        if reason.chars().count() > MAX_REASON || reason.chars().any(char::is_control) {
            return Err(DomainError::Validation(vec![FieldError::new(
                "reason",
                format!("must be at most {MAX_REASON} characters, without control characters"),
            )]));
        }
    }
    let mut tx = pool.begin().await?;
    let event: Option<(Uuid, String, i64, OffsetDateTime)> = sqlx::query_as(
        "SELECT id, event_type, quantity, occurred_at FROM billing_events
          WHERE tenant_id = $1 AND idempotency_key = $2 AND application_id = $3
          FOR UPDATE",
    )
    .bind(req.tenant_id)
    .bind(req.id)
    .bind(req.application_id)
    .fetch_optional(&mut *tx)
    .await
    .context("finding the event to void")?;
    let (event_id, event_type, quantity, timestamp) =
        event.ok_or(DomainError::NotFound("billing event"))?;
    let answer = |status| Voided {
        id: req.id.to_owned(),
        status,
        event_type: event_type.clone(),
        quantity,
        timestamp,
    };
    if timestamp < now - window.max_age {
        return Err(DomainError::Validation(vec![FieldError::new(
            "id",
            format!(
                "happened more than {} days ago: it can no longer be voided",
                window.max_age.whole_days()
            ),
        )]));
    }
    let metadata = match req.reason {
        Some(r) => serde_json::json!({ "reason": r }),
        None => serde_json::json!({}),
    };
    let inserted: i64 = sqlx::query_scalar(
        "WITH void AS (
             INSERT INTO billing_events (tenant_id, application_id, event_type, quantity, occurred_at,
                                         metadata, kind, voids)
             VALUES ($1, $2, $3, $4, $5, $6, 'void', $7)
             ON CONFLICT (voids) WHERE voids IS NOT NULL DO NOTHING
             RETURNING tenant_id, event_type, quantity, occurred_at),
         rolled AS (
             UPDATE billing_usage_daily u
                SET quantity = u.quantity - v.quantity, events = u.events - 1
               FROM void v
              WHERE u.tenant_id = v.tenant_id AND u.event_type = v.event_type
                AND u.day = (v.occurred_at AT TIME ZONE 'UTC')::date
             RETURNING 1),
         monthly AS (
             UPDATE billing_usage_monthly u
                SET quantity = u.quantity - v.quantity, events = u.events - 1
               FROM void v
              WHERE u.tenant_id = v.tenant_id AND u.event_type = v.event_type
                AND u.month = date_trunc('month', v.occurred_at AT TIME ZONE 'UTC')::date
             RETURNING 1)
         SELECT count(*) FROM void",
    )
    .bind(req.tenant_id)
    .bind(req.application_id)
    .bind(&event_type)
    .bind(quantity)
    .bind(timestamp)
    .bind(&metadata)
    .bind(event_id)
    .fetch_one(&mut *tx)
    .await
    .context("appending the void")?;
    if inserted == 0 {
        return Ok(answer(VoidStatus::AlreadyVoided));
    }
    let mut entry = AuditEntry::new("billing.event.void")
        .tenant(Some(req.tenant_id))
        .actor(ActorType::Application, None)
        .resource(format!("billing_event:{event_id}"))
        .meta("application_id", req.application_id.to_string())
        .meta("event_id", req.id)
        .meta("event_type", event_type.as_str())
        .meta("quantity", quantity);
    if let Some(reason) = req.reason {
        entry = entry.meta("reason", reason);
    }
    append_audit_entry(&mut tx, ctx, entry).await?;
    tx.commit().await?;
    Ok(answer(VoidStatus::Voided))
}
