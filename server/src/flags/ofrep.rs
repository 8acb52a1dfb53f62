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
use axum::{Json, Router};
use bytes::Bytes;
use gatehouse_domain::flags::Source;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// OFREP's routes with their documentation (full paths: OFREP lives at the root).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ofrep_bulk))
        .routes(routes!(ofrep_one))
}

/// OFREP lives at the root, in its own error format.
pub fn router() -> Router<AppState> {
    routes().split_for_parts().0
}

/// An evaluation request (OFREP). An empty body is the same as no context.
#[derive(ToSchema)]
#[allow(dead_code)]
struct OfrepEvaluationRequest {
    /// The evaluation context; absent or null: the token's tenant, evaluated for the tenant.
    context: Option<OfrepEvaluationContext>,
}

/// The evaluation context. Attributes other than these are accepted and ignored.
#[derive(ToSchema)]
#[allow(dead_code)]
struct OfrepEvaluationContext {
    /// Whom percentage rollouts are sticky for (a user's id); the tenant when absent.
    /// A non-empty string of at most 200 characters.
    #[serde(rename = "targetingKey")]
    #[schema(min_length = 1, max_length = 200)]
    targeting_key: Option<String>,
    /// The tenant's domain. Required for a token that acts for several tenants; a token
    /// of one tenant may name only its own.
    #[schema(min_length = 1, max_length = 200)]
    tenant: Option<String>,
}

/// One flag's evaluation (OFREP).
#[derive(Debug, Serialize, ToSchema)]
struct OfrepEvaluation {
    /// The flag's key.
    key: String,
    /// The flag's value (every flag is a boolean).
    value: bool,
    /// Why: `TARGETING_MATCH` (a tenant override or the plan's default), `SPLIT` (a
    /// percentage rollout) or `DEFAULT` (the flag's default).
    #[schema(value_type = OfrepReason)]
    reason: &'static str,
    /// `on` for true, `off` for false.
    #[schema(value_type = OfrepVariant)]
    variant: &'static str,
    metadata: OfrepMetadata,
}

/// Where the value comes from.
#[derive(Debug, Serialize, ToSchema)]
struct OfrepMetadata {
    /// The rule that decided the value.
    source: Source,
}

/// Why a flag has its value (OFREP's reasons).
#[derive(ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)]
enum OfrepReason {
    TargetingMatch,
    Split,
    Default,
}

/// A boolean flag's variant.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum OfrepVariant {
    On,
    Off,
}

/// The flags of a bulk evaluation (OFREP).
#[derive(Debug, Serialize, ToSchema)]
struct OfrepBulkEvaluation {
    /// Every flag of the tenant, ordered by key: its evaluation, or why it could not be
    /// evaluated.
    flags: Vec<OfrepBulkItem>,
}

/// One flag of a bulk evaluation: evaluated, or an error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
enum OfrepBulkItem {
    Evaluated(OfrepEvaluation),
    Failed(OfrepFailure),
}

/// An evaluation that failed (OFREP's error format).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct OfrepFailure {
    /// The flag's key, where the failure concerns one flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    /// What failed.
    #[schema(value_type = OfrepErrorCode)]
    error_code: &'static str,
    /// Why, for people.
    error_details: String,
}

/// OFREP's error codes: `PARSE_ERROR` (the body is not JSON), `INVALID_CONTEXT` (a
/// context attribute is wrong, or a token for several tenants names none) and
/// `TARGETING_KEY_MISSING` (a flag rolled out by percentage needs a `targetingKey`).
#[derive(ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)]
enum OfrepErrorCode {
    ParseError,
    InvalidContext,
    TargetingKeyMissing,
}

/// No flag has the key (OFREP).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct OfrepFlagNotFound {
    /// The key asked for.
    key: String,
    /// Always `FLAG_NOT_FOUND`.
    #[schema(value_type = OfrepFlagNotFoundCode)]
    error_code: &'static str,
    /// Why, for people.
    error_details: String,
}

/// The code of an unknown flag.
#[derive(ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)]
enum OfrepFlagNotFoundCode {
    FlagNotFound,
}

/// A refusal of the request as a whole (OFREP): authentication, permission, rate limit or
/// a server failure.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct OfrepGeneralError {
    /// Why, for people.
    error_details: String,
}

fn ofrep_error(
    status: StatusCode,
    key: Option<&str>,
    code: &'static str,
    details: &str,
) -> Response {
    let body = OfrepFailure {
        key: key.map(str::to_owned),
        error_code: code,
        error_details: details.to_owned(),
    };
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
    let body = OfrepGeneralError {
        error_details: e.message.clone(),
    };
    let mut res = (status, Json(body)).into_response();
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

fn ofrep_item(key: &str, value: bool, source: Source) -> OfrepEvaluation {
    OfrepEvaluation {
        key: key.to_owned(),
        value,
        reason: source.reason(),
        variant: if value { "on" } else { "off" },
        metadata: OfrepMetadata { source },
    }
}

async fn ofrep_tenant(
    state: &AppState,
    bearer: &Bearer,
    ctx: &OfrepContext,
) -> Result<Arc<CachedTenant>, ApiError> {
    let tenant_id = flag_tenant(state, bearer, ctx.tenant.as_deref()).await?;
    cached(state, tenant_id).await
}

/// Evaluate every flag (OFREP bulk evaluation).
///
/// Every flag of the tenant, evaluated for the context's `targetingKey` (else for the
/// tenant). A flag rolled out by percentage, with no override or plan default deciding it,
/// needs a `targetingKey`: without one it is listed with `TARGETING_KEY_MISSING`.
///
/// The answer carries a strong `ETag`: send it back in `If-None-Match` and an unchanged
/// answer is `304 Not Modified` without a body. Errors are in OFREP's format.
#[utoipa::path(
    post,
    path = "/ofrep/v1/evaluate/flags",
    operation_id = "ofrep_evaluate_flags",
    tag = "ofrep",
    params(
        ("If-None-Match" = Option<String>, Header, description = "The ETag of an answer the client holds (or several, comma-separated, or `*`)"),
    ),
    request_body(content = Option<OfrepEvaluationRequest>, description = "The evaluation context (the body may be empty)", content_type = "application/json"),
    responses(
        (status = 200, description = "Every flag's evaluation", body = OfrepBulkEvaluation,
            headers(
                ("ETag" = String, description = "A strong validator of this answer, for `If-None-Match`"),
                ("Cache-Control" = String, description = "`private, no-cache`: revalidate before reuse")
            )),
        (status = 304, description = "Unchanged since the ETag given in `If-None-Match`: no body",
            headers(
                ("ETag" = String, description = "The current ETag"),
                ("Cache-Control" = String, description = "`private, no-cache`")
            )),
        (status = 400, description = "`PARSE_ERROR`: the body is not JSON; `INVALID_CONTEXT`: a context attribute is wrong, or the token acts for several tenants and `tenant` names none", body = OfrepFailure),
        (status = 401, description = "No valid token", body = OfrepGeneralError,
            headers(("WWW-Authenticate" = String, description = "The Bearer challenge"))),
        (status = 403, description = "The token lacks `flag:read`, the tenant is not among those it acts for, or the tenant is suspended", body = OfrepGeneralError),
        (status = 429, description = "Over the rate limit (`Retry-After`). A caller without a token over its address's allowance gets the API's `Error` body", body = OfrepGeneralError,
            headers(("Retry-After" = String, description = "Seconds to wait"))),
        (status = 500, description = "An unexpected failure", body = OfrepGeneralError),
        (status = 503, description = "The database is not reachable right now", body = OfrepGeneralError),
    ),
    security(("oauth2" = ["flag:read"]))
)]
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
    let flags: Vec<OfrepBulkItem> = tenant
        .flags
        .flags
        .iter()
        .map(|rule| {
            if rule.override_value.is_none()
                && rule.plan_value.is_none()
                && rule.rollout_percentage.is_some()
                && ctx.targeting_key.is_none()
            {
                return OfrepBulkItem::Failed(OfrepFailure {
                    key: Some(rule.key.clone()),
                    error_code: "TARGETING_KEY_MISSING",
                    error_details: "this flag is rolled out by percentage: give a targetingKey"
                        .into(),
                });
            }
            let tenant_key = tenant.flags.tenant_id.to_string();
            let (value, source) =
                rule.evaluate(ctx.targeting_key.as_deref().unwrap_or(&tenant_key));
            OfrepBulkItem::Evaluated(ofrep_item(&rule.key, value, source))
        })
        .collect();
    let body = Bytes::from(serde_json::to_vec(&OfrepBulkEvaluation { flags }).unwrap_or_default());
    let etag = etag_of(&body);
    conditional(&headers, body, &etag)
}

/// Evaluate one flag (OFREP).
///
/// The flag's value for the context's `targetingKey` (else for the tenant). A flag rolled
/// out by percentage, with no override or plan default deciding it, needs a
/// `targetingKey` (400 `TARGETING_KEY_MISSING`). Errors are in OFREP's format.
#[utoipa::path(
    post,
    path = "/ofrep/v1/evaluate/flags/{key}",
    operation_id = "ofrep_evaluate_flag",
    tag = "ofrep",
    params(("key" = String, Path, description = "The flag's key")),
    request_body(content = Option<OfrepEvaluationRequest>, description = "The evaluation context (the body may be empty)", content_type = "application/json"),
    responses(
        (status = 200, description = "The flag's evaluation", body = OfrepEvaluation),
        (status = 400, description = "`PARSE_ERROR`: the body is not JSON; `INVALID_CONTEXT`: a context attribute is wrong, or the token acts for several tenants and `tenant` names none; `TARGETING_KEY_MISSING`: the flag is rolled out by percentage and no `targetingKey` is given", body = OfrepFailure),
        (status = 401, description = "No valid token", body = OfrepGeneralError,
            headers(("WWW-Authenticate" = String, description = "The Bearer challenge"))),
        (status = 403, description = "The token lacks `flag:read`, the tenant is not among those it acts for, or the tenant is suspended", body = OfrepGeneralError),
        (status = 404, description = "`FLAG_NOT_FOUND`: no flag has this key", body = OfrepFlagNotFound),
        (status = 429, description = "Over the rate limit (`Retry-After`). A caller without a token over its address's allowance gets the API's `Error` body", body = OfrepGeneralError,
            headers(("Retry-After" = String, description = "Seconds to wait"))),
        (status = 500, description = "An unexpected failure", body = OfrepGeneralError),
        (status = 503, description = "The database is not reachable right now", body = OfrepGeneralError),
    ),
    security(("oauth2" = ["flag:read"]))
)]
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
        let body = OfrepFlagNotFound {
            key: key.clone(),
            error_code: "FLAG_NOT_FOUND",
            error_details: "no flag has this key".into(),
        };
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
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
