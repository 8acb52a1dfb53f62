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
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    pub request_id: Option<String>,
    pub details: Vec<FieldError>,
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

/// `axum::Json` with SPEC §9 rejections: malformed JSON, a wrong content type and unknown
/// or mistyped fields answer 422 ERR_VALIDATION naming what is wrong; an oversized body
/// answers 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
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
            "the request body must be JSON (Content-Type: application/json)".to_owned()
        }
        JsonRejection::JsonSyntaxError(_) => "the request body is not valid JSON".to_owned(),
        // serde's message names the field and the problem ("unknown field `x`", "missing field `y`").
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            text.split_once(": ")
                .map(|(_, why)| why.to_owned())
                .unwrap_or(text)
        }
        _ => "the request body could not be read".to_owned(),
    };
    let field = match &rejection {
        JsonRejection::JsonDataError(e) => field_of(&e.body_text()),
        _ => "body".to_owned(),
    };
    ApiError::validation(vec![FieldError::new(field, message)])
}

/// Best effort: the field a serde data error names (`unknown field \`x\``, or a path).
fn field_of(text: &str) -> String {
    if let Some(start) = text.find('`') {
        if let Some(len) = text[start + 1..].find('`') {
            return text[start + 1..start + 1 + len].to_owned();
        }
    }
    text.split(": ")
        .nth(1)
        .and_then(|p| p.split(' ').next())
        .filter(|p| !p.is_empty())
        .unwrap_or("body")
        .to_owned()
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

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
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
    async fn unknown_and_mistyped_fields_are_named() {
        let (status, body) = call(
            Some("application/json"),
            r#"{"name":"a","count":1,"extra":true}"#,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["details"][0]["field"], "extra", "{body}");
        let (_, body) = call(Some("application/json"), r#"{"name":"a","count":"x"}"#).await;
        assert_eq!(body["code"], "ERR_VALIDATION");
    }

    #[tokio::test]
    async fn wrong_content_type_and_oversized_body() {
        let (status, body) = call(Some("text/plain"), r#"{"name":"a","count":1}"#).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("JSON"));
        let big = format!(r#"{{"name":"{}","count":1}}"#, "x".repeat(200));
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
