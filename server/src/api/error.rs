//! The SPEC §9 error body for everything under `/api/`:
//! `{"code", "message", "request_id", "details": [{"field", "message"}]}`.
//!
//! `ApiError` is what handlers return; `DomainError` converts into it. 5xx bodies are
//! opaque: the cause chain is logged once, with the request id, and never sent.

use crate::middleware::RequestId;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_app::error::{log_failure, retry_after_of, status_of};
use gatehouse_domain::{DomainError, FieldError};
use jsonschema::error::ValidationErrorKind;
use jsonschema::ValidationError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

/// An error (SPEC §9): a code, a message for people, the request id (also in
/// `X-Request-Id`), and one detail per violated field — every violation, not the first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    #[schema(value_type = ErrorCode)]
    pub code: &'static str,
    pub message: String,
    pub request_id: Option<String>,
    pub details: Vec<FieldError>,
}

/// The refusals every authenticated `/api/v1` operation can answer: no valid token, over
/// the rate limit, the database out of reach. An operation lists it first in its
/// `responses(...)`; a more specific answer it lists after replaces the one here.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Refusals {
    #[response(status = 401, description = "No valid token")]
    Unauthenticated(ErrorBody),
    #[response(
        status = 429,
        description = "Too many requests; see `Retry-After`",
        headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))
    )]
    RateLimited(ErrorBody),
    #[response(status = 503, description = "The database is not reachable right now")]
    Unavailable(ErrorBody),
}

/// The error codes of SPEC §9, by status: 401 `ERR_AUTH`, 403 `ERR_PERMISSION_DENIED`,
/// 404 `ERR_NOT_FOUND`, 405 `ERR_METHOD_NOT_ALLOWED`, 409 `ERR_CONFLICT`, 410 `ERR_GONE`,
/// 413 `ERR_PAYLOAD_TOO_LARGE`, 422 `ERR_VALIDATION`, 423 `ERR_RESOURCE_LOCKED`, 429
/// `ERR_RATE_LIMIT`, 500 `ERR_INTERNAL`, 503 `ERR_UNAVAILABLE`.
#[derive(utoipa::ToSchema)]
#[allow(non_camel_case_types, dead_code, clippy::upper_case_acronyms)]
pub enum ErrorCode {
    ERR_AUTH,
    ERR_PERMISSION_DENIED,
    ERR_NOT_FOUND,
    ERR_METHOD_NOT_ALLOWED,
    ERR_CONFLICT,
    ERR_GONE,
    ERR_PAYLOAD_TOO_LARGE,
    ERR_VALIDATION,
    ERR_RESOURCE_LOCKED,
    ERR_RATE_LIMIT,
    ERR_INTERNAL,
    ERR_UNAVAILABLE,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
    /// The `WWW-Authenticate` challenge of a 401 (RFC 6750 §3); a plain Bearer challenge
    /// when unset.
    pub www_authenticate: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after_secs: None,
            www_authenticate: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "ERR_NOT_FOUND", "no such resource")
    }

    pub fn validation(details: Vec<FieldError>) -> Self {
        let message = match details.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", details.len()),
        };
        Self {
            details,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "ERR_VALIDATION", message)
        }
    }

    /// The code SPEC §9 gives a status, for responses produced outside our handlers
    /// (routing, body limits, timeouts).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                ("ERR_VALIDATION", "the request is malformed")
            }
            StatusCode::UNAUTHORIZED => ("ERR_AUTH", "authentication is required"),
            StatusCode::FORBIDDEN => ("ERR_PERMISSION_DENIED", "not allowed"),
            StatusCode::NOT_FOUND => ("ERR_NOT_FOUND", "no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "ERR_METHOD_NOT_ALLOWED",
                "this method is not allowed here; see the Allow header",
            ),
            StatusCode::REQUEST_TIMEOUT => (
                "ERR_UNAVAILABLE",
                "the request took too long and was abandoned",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => {
                ("ERR_PAYLOAD_TOO_LARGE", "the request body is too large")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "ERR_VALIDATION",
                "the request body must be JSON (Content-Type: application/json)",
            ),
            StatusCode::TOO_MANY_REQUESTS => ("ERR_RATE_LIMIT", "too many requests"),
            StatusCode::SERVICE_UNAVAILABLE => ("ERR_UNAVAILABLE", "the service is unavailable"),
            s if s.is_server_error() => ("ERR_INTERNAL", "internal error"),
            _ => ("ERR_VALIDATION", "the request was refused"),
        };
        let status = if status == StatusCode::BAD_REQUEST {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            status
        };
        Self::new(status, code, message)
    }

    /// The response, with the request id of the request it answers.
    pub fn into_response_with(self, request_id: Option<&RequestId>) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
            request_id: request_id.map(|r| r.as_str().to_owned()),
            details: self.details,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = self
                .www_authenticate
                .as_deref()
                .and_then(|c| HeaderValue::from_str(c).ok())
                .unwrap_or(HeaderValue::from_static("Bearer realm=\"gatehouse\""));
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(secs) = self.retry_after_secs {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Carried in a response's extensions so `error_bodies` can add the request id.
#[derive(Debug, Clone)]
pub(crate) struct PendingError(pub(crate) std::sync::Arc<std::sync::Mutex<Option<ApiError>>>);

impl IntoResponse for ApiError {
    /// Renders without a request id; under `/api/` the `error_bodies` middleware renders it
    /// again with the id of the request it answers.
    fn into_response(self) -> Response {
        let pending = PendingError(std::sync::Arc::new(std::sync::Mutex::new(Some(
            self.clone(),
        ))));
        let mut response = self.into_response_with(None);
        response.extensions_mut().insert(pending);
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        let (status, code) = status_of(&err);
        log_failure(&err);
        let retry_after_secs = retry_after_of(&err);
        // An unexpected error's text is the server's business (logged above), never the
        // caller's.
        let message = match &err {
            DomainError::Unexpected(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let error = Self {
            retry_after_secs,
            ..Self::new(status, code, message)
        };
        match err {
            DomainError::Conflict {
                message,
                field: Some(field),
            } => Self {
                details: vec![FieldError::new(field, message)],
                ..error
            },
            DomainError::Validation(details) => Self::validation(details),
            _ => error,
        }
    }
}

/// The one JSON body extractor of `/api/v1` (SPEC §9). The body is checked against the
/// schema the OpenAPI document gives `T` (the same `ToSchema`), and every violation —
/// unknown fields, wrong types, missing fields, values outside an enum, a format, a length
/// or a pattern — answers 422 ERR_VALIDATION together, each named by its field, in our own
/// words (no parser text). Malformed JSON or a wrong content type is named `body`; an
/// oversized body answers 413. Rules no schema can say (a domain's own checks) come after,
/// in the handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned + ToSchema + 'static,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<Value>::from_request(req, state)
            .await
            .map_err(json_rejection)?;
        // PostgreSQL stores no NUL character, in text or in JSON.
        let nul = nul_fields_of(&value);
        if !nul.is_empty() {
            return Err(ApiError::validation(nul));
        }
        // A handler that takes any JSON reads it itself, exactly as sent (and may hand it to
        // `parse_body` once it has checked who is asking): handed over as it is, with no
        // schema to check and no copy (the ingestion routes' batches).
        let any: Box<dyn std::any::Any> = Box::new(value);
        match any.downcast::<T>() {
            Ok(raw) => Ok(Self(*raw)),
            Err(any) => match any.downcast::<Value>() {
                Ok(value) => parse_body::<T>(*value).map(Self),
                Err(_) => Err(ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR)),
            },
        }
    }
}

/// The fields (keys or strings) of `value` that hold a NUL character, which PostgreSQL
/// cannot store.
pub(crate) fn nul_fields_of(value: &Value) -> Vec<FieldError> {
    let mut out = Vec::new();
    nul_fields(value, "", &mut out);
    out
}

fn nul_fields(value: &Value, at: &str, out: &mut Vec<FieldError>) {
    let field = |name: &str| field_name(name);
    match value {
        Value::String(s) if s.contains('\0') => out.push(FieldError::new(
            field(at),
            "must not contain a NUL character",
        )),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_fields(item, &format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let path = format!("{at}/{}", key.replace('\0', ""));
                if key.contains('\0') {
                    out.push(FieldError::new(
                        field(&path),
                        "must not contain a NUL character",
                    ));
                } else {
                    nul_fields(item, &path, out);
                }
            }
        }
        _ => {}
    }
}

/// A JSON body as a `T` (SPEC §9): strings trimmed and an empty one `null`, then every
/// violation of `T`'s schema named at once, in the order of `T`'s fields.
pub fn parse_body<T: DeserializeOwned + ToSchema + 'static>(
    mut value: Value,
) -> Result<T, ApiError> {
    tidy(&mut value);
    checked::<T>(value)
}

/// SPEC §9: strings are trimmed and an empty one is `null` (not inside `metadata`, which
/// is the caller's own data).
fn tidy(value: &mut Value) {
    match value {
        Value::String(s) => {
            let trimmed = s.trim();
            if trimmed.is_empty() {
                *value = Value::Null;
            } else if trimmed.len() != s.len() {
                *s = trimmed.to_owned();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        Value::Object(map) => map
            .iter_mut()
            .filter(|(k, _)| k.as_str() != "metadata")
            .for_each(|(_, v)| tidy(v)),
        _ => {}
    }
}

/// `value` as a `T`, or every way it breaks `T`'s schema. Enum values are case-insensitive
/// (SPEC §9): one that matches once lowered is lowered.
fn checked<T: DeserializeOwned + ToSchema + 'static>(mut value: Value) -> Result<T, ApiError> {
    let Some(body) = schema_of::<T>() else {
        return from_value(value);
    };
    let mut details: Vec<FieldError> = Vec::new();
    let mut lower = Vec::new();
    for error in body.validator.iter_errors(&value) {
        explain(&error, &mut details, &mut lower);
    }
    if !details.is_empty() {
        // In the order of the body's fields as documented; any other (unknown) after them.
        details.sort_by_key(|d| {
            let top = d.field.split(['.', '[']).next().unwrap_or_default();
            body.fields
                .iter()
                .position(|f| f == top)
                .unwrap_or(body.fields.len())
        });
        return Err(ApiError::validation(details));
    }
    for pointer in lower {
        if let Some(Value::String(s)) = value.pointer_mut(&pointer) {
            *s = s.to_ascii_lowercase();
        }
    }
    from_value(value)
}

/// Our words for one schema violation, added to `details`; a case-only enum mismatch is
/// noted in `lower` instead. A value that may also be `null` (`oneOf: [null, X]`) is
/// explained by what `X` says.
fn explain(error: &ValidationError<'_>, details: &mut Vec<FieldError>, lower: &mut Vec<String>) {
    let instance: &Value = error.instance().as_ref();
    let kind = error.kind();
    if let (ValidationErrorKind::Enum { options }, Value::String(s)) = (kind, instance) {
        let lowered = Value::String(s.to_ascii_lowercase());
        if options.as_array().is_some_and(|o| o.contains(&lowered)) {
            lower.push(error.instance_path().as_str().to_owned());
            return;
        }
    }
    if let ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } =
        kind
    {
        let is_null_branch = |branch: &&Vec<ValidationError<'static>>| {
            matches!(branch.as_slice(), [only] if matches!(only.kind(),
                ValidationErrorKind::Type { kind: jsonschema::error::TypeKind::Single(jsonschema::JsonType::Null) }))
        };
        let branches: Vec<_> = context.iter().filter(|b| !is_null_branch(b)).collect();
        if let [branch] = branches.as_slice() {
            for inner in branch.iter() {
                explain(inner, details, lower);
            }
            return;
        }
    }
    let field = field_name(error.instance_path().as_str());
    let found = if instance.is_null() && matches!(kind, ValidationErrorKind::Type { .. }) {
        vec![FieldError::new(field, "cannot be empty")]
    } else {
        details_for(&field, kind)
    };
    for detail in found {
        if !details.contains(&detail) {
            details.push(detail);
        }
    }
}

/// The schema admitted it; what serde still refuses is a rule the schema does not say.
fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|_| {
        ApiError::validation(vec![FieldError::new(
            "body",
            "does not have the shape this operation takes",
        )])
    })
}

/// A body type's compiled schema and its fields in declared order.
struct BodySchema {
    validator: jsonschema::Validator,
    fields: Vec<String>,
}

type Schemas = HashMap<TypeId, Option<Arc<BodySchema>>>;

/// One compiled schema per body type, built from the document's schema of it with the
/// component schemas it refers to.
fn schema_of<T: ToSchema + 'static>() -> Option<Arc<BodySchema>> {
    static CACHE: LazyLock<RwLock<Schemas>> = LazyLock::new(Default::default);
    let id = TypeId::of::<T>();
    if let Some(found) = CACHE.read().ok().and_then(|c| c.get(&id).cloned()) {
        return found;
    }
    let mut components = Vec::new();
    T::schemas(&mut components);
    let mut schemas = serde_json::Map::new();
    for (name, schema) in components {
        schemas.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    let schema = T::schema();
    // Declared order (utoipa's preserve_order), not the alphabetical order of a JSON map.
    let fields = match &schema {
        RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let own = serde_json::to_value(schema).unwrap_or(Value::Null);
    let root = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [own],
        "components": {"schemas": schemas},
    });
    let compiled = jsonschema::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(true)
        .build(&root);
    let body = match compiled {
        Ok(validator) => Some(Arc::new(BodySchema { validator, fields })),
        Err(e) => {
            tracing::error!(body = std::any::type_name::<T>(), error = %e, "a request body's schema does not compile");
            None
        }
    };
    if let Ok(mut cache) = CACHE.write() {
        cache.insert(id, body.clone());
    }
    body
}

/// `/events/3/quantity` → `events[3].quantity`; the root is `body`.
fn field_name(pointer: &str) -> String {
    let mut name = String::new();
    for segment in pointer.split('/').filter(|s| !s.is_empty()) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.bytes().all(|b| b.is_ascii_digit()) {
            name.push_str(&format!("[{segment}]"));
        } else {
            if !name.is_empty() {
                name.push('.');
            }
            name.push_str(&segment);
        }
    }
    if name.is_empty() {
        "body".to_owned()
    } else {
        name
    }
}

fn join(parent: &str, child: &str) -> String {
    if parent == "body" {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// Our words for one schema violation at `field`.
fn details_for(field: &str, kind: &ValidationErrorKind) -> Vec<FieldError> {
    use ValidationErrorKind as K;
    let one = |message: String| vec![FieldError::new(field, message)];
    match kind {
        K::AdditionalProperties { unexpected } | K::UnevaluatedProperties { unexpected } => {
            unexpected
                .iter()
                .map(|name| FieldError::new(join(field, name), "is not a field of this body"))
                .collect()
        }
        K::Required { property } => {
            let name = property.as_str().unwrap_or("field");
            vec![FieldError::new(join(field, name), "is required")]
        }
        K::Type { kind } => one(format!("must be {}", type_words(kind))),
        K::Enum { options } => {
            let values: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|v| !v.is_null())
                        .map(|v| v.as_str().map(str::to_owned).unwrap_or(v.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            one(format!("must be one of: {}", values.join(", ")))
        }
        K::Constant { expected_value } => one(format!("must be {expected_value}")),
        K::Format { format } => one(match format.as_str() {
            "email" => "must be an email address".to_owned(),
            "date-time" => "must be a date and time in ISO 8601 (RFC 3339)".to_owned(),
            "date" => "must be a date (YYYY-MM-DD)".to_owned(),
            "uuid" => "must be a UUID".to_owned(),
            "uri" => "must be an absolute URI".to_owned(),
            "hostname" => "must be a domain name".to_owned(),
            other => format!("must be in the {other} format"),
        }),
        K::MaxLength { limit } => one(format!("must have at most {limit} characters")),
        K::MinLength { limit: 1 } => one("cannot be empty".to_owned()),
        K::MinLength { limit } => one(format!("must have at least {limit} characters")),
        K::MaxItems { limit } => one(format!("must have at most {limit} items")),
        K::MinItems { limit } => one(format!("must have at least {limit} items")),
        K::MaxProperties { limit } => one(format!("must have at most {limit} keys")),
        K::MinProperties { limit } => one(format!("must have at least {limit} keys")),
        K::Maximum { limit } => one(format!("must be at most {limit}")),
        K::Minimum { limit } => one(format!("must be at least {limit}")),
        K::ExclusiveMaximum { limit } => one(format!("must be less than {limit}")),
        K::ExclusiveMinimum { limit } => one(format!("must be more than {limit}")),
        K::Pattern { pattern } => one(format!("must match {pattern}")),
        K::UniqueItems => one("must not repeat an item".to_owned()),
        _ => one("is not valid here".to_owned()),
    }
}

fn type_words(kind: &jsonschema::error::TypeKind) -> String {
    use jsonschema::error::TypeKind;
    let word = |t: jsonschema::JsonType| match t {
        jsonschema::JsonType::Array => "a list",
        jsonschema::JsonType::Boolean => "true or false",
        jsonschema::JsonType::Integer => "a whole number",
        jsonschema::JsonType::Null => "null",
        jsonschema::JsonType::Number => "a number",
        jsonschema::JsonType::Object => "an object",
        jsonschema::JsonType::String => "a string",
    };
    match kind {
        TypeKind::Single(t) => word(*t).to_owned(),
        // "a string or null": null last.
        TypeKind::Multiple(set) => {
            let mut types: Vec<_> = set.iter().collect();
            types.sort_by_key(|t| *t == jsonschema::JsonType::Null);
            types.into_iter().map(word).collect::<Vec<_>>().join(" or ")
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::for_status(status);
    }
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "the request body must be JSON (Content-Type: application/json)"
        }
        JsonRejection::JsonSyntaxError(_) => "the request body is not valid JSON",
        _ => "the request body could not be read",
    };
    ApiError::validation(vec![FieldError::new("body", message)])
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        DomainError::from(err).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::post;
    use axum::Router;
    use tower::ServiceExt;

    #[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        #[schema(format = Email)]
        name: String,
        count: u32,
    }

    async fn echo(ApiJson(input): ApiJson<Input>) -> String {
        input.name
    }

    async fn call(content_type: Option<&str>, body: &str) -> (StatusCode, serde_json::Value) {
        let app = Router::new()
            .route("/", post(echo))
            .layer(axum::extract::DefaultBodyLimit::max(64));
        let mut req = Request::post("/");
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = app
            .oneshot(req.body(Body::from(body.to_owned())).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    #[tokio::test]
    async fn malformed_json_is_422_with_spec_body() {
        let (status, body) = call(Some("application/json"), "{\"name\": ").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["code"], "ERR_VALIDATION");
        assert_eq!(body["details"][0]["field"], "body");
    }

    #[tokio::test]
    async fn every_violation_is_named_in_our_words() {
        let (status, body) = call(
            Some("application/json"),
            r#"{"name":"a","count":"x","bogus":true}"#,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let details = body["details"].as_array().cloned().unwrap_or_default();
        let named = |field: &str| {
            details
                .iter()
                .find(|d| d["field"] == field)
                .map(|d| d["message"].as_str().unwrap_or_default().to_owned())
        };
        assert_eq!(
            named("bogus").as_deref(),
            Some("is not a field of this body"),
            "{body}"
        );
        assert_eq!(
            named("name").as_deref(),
            Some("must be an email address"),
            "{body}"
        );
        assert_eq!(
            named("count").as_deref(),
            Some("must be a whole number"),
            "{body}"
        );
        assert_eq!(details.len(), 3, "{body}");
        let (_, body) = call(Some("application/json"), r#"{"count":1}"#).await;
        assert_eq!(body["details"][0]["field"], "name", "{body}");
        assert_eq!(body["details"][0]["message"], "is required", "{body}");
    }

    #[tokio::test]
    async fn wrong_content_type_and_oversized_body() {
        let (status, body) = call(Some("text/plain"), r#"{"name":"a","count":1}"#).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("JSON"));
        let big = format!(r#"{{"name":"{}@example.com","count":1}}"#, "x".repeat(200));
        let (status, body) = call(Some("application/json"), &big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["code"], "ERR_PAYLOAD_TOO_LARGE");
    }

    #[test]
    fn domain_errors_map_to_spec_codes() {
        let cases: Vec<(DomainError, StatusCode, &str)> = vec![
            (
                DomainError::Unauthenticated("x".into()),
                StatusCode::UNAUTHORIZED,
                "ERR_AUTH",
            ),
            (
                DomainError::PermissionDenied("x".into()),
                StatusCode::FORBIDDEN,
                "ERR_PERMISSION_DENIED",
            ),
            (
                DomainError::NotFound("user"),
                StatusCode::NOT_FOUND,
                "ERR_NOT_FOUND",
            ),
            (DomainError::Gone("x".into()), StatusCode::GONE, "ERR_GONE"),
            (
                DomainError::conflict("email", "taken"),
                StatusCode::CONFLICT,
                "ERR_CONFLICT",
            ),
            (
                DomainError::validation("email", "bad"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "ERR_VALIDATION",
            ),
            (
                DomainError::Locked {
                    message: "x".into(),
                    retry_after_secs: 5,
                },
                StatusCode::LOCKED,
                "ERR_RESOURCE_LOCKED",
            ),
            (
                DomainError::RateLimited {
                    message: "x".into(),
                    retry_after_secs: 5,
                },
                StatusCode::TOO_MANY_REQUESTS,
                "ERR_RATE_LIMIT",
            ),
            (
                DomainError::Unavailable("x".into()),
                StatusCode::SERVICE_UNAVAILABLE,
                "ERR_UNAVAILABLE",
            ),
            (
                DomainError::Unexpected(anyhow::anyhow!("secret db detail")),
                StatusCode::INTERNAL_SERVER_ERROR,
                "ERR_INTERNAL",
            ),
        ];
        for (err, status, code) in cases {
            let api = ApiError::from(err);
            assert_eq!((api.status, api.code), (status, code));
            assert!(!api.message.contains("secret db detail"));
        }
    }
}
