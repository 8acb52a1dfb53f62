//! The relying party's HTTP doors (FR-AUTH-003, UC-LOGIN's SSO path):
//!
//! - `GET /sso/{connection}/start` sends the browser to the tenant's provider;
//! - `GET /sso/{connection}/test` is the owner's test sign-in (signed in, owner only);
//! - `GET /sso/{connection}/callback` is the redirect URI registered at the provider.
//!
//! The flow cookie binds the flow to the browser that started it (HttpOnly, SameSite=Lax
//! so the provider's top-level redirect brings it back, scoped to the connection's path,
//! ten minutes). Refusals land on a page that says what happened and how to go on.

use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gatehouse_app::auth::safe_return_path;
use gatehouse_app::auth::ssr::{
    after_sign_in, cookie_value, device_cookie, session_cookie, session_lifetime,
};
use gatehouse_app::error::log_failure;
use gatehouse_domain::login::{finish_sso_sign_in, SignInSignals, SsoOutcome};
use gatehouse_domain::sso::{start_flow, Callback, FlowPurpose, FLOW_MINUTES};
use gatehouse_domain::DomainError;
use secrecy::ExposeSecret;
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sso/{connection}/start", get(start))
        .route("/sso/{connection}/test", get(test))
        .route("/sso/{connection}/callback", get(callback))
}

#[derive(Debug, Default, Deserialize)]
pub struct StartQuery {
    return_to: Option<String>,
    login_hint: Option<String>,
}

fn flow_cookie_name(https: bool) -> &'static str {
    if https {
        "__Secure-gatehouse_sso"
    } else {
        "gatehouse_sso"
    }
}

fn flow_cookie(https: bool, connection: Uuid, value: &str, max_age: i64) -> String {
    format!(
        "{}={value}; Path=/sso/{connection}/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}",
        flow_cookie_name(https)
    )
}

fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(LOCATION, value);
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(SET_COOKIE, value);
        }
    }
    response
}

/// A connection that cannot start (unknown, inactive, tenant suspended): back to the
/// sign-in page with the reason, never a stack of internals.
fn refused(code: &str, return_to: Option<&str>) -> Response {
    let back = return_to
        .and_then(safe_return_path)
        .map(|p| {
            format!(
                "&return_to={}",
                percent_encoding::utf8_percent_encode(&p, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .unwrap_or_default();
    see_other(&format!("/login?error=sso_{code}{back}"), &[])
}

async fn start(
    State(state): State<AppState>,
    Path(connection): Path<String>,
    Query(query): Query<StartQuery>,
) -> Response {
    let services = &state.services;
    let return_to = query.return_to.as_deref().and_then(safe_return_path);
    // `platform`: the deployment's provider for operators and auditors, whatever its id.
    let connection = match connection.as_str() {
        "platform" => match gatehouse_domain::sso::platform_connection(services.pool()).await {
            Ok(id) => id,
            Err(e) => {
                log_failure(&e);
                return refused("failed", return_to.as_deref());
            }
        },
        id => Uuid::parse_str(id).ok(),
    };
    let Some(connection) = connection else {
        return refused("unavailable", return_to.as_deref());
    };
    match start_flow(
        services.pool(),
        services.keys(),
        &services.web().public_url,
        connection,
        FlowPurpose::SignIn,
        None,
        return_to.as_deref(),
        query.login_hint.as_deref(),
    )
    .await
    {
        Ok(started) => redirect_to_provider(&state, connection, started),
        Err(DomainError::NotFound(_) | DomainError::Conflict { .. }) => {
            refused("unavailable", return_to.as_deref())
        }
        Err(e) => {
            log_failure(&e);
            refused("failed", return_to.as_deref())
        }
    }
}

fn redirect_to_provider(
    state: &AppState,
    connection: Uuid,
    started: gatehouse_domain::sso::Started,
) -> Response {
    let cookie = flow_cookie(
        state.settings.serves_https(),
        connection,
        started.browser_secret.expose_secret(),
        FLOW_MINUTES * 60,
    );
    see_other(&started.authorize_url, &[cookie])
}

async fn test(
    State(state): State<AppState>,
    caller: RequestMeta,
    Path(connection): Path<String>,
) -> Response {
    let Ok(connection) = Uuid::parse_str(&connection) else {
        return see_other("/admin/sso?test_error=unavailable", &[]);
    };
    let actor = match crate::audit::signed_in(&state, &caller).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return see_other("/login?return_to=%2Fadmin%2Fsso", &[]),
        Err(e) => {
            log_failure(&e);
            return see_other("/admin/sso?test_error=failed", &[]);
        }
    };
    let services = &state.services;
    match start_flow(
        services.pool(),
        services.keys(),
        &services.web().public_url,
        connection,
        FlowPurpose::Test,
        Some(&actor),
        None,
        None,
    )
    .await
    {
        Ok(started) => redirect_to_provider(&state, connection, started),
        Err(DomainError::Conflict { .. }) => see_other("/admin/sso?test_error=no_client", &[]),
        Err(DomainError::NotFound(_) | DomainError::PermissionDenied(_)) => {
            see_other("/admin/sso?test_error=unavailable", &[])
        }
        Err(e) => {
            log_failure(&e);
            see_other("/admin/sso?test_error=failed", &[])
        }
    }
}

async fn callback(
    State(state): State<AppState>,
    caller: RequestMeta,
    Path(connection): Path<String>,
    Query(query): Query<Callback>,
) -> Response {
    let https = state.settings.serves_https();
    let Ok(connection) = Uuid::parse_str(&connection) else {
        return refused("bad_state", None);
    };
    let clear_flow = flow_cookie(https, connection, "", 0);
    let browser = cookie_value(&caller.headers, flow_cookie_name(https));
    let previous = caller.session_token(&state);
    let device = cookie_value(
        &caller.headers,
        gatehouse_app::auth::ssr::device_cookie_name(https),
    );
    let signals = SignInSignals {
        device_token: device.as_deref(),
        previous_token: previous.as_deref(),
        ..Default::default()
    };
    let services = &state.services;
    let outcome = finish_sso_sign_in(
        services.pool(),
        &caller.ctx,
        services.keys(),
        services.sso(),
        &services.web().public_url,
        connection,
        query,
        browser.as_deref(),
        signals,
    )
    .await;
    match outcome {
        Ok(SsoOutcome::SignedIn { sign_in, return_to }) => {
            let target = after_sign_in(sign_in.next, sign_in.role.as_str(), return_to.as_deref());
            let mut cookies = vec![
                clear_flow,
                session_cookie(
                    https,
                    sign_in.issued.token.expose_secret(),
                    session_lifetime(sign_in.next),
                ),
            ];
            if let Some(device) = &sign_in.device {
                cookies.push(device_cookie(https, device.expose_secret()));
            }
            see_other(&target, &cookies)
        }
        Ok(SsoOutcome::Tested(_)) => see_other("/admin/sso?tested=1", &[clear_flow]),
        Ok(SsoOutcome::Refused {
            reason, test: true, ..
        }) => see_other(&format!("/admin/sso?test_error={reason}"), &[clear_flow]),
        Ok(SsoOutcome::Refused {
            reason, return_to, ..
        }) => {
            let mut response = refused(reason, return_to.as_deref());
            if let Ok(value) = HeaderValue::from_str(&clear_flow) {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
        }
        Err(e) => {
            log_failure(&e);
            let mut response = refused("failed", None);
            if let Ok(value) = HeaderValue::from_str(&clear_flow) {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
        }
    }
}
