//! The Billing API (API-BILL, FR-BILL-001..003; SPEC §7, §9), for applications' own tokens:
//!
//! - `POST /api/v1/billing/events` (`bill:write`): one event or `{"events": [...]}` (≤ 100),
//!   validated whole (422 naming every field of every event, nothing stored), answered
//!   after the commit with `accepted`, `duplicate` or `conflict` per event.
//! - `GET /api/v1/billing/events` (`bill:read`): incremental pulls in ingestion order below
//!   the commit watermark (`after` = the last `next_cursor`), filtered by tenant, type and
//!   time.
//! - `GET /api/v1/billing/usage` (`bill:read`): exact totals per tenant × type × day or
//!   month (UTC).
//!
//! Events count against the events rate limit (`GATEHOUSE_RATE_LIMIT_EVENTS`), as the
//! audit API's do.

use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::Bearer;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use gatehouse_domain::billing::{self, Fate, PullQuery, Readable, TimeWindow, UsageWindow};
use gatehouse_domain::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/billing/events", get(pull).post(ingest))
        .route("/v1/billing/usage", get(usage))
        .build()
}

#[derive(Serialize)]
struct Ingested {
    data: Vec<billing::EventFate>,
    accepted: usize,
    duplicates: usize,
    conflicts: usize,
}

async fn ingest(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let sender = super::audit::sender_of(&state, &bearer, "bill:write").await?;
    let window = TimeWindow {
        max_age: time::Duration::days(i64::from(state.settings.billing_max_age_days)),
        max_ahead: time::Duration::seconds(i64::from(state.settings.billing_max_ahead_secs)),
    };
    let events = billing::parse_batch(&body, OffsetDateTime::now_utc(), window)?;
    let batch = body.get("events").is_some();
    let tenants = billing::assign_tenants(&sender, &events, |i| {
        if batch {
            format!("events[{i}].tenant")
        } else {
            "tenant".to_owned()
        }
    })
    .map_err(super::audit::tenant_refusal)?;
    state
        .rate_limits
        .check_events(&bearer.0.client_id, events.len() as u32)
        .map_err(|wait| super::audit::too_many(wait, events.len()))?;
    let data = billing::ingest(&state.pool, bearer.0.application_id, &events, &tenants).await?;
    let count = |f: Fate| data.iter().filter(|e| e.status == f).count();
    let (accepted, duplicates, conflicts) = (
        count(Fate::Accepted),
        count(Fate::Duplicate),
        count(Fate::Conflict),
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

async fn pull(
    State(state): State<AppState>,
    bearer: Bearer,
    Query(p): Query<PullParams>,
) -> Result<impl IntoResponse, ApiError> {
    let readable = reader(&state, &bearer).await?;
    let mut errors = Vec::new();
    let from = utc(p.from.as_deref(), "from", &mut errors);
    let until = utc(p.to.as_deref(), "to", &mut errors);
    let limit = match p.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 100,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    "must be a whole number from 1 to 1000",
                ));
                100
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let tenant = named_tenant(&state, &readable, p.tenant.as_deref()).await?;
    let page = billing::pull(
        &state.pool,
        &readable,
        &PullQuery {
            tenant,
            event_type: p
                .event_type
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty()),
            from,
            until,
            after: p.after.filter(|a| !a.trim().is_empty()),
            limit,
        },
    )
    .await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageParams {
    tenant: Option<String>,
    event_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    window: Option<String>,
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
            "must be a day like 2026-12-01 (UTC)",
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
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let tenant = named_tenant(&state, &readable, p.tenant.as_deref()).await?;
    let event_type = p
        .event_type
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty());
    let data = billing::usage(
        &state.pool,
        &readable,
        tenant,
        event_type.as_deref(),
        from,
        until,
        window,
    )
    .await?;
    Ok(Json(serde_json::json!({ "data": data })))
}

/// The Billing API's part of the API contract (`/api/v1/openapi.json`).
pub fn document(doc: &mut Value) {
    let paths = serde_json::json!({
        "/api/v1/billing/events": {
            "post": {"summary": "Report usage (API-BILL): one event or {events: [...]} (≤ 100); validated whole; answered after commit, each accepted, duplicate or conflict",
                "security": [{"bearer": ["bill:write"]}],
                "requestBody": {"content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/UsageEvent"},
                    {"type": "object", "additionalProperties": false, "required": ["events"], "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"$ref": "#/components/schemas/UsageEvent"}}}}]}}}},
                "responses": {"201": {"description": "{data: [{id, status: accepted|duplicate|conflict}], accepted, duplicates, conflicts}"}, "200": {"description": "Nothing new was accepted"},
                              "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}},
            "get": {"summary": "Pull events incrementally in ingestion order below the commit watermark (after = the last next_cursor)",
                "security": [{"bearer": ["bill:read"]}],
                "parameters": [{"name": "tenant", "in": "query", "schema": {"type": "string"}}, {"name": "event_type", "in": "query", "schema": {"type": "string"}},
                               {"name": "from", "in": "query", "schema": {"type": "string", "format": "date-time"}}, {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                               {"name": "after", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                "responses": {"200": {"description": "{data: [{id, tenant, event_type, quantity, timestamp, received_at, metadata}], next_cursor, has_more}"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/billing/usage": {"get": {"summary": "Exact usage totals per tenant × type × day or month (UTC)",
            "security": [{"bearer": ["bill:read"]}],
            "parameters": [{"name": "tenant", "in": "query", "schema": {"type": "string"}}, {"name": "event_type", "in": "query", "schema": {"type": "string"}},
                           {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}}, {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                           {"name": "window", "in": "query", "schema": {"type": "string", "enum": ["day", "month"]}}],
            "responses": {"200": {"description": "{data: [{tenant, event_type, period, quantity (decimal string), events}]}"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}}
    });
    let schema = serde_json::json!({
        "UsageEvent": {"type": "object", "additionalProperties": false, "required": ["id", "timestamp", "event_type", "quantity"],
            "properties": {
                "id": {"type": "string", "maxLength": 200, "description": "The application's id: the same id and content is a duplicate, other content a conflict"},
                "tenant": {"type": "string", "description": "A domain among the application's enabled tenants (else the token's tenant)"},
                "timestamp": {"type": "string", "format": "date-time", "description": "UTC, ending in Z; at most 35 days old and 5 minutes ahead (settings)"},
                "event_type": {"type": "string", "pattern": "^[a-z][a-z0-9_.]{0,63}$"},
                "quantity": {"type": "integer", "minimum": 1, "maximum": 9007199254740991_i64},
                "metadata": {"type": "object", "maxProperties": 20, "additionalProperties": {"type": ["string", "number", "boolean", "null"]}}}}
    });
    if let (Some(all), Value::Object(mine)) = (doc["paths"].as_object_mut(), paths) {
        all.extend(mine);
    }
    if let (Some(all), Value::Object(mine)) = (doc["components"]["schemas"].as_object_mut(), schema)
    {
        all.extend(mine);
    }
}
