//! The Billing API (API-BILL, FR-BILL-001..003; SPEC §7, §9), for applications' own tokens:
//!
//! - `POST /api/v1/billing/events` (`bill:write`): one event or `{"events": [...]}` (≤ 100),
//!   validated whole (422 naming every field of every event, nothing stored), answered
//!   after the commit with `accepted`, `duplicate` or `conflict` per event.
//! - `POST /api/v1/billing/events/bulk` (`bill:write`): NDJSON, streamed at constant memory,
//!   a report per rejected line (`api::ndjson`).
//! - `POST /api/v1/events` (`bill:write`): the same events as CloudEvents, as OpenMeter's
//!   clients send them (`application/cloudevents+json`, `application/cloudevents-batch+json`).
//! - `POST /api/v1/billing/events/{id}/void` (`bill:write`): a correction, within the
//!   backdating window, appended as a record of its own and audited.
//! - `GET /api/v1/billing/events` (`bill:read`): incremental pulls in ingestion order below
//!   the commit watermark (`after` = the last `next_cursor`), filtered by tenant, type and
//!   time; JSON pages, or the whole backlog as CSV (`Accept: text/csv`), streamed, each row
//!   with its own cursor.
//! - `GET /api/v1/billing/usage` (`bill:read`): exact totals per tenant × type × day or
//!   month, in UTC or a time zone (`tz`).
//!
//! Events count against the events rate limit (`GATEHOUSE_RATE_LIMIT_EVENTS`), as the
//! audit API's do, and in `gatehouse_billing_events_total{outcome}`.

use crate::api::error::{ErrorBody, Refusals};
use crate::api::ndjson::{self, BulkKind, BulkReport, Counts};
use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::{Bearer, RequestMeta};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_domain::audit::{self, Sender};
use gatehouse_domain::billing::{
    self, Fate, PullPage, PullQuery, PulledEvent, Readable, TimeWindow, UsageEvent, UsageQuery,
    UsageTotal, UsageWindow, VoidRequest, Voided,
};
use gatehouse_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Rows one CSV pull may be limited to (without `limit`, everything ready is sent).
/// `PullParams::limit` repeats it for the document.
const CSV_MAX_LIMIT: i64 = 10_000_000;

pub fn router() -> OpenApiRouter<AppState> {
    ApiRoutes::new()
        .routes(routes!(pull, ingest))
        .routes(routes!(void))
        .routes(routes!(usage))
        .routes(routes!(cloud_events))
        .build()
}

/// The bulk route, merged by the server outside the body limit and the request timeout.
pub fn bulk_router() -> OpenApiRouter<AppState> {
    ApiRoutes::new().routes(routes!(bulk)).build()
}

// The request bodies below exist for the document only: the handlers read the JSON
// themselves (`billing::parse_batch`, `billing::parse_cloud_events`), so that every
// violation of every event is named in the domain's words (`events[3].quantity`). Their
// rules mirror those parsers.

/// One usage event, as an application reports it.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UsageEvent)]
#[allow(dead_code)]
struct UsageEventBody {
    /// The application's id for the event: the same id with the same content is a
    /// `duplicate` (stored once), with other content a `conflict` (refused). Kept as long
    /// as the event.
    #[schema(min_length = 1, max_length = 200)]
    id: String,
    /// The tenant's domain, one of those the application is enabled for; without it, the
    /// tenant the token is bound to.
    #[schema(max_length = 253)]
    tenant: Option<String>,
    /// When it happened: ISO 8601 in UTC, ending in `Z`; at most 35 days old and 5 minutes
    /// ahead by default (`GATEHOUSE_BILLING_MAX_AGE_DAYS`,
    /// `GATEHOUSE_BILLING_MAX_AHEAD_SECS`).
    #[schema(format = DateTime, max_length = 40)]
    timestamp: String,
    /// What was used, dotted lowercase: `api.call`.
    #[schema(pattern = "^[a-z][a-z0-9_.]{0,63}$")]
    event_type: String,
    /// How much: a whole number from 1 to 2^53 − 1.
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    quantity: i64,
    #[schema(schema_with = super::audit::metadata_schema)]
    metadata: Option<Value>,
}

/// Up to 100 usage events, validated and stored together.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct UsageEventBatch {
    #[schema(min_items = 1, max_items = 100)]
    events: Vec<UsageEventBody>,
}

/// One usage event, or `{"events": [...]}` with 1 to 100.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)]
enum UsageEvents {
    One(UsageEventBody),
    Batch(UsageEventBatch),
}

/// A usage event as a CloudEvent 1.0 (JSON format), as OpenMeter's clients send it.
/// Extension attributes (names of lower-case letters and digits) are taken and not kept.
#[derive(ToSchema)]
#[allow(dead_code)]
struct CloudEvent {
    #[schema(inline)]
    specversion: SpecVersion,
    /// With `source`, the event's idempotency key (stored as `source#id`): the same pair
    /// with the same content is stored once, with other content refused.
    #[schema(min_length = 1, max_length = 200)]
    id: String,
    /// The sender; see `id`.
    #[schema(min_length = 1, max_length = 200)]
    source: String,
    /// The event type, dotted lowercase: `tokens.used`.
    #[serde(rename = "type")]
    #[schema(pattern = "^[a-z][a-z0-9_.]{0,63}$")]
    kind: String,
    /// The tenant's domain, one of those the application is enabled for; without it, the
    /// tenant the token is bound to.
    #[schema(max_length = 253)]
    subject: Option<String>,
    /// When it happened (RFC 3339, any offset), within the backdating window; without it,
    /// when it was received (and a re-send is then judged without the time).
    #[schema(format = DateTime, max_length = 40)]
    time: Option<String>,
    /// `application/json` when given.
    #[schema(max_length = 100)]
    datacontenttype: Option<String>,
    /// Taken and not kept.
    dataschema: Option<String>,
    #[schema(inline)]
    data: Option<CloudEventData>,
}

/// The CloudEvents version.
#[derive(ToSchema)]
#[allow(dead_code)]
enum SpecVersion {
    #[serde(rename = "1.0")]
    V1,
}

/// The event's data: `quantity`, and up to 20 more members kept as the event's metadata
/// (strings of at most 500 characters, numbers, booleans or null).
#[derive(ToSchema)]
#[schema(max_properties = 21)]
#[allow(dead_code)]
struct CloudEventData {
    /// How much: a whole number from 1 to 2^53 − 1; 1 when absent.
    #[schema(nullable = false, minimum = 1, maximum = 9007199254740991_i64)]
    quantity: Option<i64>,
}

/// 1 to 100 CloudEvents.
#[derive(ToSchema)]
#[schema(min_items = 1, max_items = 100)]
#[allow(dead_code)]
struct CloudEventBatch(Vec<CloudEvent>);

fn window(state: &AppState) -> TimeWindow {
    TimeWindow {
        max_age: time::Duration::days(i64::from(state.settings.billing_max_age_days)),
        max_ahead: time::Duration::seconds(i64::from(state.settings.billing_max_ahead_secs)),
    }
}

/// Counts events in `gatehouse_billing_events_total{outcome}` and on the operator's
/// dashboard.
fn record(counts: Counts, rejected: u64) {
    for (outcome, n) in [
        ("accepted", counts.accepted),
        ("duplicate", counts.duplicates),
        ("conflict", counts.conflicts),
        ("rejected", rejected),
    ] {
        if n > 0 {
            metrics::counter!("gatehouse_billing_events_total", "outcome" => outcome).increment(n);
        }
    }
    gatehouse_app::request_stats::record_usage(
        counts.accepted + counts.duplicates + counts.conflicts,
        rejected,
    );
}

/// What became of a request's usage events, in the order sent.
#[derive(Serialize, ToSchema)]
struct UsageIngested {
    /// One answer per event.
    data: Vec<billing::EventFate>,
    /// Events stored now.
    accepted: usize,
    /// Events sent before with the same content: stored once, not again.
    duplicates: usize,
    /// Events whose `id` was sent before with other content: refused.
    conflicts: usize,
}

/// Stores the events `parse` reads for the calling application and answers each one's
/// fate; `field(i)` names event `i`'s tenant. A refused request counts its `sent` events
/// as rejected.
async fn take(
    state: &AppState,
    bearer: &Bearer,
    sent: usize,
    parse: impl FnOnce(OffsetDateTime, TimeWindow) -> Result<Vec<UsageEvent>, DomainError>,
    field: impl Fn(usize) -> String,
) -> Result<(StatusCode, Json<UsageIngested>), ApiError> {
    let taken = async {
        bearer.require_application_with("bill:write")?;
        let events = parse(OffsetDateTime::now_utc(), window(state))?;
        let named = audit::named_tenants(events.iter().map(|e| e.tenant.as_deref()));
        let sender = super::audit::sender_of(state, bearer, "bill:write", named.as_deref()).await?;
        let tenants = billing::assign_tenants(&sender, &events, field)
            .map_err(super::audit::tenant_refusal)?;
        state
            .rate_limits
            .check_events(&bearer.0.client_id, events.len() as u32)
            .map_err(|wait| super::audit::too_many(wait, events.len()))?;
        Ok::<_, ApiError>(
            billing::ingest(&state.pool, bearer.0.application_id, &events, &tenants).await?,
        )
    }
    .await;
    let data = match taken {
        Ok(data) => data,
        Err(e) => {
            record(Counts::default(), sent as u64);
            return Err(e);
        }
    };
    let count = |f: Fate| data.iter().filter(|e| e.status == f).count();
    let (accepted, duplicates, conflicts) = (
        count(Fate::Accepted),
        count(Fate::Duplicate),
        count(Fate::Conflict),
    );
    record(
        Counts {
            accepted: accepted as u64,
            duplicates: duplicates as u64,
            conflicts: conflicts as u64,
        },
        0,
    );
    // A conflict is named in the answer's `data` (an error status would lose the
    // per-event answers of the batch).
    let status = if accepted > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(UsageIngested {
            data,
            accepted,
            duplicates,
            conflicts,
        }),
    ))
}

/// Report usage: one event, or `{"events": [...]}` with at most 100.
///
/// The whole body is validated first: every violation of every event is named with its
/// field (`events[3].quantity`) and nothing is stored. The answer comes after the commit,
/// one status per event: `accepted`; `duplicate` for an `id` this application sent before
/// with the same content (stored once, so a retry never counts twice); `conflict` for an
/// `id` sent before with other content (refused, named in `data`; the batch's other
/// events are kept).
///
/// Events count against the key's events allowance, not requests: a batch that does not
/// fit is refused whole (429, `Retry-After`). For more than 100 events, use
/// `/v1/billing/events/bulk`.
#[utoipa::path(
    post,
    path = "/v1/billing/events",
    tag = "billing",
    operation_id = "report_usage_events",
    request_body(
        content = inline(UsageEvents),
        description = "One event, or `{\"events\": [...]}` with 1 to 100 events"
    ),
    responses(
        Refusals,
        (status = 201, description = "At least one event was accepted; each event's status, in the order sent", body = UsageIngested),
        (status = 200, description = "Nothing new was accepted: duplicates or conflicts only", body = UsageIngested),
        (status = 403, description = "Not an application's token with `bill:write`, or the application or its tenant is disabled", body = ErrorBody),
        (status = 404, description = "A named tenant is not one the application may write (named per event: `events[1].tenant`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes: use `/v1/billing/events/bulk`", body = ErrorBody),
        (status = 422, description = "Every invalid field of every event named; nothing stored", body = ErrorBody),
        (status = 429, description = "Too many requests with this key, or the events do not fit in its events allowance; nothing stored", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the allowance has room"))),
        (status = 503, description = "The database is not reachable right now; nothing stored", body = ErrorBody),
    ),
    security(("oauth2" = ["bill:write"])),
)]
async fn ingest(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let batch = body.get("events");
    let sent = batch.and_then(Value::as_array).map_or(1, Vec::len);
    let batch = batch.is_some();
    take(
        &state,
        &bearer,
        sent,
        |now, window| billing::parse_batch(&body, now, window),
        |i| {
            if batch {
                format!("events[{i}].tenant")
            } else {
                "tenant".to_owned()
            }
        },
    )
    .await
}

/// Report usage as CloudEvents 1.0, as OpenMeter's clients send them.
///
/// One event (`application/cloudevents+json`) or an array of 1 to 100
/// (`application/cloudevents-batch+json`; with `application/json`, an array is a batch).
/// `subject` is the tenant's domain, `type` the event type, `source` + `id` the
/// idempotency key, `data.quantity` the quantity (1 when absent) and the rest of `data` the
/// metadata. Every violation of every event is named (`[1].data.quantity`) and nothing is
/// stored.
///
/// As OpenMeter answers: 204 when every event is stored, or was already (the same source
/// and id with the same content). An id sent before with other content is refused and
/// named (409); the batch's other events are stored. Events count against the key's
/// events allowance (429, `Retry-After`).
#[utoipa::path(
    post,
    path = "/v1/events",
    tag = "billing",
    operation_id = "report_cloud_events",
    request_body(
        description = "One CloudEvent, or an array of 1 to 100",
        content(
            (CloudEvent = "application/cloudevents+json"),
            (inline(CloudEventBatch) = "application/cloudevents-batch+json")
        )
    ),
    responses(
        Refusals,
        (status = 204, description = "Every event is stored, or was already (source and id seen before with the same content)"),
        (status = 403, description = "Not an application's token with `bill:write`, or the application or its tenant is disabled", body = ErrorBody),
        (status = 404, description = "A `subject` is not a tenant the application may write (named: `[0].subject`); nothing stored", body = ErrorBody),
        (status = 409, description = "Events reused a source and id with other content: refused and named (`[1].id`); the others are stored", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes: use `/v1/billing/events/bulk`", body = ErrorBody),
        (status = 422, description = "Every invalid attribute of every event named, or another content type; nothing stored", body = ErrorBody),
        (status = 429, description = "Too many requests with this key, or the events do not fit in its events allowance; nothing stored", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the allowance has room"))),
        (status = 503, description = "The database is not reachable right now; nothing stored", body = ErrorBody),
    ),
    security(("oauth2" = ["bill:write"])),
)]
async fn cloud_events(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let batch = match kind.as_str() {
        "application/cloudevents-batch+json" => true,
        "application/cloudevents+json" => false,
        "application/json" => body.is_array(),
        _ => {
            record(Counts::default(), 1);
            return Err(ApiError::validation(vec![FieldError::new(
                "content-type",
                "must be application/cloudevents+json or application/cloudevents-batch+json",
            )]));
        }
    };
    let sent = body.as_array().map_or(1, Vec::len);
    let at = |i: usize, field: &str| {
        if batch {
            format!("[{i}].{field}")
        } else {
            field.to_owned()
        }
    };
    let (_, Json(taken)) = take(
        &state,
        &bearer,
        sent,
        |now, window| billing::parse_cloud_events(&body, batch, now, window),
        |i| at(i, "subject"),
    )
    .await?;
    // OpenMeter's contract: 204 when every event is stored (or was already). An id sent
    // before with other content is refused and named; the batch's other events are kept.
    let conflicts: Vec<FieldError> = taken
        .data
        .iter()
        .enumerate()
        .filter(|(_, e)| e.status == Fate::Conflict)
        .map(|(i, _)| FieldError::new(at(i, "id"), "was sent before with other content"))
        .collect();
    if conflicts.is_empty() {
        return Ok(StatusCode::NO_CONTENT);
    }
    Err(ApiError {
        details: conflicts,
        ..ApiError::new(
            StatusCode::CONFLICT,
            "ERR_CONFLICT",
            format!(
                "{} of {} events reused an id with other content and were refused; the others are stored",
                taken.conflicts,
                taken.data.len()
            ),
        )
    })
}

/// Usage events, as a bulk request carries them.
struct UsageBulk {
    sender: Sender,
    application_id: Uuid,
    now: OffsetDateTime,
    window: TimeWindow,
}

impl BulkKind for UsageBulk {
    type Event = UsageEvent;
    const CONFLICTS: bool = true;
    const BATCH: usize = 1000;

    fn parse(&self, value: &Value) -> Result<(UsageEvent, Uuid), Vec<FieldError>> {
        let mut errors = Vec::new();
        let event =
            billing::parse_event(value, "", self.now, self.window, &mut errors).ok_or(errors)?;
        let tenant = billing::assign_tenants(&self.sender, std::slice::from_ref(&event), |_| {
            "tenant".into()
        })?;
        Ok((event, tenant[0]))
    }

    async fn store(
        &self,
        state: &AppState,
        events: &[UsageEvent],
        tenants: &[Uuid],
    ) -> Result<Counts, DomainError> {
        let fates = billing::ingest(&state.pool, self.application_id, events, tenants).await?;
        let count = |f: Fate| fates.iter().filter(|e| e.status == f).count() as u64;
        Ok(Counts {
            accepted: count(Fate::Accepted),
            duplicates: count(Fate::Duplicate),
            conflicts: count(Fate::Conflict),
        })
    }
}

/// Report up to 1,000,000 usage events as NDJSON, one event per line.
///
/// Each line is one event as `POST /v1/billing/events` takes it (`UsageEvent`). The body
/// is read as it arrives and committed every 1,000 valid events; a bad line is rejected
/// and named with its reasons (`line` counts non-blank lines from 1), the others are
/// stored, each `accepted`, `duplicate` or `conflict` as in a batch. A failed upload can
/// simply be sent again: duplicates are recognised.
///
/// The request is not bound by the server's body limit or request timeout: it stops at
/// 1,000,000 lines (`line_limit_reached`), and 30 s without a byte from the client ends
/// it (408). The events allowance makes the stream wait instead of failing.
#[utoipa::path(
    post,
    path = "/v1/billing/events/bulk",
    tag = "billing",
    operation_id = "report_usage_events_bulk",
    request_body(
        content = String,
        content_type = "application/x-ndjson",
        description = "One `UsageEvent` JSON object per line (`application/jsonl` and `application/ndjson` are taken too)"
    ),
    responses(
        Refusals,
        (status = 200, description = "Lines read, events accepted, duplicates and conflicts, and each rejected line with its reasons", body = BulkReport),
        (status = 400, description = "The body could not be read to its end", body = ErrorBody),
        (status = 403, description = "Not an application's token with `bill:write`, or the application or its tenant is disabled", body = ErrorBody),
        (status = 408, description = "The client sent nothing for 30 s; the message says how many events were stored", body = ErrorBody),
        (status = 422, description = "The body is not NDJSON (`Content-Type`)", body = ErrorBody),
        (status = 429, description = "Too many requests with this key", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "A batch could not be stored; the message says how many events were stored before it (resend the rest: duplicates are recognised)", body = ErrorBody),
    ),
    security(("oauth2" = ["bill:write"])),
)]
async fn bulk(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<BulkReport>, ApiError> {
    let sender = match super::audit::sender_of(&state, &bearer, "bill:write", None).await {
        Ok(sender) => sender,
        Err(e) => {
            record(Counts::default(), 1);
            return Err(e);
        }
    };
    let kind = UsageBulk {
        sender,
        application_id: bearer.0.application_id,
        now: OffsetDateTime::now_utc(),
        window: window(&state),
    };
    let report = ndjson::ingest(&state, &bearer.0.client_id, &headers, kind, body).await?;
    record(report.counts(), report.rejected());
    Ok(Json(report))
}

/// A void's optional body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VoidUsageEvent)]
struct VoidBody {
    /// The tenant the event was reported for (its domain); without it, the tenant the
    /// token is bound to.
    #[schema(max_length = 253)]
    tenant: Option<String>,
    /// Why, kept with the void, in the pull and in the audit trail.
    #[schema(max_length = 500)]
    reason: Option<String>,
}

/// Void an event this application reported.
///
/// Within the backdating window (35 days by default), an event can be voided: the void is
/// appended as a record of its own, seen by the billing system's next pull (`kind:
/// void`), subtracted from the usage totals and recorded in the audit trail. Nothing is
/// edited. Voiding again changes nothing (`already_voided`). Another application's event,
/// or one never reported, is not found.
#[utoipa::path(
    post,
    path = "/v1/billing/events/{id}/void",
    tag = "billing",
    operation_id = "void_usage_event",
    params(("id" = String, Path, description = "The event's `id` as reported (for a CloudEvent, `source#id`, URL-encoded)")),
    request_body(
        content = Option<VoidBody>,
        description = "Optional: may be empty"
    ),
    responses(
        Refusals,
        (status = 200, description = "The event, and whether it was voided now or before", body = Voided),
        (status = 403, description = "Not an application's token with `bill:write`, or the application or its tenant is disabled", body = ErrorBody),
        (status = 404, description = "No such event of this application for that tenant, or a tenant it may not write", body = ErrorBody),
        (status = 422, description = "The body is not empty nor a JSON object with `tenant` and `reason`, the reason is too long, or the event is older than the backdating window (`id`)", body = ErrorBody),
        (status = 429, description = "Too many requests with this key", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("oauth2" = ["bill:write"])),
)]
async fn void(
    State(state): State<AppState>,
    bearer: Bearer,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Voided>, ApiError> {
    bearer.require_application_with("bill:write")?;
    let asked: VoidBody = if body.trim_ascii().is_empty() {
        VoidBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| {
            ApiError::validation(vec![FieldError::new(
                "body",
                "must be empty or a JSON object with tenant and reason (both optional)",
            )])
        })?
    };
    let nul: Vec<FieldError> = [("tenant", &asked.tenant), ("reason", &asked.reason)]
        .into_iter()
        .filter(|(_, v)| v.as_deref().is_some_and(|v| v.contains('\0')))
        .map(|(field, _)| FieldError::new(field, "must not contain a NUL character"))
        .collect();
    if !nul.is_empty() {
        return Err(ApiError::validation(nul));
    }
    let domain = asked
        .tenant
        .as_deref()
        .map(|t| t.trim().to_ascii_lowercase());
    let named = domain.as_deref().map(|t| vec![t]);
    let sender = super::audit::sender_of(&state, &bearer, "bill:write", named.as_deref()).await?;
    let tenant = sender
        .assign(std::iter::once(domain.as_deref()), |_| "tenant".into())
        .map_err(super::audit::tenant_refusal)?;
    let reason = asked
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let voided = billing::void(
        &state.pool,
        &meta.ctx,
        &VoidRequest {
            application_id: bearer.0.application_id,
            tenant_id: tenant[0],
            id: id.trim(),
            reason,
        },
        window(&state),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(voided))
}

/// The tenant a reader names (a domain), within what it may read; another is 404.
async fn named_tenant(
    state: &AppState,
    readable: &Readable,
    asked: Option<&str>,
) -> Result<Option<Uuid>, ApiError> {
    let Some(domain) = asked.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM tenants WHERE domain = $1")
        .bind(domain.to_ascii_lowercase())
        .fetch_optional(&state.pool)
        .await?;
    match (id, &readable.0) {
        (Some(id), None) => Ok(Some(id)),
        (Some(id), Some(tenants)) if tenants.contains(&id) => Ok(Some(id)),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ERR_NOT_FOUND",
            "tenant not found",
        )),
    }
}

async fn reader(state: &AppState, bearer: &Bearer) -> Result<Readable, ApiError> {
    bearer.require_application_with("bill:read")?;
    Ok(billing::readable_by(&state.pool, bearer.0.application_id, bearer.0.tenant_id).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PullParams {
    /// Only this tenant's events (its domain), one the application may read.
    tenant: Option<String>,
    /// Only events of this type.
    event_type: Option<String>,
    /// Only events that happened at or after this time (ISO 8601 in UTC, ending in `Z`).
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<String>,
    /// Only events that happened before this time (ISO 8601 in UTC, ending in `Z`).
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<String>,
    /// Where to go on: the last answer's `next_cursor`, or the last CSV row's `cursor`.
    after: Option<String>,
    /// Events in one JSON page: 1 to 1,000 (100 when absent). For CSV, at most this many
    /// rows, up to 10,000,000 (everything ready when absent).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 10000000)]
    limit: Option<String>,
}

fn utc(raw: Option<&str>, field: &str, errors: &mut Vec<FieldError>) -> Option<OffsetDateTime> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    gatehouse_domain::audit::parse_utc(raw).or_else(|| {
        errors.push(FieldError::new(field, gatehouse_domain::audit::UTC_TIME));
        None
    })
}

/// Whether the client asked for CSV.
fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/csv"))
}

/// Pull usage events incrementally, in ingestion order.
///
/// Events come below the commit watermark, so one that commits late comes in a later pull
/// and none is ever passed over: keep `next_cursor` (always given) and pull again from it
/// with `after`. Voids come as records of their own (`kind: void`).
///
/// With `Accept: text/csv`, every event ready now (or `limit` rows) is streamed as CSV
/// with the columns `cursor,id,kind,tenant,event_type,quantity,timestamp,received_at,metadata`;
/// go on from the last row's `cursor`. One application runs a few CSV pulls at a time.
#[utoipa::path(
    get,
    path = "/v1/billing/events",
    tag = "billing",
    operation_id = "pull_usage_events",
    params(PullParams),
    responses(
        Refusals,
        (status = 200, description = "A page of events (JSON), or with `Accept: text/csv` everything ready as CSV, each row with its cursor",
            content(
                (PullPage = "application/json"),
                (String = "text/csv")
            )),
        (status = 403, description = "Not an application's token with `bill:read`, or the application or its tenant is disabled", body = ErrorBody),
        (status = 404, description = "`tenant` is not one the application may read", body = ErrorBody),
        (status = 422, description = "Every invalid parameter named (`from`, `to`, `limit`, `after`), or an unknown one", body = ErrorBody),
        (status = 429, description = "Too many requests with this key, or too many CSV pulls of this application running", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("oauth2" = ["bill:read"])),
)]
async fn pull(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    Query(p): Query<PullParams>,
) -> Result<Response, ApiError> {
    let readable = reader(&state, &bearer).await?;
    let csv = wants_csv(&headers);
    let mut errors = Vec::new();
    let from = utc(p.from.as_deref(), "from", &mut errors);
    let until = utc(p.to.as_deref(), "to", &mut errors);
    let max = if csv { CSV_MAX_LIMIT } else { 1000 };
    let limit = match p.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    format!("must be a whole number from 1 to {max}"),
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let tenant = named_tenant(&state, &readable, p.tenant.as_deref()).await?;
    let query = PullQuery {
        tenant,
        event_type: p
            .event_type
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty()),
        from,
        until,
        after: p.after.filter(|a| !a.trim().is_empty()),
        limit: if csv { 1000 } else { limit.unwrap_or(100) },
    };
    if !csv {
        let page = billing::pull(&state.pool, &readable, &query).await?;
        return Ok(Json(page).into_response());
    }
    let Some(permit) = state.exports.try_admit(bearer.0.application_id) else {
        return Err(ApiError {
            retry_after_secs: Some(60),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "ERR_RATE_LIMIT",
                "too many downloads of this application are running; try again in a minute",
            )
        });
    };
    let mut pages = CsvPull {
        readable,
        query,
        left: limit.map_or(u64::MAX, |n| n as u64),
        done: false,
    };
    // The first page is read before answering, so a failure is a proper status.
    let first = crate::audit::CsvPages::next_page(&mut pages, &state.pool).await?;
    let mut response = Response::new(crate::audit::csv_body(
        state.pool.clone(),
        pages,
        first,
        permit,
    ));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"usage-events.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A CSV pull: pages of the JSON pull, each below its own commit watermark, until nothing
/// more is ready (or `left` rows were sent).
struct CsvPull {
    readable: Readable,
    query: PullQuery,
    left: u64,
    done: bool,
}

impl crate::audit::CsvPages for CsvPull {
    type Row = PulledEvent;
    const HEADER: &'static [&'static str] = &[
        "cursor",
        "id",
        "kind",
        "tenant",
        "event_type",
        "quantity",
        "timestamp",
        "received_at",
        "metadata",
    ];

    async fn next_page(&mut self, pool: &sqlx::PgPool) -> Result<Vec<PulledEvent>, DomainError> {
        if self.done || self.left == 0 {
            return Ok(Vec::new());
        }
        self.query.limit = self.left.min(1000) as i64;
        let page = billing::pull(pool, &self.readable, &self.query).await?;
        self.left -= page.data.len() as u64;
        self.done = !page.has_more;
        self.query.after = page.next_cursor;
        Ok(page.data)
    }

    fn cells(e: &PulledEvent) -> Vec<String> {
        let time = |t: OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        vec![
            e.cursor(),
            e.id.clone().unwrap_or_default(),
            e.kind.clone(),
            e.tenant.clone(),
            e.event_type.clone(),
            e.quantity.to_string(),
            time(e.timestamp),
            time(e.received_at),
            e.metadata.to_string(),
        ]
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct UsageParams {
    /// Only this tenant (its domain), one the application may read.
    tenant: Option<String>,
    /// Only events of this type.
    event_type: Option<String>,
    /// The first day counted, in `tz`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// The day after the last one counted (exclusive), in `tz`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
    /// Totals per `day` (when absent) or per `month`.
    #[param(inline, value_type = Option<UsageWindowParam>)]
    window: Option<String>,
    /// An IANA time zone whose midnights start the windows; UTC when absent.
    #[param(
        max_length = 64,
        pattern = "^[A-Za-z0-9/_+-]+$",
        example = "Europe/Berlin"
    )]
    tz: Option<String>,
}

/// A usage window.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum UsageWindowParam {
    Day,
    Month,
}

/// Usage totals.
#[derive(Serialize, ToSchema)]
struct UsageTotals {
    /// One total per tenant × event type × window, at most 10,000.
    data: Vec<UsageTotal>,
    /// More totals matched than one answer holds (10,000): narrow the query.
    truncated: bool,
}

fn day(raw: Option<&str>, field: &str, errors: &mut Vec<FieldError>) -> Option<time::Date> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    time::Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| {
        errors.push(FieldError::new(
            field,
            "must be a day like 2026-12-01 (in tz, UTC by default)",
        ))
    })
    .ok()
}

/// Exact usage totals per tenant × event type × day or month.
///
/// Windows start at midnight in `tz` (UTC by default); voids are subtracted. Quantities
/// are decimal strings, since a sum may pass 2^53. More than 10,000 totals are cut
/// (`truncated`): narrow the query.
#[utoipa::path(
    get,
    path = "/v1/billing/usage",
    tag = "billing",
    operation_id = "usage_totals",
    params(UsageParams),
    responses(
        Refusals,
        (status = 200, description = "The totals", body = UsageTotals),
        (status = 403, description = "Not an application's token with `bill:read`, or the application or its tenant is disabled", body = ErrorBody),
        (status = 404, description = "`tenant` is not one the application may read", body = ErrorBody),
        (status = 422, description = "Every invalid parameter named (`from`, `to`, `window`, `tz`), or an unknown one", body = ErrorBody),
        (status = 429, description = "Too many requests with this key", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("oauth2" = ["bill:read"])),
)]
async fn usage(
    State(state): State<AppState>,
    bearer: Bearer,
    Query(p): Query<UsageParams>,
) -> Result<Json<UsageTotals>, ApiError> {
    let readable = reader(&state, &bearer).await?;
    let mut errors = Vec::new();
    let from = day(p.from.as_deref(), "from", &mut errors);
    let until = day(p.to.as_deref(), "to", &mut errors);
    let window = match p
        .window
        .as_deref()
        .map(|w| w.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("day") => UsageWindow::Day,
        Some("month") => UsageWindow::Month,
        Some(_) => {
            errors.push(FieldError::new("window", "must be one of: day, month"));
            UsageWindow::Day
        }
    };
    let tz = p.tz.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if tz.as_ref().is_some_and(|t| {
        t.len() > 64
            || !t
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
    }) {
        errors.push(FieldError::new(
            "tz",
            "must be an IANA time zone, like Europe/Berlin",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let tenant = named_tenant(&state, &readable, p.tenant.as_deref()).await?;
    let query = UsageQuery {
        tenant,
        event_type: p
            .event_type
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty()),
        from,
        until,
        window,
        tz,
    };
    let mut data = billing::usage(&state.pool, &readable, &query).await?;
    // More totals than one answer holds: the first ones, and a flag to narrow the query.
    let truncated = data.len() > billing::MAX_TOTALS;
    data.truncate(billing::MAX_TOTALS);
    Ok(Json(UsageTotals { data, truncated }))
}
