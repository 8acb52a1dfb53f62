//! Flag delivery (SPEC §6, FR-FLAG-002, API-FLAG): `GET /api/v1/flags` (strong ETag, 304,
//! `Cache-Control`) and the change stream `GET /api/v1/flags/stream` (server-sent events),
//! served from the in-memory [`FlagCache`](super::FlagCache).

use super::{etag_of, flags_body, CachedTenant, EffectiveFlags};
use crate::api::error::{ErrorBody, Refusals};
use crate::api::ApiError;
use crate::extract::Bearer;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use gatehouse_domain::permissions::Permission;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;
use uuid::Uuid;

const CACHE: &str = "private, no-cache";

/// The tenant whose flags the caller asks for: the token's own tenant, or `asked` (a
/// domain) among the application's enabled tenants; operators may name any tenant.
/// Another tenant answers 404, as everywhere (SPEC §2).
pub(crate) async fn flag_tenant(
    state: &AppState,
    bearer: &Bearer,
    asked: Option<&str>,
) -> Result<Uuid, ApiError> {
    let claims = &bearer.0;
    let operator = bearer
        .actor()
        .is_some_and(|a| a.require(Permission::TenantsReadAll).is_ok());
    // An operator's token reads any tenant's flags, but only when granted to (`flag:read`
    // or `admin`), like everyone's.
    bearer.require_scope("flag:read")?;
    let asked = asked
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase);
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "ERR_NOT_FOUND", "tenant not found");
    let by_domain = |domain: String| async move {
        let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM tenants WHERE domain = $1")
            .bind(domain)
            .fetch_optional(&state.pool)
            .await?;
        Ok::<_, ApiError>(id)
    };
    match (claims.tenant_id, asked) {
        (Some(own), None) => Ok(own),
        (Some(own), Some(domain)) => match by_domain(domain).await? {
            Some(id) if id == own => Ok(id),
            _ => Err(not_found()),
        },
        (None, Some(domain)) if operator => by_domain(domain).await?.ok_or_else(not_found),
        (None, Some(domain)) => {
            let client = state.tokens.get().await?.client(&claims.client_id).await?;
            client
                .and_then(|c| c.tenants.iter().find(|(_, d)| *d == domain).map(|t| t.0))
                .ok_or_else(not_found)
        }
        (None, None) => Err(ApiError::validation(vec![
            gatehouse_domain::FieldError::new(
                "tenant",
                "this token acts for several tenants: name one (?tenant=domain)",
            ),
        ])),
    }
}

pub(crate) async fn cached(
    state: &AppState,
    tenant_id: Uuid,
) -> Result<Arc<CachedTenant>, ApiError> {
    let tenant = state
        .flags
        .get()
        .await
        .tenant(tenant_id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "ERR_NOT_FOUND", "tenant not found"))?;
    if tenant.flags.suspended {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ERR_PERMISSION_DENIED",
            "the tenant is suspended: its flags are not served",
        ));
    }
    Ok(tenant)
}

fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// 200 with the body, or 304 when the client has it; both with ETag and Cache-Control.
pub(crate) fn conditional(headers: &HeaderMap, body: Bytes, etag: &str) -> Response {
    let etag_value = HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"\""));
    if matches(headers, etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (ETAG, etag_value),
                (CACHE_CONTROL, HeaderValue::from_static(CACHE)),
            ],
        )
            .into_response();
    }
    (
        [
            (ETAG, etag_value),
            (CACHE_CONTROL, HeaderValue::from_static(CACHE)),
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
        ],
        body,
    )
        .into_response()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlagQuery {
    /// The tenant's domain. Required for a token that acts for several tenants (an
    /// application enabled for several, or an operator's); a token of one tenant may
    /// name only its own.
    pub(crate) tenant: Option<String>,
    /// The user the evaluation is for: percentage rollouts are sticky per user. Without
    /// it, flags are evaluated for the tenant.
    #[param(max_length = 200)]
    pub(crate) user_id: Option<String>,
}

// API-FLAG: every effective flag of the tenant.
/// The tenant's feature flags.
///
/// Every flag's effective value for the tenant (or for one of its users with `user_id`) and
/// the rule that decided it: a tenant override, else the plan's default, else a sticky
/// percentage rollout, else the flag's default.
///
/// Answers carry a strong `ETag` and `Cache-Control: private, no-cache`: send the ETag back
/// in `If-None-Match` and an unchanged answer is `304 Not Modified` without a body. A
/// suspended tenant's flags are not served (403).
#[utoipa::path(
    get,
    path = "/v1/flags",
    operation_id = "get_flags",
    tag = "flags",
    params(
        FlagQuery,
        ("If-None-Match" = Option<String>, Header, description = "The ETag of an answer the client holds (or several, comma-separated, or `*`)"),
    ),
    responses(
        Refusals,
        (status = 200, description = "The tenant's flags", body = EffectiveFlags,
            headers(
                ("ETag" = String, description = "A strong validator of this answer, for `If-None-Match`"),
                ("Cache-Control" = String, description = "`private, no-cache`: revalidate before reuse")
            )),
        (status = 304, description = "Unchanged since the ETag given in `If-None-Match`: no body",
            headers(
                ("ETag" = String, description = "The current ETag"),
                ("Cache-Control" = String, description = "`private, no-cache`")
            )),
        (status = 403, description = "The token lacks `flag:read`, or the tenant is suspended", body = ErrorBody),
        (status = 404, description = "No such tenant among those the token acts for", body = ErrorBody),
        (status = 422, description = "The token acts for several tenants and none is named, `user_id` is too long, or an unknown parameter", body = ErrorBody),
    ),
    security(("oauth2" = ["flag:read"]))
)]
pub(crate) async fn flag_api(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    Query(q): Query<FlagQuery>,
) -> Result<Response, ApiError> {
    let tenant_id = flag_tenant(&state, &bearer, q.tenant.as_deref()).await?;
    let tenant = cached(&state, tenant_id).await?;
    match q
        .user_id
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        None => Ok(conditional(&headers, tenant.body.clone(), &tenant.etag)),
        Some(user) => {
            if user.len() > 200 {
                return Err(ApiError::validation(vec![
                    gatehouse_domain::FieldError::new("user_id", "at most 200 characters"),
                ]));
            }
            let body = flags_body(&tenant.flags, &tenant.flags.evaluate(Some(user)));
            let etag = etag_of(&body);
            Ok(conditional(&headers, body, &etag))
        }
    }
}

/// One server-sent event of the flag stream.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct FlagStreamEvent {
    /// `flags` (the tenant's flags, now and after every change) or `suspended`.
    #[schema(pattern = "^(flags|suspended)$")]
    event: String,
    /// For `flags`: the Flag API's answer as JSON text; for `suspended`: `{}`.
    data: String,
    /// For `flags`: the answer's ETag, without quotes.
    id: Option<String>,
    retry: Option<u64>,
}

/// The tenant's feature flags as they change (server-sent events).
///
/// A `text/event-stream` that sends a `flags` event at once and again after every change:
/// its `data` is the Flag API's answer (tenant-level evaluation) and its `id` the answer's
/// ETag without quotes. A `suspended` event (data `{}`) says the tenant was suspended;
/// comment lines keep the connection alive. At most 20 streams may be open per API key or
/// user at once.
#[utoipa::path(
    get,
    path = "/v1/flags/stream",
    operation_id = "stream_flags",
    tag = "flags",
    params(
        ("tenant" = Option<String>, Query, description = "The tenant's domain. Required for a token that acts for several tenants; a token of one tenant may name only its own"),
        ("user_id" = Option<String>, Query, description = "Accepted, not used: the stream carries tenant-level evaluations"),
    ),
    responses(
        Refusals,
        (status = 200, description = "The event stream: `flags` events (data: the Flag API's answer, id: its ETag) and `suspended`", body = FlagStreamEvent, content_type = "text/event-stream",
            example = json!({"event": "flags", "id": "4f1c0e5d9a7b3c2e1f0a9b8c7d6e5f4a", "data": "{\"details\":[{\"key\":\"dark_mode\",\"source\":\"default\",\"value\":true}],\"flags\":{\"dark_mode\":true},\"plan\":\"pro\",\"tenant_id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\"}"})),
        (status = 403, description = "The token lacks `flag:read`, or the tenant is suspended", body = ErrorBody),
        (status = 404, description = "No such tenant among those the token acts for", body = ErrorBody),
        (status = 422, description = "The token acts for several tenants and none is named, or an unknown parameter", body = ErrorBody),
        (status = 429, description = "20 streams are already open for this key or user, or over the rate limit (`Retry-After`)", body = ErrorBody),
    ),
    security(("oauth2" = ["flag:read"]))
)]
pub(crate) async fn stream(
    State(state): State<AppState>,
    bearer: Bearer,
    Query(q): Query<FlagQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant_id = flag_tenant(&state, &bearer, q.tenant.as_deref()).await?;
    cached(&state, tenant_id).await?;
    let caller = match bearer.0.user_id() {
        Some(user) => format!("user:{user}"),
        None => format!("key:{}", bearer.0.client_id),
    };
    let slot = state.flags.open_stream(&caller).ok_or_else(|| ApiError {
        retry_after_secs: Some(60),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ERR_RATE_LIMIT",
            format!(
                "at most {} flag streams may be open per key; close one first",
                crate::flags::STREAMS_PER_CALLER
            ),
        )
    })?;
    let cache = state.flags.get().await;
    let mut changes = cache.subscribe();
    let events = async_stream(move |tx: tokio::sync::mpsc::Sender<Event>| async move {
        // Held while the stream lives; its end (the client gone) frees the place.
        let _slot = slot;
        let mut last = String::new();
        loop {
            let event = match cache.tenant(tenant_id).await {
                Ok(Some(t)) if t.flags.suspended => Event::default().event("suspended").data("{}"),
                Ok(Some(t)) if t.etag != last => {
                    last = t.etag.clone();
                    Event::default()
                        .event("flags")
                        .id(t.etag.trim_matches('"'))
                        .data(String::from_utf8_lossy(&t.body))
                }
                Ok(Some(_)) => Event::default().comment("unchanged"),
                _ => return,
            };
            if tx.send(event).await.is_err() {
                return;
            }
            loop {
                let change = tokio::select! {
                    change = changes.recv() => change,
                    // The client went away: end now, not at the next change.
                    () = tx.closed() => return,
                };
                match change {
                    Ok(Some(id)) if id != tenant_id => continue,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(_) => return,
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// A stream fed by a task (no extra stream crates).
pub(crate) fn async_stream<F, Fut>(
    producer: F,
) -> impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(producer(tx));
    futures_util::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
    )
}
