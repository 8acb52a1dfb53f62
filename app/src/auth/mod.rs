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
    use cookie::Cookie;
    use gatehouse_domain::audit::RequestContext;
    use http::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE, USER_AGENT};
    use leptos::prelude::*;
    use sqlx::PgPool;
    use std::net::SocketAddr;

    /// The session cookie's name: `__Host-` prefixed when served over HTTPS.
    pub fn cookie_name_for(https: bool) -> &'static str {
        if https {
            "__Host-gatehouse_session"
        } else {
            "gatehouse_session"
        }
    }

    /// The session cookie of this request's server (from the page context).
    pub fn cookie_name() -> &'static str {
        cookie_name_for(https())
    }

    /// A `Set-Cookie` value for the session: HttpOnly, SameSite=Lax, Secure (browsers
    /// accept Secure cookies on http://localhost too). `max_age_secs == 0` clears it.
    pub fn session_cookie(https: bool, token: &str, max_age_secs: i64) -> String {
        format!(
            "{}={token}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age_secs}",
            cookie_name_for(https)
        )
    }

    /// The trusted-device cookie's name (NFR-SEC-006): `__Host-` prefixed over HTTPS.
    pub fn device_cookie_name(https: bool) -> &'static str {
        if https {
            "__Host-gatehouse_device"
        } else {
            "gatehouse_device"
        }
    }

    /// A `Set-Cookie` value for the device token (trusted or known), with the session cookie's flags
    /// and the trusted-device lifetime.
    pub fn device_cookie(https: bool, token: &str) -> String {
        format!(
            "{}={token}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={}",
            device_cookie_name(https),
            gatehouse_domain::login::TRUSTED_DEVICE_LIFETIME.whole_seconds()
        )
    }

    /// Where a started sign-in goes next: the second-factor step, enrolment, or (signed in)
    /// a safe `return_to` or the role's landing page. Password and SSO sign-ins share it.
    pub fn after_sign_in(
        next: gatehouse_domain::login::NextStep,
        role: &str,
        return_to: Option<&str>,
    ) -> String {
        use gatehouse_domain::login::NextStep;
        let return_to = return_to.and_then(super::safe_return_path);
        let back = return_to
            .as_deref()
            .map(|p| format!("?return_to={}", crate::ui::url_encode(p)))
            .unwrap_or_default();
        match next {
            NextStep::Done => return_to.unwrap_or_else(|| super::landing_path(role).to_owned()),
            NextStep::SecondFactor => format!("/login/mfa{back}"),
            NextStep::EnrolSecondFactor => format!("/login/mfa/setup{back}"),
        }
    }

    /// The session cookie's lifetime for a started sign-in (short while pending).
    pub fn session_lifetime(next: gatehouse_domain::login::NextStep) -> i64 {
        match next {
            gatehouse_domain::login::NextStep::Done => {
                gatehouse_domain::sessions::ABSOLUTE_LIFETIME.whole_seconds()
            }
            _ => gatehouse_domain::sessions::PENDING_LIFETIME.whole_seconds(),
        }
    }

    /// Settings the pages need, provided by the server.
    #[derive(Debug, Clone)]
    pub struct WebConfig {
        pub https: bool,
        /// The URL people reach Gatehouse at, for links in emails and WebAuthn's origin.
        pub public_url: String,
        /// Demo/dev mode: the mailbox page is served.
        pub demo: bool,
        /// Operators and auditors may sign in with a password (off once the platform's
        /// provider is their way in).
        pub platform_password_sign_in: bool,
        /// The deployment configured the vendor's provider for platform staff
        /// (`/sso/platform/start`).
        pub platform_sso: bool,
        /// Webhook endpoints may be on loopback and private networks (development).
        pub webhooks_allow_private: bool,
    }

    /// The key ring for secrets at rest (TOTP seeds, ...).
    pub fn keys() -> Result<std::sync::Arc<gatehouse_domain::crypto::MasterKeys>, AppError> {
        Ok(services()?.keys().clone())
    }

    pub fn web_config() -> Result<WebConfig, AppError> {
        Ok(services()?.web().clone())
    }

    pub fn pool() -> Result<PgPool, AppError> {
        Ok(services()?.pool().clone())
    }

    /// Whether the server is reached over HTTPS (the cookies' `__Host-` names).
    fn https() -> bool {
        services().is_ok_and(|s| s.web().https)
    }

    /// The server's services (the one context pages get).
    pub fn services() -> Result<crate::services::Services, AppError> {
        use_context::<crate::services::Services>()
            .ok_or_else(|| AppError::new("the server is not ready"))
    }

    /// The client's address, resolved by the server from the peer and, behind trusted
    /// proxies (`GATEHOUSE_TRUSTED_PROXIES`), their forwarding headers. It feeds
    /// throttles, adaptive authentication, audit, sessions and rate limits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ClientIp(pub std::net::IpAddr);

    /// The request's id, client IP and user agent, and its headers.
    pub async fn request() -> Result<(RequestContext, HeaderMap), AppError> {
        let (headers, ConnectInfo(addr), client) = leptos_axum::extract::<(
            HeaderMap,
            ConnectInfo<SocketAddr>,
            Option<axum::Extension<ClientIp>>,
        )>()
        .await
        .map_err(|_| AppError::new("the request could not be read"))?;
        let ctx = RequestContext {
            request_id: headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            ip: Some(client.map_or(addr.ip(), |axum::Extension(c)| c.0)),
            user_agent: headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        Ok((ctx, headers))
    }

    /// A cookie's value from the request's Cookie headers, if any: the first cookie of that
    /// name, as sent (not percent-decoded); an empty value counts as none.
    pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The session token from the Cookie header, if any.
    pub fn session_token(headers: &HeaderMap) -> Option<String> {
        cookie_value(headers, cookie_name())
    }

    /// Appends a `Set-Cookie` header to this server function's response.
    pub fn append_set_cookie(cookie: &str) {
        if let (Some(res), Ok(v)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            HeaderValue::from_str(cookie),
        ) {
            res.append_header(SET_COOKIE, v);
        }
    }

    fn set_cookie(value: &str, max_age_secs: i64) {
        append_set_cookie(&session_cookie(https(), value, max_age_secs));
    }

    pub fn set_session_cookie(token: &str, max_age_secs: i64) {
        set_cookie(token, max_age_secs);
    }

    /// Adds the device cookie (a trusted or known device's token) to this response.
    pub fn set_device_cookie(token: &str) {
        append_set_cookie(&device_cookie(https(), token));
    }

    /// Sets the HTTP status of this response (pages and server functions).
    pub fn set_status(status: http::StatusCode) {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(status);
        }
    }

    /// The live session behind this request's cookie, pending or full, if any.
    pub async fn current_session(
    ) -> Result<Option<gatehouse_domain::sessions::CurrentSession>, AppError> {
        use gatehouse_domain::DomainError;
        let (_, headers) = request().await?;
        let Some(token) = session_token(&headers) else {
            return Ok(None);
        };
        match gatehouse_domain::sessions::authenticate_session(&pool()?, &token).await {
            Ok(session) => Ok(Some(session)),
            Err(DomainError::Unauthenticated(_)) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// The fully signed-in session (second factor done where needed), or an error after
    /// sending the browser to sign in and come back to `return_to`.
    pub async fn page_session(
        return_to: &str,
    ) -> Result<gatehouse_domain::sessions::CurrentSession, AppError> {
        let back = crate::auth::safe_return_path(return_to)
            .map(|p| format!("?return_to={}", crate::ui::url_encode(&p)))
            .unwrap_or_default();
        match current_session().await? {
            Some(s) if s.mfa_verified => Ok(s),
            Some(_) => {
                leptos_axum::redirect(&format!("/login/mfa{back}"));
                Err(AppError::redirected(
                    http::StatusCode::UNAUTHORIZED,
                    "Finish signing in with your second factor.",
                ))
            }
            None => {
                leptos_axum::redirect(&format!("/login{back}"));
                Err(AppError::redirected(
                    http::StatusCode::UNAUTHORIZED,
                    "Please sign in.",
                ))
            }
        }
    }

    /// The fully signed-in session for a server function that changes something.
    pub async fn signed_in() -> Result<gatehouse_domain::sessions::CurrentSession, AppError> {
        match current_session().await? {
            Some(s) if s.mfa_verified => Ok(s),
            _ => Err(AppError::signed_out()),
        }
    }

    pub fn clear_session_cookie() {
        set_cookie("", 0);
    }
}

/// The signed-in person, as the pages see them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Me {
    pub user_id: String,
    pub session_id: String,
    pub email: String,
    pub role: String,
}

/// Which console a page belongs to, and so which roles may open it.
pub fn roles_for_page(page: &str) -> &'static [&'static str] {
    match page {
        "operator" => &["operator"],
        // Operators read the Auditor Console too; only auditors export.
        "audit" => &["auditor", "operator"],
        "admin" => &["owner", "admin"],
        _ => &["owner", "admin", "user", "operator", "auditor"],
    }
}

/// The signed-in person for a page of `page`'s console (see [`roles_for_page`]). Without a
/// session the browser is sent to sign in (and back to `path` afterwards); with a pending
/// session, to the second-factor step; with the wrong role the page says whose it is.
#[leptos::server(prefix = "/_rpc", endpoint = "whoami")]
pub async fn whoami(page: String, path: String) -> Result<Me, crate::error::AppError> {
    use crate::error::AppError;
    let session = ssr::page_session(&path).await?;
    let allowed = roles_for_page(&page);
    if !allowed.contains(&session.role.as_str()) {
        ssr::set_status(http::StatusCode::FORBIDDEN);
        return Err(AppError::new(format!(
            "This page is for {}. You are signed in as {} ({}).",
            allowed.join(" or "),
            session.email,
            session.role.as_str()
        )));
    }
    Ok(Me {
        user_id: session.user_id.to_string(),
        session_id: session.session_id.to_string(),
        email: session.email,
        role: session.role.as_str().to_owned(),
    })
}

/// The signed-in person for the page header, if any (never redirects).
#[leptos::server(prefix = "/_rpc", endpoint = "signed_in_as")]
pub async fn signed_in_as() -> Result<Option<Me>, crate::error::AppError> {
    Ok(ssr::current_session()
        .await?
        .filter(|s| s.mfa_verified)
        .map(|s| Me {
            user_id: s.user_id.to_string(),
            session_id: s.session_id.to_string(),
            email: s.email,
            role: s.role.as_str().to_owned(),
        }))
}
