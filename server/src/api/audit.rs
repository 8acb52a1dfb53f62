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

use crate::api::ndjson::{self, BulkKind, Counts};
use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::{Bearer, RequestMeta};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_domain::audit::{self, LogEvent, Sender, Taken, TakenEvent};
use gatehouse_domain::FieldError;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

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
    named: Option<&[&str]>,
) -> Result<Sender, ApiError> {
    bearer.require_application_with(scope)?;
    Ok(audit::sender(
        &state.pool,
        bearer.0.application_id,
        bearer.0.tenant_id,
        named,
    )
    .await?)
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
    bearer.require_application_with("log:write")?;
    let events = audit::parse_batch(&body, OffsetDateTime::now_utc())?;
    let named = audit::named_tenants(events.iter().map(|e| e.tenant.as_deref()));
    let sender = sender_of(&state, &bearer, "log:write", named.as_deref()).await?;
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

/// Audit events, as a bulk request carries them.
struct AuditBulk {
    sender: Sender,
    request_id: Option<String>,
    now: OffsetDateTime,
}

impl BulkKind for AuditBulk {
    type Event = LogEvent;
    const CONFLICTS: bool = false;
    const BATCH: usize = audit::BULK_BATCH;

    fn parse(&self, value: &Value) -> Result<(LogEvent, uuid::Uuid), Vec<FieldError>> {
        let mut errors = Vec::new();
        let event = audit::parse_event(value, "", self.now, &mut errors).ok_or(errors)?;
        let tenant = audit::assign_tenants(&self.sender, std::slice::from_ref(&event), |_| {
            "tenant".into()
        })?;
        Ok((event, tenant[0]))
    }

    async fn store(
        &self,
        state: &AppState,
        events: &[LogEvent],
        tenants: &[uuid::Uuid],
    ) -> Result<Counts, gatehouse_domain::DomainError> {
        let taken = audit::ingest(
            &state.pool,
            &self.sender,
            self.request_id.as_deref(),
            events,
            tenants,
        )
        .await?;
        let accepted = taken.iter().filter(|t| t.status == Taken::Accepted).count() as u64;
        Ok(Counts {
            accepted,
            duplicates: taken.len() as u64 - accepted,
            conflicts: 0,
        })
    }
}

async fn bulk(
    State(state): State<AppState>,
    bearer: Bearer,
    meta: RequestMeta,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let sender = sender_of(&state, &bearer, "log:write", None).await?;
    let kind = AuditBulk {
        sender,
        request_id: meta.ctx.request_id.clone(),
        now: OffsetDateTime::now_utc(),
    };
    let report = ndjson::ingest(&state, &bearer.0.client_id, &meta.headers, kind, body).await?;
    Ok(Json(report))
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
