//! The Audit Log API (API-LOG, FR-LOG-001; SPEC §8, §9): applications ship their
//! security and operational events with an application token carrying `log:write`.
//!
//! - `POST /api/v1/audit-logs`: one event, or `{"events": [...]}` with at most 100. The
//!   whole body is validated first (422 naming every field of every event; nothing
//!   stored); the answer comes after the commit, one status per event (`accepted`, or
//!   `duplicate` for an `id` the application sent before).
//! - `POST /api/v1/audit-logs/bulk`: `application/x-ndjson`, one event per line, up to
//!   1,000,000 lines. Read as it arrives and committed every 1,000 valid events (constant
//!   memory); the answer counts the lines and names each rejected line with its reasons.
//!   It is outside the server's body limit and request timeout: it is bounded by its line
//!   count and by a 30 s limit on the client's silence instead.
//! - `GET /api/v1/audit-logs/checkpoints/key`: the public key of the signed checkpoints.
//!
//! Rate limits count events, not requests (`GATEHOUSE_RATE_LIMIT_EVENTS` per API key): a
//! batch over the allowance is refused (429); the bulk stream waits for the allowance.

use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::{Bearer, RequestMeta};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use gatehouse_domain::audit::{self, LogEvent, Sender, Taken, TakenEvent};
use gatehouse_domain::FieldError;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;
use time::OffsetDateTime;

/// Lines one bulk request may carry.
pub const BULK_MAX_LINES: u64 = 1_000_000;
/// A line longer than this is rejected without being parsed.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// How long the bulk endpoint waits for the client's next bytes.
const IDLE: Duration = Duration::from_secs(30);
/// Rejected lines named in a bulk answer (all are counted).
const REPORTED_LINES: usize = 1000;

pub fn router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/audit-logs", post(ingest))
        .route("/v1/audit-logs/checkpoints/key", get(checkpoint_key))
        .build()
}

/// The bulk route, merged by the server outside the body limit and the request timeout.
pub fn bulk_router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/audit-logs/bulk", post(bulk))
        .build()
}

/// The sending application: an application's own token with `scope`, of an active
/// application, for an active tenant.
pub(crate) async fn sender_of(
    state: &AppState,
    bearer: &Bearer,
    scope: &str,
) -> Result<Sender, ApiError> {
    bearer.require_application_with(scope)?;
    Ok(audit::sender(&state.pool, bearer.0.application_id, bearer.0.tenant_id).await?)
}

/// A refusal for events whose tenant the application may not write: 404, as for any
/// tenant that is not the caller's (SPEC §2), naming each event.
pub(crate) fn tenant_refusal(details: Vec<FieldError>) -> ApiError {
    ApiError {
        details,
        ..ApiError::new(StatusCode::NOT_FOUND, "ERR_NOT_FOUND", "tenant not found")
    }
}

pub(crate) fn too_many(wait: u64, n: usize) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "ERR_RATE_LIMIT",
        format!("too many events: {n} do not fit in this key's allowance; try again in {wait} s"),
    );
    e.retry_after_secs = Some(wait);
    e
}

#[derive(Serialize)]
struct Ingested {
    data: Vec<TakenEvent>,
    accepted: usize,
    duplicates: usize,
}

async fn ingest(
    State(state): State<AppState>,
    bearer: Bearer,
    meta: RequestMeta,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let sender = sender_of(&state, &bearer, "log:write").await?;
    let events = audit::parse_batch(&body, OffsetDateTime::now_utc())?;
    let batch = body.get("events").is_some();
    let tenants = audit::assign_tenants(&sender, &events, |i| {
        if batch {
            format!("events[{i}].tenant")
        } else {
            "tenant".to_owned()
        }
    })
    .map_err(tenant_refusal)?;
    state
        .rate_limits
        .check_events(&bearer.0.client_id, events.len() as u32)
        .map_err(|wait| too_many(wait, events.len()))?;
    let data = audit::ingest(
        &state.pool,
        &sender,
        meta.ctx.request_id.as_deref(),
        &events,
        &tenants,
    )
    .await?;
    let accepted = data.iter().filter(|t| t.status == Taken::Accepted).count();
    let status = if accepted > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let duplicates = data.len() - accepted;
    Ok((
        status,
        Json(Ingested {
            data,
            accepted,
            duplicates,
        }),
    ))
}

async fn checkpoint_key(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let signer = state.services.checkpoint_signer().await?;
    Ok(Json(signer.public_key()))
}

/// One rejected line of a bulk request.
#[derive(Debug, Serialize)]
struct RejectedLine {
    line: u64,
    details: Vec<FieldError>,
}

/// The answer of a bulk request.
#[derive(Debug, Default, Serialize)]
struct BulkReport {
    /// Lines read (blank lines are skipped and not counted).
    lines: u64,
    accepted: u64,
    duplicates: u64,
    rejected: u64,
    rejected_lines: Vec<RejectedLine>,
    /// More lines were rejected than are named.
    rejected_lines_truncated: bool,
    /// The request carried more than 1,000,000 lines: reading stopped at the limit.
    line_limit_reached: bool,
}

impl BulkReport {
    fn reject(&mut self, line: u64, details: Vec<FieldError>) {
        self.rejected += 1;
        if self.rejected_lines.len() < REPORTED_LINES {
            self.rejected_lines.push(RejectedLine { line, details });
        } else {
            self.rejected_lines_truncated = true;
        }
    }
}

/// The bulk request as it is read: valid events wait in `batch` until 1,000 are there.
struct Bulk<'a> {
    state: &'a AppState,
    sender: Sender,
    client_id: String,
    request_id: Option<String>,
    now: OffsetDateTime,
    batch: Vec<LogEvent>,
    tenants: Vec<uuid::Uuid>,
    report: BulkReport,
}

impl Bulk<'_> {
    fn line(&mut self, raw: &[u8]) {
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        self.report.lines += 1;
        let n = self.report.lines;
        if raw.len() > MAX_LINE_BYTES {
            let message = format!("the line is longer than {MAX_LINE_BYTES} bytes");
            return self
                .report
                .reject(n, vec![FieldError::new("line", message)]);
        }
        let value: Value = match serde_json::from_slice(trimmed) {
            Ok(v) => v,
            Err(_) => {
                let detail = FieldError::new("line", "is not a JSON object");
                return self.report.reject(n, vec![detail]);
            }
        };
        let mut errors = Vec::new();
        let Some(event) = audit::parse_event(&value, "", self.now, &mut errors) else {
            return self.report.reject(n, errors);
        };
        match audit::assign_tenants(&self.sender, std::slice::from_ref(&event), |_| {
            "tenant".into()
        }) {
            Ok(t) => {
                self.tenants.extend(t);
                self.batch.push(event);
            }
            Err(details) => self.report.reject(n, details),
        }
    }

    /// Commits the waiting events, after waiting for the allowance.
    async fn flush(&mut self) -> Result<(), ApiError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        while let Err(wait) = self
            .state
            .rate_limits
            .check_events(&self.client_id, self.batch.len() as u32)
        {
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
        let taken = audit::ingest(
            &self.state.pool,
            &self.sender,
            self.request_id.as_deref(),
            &self.batch,
            &self.tenants,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, lines = self.report.lines, "bulk audit ingestion failed mid-way");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ERR_UNAVAILABLE",
                format!(
                    "the events could not be stored; {} were stored before this; resend the rest (duplicates are recognised)",
                    self.report.accepted
                ),
            )
        })?;
        for t in taken {
            match t.status {
                Taken::Accepted => self.report.accepted += 1,
                Taken::Duplicate => self.report.duplicates += 1,
            }
        }
        self.batch.clear();
        self.tenants.clear();
        Ok(())
    }
}

fn is_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| {
            matches!(
                v.as_str(),
                "application/x-ndjson" | "application/jsonl" | "application/ndjson"
            )
        })
}

async fn bulk(
    State(state): State<AppState>,
    bearer: Bearer,
    meta: RequestMeta,
    body: Body,
) -> Result<Json<BulkReport>, ApiError> {
    let sender = sender_of(&state, &bearer, "log:write").await?;
    if !is_ndjson(&meta.headers) {
        return Err(ApiError::validation(vec![FieldError::new(
            "content-type",
            "must be application/x-ndjson (one JSON event per line)",
        )]));
    }
    let mut bulk = Bulk {
        state: &state,
        sender,
        client_id: bearer.0.client_id.clone(),
        request_id: meta.ctx.request_id.clone(),
        now: OffsetDateTime::now_utc(),
        batch: Vec::with_capacity(audit::BULK_BATCH),
        tenants: Vec::with_capacity(audit::BULK_BATCH),
        report: BulkReport::default(),
    };
    let mut stream = body.into_data_stream();
    // The start of a line whose end has not arrived yet; a line past the limit keeps only
    // its first bytes (it is rejected anyway).
    let mut pending: Vec<u8> = Vec::new();
    let mut overlong = false;
    'read: loop {
        let chunk = match tokio::time::timeout(IDLE, stream.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "ERR_VALIDATION",
                    "the request body could not be read to its end",
                ))
            }
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "ERR_VALIDATION",
                    format!(
                        "the client sent nothing for {} s; {} events were stored before that",
                        IDLE.as_secs(),
                        bulk.report.accepted
                    ),
                ))
            }
        };
        let mut rest: &[u8] = &chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            if overlong {
                pending.resize(MAX_LINE_BYTES + 1, b' ');
            } else {
                pending.extend_from_slice(&rest[..end]);
            }
            if bulk.report.lines >= BULK_MAX_LINES && !pending.trim_ascii().is_empty() {
                bulk.report.line_limit_reached = true;
                break 'read;
            }
            bulk.line(&pending);
            pending.clear();
            overlong = false;
            rest = &rest[end + 1..];
            if bulk.batch.len() >= audit::BULK_BATCH {
                bulk.flush().await?;
            }
        }
        if !overlong {
            let room = (MAX_LINE_BYTES + 1).saturating_sub(pending.len());
            pending.extend_from_slice(&rest[..rest.len().min(room)]);
            overlong = pending.len() > MAX_LINE_BYTES;
        }
    }
    if !bulk.report.line_limit_reached && !pending.trim_ascii().is_empty() {
        if bulk.report.lines >= BULK_MAX_LINES {
            bulk.report.line_limit_reached = true;
        } else {
            if overlong {
                pending.resize(MAX_LINE_BYTES + 1, b' ');
            }
            bulk.line(&pending);
        }
    }
    bulk.flush().await?;
    Ok(Json(bulk.report))
}

/// The Audit Log API's part of the API contract (`/api/v1/openapi.json`).
pub fn document(doc: &mut Value) {
    let paths = serde_json::json!({
    "/api/v1/audit-logs": {"post": {"summary": "Ship audit events (API-LOG): one event or {events: [...]} (≤ 100); validated whole; answered after commit, each accepted or duplicate (by the application's id)",
                "security": [{"bearer": ["log:write"]}],
                "requestBody": {"content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/AuditEvent"},
                    {"type": "object", "additionalProperties": false, "required": ["events"], "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"$ref": "#/components/schemas/AuditEvent"}}}}]}}}},
                "responses": {"201": {"description": "{data: [{id, status: accepted|duplicate, seq}], accepted, duplicates}"}, "200": {"description": "Every event was a duplicate"},
                              "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/audit-logs/bulk": {"post": {"summary": "Ship up to 1,000,000 events as NDJSON (one AuditEvent per line), committed every 1,000",
                "security": [{"bearer": ["log:write"]}],
                "requestBody": {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                "responses": {"200": {"description": "{lines, accepted, duplicates, rejected, rejected_lines: [{line, details}], rejected_lines_truncated, line_limit_reached}"}, "422": {"$ref": "#/components/responses/Error"}}}},
            "/api/v1/audit-logs/checkpoints/key": {"get": {"summary": "The public key that signs the audit checkpoints (Ed25519; C2SP verifier key)",
                "responses": {"200": {"description": "{name, algorithm, public_key, key_id, verifier_key}"}}}}
    });
    let schema = serde_json::json!({
    "AuditEvent": {"type": "object", "additionalProperties": false,
                    "required": ["id", "occurred_at", "actor", "action", "resource", "outcome", "ip_address"],
                    "properties": {
                        "id": {"type": "string", "maxLength": 200, "description": "The application's own id: a re-sent id is a duplicate"},
                        "occurred_at": {"type": "string", "format": "date-time", "description": "UTC, ending in Z; at most 5 minutes ahead"},
                        "actor": {"type": "object", "additionalProperties": false, "required": ["id", "type"], "properties": {
                            "id": {"type": "string", "maxLength": 200}, "type": {"type": "string", "maxLength": 64}, "name": {"type": "string", "maxLength": 200}}},
                        "action": {"type": "string", "pattern": "^[a-z][a-z0-9_.]{0,63}$"},
                        "resource": {"type": "object", "additionalProperties": false, "required": ["id", "type"], "properties": {
                            "id": {"type": "string", "maxLength": 200}, "type": {"type": "string", "maxLength": 64}}},
                        "outcome": {"type": "string", "enum": ["success", "failure"]},
                        "ip_address": {"type": "string", "description": "IPv4 or IPv6"},
                        "user_agent": {"type": "string", "maxLength": 500},
                        "metadata": {"type": "object", "maxProperties": 20, "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
                        "tenant": {"type": "string", "description": "A domain among the application's enabled tenants (else the token's tenant)"}}}
    });
    if let (Some(all), Value::Object(mine)) = (doc["paths"].as_object_mut(), paths) {
        all.extend(mine);
    }
    if let (Some(all), Value::Object(mine)) = (doc["components"]["schemas"].as_object_mut(), schema)
    {
        all.extend(mine);
    }
}
