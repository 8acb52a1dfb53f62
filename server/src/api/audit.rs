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

use crate::api::error::{ErrorBody, Refusals};
use crate::api::ndjson::{self, BulkKind, BulkReport, Counts};
use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::{Bearer, RequestMeta};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use gatehouse_domain::audit::{self, LogEvent, PublicKeyInfo, Sender, Taken, TakenEvent};
use gatehouse_domain::FieldError;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    ApiRoutes::new()
        .routes(routes!(ingest))
        .routes(routes!(checkpoint_key))
        .build()
}

/// The bulk route, merged by the server outside the body limit and the request timeout.
pub fn bulk_router() -> OpenApiRouter<AppState> {
    ApiRoutes::new().routes(routes!(bulk)).build()
}

// The request bodies below exist for the document only: the handlers read the JSON
// themselves (`audit::parse_batch`), so that every violation of every event is named in
// the domain's words (`events[3].actor.id`). Their rules mirror that parser.

/// One audit event, as an application reports it.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AuditEvent {
    /// The application's own id for the event: an id sent again is a `duplicate`, stored
    /// once.
    #[schema(min_length = 1, max_length = 200)]
    id: String,
    /// When it happened: ISO 8601 in UTC, ending in `Z` (`2026-12-06T09:30:00Z`); at most
    /// 5 minutes ahead of the server's clock.
    #[schema(format = DateTime, max_length = 40)]
    occurred_at: String,
    #[schema(inline)]
    actor: AuditActor,
    /// What happened, dotted lowercase: `document.download`.
    #[schema(pattern = "^[a-z][a-z0-9_.]{0,63}$")]
    action: String,
    #[schema(inline)]
    resource: AuditResource,
    #[schema(inline)]
    outcome: AuditOutcome,
    /// The IPv4 or IPv6 address the action came from.
    #[schema(min_length = 1, max_length = 64)]
    ip_address: String,
    /// The client's user agent, as the application saw it.
    #[schema(max_length = 500)]
    user_agent: Option<String>,
    #[schema(schema_with = metadata_schema)]
    metadata: Option<Value>,
    /// The tenant's domain, one of those the application is enabled for; without it, the
    /// tenant the token is bound to.
    #[schema(max_length = 253)]
    tenant: Option<String>,
}

/// Who acted, in the application's terms.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AuditActor {
    /// The actor's id in the application.
    #[schema(min_length = 1, max_length = 200)]
    id: String,
    /// The kind of actor: `user`, `api_key`, `service-account` (letters, digits, `_`, `-`
    /// and `.`).
    #[serde(rename = "type")]
    #[schema(max_length = 64, pattern = "^[A-Za-z0-9_.-]+$")]
    kind: String,
    /// A name to show for the actor.
    #[schema(max_length = 200)]
    name: Option<String>,
}

/// What was acted on, in the application's terms.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AuditResource {
    /// The resource's id in the application.
    #[schema(min_length = 1, max_length = 200)]
    id: String,
    /// The kind of resource: `document`, `invoice` (letters, digits, `_`, `-` and `.`).
    #[serde(rename = "type")]
    #[schema(max_length = 64, pattern = "^[A-Za-z0-9_.-]+$")]
    kind: String,
}

/// Whether the action succeeded.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum AuditOutcome {
    Success,
    Failure,
}

/// Up to 100 audit events, validated and stored together.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AuditEventBatch {
    #[schema(min_items = 1, max_items = 100)]
    events: Vec<AuditEvent>,
}

/// One audit event, or `{"events": [...]}` with 1 to 100.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)]
enum AuditEvents {
    One(AuditEvent),
    Batch(AuditEventBatch),
}

/// The schema of an event's own metadata (an audit event's `metadata`, a usage event's
/// `metadata`, a CloudEvent's `data` besides `quantity`), as `audit::ingest::metadata`
/// checks it.
pub(crate) fn metadata_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .description(Some(
            "The application's own details: at most 20 keys of 1 to 500 characters; values \
             are strings of at most 500 characters, numbers, booleans or null. A key that \
             looks like a secret (password, secret, token, seed, cookie, session_id) keeps \
             its name and loses its value.",
        ))
        .max_properties(Some(20))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([
                    Type::String,
                    Type::Number,
                    Type::Boolean,
                    Type::Null,
                ]))
                .max_length(Some(500)),
        ))
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

/// What became of a request's audit events, in the order sent.
#[derive(Serialize, ToSchema)]
struct AuditIngested {
    /// One answer per event.
    data: Vec<TakenEvent>,
    /// Events stored now.
    accepted: usize,
    /// Events whose `id` was sent before: stored once, not again.
    duplicates: usize,
}

/// Ship audit events: one event, or `{"events": [...]}` with at most 100.
///
/// The whole body is validated first: every violation of every event is named with its
/// field (`events[3].actor.id`) and nothing is stored. The answer comes after the commit,
/// one status per event: `accepted`, or `duplicate` for an `id` this application sent
/// before (stored once). Events join the tamper-evident audit trail of their tenant.
///
/// Events count against the key's events allowance, not requests: a batch that does not
/// fit is refused whole (429, `Retry-After`). For more than 100 events, use
/// `/v1/audit-logs/bulk`.
#[utoipa::path(
    post,
    path = "/v1/audit-logs",
    tag = "audit",
    operation_id = "ship_audit_events",
    request_body(
        content = inline(AuditEvents),
        description = "One event, or `{\"events\": [...]}` with 1 to 100 events"
    ),
    responses(
        Refusals,
        (status = 201, description = "At least one event was accepted; each event's status, in the order sent", body = AuditIngested),
        (status = 200, description = "Every event was a duplicate: nothing new was stored", body = AuditIngested),
        (status = 403, description = "Not an application's token with `log:write`, or the application or its tenant is disabled", body = ErrorBody),
        (status = 404, description = "A named tenant is not one the application may write (named per event: `events[1].tenant`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes: use `/v1/audit-logs/bulk`", body = ErrorBody),
        (status = 422, description = "Every invalid field of every event named; nothing stored", body = ErrorBody),
        (status = 429, description = "Too many requests with this key, or the events do not fit in its events allowance; nothing stored", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the allowance has room"))),
        (status = 503, description = "The database is not reachable right now; nothing stored", body = ErrorBody),
    ),
    security(("oauth2" = ["log:write"])),
)]
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
        Json(AuditIngested {
            data,
            accepted,
            duplicates,
        }),
    ))
}

/// The public key that signs the audit checkpoints.
///
/// An Ed25519 key, also given as a C2SP signed-note verifier key (`verifier_key`), so a
/// checkpoint (and an export that carries one) can be checked offline. No token needed.
#[utoipa::path(
    get,
    path = "/v1/audit-logs/checkpoints/key",
    tag = "audit",
    operation_id = "audit_checkpoint_key",
    responses(
        (status = 200, description = "The checkpoint signing key's public half", body = PublicKeyInfo),
        (status = 429, description = "Too many requests from this address", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database is not reachable right now", body = ErrorBody),
    ),
)]
async fn checkpoint_key(State(state): State<AppState>) -> Result<Json<PublicKeyInfo>, ApiError> {
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

/// Ship up to 1,000,000 audit events as NDJSON, one event per line.
///
/// Each line is one event as `POST /v1/audit-logs` takes it (`AuditEvent`). The body is
/// read as it arrives and committed every 1,000 valid events; a bad line is rejected and
/// named with its reasons (`line` counts non-blank lines from 1), the others are stored. A
/// re-sent `id` is a duplicate, so a failed upload can simply be sent again.
///
/// The request is not bound by the server's body limit or request timeout: it stops at
/// 1,000,000 lines (`line_limit_reached`), and 30 s without a byte from the client ends
/// it (408). The events allowance makes the stream wait instead of failing.
#[utoipa::path(
    post,
    path = "/v1/audit-logs/bulk",
    tag = "audit",
    operation_id = "ship_audit_events_bulk",
    request_body(
        content = String,
        content_type = "application/x-ndjson",
        description = "One `AuditEvent` JSON object per line (`application/jsonl` and `application/ndjson` are taken too)"
    ),
    responses(
        Refusals,
        (status = 200, description = "Lines read, events accepted and duplicates, and each rejected line with its reasons", body = BulkReport),
        (status = 400, description = "The body could not be read to its end", body = ErrorBody),
        (status = 403, description = "Not an application's token with `log:write`, or the application or its tenant is disabled", body = ErrorBody),
        (status = 408, description = "The client sent nothing for 30 s; the message says how many events were stored", body = ErrorBody),
        (status = 422, description = "The body is not NDJSON (`Content-Type`)", body = ErrorBody),
        (status = 429, description = "Too many requests with this key", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "A batch could not be stored; the message says how many events were stored before it (resend the rest: duplicates are recognised)", body = ErrorBody),
    ),
    security(("oauth2" = ["log:write"])),
)]
async fn bulk(
    State(state): State<AppState>,
    bearer: Bearer,
    meta: RequestMeta,
    body: Body,
) -> Result<Json<BulkReport>, ApiError> {
    let sender = sender_of(&state, &bearer, "log:write", None).await?;
    let kind = AuditBulk {
        sender,
        request_id: meta.ctx.request_id.clone(),
        now: OffsetDateTime::now_utc(),
    };
    let report = ndjson::ingest(&state, &bearer.0.client_id, &meta.headers, kind, body).await?;
    Ok(Json(report))
}
