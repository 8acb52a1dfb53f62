//! Flag delivery (SPEC §6, FR-FLAG-002, API-FLAG): `GET /api/v1/flags` (strong ETag, 304,
//! `Cache-Control`), the change stream `GET /api/v1/flags/stream` (server-sent events),
//! and the OpenFeature Remote Evaluation Protocol under `/ofrep/v1` — all served from the
//! in-memory [`FlagCache`](crate::flags::FlagCache). And flag management for operators
//! (FR-FLAG-001): definitions, plan defaults, per-tenant overrides, history, stale flags.

use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::Bearer;
use crate::flags::{etag_of, flags_body, CachedTenant};
use crate::mfa::Caller;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bytes::Bytes;
use gatehouse_domain::flags::{self, FlagInput, Source};
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::types::Plan;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    ApiRoutes::new()
        .route("/v1/flags", get(flag_api))
        .route("/v1/flags/stream", get(stream))
        .route(
            "/v1/flag-definitions",
            get(list_definitions).post(create_definition),
        )
        .route("/v1/flag-definitions/stale", get(stale_definitions))
        .route(
            "/v1/flag-definitions/{key}",
            get(get_definition).patch(update_definition),
        )
        .route("/v1/flag-definitions/{key}/history", get(history))
        .route(
            "/v1/flag-definitions/{key}/plans/{plan}",
            put(set_plan_default).delete(clear_plan_default),
        )
        .route("/v1/tenants/{id}/flags", get(tenant_flags))
        .route(
            "/v1/tenants/{id}/flags/{key}",
            put(set_override).delete(clear_override),
        )
        .build()
}

/// OFREP lives at the root, in its own error format.
pub fn ofrep_router() -> Router<AppState> {
    Router::new()
        .route("/ofrep/v1/evaluate/flags", post(ofrep_bulk))
        .route("/ofrep/v1/evaluate/flags/{key}", post(ofrep_one))
}

const CACHE: &str = "private, no-cache";

/// The tenant whose flags the caller asks for: the token's own tenant, or `asked` (a
/// domain) among the application's enabled tenants; operators may name any tenant.
/// Another tenant answers 404, as everywhere (SPEC §2).
async fn flag_tenant(
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

async fn cached(state: &AppState, tenant_id: Uuid) -> Result<Arc<CachedTenant>, ApiError> {
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
fn conditional(headers: &HeaderMap, body: Bytes, etag: &str) -> Response {
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
struct FlagQuery {
    tenant: Option<String>,
    /// The user the evaluation is for (sticky rollouts); the tenant when absent.
    user_id: Option<String>,
}

/// API-FLAG: every effective flag of the tenant.
async fn flag_api(
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
async fn stream(
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

// ---- OFREP ---------------------------------------------------------------------------

fn ofrep_error(status: StatusCode, key: Option<&str>, code: &str, details: &str) -> Response {
    let mut body = json!({"errorCode": code, "errorDetails": details});
    if let Some(k) = key {
        body["key"] = json!(k);
    }
    (status, Json(body)).into_response()
}

/// OFREP answers authentication failures with bare 401/403 (and its own bodies).
fn ofrep_refusal(e: ApiError) -> Response {
    let status = match e.status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => {
            e.status
        }
        StatusCode::NOT_FOUND => StatusCode::FORBIDDEN,
        s if s.is_server_error() => s,
        _ => StatusCode::BAD_REQUEST,
    };
    if status == StatusCode::BAD_REQUEST {
        return ofrep_error(status, None, "INVALID_CONTEXT", &e.message);
    }
    let mut res = (status, Json(json!({"errorDetails": e.message}))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        if let Ok(v) = HeaderValue::from_str(
            e.www_authenticate
                .as_deref()
                .unwrap_or("Bearer realm=\"gatehouse\""),
        ) {
            res.headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, v);
        }
    }
    res
}

/// The evaluation context: `targetingKey` (optional, a string) and `tenant` (a domain,
/// for tokens that act for several tenants). Other attributes are accepted and ignored.
struct OfrepContext {
    targeting_key: Option<String>,
    tenant: Option<String>,
}

/// Why a request body is not an OFREP evaluation request: an error code and details.
struct BadContext(&'static str, String);

fn ofrep_context(body: &Bytes) -> Result<OfrepContext, BadContext> {
    let none = OfrepContext {
        targeting_key: None,
        tenant: None,
    };
    if body.is_empty() {
        return Ok(none);
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| BadContext("PARSE_ERROR", "the body is not JSON".into()))?;
    let invalid = |d: String| BadContext("INVALID_CONTEXT", d);
    let context = match value.get("context") {
        None | Some(Value::Null) => return Ok(none),
        Some(Value::Object(c)) => c.clone(),
        Some(_) => return Err(invalid("context must be an object".into())),
    };
    let text = |name: &str| match context.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => {
            Ok(Some(s.trim().to_owned()))
        }
        Some(_) => Err(invalid(format!(
            "{name} must be a non-empty string of at most 200 characters"
        ))),
    };
    Ok(OfrepContext {
        targeting_key: text("targetingKey")?,
        tenant: text("tenant")?,
    })
}

fn ofrep_item(key: &str, value: bool, source: Source) -> Value {
    json!({
        "key": key,
        "value": value,
        "reason": source.reason(),
        "variant": if value { "on" } else { "off" },
        "metadata": {"source": source},
    })
}

async fn ofrep_tenant(
    state: &AppState,
    bearer: &Bearer,
    ctx: &OfrepContext,
) -> Result<Arc<CachedTenant>, ApiError> {
    let tenant_id = flag_tenant(state, bearer, ctx.tenant.as_deref()).await?;
    cached(state, tenant_id).await
}

/// OFREP bulk evaluation (with ETag / If-None-Match → 304).
async fn ofrep_bulk(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    body: Bytes,
) -> Response {
    let bearer = match crate::extract::bearer_from(&state, &caller.headers).await {
        Ok(b) => b,
        Err(e) => return ofrep_refusal(e),
    };
    let ctx = match ofrep_context(&body) {
        Ok(c) => c,
        Err(BadContext(code, details)) => {
            return ofrep_error(StatusCode::BAD_REQUEST, None, code, &details)
        }
    };
    let tenant = match ofrep_tenant(&state, &bearer, &ctx).await {
        Ok(t) => t,
        Err(e) => return ofrep_refusal(e),
    };
    let flags: Vec<Value> = tenant
        .flags
        .flags
        .iter()
        .map(|rule| {
            if rule.override_value.is_none() && rule.plan_value.is_none() && rule.rollout_percentage.is_some() && ctx.targeting_key.is_none() {
                return json!({"key": rule.key, "errorCode": "TARGETING_KEY_MISSING",
                              "errorDetails": "this flag is rolled out by percentage: give a targetingKey"});
            }
            let tenant_key = tenant.flags.tenant_id.to_string();
            let (value, source) = rule.evaluate(ctx.targeting_key.as_deref().unwrap_or(&tenant_key));
            ofrep_item(&rule.key, value, source)
        })
        .collect();
    let body = Bytes::from(serde_json::to_vec(&json!({"flags": flags})).unwrap_or_default());
    let etag = etag_of(&body);
    conditional(&headers, body, &etag)
}

/// OFREP single-flag evaluation.
async fn ofrep_one(
    State(state): State<AppState>,
    Path(key): Path<String>,
    caller: Caller,
    body: Bytes,
) -> Response {
    let bearer = match crate::extract::bearer_from(&state, &caller.headers).await {
        Ok(b) => b,
        Err(e) => return ofrep_refusal(e),
    };
    let ctx = match ofrep_context(&body) {
        Ok(c) => c,
        Err(BadContext(code, details)) => {
            return ofrep_error(StatusCode::BAD_REQUEST, Some(&key), code, &details)
        }
    };
    let tenant = match ofrep_tenant(&state, &bearer, &ctx).await {
        Ok(t) => t,
        Err(e) => return ofrep_refusal(e),
    };
    let Some(rule) = tenant.flags.rule(&key) else {
        return ofrep_error(
            StatusCode::NOT_FOUND,
            Some(&key),
            "FLAG_NOT_FOUND",
            "no flag has this key",
        );
    };
    if rule.override_value.is_none()
        && rule.plan_value.is_none()
        && rule.rollout_percentage.is_some()
        && ctx.targeting_key.is_none()
    {
        return ofrep_error(
            StatusCode::BAD_REQUEST,
            Some(&key),
            "TARGETING_KEY_MISSING",
            "this flag is rolled out by percentage: give a targetingKey",
        );
    }
    let tenant_key = tenant.flags.tenant_id.to_string();
    let (value, source) = rule.evaluate(ctx.targeting_key.as_deref().unwrap_or(&tenant_key));
    Json(ofrep_item(&key, value, source)).into_response()
}

// ---- management (operators) ------------------------------------------------------------

fn operator(bearer: &Bearer, scope: &str) -> Result<Actor, ApiError> {
    bearer.require_user_with(scope, Permission::FlagsManage)
}

async fn list_definitions(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<impl IntoResponse, ApiError> {
    let actor = operator(&bearer, "admin")?;
    Ok(Json(
        json!({"data": flags::list_flags(&state.pool, Some(&actor)).await?, "next_cursor": null}),
    ))
}

async fn stale_definitions(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<impl IntoResponse, ApiError> {
    let actor = operator(&bearer, "admin")?;
    Ok(Json(
        json!({"data": flags::stale_flags(&state.pool, Some(&actor), 30).await?, "next_cursor": null}),
    ))
}

async fn get_definition(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(key): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = operator(&bearer, "admin")?;
    Ok(Json(
        flags::get_flag(&state.pool, Some(&actor), &key).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefinitionBody {
    key: Option<String>,
    description: Option<String>,
    default_value: Option<bool>,
    #[serde(default, deserialize_with = "some_nullable")]
    rollout_percentage: Option<Option<i16>>,
}

/// `Some(None)` for an explicit null (clear), `None` when absent (keep).
fn some_nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i16>>, D::Error> {
    Option::<i16>::deserialize(d).map(Some)
}

impl From<DefinitionBody> for FlagInput {
    fn from(b: DefinitionBody) -> Self {
        FlagInput {
            key: b.key.map(|k| k.trim().to_owned()),
            description: b.description,
            default_value: b.default_value,
            rollout_percentage: b.rollout_percentage,
        }
    }
}

async fn create_definition(
    State(state): State<AppState>,
    caller: Caller,
    bearer: Bearer,
    ApiJson(body): ApiJson<DefinitionBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = operator(&bearer, "admin")?;
    let flag = state
        .services
        .apply(flags::create_flag(&state.pool, &caller.ctx, Some(&actor), body.into()).await)
        .await?;
    Ok((StatusCode::CREATED, Json(flag)))
}

async fn update_definition(
    State(state): State<AppState>,
    caller: Caller,
    bearer: Bearer,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<DefinitionBody>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = operator(&bearer, "admin")?;
    let flag = state
        .services
        .apply(flags::update_flag(&state.pool, &caller.ctx, Some(&actor), &key, body.into()).await)
        .await?;
    Ok(Json(flag))
}

async fn history(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(key): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = operator(&bearer, "admin")?;
    flags::get_flag(&state.pool, Some(&actor), &key).await?;
    Ok(Json(
        json!({"data": flags::flag_history(&state.pool, Some(&actor), &key, 100).await?, "next_cursor": null}),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueBody {
    value: bool,
}

async fn plan_default(
    state: AppState,
    caller: Caller,
    bearer: Bearer,
    key: String,
    plan: String,
    value: Option<bool>,
) -> Result<Json<flags::FlagDefinition>, ApiError> {
    let actor = operator(&bearer, "admin")?;
    let plan = Plan::parse(&plan)?;
    let flag = state
        .services
        .apply(
            flags::set_plan_default(&state.pool, &caller.ctx, Some(&actor), &key, plan, value)
                .await,
        )
        .await?;
    Ok(Json(flag))
}

async fn set_plan_default(
    State(state): State<AppState>,
    caller: Caller,
    bearer: Bearer,
    Path((key, plan)): Path<(String, String)>,
    ApiJson(body): ApiJson<ValueBody>,
) -> Result<impl IntoResponse, ApiError> {
    plan_default(state, caller, bearer, key, plan, Some(body.value)).await
}

async fn clear_plan_default(
    State(state): State<AppState>,
    caller: Caller,
    bearer: Bearer,
    Path((key, plan)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    plan_default(state, caller, bearer, key, plan, None).await
}

fn tenant_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// A tenant's effective flags with where each value comes from (operators).
async fn tenant_flags(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = operator(&bearer, "admin")?;
    let id = tenant_id(&id)?;
    gatehouse_domain::tenants::get_tenant(&state.pool, Some(&actor), id).await?;
    let tenant = state
        .flags
        .get()
        .await
        .tenant(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(
        json!({"data": tenant.flags.evaluate(None), "next_cursor": null}),
    ))
}

async fn override_value(
    state: AppState,
    caller: Caller,
    bearer: Bearer,
    id: String,
    key: String,
    value: Option<bool>,
) -> Result<Json<Value>, ApiError> {
    let actor = operator(&bearer, "admin")?;
    let id = tenant_id(&id)?;
    state
        .services
        .apply(flags::set_override(&state.pool, &caller.ctx, Some(&actor), id, &key, value).await)
        .await?;
    state.flags.changed(Some(id)).await;
    Ok(Json(
        json!({"tenant_id": id, "key": key, "override": value}),
    ))
}

async fn set_override(
    State(state): State<AppState>,
    caller: Caller,
    bearer: Bearer,
    Path((id, key)): Path<(String, String)>,
    ApiJson(body): ApiJson<ValueBody>,
) -> Result<impl IntoResponse, ApiError> {
    override_value(state, caller, bearer, id, key, Some(body.value)).await
}

async fn clear_override(
    State(state): State<AppState>,
    caller: Caller,
    bearer: Bearer,
    Path((id, key)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    override_value(state, caller, bearer, id, key, None).await
}
