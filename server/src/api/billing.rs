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

use crate::api::ndjson::{self, BulkKind, Counts};
use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::{Bearer, RequestMeta};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_domain::audit::{self, Sender};
use gatehouse_domain::billing::{
    self, Fate, PullQuery, PulledEvent, Readable, TimeWindow, UsageEvent, UsageQuery, UsageWindow,
    VoidRequest,
};
use gatehouse_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// Rows one CSV pull may be limited to (without `limit`, everything ready is sent).
const CSV_MAX_LIMIT: i64 = 10_000_000;

pub fn router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/billing/events", get(pull).post(ingest))
        .route("/v1/billing/events/{id}/void", post(void))
        .route("/v1/billing/usage", get(usage))
        .route("/v1/events", post(cloud_events))
        .build()
}

/// The bulk route, merged by the server outside the body limit and the request timeout.
pub fn bulk_router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/billing/events/bulk", post(bulk))
        .build()
}

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

#[derive(Serialize)]
struct Ingested {
    data: Vec<billing::EventFate>,
    accepted: usize,
    duplicates: usize,
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
) -> Result<(StatusCode, Json<Ingested>), ApiError> {
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
        Json(Ingested {
            data,
            accepted,
            duplicates,
            conflicts,
        }),
    ))
}

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

/// CloudEvents (OpenMeter's ingestion format): one event, or an array of them.
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

async fn bulk(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
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
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VoidBody {
    tenant: Option<String>,
    reason: Option<String>,
}

async fn void(
    State(state): State<AppState>,
    bearer: Bearer,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PullParams {
    tenant: Option<String>,
    event_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageParams {
    tenant: Option<String>,
    event_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    window: Option<String>,
    tz: Option<String>,
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

async fn usage(
    State(state): State<AppState>,
    bearer: Bearer,
    Query(p): Query<UsageParams>,
) -> Result<impl IntoResponse, ApiError> {
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
    Ok(Json(
        serde_json::json!({ "data": data, "truncated": truncated }),
    ))
}

/// The Billing API's part of the API contract (`/api/v1/openapi.json`).
pub fn document(doc: &mut Value) {
    let error = |codes: &[&str]| -> Value {
        codes
            .iter()
            .map(|c| {
                (
                    (*c).to_owned(),
                    serde_json::json!({"$ref": "#/components/responses/Error"}),
                )
            })
            .collect::<serde_json::Map<String, Value>>()
            .into()
    };
    let with = |mut ok: Value, codes: &[&str]| {
        if let (Some(all), Value::Object(errs)) = (ok.as_object_mut(), error(codes)) {
            all.extend(errs);
        }
        ok
    };
    let query = |name: &str, schema: Value| serde_json::json!({"name": name, "in": "query", "schema": schema});
    let text = serde_json::json!({"type": "string"});
    let write = serde_json::json!([{"bearer": ["bill:write"]}]);
    let read = serde_json::json!([{"bearer": ["bill:read"]}]);
    let ingested = serde_json::json!({"201": {"description": "{data: [{id, status: accepted|duplicate|conflict}], accepted, duplicates, conflicts}"},
                                      "200": {"description": "Nothing new was accepted (duplicates or conflicts only)"}});
    let paths = serde_json::json!({
        "/api/v1/billing/events": {
            "post": {"summary": "Report usage (API-BILL): one event or {events: [...]} (≤ 100); validated whole; answered after commit, each accepted, duplicate or conflict",
                "security": write,
                "requestBody": {"content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/UsageEvent"},
                    {"type": "object", "additionalProperties": false, "required": ["events"], "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"$ref": "#/components/schemas/UsageEvent"}}}}]}}}},
                "responses": with(ingested, &["401", "403", "404", "422", "429"])},
            "get": {"summary": "Pull events incrementally in ingestion order below the commit watermark (after = the last next_cursor, or the last CSV row's cursor). Accept: text/csv streams everything ready (or limit rows), each row with its cursor",
                "security": read,
                "parameters": [query("tenant", text.clone()), query("event_type", text.clone()),
                               query("from", serde_json::json!({"type": "string", "format": "date-time"})), query("to", serde_json::json!({"type": "string", "format": "date-time"})),
                               query("after", text.clone()), query("limit", serde_json::json!({"type": "integer", "minimum": 1, "maximum": CSV_MAX_LIMIT}))],
                "responses": with(serde_json::json!({"200": {"description": "{data: [{id, kind: event|void, tenant, event_type, quantity, timestamp, received_at, metadata}], next_cursor, has_more}; or text/csv: cursor,id,kind,tenant,event_type,quantity,timestamp,received_at,metadata",
                    "content": {"application/json": {}, "text/csv": {}}}}), &["401", "403", "404", "422", "429"])}},
        "/api/v1/billing/events/bulk": {"post": {"summary": "Report up to 1,000,000 usage events as NDJSON (one UsageEvent per line), committed every 1,000; a report per rejected line",
            "security": write,
            "requestBody": {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
            "responses": with(serde_json::json!({"200": {"description": "{lines, accepted, duplicates, conflicts, rejected, rejected_lines: [{line, details}], rejected_lines_truncated, line_limit_reached}"}}), &["401", "403", "408", "422"])}},
        "/api/v1/billing/events/{id}/void": {"post": {"summary": "Void an event this application reported (within the backdating window): appended as a void record, seen by the next pull, subtracted from usage, audited",
            "security": write,
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": text.clone()}],
            "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false,
                "properties": {"tenant": {"type": "string"}, "reason": {"type": "string", "maxLength": 500}}}}}},
            "responses": with(serde_json::json!({"200": {"description": "{id, status: voided|already_voided, event_type, quantity, timestamp}"}}), &["401", "403", "404", "422"])}},
        "/api/v1/events": {"post": {"summary": "Report usage as CloudEvents 1.0 (OpenMeter's format): subject = tenant domain, type = event type, source + id = idempotency key, data.quantity = quantity (1 when absent)",
            "security": write,
            "requestBody": {"content": {
                "application/cloudevents+json": {"schema": {"$ref": "#/components/schemas/CloudEvent"}},
                "application/cloudevents-batch+json": {"schema": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"$ref": "#/components/schemas/CloudEvent"}}}}},
            "responses": with(serde_json::json!({"204": {"description": "Every event is stored (or was already: source + id seen before with the same content)"}}), &["401", "403", "404", "409", "422", "429"])}},
        "/api/v1/billing/usage": {"get": {"summary": "Exact usage totals per tenant × type × day or month; windows start at midnight in tz (UTC by default)",
            "security": read,
            "parameters": [query("tenant", text.clone()), query("event_type", text.clone()),
                           query("from", serde_json::json!({"type": "string", "format": "date"})), query("to", serde_json::json!({"type": "string", "format": "date"})),
                           query("window", serde_json::json!({"type": "string", "enum": ["day", "month"]})), query("tz", serde_json::json!({"type": "string", "examples": ["Europe/Berlin"]}))],
            "responses": with(serde_json::json!({"200": {"description": "{data: [{tenant, event_type, period, quantity (decimal string), events}], truncated (more than 10,000 totals: narrow the query)}"}}), &["401", "403", "404", "422"])}}
    });
    let schema = serde_json::json!({
        "UsageEvent": {"type": "object", "additionalProperties": false, "required": ["id", "timestamp", "event_type", "quantity"],
            "properties": {
                "id": {"type": "string", "maxLength": 200, "description": "The application's id: the same id and content is a duplicate, other content a conflict; kept as long as the event"},
                "tenant": {"type": "string", "description": "A domain among the application's enabled tenants (else the token's tenant)"},
                "timestamp": {"type": "string", "format": "date-time", "description": "UTC, ending in Z; at most 35 days old and 5 minutes ahead (settings)"},
                "event_type": {"type": "string", "pattern": "^[a-z][a-z0-9_.]{0,63}$"},
                "quantity": {"type": "integer", "minimum": 1, "maximum": 9007199254740991_i64},
                "metadata": {"type": "object", "maxProperties": 20, "additionalProperties": {"type": ["string", "number", "boolean", "null"]}}}},
        "CloudEvent": {"type": "object", "required": ["specversion", "id", "source", "type"],
            "properties": {
                "specversion": {"const": "1.0"}, "id": text.clone(), "source": text.clone(),
                "type": {"type": "string", "pattern": "^[a-z][a-z0-9_.]{0,63}$"},
                "subject": {"type": "string", "description": "The tenant's domain"},
                "time": {"type": "string", "format": "date-time"},
                "datacontenttype": {"const": "application/json"},
                "data": {"type": "object", "properties": {"quantity": {"type": "integer", "minimum": 1}}, "maxProperties": 21}}}
    });
    if let (Some(all), Value::Object(mine)) = (doc["paths"].as_object_mut(), paths) {
        all.extend(mine);
    }
    if let (Some(all), Value::Object(mine)) = (doc["components"]["schemas"].as_object_mut(), schema)
    {
        all.extend(mine);
    }
}
