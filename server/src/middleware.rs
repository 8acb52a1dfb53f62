//! Cross-cutting HTTP behaviour: request ids, access logs, metrics and security headers.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served: the caller's `X-Request-Id` when it is valid
/// (1-128 characters of `A-Za-z0-9._-`), otherwise a fresh UUIDv7.
#[derive(Debug, Clone)]
pub struct RequestId(Arc<str>);

impl RequestId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// Assigns the request id, runs the request inside a `request` span carrying it (so every
/// log line of the request has it), echoes it in the response, logs the outcome and
/// records the metrics.
pub async fn request_context(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let header_value = HeaderValue::from_str(&id).ok();
    if let Some(v) = &header_value {
        req.headers_mut().insert(X_REQUEST_ID, v.clone());
    }
    req.extensions_mut()
        .insert(RequestId(Arc::from(id.as_str())));

    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| route_group(req.uri().path()));
    // The route template, never the raw path: paths carry link tokens
    // (`/reset-password/{token}`, `/invite/{token}`, `/verify-email/{token}`).
    let span = tracing::info_span!("request", request_id = %id, method = %method_label(&method), route = %route);
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if let Some(v) = header_value {
        response.headers_mut().insert(X_REQUEST_ID, v);
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(
                status,
                latency_ms = elapsed.as_secs_f64() * 1000.0,
                "request failed"
            );
        } else {
            tracing::info!(
                status,
                latency_ms = elapsed.as_secs_f64() * 1000.0,
                "request finished"
            );
        }
    });
    gatehouse_app::request_stats::record(status);
    let labels = vec![
        metrics::Label::new("method", method_label(&method)),
        metrics::Label::new("route", route),
        metrics::Label::new("status", status_label(status)),
    ];
    metrics::histogram!(
        "gatehouse_http_request_duration_seconds",
        labels[..2].to_vec()
    )
    .record(elapsed.as_secs_f64());
    metrics::counter!("gatehouse_http_requests_total", labels).increment(1);
    response
}

/// The method as a label: the standard ones by name, any other as `OTHER`, so made-up
/// methods cannot grow the number of series without bound.
fn method_label(method: &axum::http::Method) -> metrics::SharedString {
    use axum::http::Method;
    let known = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    };
    metrics::SharedString::const_str(known)
}

/// The status as a label, without an allocation for the usual ones.
fn status_label(status: u16) -> metrics::SharedString {
    let known = match status {
        200 => "200",
        201 => "201",
        204 => "204",
        302 => "302",
        303 => "303",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        409 => "409",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        // Statuses are 100..=999 by construction: a bounded set either way.
        _ => return metrics::SharedString::from(status.to_string()),
    };
    metrics::SharedString::const_str(known)
}

/// A bounded label for requests no route matched (static files, unknown paths), so the
/// metrics never grow with arbitrary URLs.
fn route_group(path: &str) -> String {
    if path.starts_with("/pkg/") {
        "/pkg/*".into()
    } else if path.starts_with("/api/") {
        "/api/*unmatched".into()
    } else {
        "*unmatched".into()
    }
}

#[derive(Clone)]
pub struct SecurityHeaders {
    pub hsts: bool,
}

/// Security headers on every response. Pages (HTML) get a CSP with this response's nonce,
/// which the page adopts for its scripts (`gatehouse_app::PageNonce`); everything else
/// gets one that allows nothing. `Referrer-Policy: same-origin` keeps URLs
/// (authorization codes, reset tokens) from leaking to other sites, yet lets the browser
/// send a real `Origin` on our own form posts (`no-referrer` would make it "null").
pub async fn security_headers(
    State(config): State<SecurityHeaders>,
    mut req: Request,
    next: Next,
) -> Response {
    // Only pages need a nonce; machine endpoints skip the random draw.
    let path = req.uri().path();
    let machine = ["/api/", "/ofrep/", "/.well-known/", "/pkg/"]
        .iter()
        .any(|p| path.starts_with(p));
    let nonce = if machine {
        String::new()
    } else {
        gatehouse_domain::random_token()
    };
    req.extensions_mut()
        .insert(gatehouse_app::PageNonce(nonce.clone()));
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let is_page = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if is_page && !nonce.is_empty() {
        if let Ok(policy) = HeaderValue::from_str(&gatehouse_app::page_csp(&nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    let defaults: [(HeaderName, &'static str); 6] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if config.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::valid_request_id;

    #[test]
    fn request_ids_are_checked() {
        assert!(valid_request_id("abc-123_x.y"));
        assert!(valid_request_id(&"a".repeat(128)));
        for bad in ["", "has space", "semi;colon", "ünï", &"a".repeat(129)] {
            assert!(!valid_request_id(bad), "{bad:?}");
        }
    }
}
