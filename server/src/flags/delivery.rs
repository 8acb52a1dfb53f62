//! Flag delivery (SPEC §6, FR-FLAG-002, API-FLAG): `GET /api/v1/flags` (strong ETag, 304,
//! `Cache-Control`) and the change stream `GET /api/v1/flags/stream` (server-sent events),
//! served from the in-memory [`FlagCache`](super::FlagCache).

use super::{etag_of, flags_body, CachedTenant};
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlagQuery {
    pub(crate) tenant: Option<String>,
    /// The user the evaluation is for (sticky rollouts); the tenant when absent.
    pub(crate) user_id: Option<String>,
}

/// API-FLAG: every effective flag of the tenant.
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

/// Server-sent events: `flags` with the whole answer now and after every change.
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
fn async_stream<F, Fut>(
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
