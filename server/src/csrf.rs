//! The one same-origin rule (CSRF defence) for what a browser sends from Gatehouse's own
//! pages: server functions (every console form posts to one under `/_rpc/`), the passkey
//! endpoints, and a sign-out without an ID token hint. A request is same-origin when its
//! `Origin` is the public URL's origin or names the host it was sent to (`Host`), or, without
//! `Origin`, when the browser says `Sec-Fetch-Site: same-origin`. `Origin: null` never is.
//! Together with the SameSite=Lax session cookie this refuses cross-site form posts and
//! login CSRF.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether the request comes from Gatehouse's own pages.
pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let text = |name| {
        headers
            .get(name)
            .map(|v: &axum::http::HeaderValue| v.to_str())
    };
    match text(ORIGIN) {
        Some(Ok(origin)) => {
            let host = text(HOST).and_then(Result::ok);
            let authority = origin.split_once("://").map(|(_, rest)| rest);
            !origin.eq_ignore_ascii_case("null")
                && (origin.eq_ignore_ascii_case(origin_of(public_url))
                    || authority
                        .zip(host)
                        .is_some_and(|(a, h)| a.eq_ignore_ascii_case(h)))
        }
        Some(Err(_)) => false,
        None => headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("same-origin"),
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

/// Refuses a state-changing server function call from another site (403).
pub async fn guard_server_fns(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let guarded = req.uri().path().starts_with("/_rpc/")
        && !matches!(*req.method(), Method::GET | Method::HEAD);
    if guarded && !same_origin(req.headers(), &state.settings.public_url()) {
        tracing::warn!("cross-origin server function call refused");
        return (
            StatusCode::FORBIDDEN,
            "This form was submitted from another site and was refused.",
        )
            .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::same_origin;
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_public_origin_passes_and_other_sites_do_not() {
        let public = "http://localhost:3000";
        let same = |pairs: &[(&'static str, &str)]| same_origin(&headers(pairs), public);
        assert!(same(&[("origin", "http://localhost:3000")]));
        assert!(same_origin(
            &headers(&[("origin", "https://login.example.com")]),
            "https://login.example.com/gatehouse"
        ));
        assert!(!same(&[("origin", "http://evil.example")]));
        assert!(!same(&[("origin", "http://localhost:3001")]));
        assert!(!same(&[("origin", "null")]));
        assert!(same(&[("sec-fetch-site", "same-origin")]));
        assert!(!same(&[("sec-fetch-site", "cross-site")]));
        assert!(!same(&[]));
    }

    #[test]
    fn the_host_the_request_was_sent_to_is_its_origin_too() {
        // Reached under another name than the public URL (127.0.0.1 for localhost).
        let public = "http://localhost:3000";
        let same = |pairs: &[(&'static str, &str)]| same_origin(&headers(pairs), public);
        assert!(same(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000")
        ]));
        assert!(same(&[
            ("host", "login.example.com"),
            ("origin", "https://login.example.com")
        ]));
        assert!(!same(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://evil.example")
        ]));
        assert!(!same(&[("host", "localhost:3000"), ("origin", "null")]));
        assert!(!same(&[("host", "127.0.0.1:3000")]));
        assert!(!same(&[
            ("host", "127.0.0.1:3000"),
            ("sec-fetch-site", "cross-site")
        ]));
    }
}
