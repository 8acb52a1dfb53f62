//! The OpenFeature Remote Evaluation Protocol under `/ofrep/v1`, at the root and in its
//! own error format, served from the flag cache like the Flag API.

use super::delivery::{cached, conditional, flag_tenant};
use super::{etag_of, CachedTenant};
use crate::api::ApiError;
use crate::extract::Bearer;
use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use gatehouse_domain::flags::Source;
use serde_json::{json, Value};
use std::sync::Arc;

/// OFREP lives at the root, in its own error format.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ofrep/v1/evaluate/flags", post(ofrep_bulk))
        .route("/ofrep/v1/evaluate/flags/{key}", post(ofrep_one))
}

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
    caller: RequestMeta,
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
    caller: RequestMeta,
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
