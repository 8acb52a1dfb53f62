//! The browser side of sessions (DAT-SESSION): the cookie that carries the session token,
//! and what every server function needs to know about its request.

/// Where a signed-in person lands, by role (operators → Operator Console, auditors →
/// Auditor Console, owners and admins → Tenant Administration, users → their account).
pub fn landing_path(role: &str) -> &'static str {
    match role {
        "operator" => "/operator",
        "auditor" => "/audit",
        "owner" | "admin" => "/admin",
        _ => "/account",
    }
}

/// A same-site path to return to after sign-in, or nothing (no open redirects).
pub fn safe_return_path(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(char::is_control);
    ok.then(|| raw.to_owned())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::error::AppError;
    use axum::extract::ConnectInfo;
    use gatehouse_domain::audit::RequestContext;
    use http::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE, USER_AGENT};
    use leptos::prelude::*;
    use sqlx::PgPool;
    use std::net::SocketAddr;

    /// The session cookie. HttpOnly, SameSite=Lax, Secure (browsers accept Secure cookies
    /// on http://localhost too), `__Host-` prefixed when served over HTTPS.
    pub fn cookie_name() -> &'static str {
        match use_context::<WebConfig>() {
            Some(c) if c.https => "__Host-gatehouse_session",
            _ => "gatehouse_session",
        }
    }

    /// Settings the pages need, provided by the server.
    #[derive(Debug, Clone)]
    pub struct WebConfig {
        pub https: bool,
    }

    pub fn pool() -> Result<PgPool, AppError> {
        use_context::<PgPool>().ok_or_else(|| AppError::new("the server is not ready"))
    }

    /// The request's id, client IP and user agent, and its headers.
    pub async fn request() -> Result<(RequestContext, HeaderMap), AppError> {
        let (headers, ConnectInfo(addr)) =
            leptos_axum::extract::<(HeaderMap, ConnectInfo<SocketAddr>)>()
                .await
                .map_err(|_| AppError::new("the request could not be read"))?;
        let ctx = RequestContext {
            request_id: headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            ip: Some(addr.ip()),
            user_agent: headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        Ok((ctx, headers))
    }

    /// The session token from the Cookie header, if any. (A cookie header is a plain
    /// `name=value; name=value` list; one value is all we read.)
    pub fn session_token(headers: &HeaderMap) -> Option<String> {
        let name = cookie_name();
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
            .filter(|v| !v.is_empty())
    }

    fn set_cookie(value: &str, max_age_secs: i64) {
        let cookie = format!(
            "{}={value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age_secs}",
            cookie_name()
        );
        if let (Some(res), Ok(v)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            HeaderValue::from_str(&cookie),
        ) {
            res.append_header(SET_COOKIE, v);
        }
    }

    pub fn set_session_cookie(token: &str, max_age_secs: i64) {
        set_cookie(token, max_age_secs);
    }

    pub fn clear_session_cookie() {
        set_cookie("", 0);
    }
}
