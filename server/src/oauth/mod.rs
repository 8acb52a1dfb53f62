//! The HTTP face of the token service (SPEC §4): discovery, JWKS, `/authorize`, the token
//! endpoint `/auth/token`, `/auth/revoke` (RFC 7009), `/auth/introspect` (RFC 7662),
//! `/userinfo` and RP-initiated logout `/auth/logout`.
//!
//! These endpoints speak OAuth's own error format (`{"error", "error_description"}`,
//! RFC 6749 §5.2), not the SPEC §9 body, because OAuth clients expect it. Form bodies with
//! a repeated parameter are refused (RFC 6749 §3.1). Token responses are `no-store`.

mod schema;
pub mod service;

use crate::csrf::same_origin;
use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::{RawForm, RawQuery, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, SET_COOKIE, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use gatehouse_app::auth::ssr::session_cookie;
use gatehouse_domain::oauth::Client;
use gatehouse_domain::oauth::{
    AuthorizeError, AuthorizingUser, OAuthError, OAuthErrorCode, TokenRequest, TokenResponse,
    TokenService,
};
use gatehouse_domain::sessions::authenticate_session;
use gatehouse_domain::DomainError;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use schema::{
    AuthorizeRequest, BearerError, ClientRefusals, DiscoveryDocument, IntrospectForm,
    Introspection, JsonWebKeySet, LogoutQuery, OAuthErrorBody, RevokeForm, TokenForm, UserInfo,
};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The OAuth endpoints with their documentation (full paths: they are mounted at the root,
/// outside `/api`). One `routes!` per path.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openid_configuration))
        .routes(routes!(oauth_authorization_server))
        .routes(routes!(jwks))
        .routes(routes!(authorize_get, authorize_post))
        .routes(routes!(token))
        .routes(routes!(revoke))
        .routes(routes!(introspect))
        .routes(routes!(userinfo_get, userinfo_post))
        .routes(routes!(logout))
}

pub fn router() -> Router<AppState> {
    routes().split_for_parts().0
}

/// The HTTP status of an OAuth error (RFC 6749 §5.2: 401 for a failed client
/// authentication, 400 for the rest; 5xx for the server's own failures).
fn oauth_status(code: OAuthErrorCode) -> StatusCode {
    match code {
        OAuthErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        OAuthErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// An OAuth error as a response (RFC 6749 §5.2).
struct OAuthFailure(OAuthError);

impl From<OAuthError> for OAuthFailure {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}

impl From<DomainError> for OAuthFailure {
    fn from(e: DomainError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for OAuthFailure {
    fn into_response(self) -> Response {
        let status = oauth_status(self.0.code);
        let mut res = (status, no_store(), Json(self.0.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"gatehouse\""),
            );
        }
        res
    }
}

fn no_store() -> [(axum::http::HeaderName, HeaderValue); 2] {
    [
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

async fn service(state: &AppState) -> Result<Arc<TokenService>, OAuthFailure> {
    Ok(state.tokens.get().await?)
}

/// OpenID Connect discovery document.
///
/// The provider's metadata (OpenID Connect Discovery 1.0 §3): its endpoints, scopes, grant
/// types, client authentication methods and signing algorithms. Cacheable for 5 minutes.
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    operation_id = "oauth_openid_configuration",
    tag = "oauth",
    responses(
        (status = 200, description = "The provider's metadata", body = DiscoveryDocument,
            headers(("Cache-Control" = String, description = "`public, max-age=300`"))),
        (status = 500, description = "`server_error`: the token service failed", body = OAuthErrorBody),
        (status = 503, description = "`temporarily_unavailable`: the token service is not ready (database or signing keys)", body = OAuthErrorBody),
    ),
)]
async fn openid_configuration(state: State<AppState>) -> Result<Response, OAuthFailure> {
    discovery(state).await
}

/// OAuth 2.0 authorization server metadata.
///
/// The same document as `/.well-known/openid-configuration`, at the RFC 8414 §3 address.
/// Cacheable for 5 minutes.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    operation_id = "oauth_authorization_server_metadata",
    tag = "oauth",
    responses(
        (status = 200, description = "The server's metadata", body = DiscoveryDocument,
            headers(("Cache-Control" = String, description = "`public, max-age=300`"))),
        (status = 500, description = "`server_error`: the token service failed", body = OAuthErrorBody),
        (status = 503, description = "`temporarily_unavailable`: the token service is not ready (database or signing keys)", body = OAuthErrorBody),
    ),
)]
async fn oauth_authorization_server(state: State<AppState>) -> Result<Response, OAuthFailure> {
    discovery(state).await
}

async fn discovery(State(state): State<AppState>) -> Result<Response, OAuthFailure> {
    let svc = service(&state).await?;
    Ok((
        [(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        )],
        Json(svc.discovery()),
    )
        .into_response())
}

/// The signing keys (JWKS).
///
/// The public keys that verify ID tokens (RS256) and access tokens (ES256 by default), as
/// a JSON Web Key Set (RFC 7517). A rotated key stays listed until every token it signed
/// has expired. Cacheable for 5 minutes: on an unknown `kid`, fetch the set again.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "oauth_jwks",
    tag = "oauth",
    responses(
        (status = 200, description = "The key set", body = JsonWebKeySet,
            content_type = "application/jwk-set+json",
            headers(("Cache-Control" = String, description = "`public, max-age=300`"))),
        (status = 500, description = "`server_error`: the token service failed", body = OAuthErrorBody),
        (status = 503, description = "`temporarily_unavailable`: the token service is not ready (database or signing keys)", body = OAuthErrorBody),
    ),
)]
async fn jwks(State(state): State<AppState>) -> Result<Response, OAuthFailure> {
    let keys = service(&state).await?.key_set()?;
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            ),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        keys.jwks.to_vec(),
    )
        .into_response())
}

/// Parses a form or query string; a repeated parameter is an error (RFC 6749 §3.1).
fn parse_params(raw: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "the parameter '{k}' appears more than once"
            )));
        }
    }
    Ok(out)
}

// ---- /authorize --------------------------------------------------------------------

/// Authorization endpoint.
///
/// Starts the authorization code flow (RFC 6749 §4.1, PKCE S256 required, OpenID Connect
/// Core §3.1.2) in the person's browser: the request is checked, the person signs in if
/// needed, and the browser goes back to the application with a single-use code (valid 60
/// seconds) to redeem at `/auth/token`. Errors that cannot go back to the application
/// (an unknown client, an unregistered redirect URI) are shown as a page.
#[utoipa::path(
    get,
    path = "/authorize",
    operation_id = "oauth_authorize",
    tag = "oauth",
    params(AuthorizeRequest),
    responses(
        (status = 303, description = "A redirect (`Location`). To the application's `redirect_uri` with `code`, `state` and `iss` (RFC 9207) when the person signed in on this browser may use the application; or with `error`, `error_description`, `state` and `iss` when the request is refused after its redirect URI is known (`unsupported_response_type`, `unauthorized_client`, `request_not_supported`, `invalid_request`, `invalid_scope`, `access_denied`, `login_required` with `prompt=none`, `temporarily_unavailable`). Or to the sign-in page (`/login?return_to=...`) when nobody is signed in, the sign-in is older than `max_age` or `prompt=login` asks for a fresh one, or the person is signed in to another organization than `organization` names.",
            headers(
                ("Location" = String, description = "Where the browser goes next"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        (status = 400, description = "An error page: the request names no or an unknown `client_id`, an unregistered `redirect_uri`, or repeats a parameter", body = String, content_type = "text/html"),
        (status = 503, description = "An error page: the sign-in service is unavailable", body = String, content_type = "text/html"),
    ),
)]
async fn authorize_get(
    State(state): State<AppState>,
    caller: RequestMeta,
    RawQuery(query): RawQuery,
) -> Response {
    authorize(state, caller, query.unwrap_or_default()).await
}

/// Authorization endpoint (form post).
///
/// The same as `GET /authorize`, with the parameters in a form body (OpenID Connect Core
/// §3.1.2.1).
#[utoipa::path(
    post,
    path = "/authorize",
    operation_id = "oauth_authorize_post",
    tag = "oauth",
    request_body(content = AuthorizeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "A redirect (`Location`). To the application's `redirect_uri` with `code`, `state` and `iss` (RFC 9207) when the person signed in on this browser may use the application; or with `error`, `error_description`, `state` and `iss` when the request is refused after its redirect URI is known (`unsupported_response_type`, `unauthorized_client`, `request_not_supported`, `invalid_request`, `invalid_scope`, `access_denied`, `login_required` with `prompt=none`, `temporarily_unavailable`). Or to the sign-in page (`/login?return_to=...`) when nobody is signed in, the sign-in is older than `max_age` or `prompt=login` asks for a fresh one, or the person is signed in to another organization than `organization` names.",
            headers(
                ("Location" = String, description = "Where the browser goes next"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        (status = 400, description = "An error page: the request names no or an unknown `client_id`, an unregistered `redirect_uri`, or repeats a parameter", body = String, content_type = "text/html"),
        (status = 413, description = "The body exceeds the server's limit", body = String, content_type = "text/plain"),
        (status = 415, description = "The body is not `application/x-www-form-urlencoded`", body = String, content_type = "text/plain"),
        (status = 503, description = "An error page: the sign-in service is unavailable", body = String, content_type = "text/html"),
    ),
)]
async fn authorize_post(
    State(state): State<AppState>,
    caller: RequestMeta,
    RawForm(form): RawForm,
) -> Response {
    authorize(state, caller, String::from_utf8_lossy(&form).into_owned()).await
}

async fn authorize(state: AppState, caller: RequestMeta, query: String) -> Response {
    let params = match parse_params(query.as_bytes()) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.description),
    };
    let svc = match state.tokens.get().await {
        Ok(s) => s,
        Err(_) => {
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The sign-in service is unavailable. Try again shortly.",
            )
        }
    };
    let req = match svc.authorization_request(&params).await {
        Ok(r) => r,
        Err(AuthorizeError::Page(msg)) => return error_page(StatusCode::BAD_REQUEST, &msg),
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state: st,
            error,
        }) => return error_redirect(&svc, &redirect_uri, st.as_deref(), &error),
    };
    let fail =
        |error: OAuthError| error_redirect(&svc, &req.redirect_uri, req.state.as_deref(), &error);
    // Who is signed in on this browser (a pending sign-in, waiting for its second factor,
    // is not signed in yet).
    let session = match caller.session_token(&state) {
        Some(token) => match authenticate_session(&state.pool, &token).await {
            Ok(s) if s.mfa_verified => Some(s),
            Ok(_) | Err(DomainError::Unauthenticated(_)) => None,
            Err(e) => {
                tracing::warn!(error = %e, "authorize: session lookup failed");
                return fail(OAuthError::new(
                    OAuthErrorCode::TemporarilyUnavailable,
                    "please try again shortly",
                ));
            }
        },
        None => None,
    };
    let Some(session) = session else {
        if req.prompt.as_deref() == Some("none") {
            return fail(OAuthError::new(
                OAuthErrorCode::LoginRequired,
                "the user is not signed in",
            ));
        }
        return to_login(&query, req.organization.as_deref());
    };
    // OIDC Core 3.1.2.1: `prompt=login` and `max_age` ask for a fresh authentication.
    // The person signs in again and comes back with `gatehouse_auth_after`, which the new
    // session satisfies (the parameter only ever narrows what the client asked for).
    let max_age = match params.get("max_age").map(|v| v.trim()) {
        None | Some("") => None,
        Some(raw) => match raw.parse::<u64>() {
            Ok(secs) => Some(secs),
            Err(_) => {
                return fail(OAuthError::invalid_request(
                    "max_age must be a number of seconds",
                ))
            }
        },
    };
    let now = time::OffsetDateTime::now_utc();
    let fresh_after = params
        .get("gatehouse_auth_after")
        .and_then(|t| t.parse::<i64>().ok());
    let stale = match fresh_after {
        Some(after) => session.authenticated_at.unix_timestamp() < after,
        None => {
            req.prompt.as_deref() == Some("login")
                || max_age.is_some_and(|secs| {
                    (now - session.authenticated_at).whole_seconds() > secs as i64
                })
        }
    };
    if stale {
        if req.prompt.as_deref() == Some("none") {
            return fail(OAuthError::new(
                OAuthErrorCode::LoginRequired,
                "the sign-in is older than max_age allows",
            ));
        }
        let mut again = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            if !(k == "prompt" && v == "login") && k != "gatehouse_auth_after" {
                again.append_pair(k, v);
            }
        }
        again.append_pair("gatehouse_auth_after", &now.unix_timestamp().to_string());
        return to_login(&again.finish(), req.organization.as_deref());
    }
    let user = AuthorizingUser {
        user_id: session.user_id,
        tenant_id: session.tenant_id,
        session_id: session.session_id,
    };
    if let Err(e) = svc.check_authorizing_user(&req, &user).await {
        // Signed in to another organization than the one asked for: sign in again there.
        if req.organization.is_some()
            && e.code == OAuthErrorCode::AccessDenied
            && req.prompt.as_deref() != Some("none")
        {
            let same_org = svc
                .check_authorizing_user(
                    &gatehouse_domain::oauth::AuthorizationRequest {
                        organization: None,
                        ..req.clone()
                    },
                    &user,
                )
                .await
                .is_ok();
            if same_org {
                return to_login(&query, req.organization.as_deref());
            }
        }
        return fail(e);
    }
    match svc.issue_code(&req, &user).await {
        Ok(location) => redirect(&location),
        Err(e) => fail(e),
    }
}

fn to_login(query: &str, organization: Option<&str>) -> Response {
    let back = format!("/authorize?{query}");
    let mut target = format!(
        "/login?return_to={}",
        utf8_percent_encode(&back, NON_ALPHANUMERIC)
    );
    if let Some(org) = organization {
        target.push_str(&format!(
            "&tenant={}",
            utf8_percent_encode(org, NON_ALPHANUMERIC)
        ));
    }
    // OIDC Core §3.1.2.1: the application's `login_hint` fills in the email, which also
    // routes to the organisation's provider (and is passed on to it).
    if let Some((_, hint)) = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| k == "login_hint" && !v.is_empty() && v.len() <= 254)
    {
        target.push_str(&format!(
            "&login_hint={}",
            utf8_percent_encode(&hint, NON_ALPHANUMERIC)
        ));
    }
    redirect(&target)
}

fn redirect(location: &str) -> Response {
    let mut res = Redirect::to(location).into_response();
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn error_redirect(
    svc: &TokenService,
    redirect_uri: &str,
    state: Option<&str>,
    e: &OAuthError,
) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(StatusCode::BAD_REQUEST, "The redirect URI is invalid.");
    };
    url.query_pairs_mut()
        .append_pair("error", e.code.as_str())
        .append_pair("error_description", &e.description)
        .extend_pairs(state.map(|s| ("state", s)))
        .append_pair("iss", &svc.settings.issuer);
    redirect(url.as_str())
}

/// A plain page for errors that cannot go back to the application.
fn error_page(status: StatusCode, message: &str) -> Response {
    let mut sentence = message.trim_end_matches('.').to_owned();
    if let Some(first) = sentence.get(..1) {
        sentence = format!("{}{}.", first.to_uppercase(), &sentence[1..]);
    }
    let escaped = sentence
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\" class=\"h-full bg-slate-50\"><head><meta charset=\"utf-8\">\
         <title>Sign-in request refused · Gatehouse</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"stylesheet\" href=\"/pkg/gatehouse.css\"></head>\
         <body class=\"h-full text-slate-900\">\
         <header class=\"bg-slate-900 text-white\"><div class=\"mx-auto flex max-w-6xl items-center px-4 py-3\">\
         <a href=\"/\" class=\"flex items-center gap-2 text-lg font-semibold tracking-tight\">\
         <span aria-hidden=\"true\" class=\"inline-flex h-8 w-8 items-center justify-center rounded-md bg-indigo-500 font-bold\">G</span>Gatehouse</a>\
         </div></header>\
         <main id=\"main\" class=\"mx-auto max-w-lg px-4 py-16\">\
         <div class=\"rounded-lg border border-slate-200 bg-white p-8 shadow-sm\">\
         <p class=\"text-sm font-semibold text-rose-600\">Sign-in request refused</p>\
         <h1 class=\"mt-2 text-2xl font-semibold tracking-tight\">This sign-in request cannot be completed</h1>\
         <p class=\"mt-4 rounded-md bg-rose-50 px-3 py-2 text-rose-800\" role=\"alert\">{escaped}</p>\
         <p class=\"mt-4 text-sm text-slate-600\">Go back to the application and try again, or contact its administrator.</p>\
         </div></main></body></html>"
    );
    (
        status,
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Html(html),
    )
        .into_response()
}

// ---- client authentication --------------------------------------------------------

/// Refusals the anomaly detectors watch (NFR-MON-001), counted per application between two
/// flushes (`take_client_tallies`, every minute) rather than audited one by one.
static CLIENT_TALLIES: std::sync::LazyLock<std::sync::Mutex<HashMap<(&'static str, Uuid), u64>>> =
    std::sync::LazyLock::new(Default::default);

fn tally(kind: &'static str, application: Uuid) {
    if let Ok(mut t) = CLIENT_TALLIES.lock() {
        *t.entry((kind, application)).or_default() += 1;
    }
}

/// The counts since the last call, emptied.
pub fn take_client_tallies() -> Vec<(&'static str, Uuid, u64)> {
    CLIENT_TALLIES
        .lock()
        .map(|mut t| t.drain().map(|((k, a), n)| (k, a, n)).collect())
        .unwrap_or_default()
}

/// `client_secret_basic` (RFC 6749 §2.3.1: form-urlencoded id and secret in Basic) or
/// `client_secret_post`; using both at once is refused.
async fn authenticate_client(
    svc: &TokenService,
    headers: &HeaderMap,
    params: &mut HashMap<String, String>,
) -> Result<Arc<Client>, OAuthError> {
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    let body_id = params.remove("client_id");
    let body_secret = params.remove("client_secret");
    let (id, secret) = match (basic, body_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ))
        }
        (Some(b64), None) => {
            let decoded = STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(OAuthError::invalid_client)?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(OAuthError::invalid_client)?;
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| OAuthError::invalid_client())
            };
            let id = dec(id)?;
            if body_id.as_deref().is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the credentials",
                ));
            }
            (id, dec(secret)?)
        }
        (None, Some(secret)) => (body_id.ok_or_else(OAuthError::invalid_client)?, secret),
        (None, None) => return Err(OAuthError::invalid_client()),
    };
    let authenticated = svc.authenticate_client(&id, &secret).await;
    if authenticated.is_err() {
        // A disabled application's keys are refused like unknown ones; the detectors still
        // want to know that it is calling.
        if let Ok(Some(app)) =
            gatehouse_domain::oauth::disabled_application_of(svc.pool(), &id).await
        {
            tally("application.disabled.call", app);
        }
    }
    authenticated
}

/// The common start of the client endpoints: the service, the parameters, the client.
async fn client_request(
    state: &AppState,
    headers: &HeaderMap,
    form: &[u8],
) -> Result<(Arc<TokenService>, HashMap<String, String>, Arc<Client>), OAuthFailure> {
    let svc = service(state).await?;
    let mut params = parse_params(form)?;
    let client = authenticate_client(&svc, headers, &mut params).await?;
    Ok((svc, params, client))
}

/// Token endpoint.
///
/// Issues tokens (RFC 6749 §3.2) for three grants: `authorization_code` (a code from
/// `/authorize` with its PKCE verifier), `client_credentials` (an application's key acting
/// for itself, for one tenant) and `refresh_token` (single use: a refresh token used twice
/// revokes every token of its family). The client authenticates with HTTP Basic
/// (`client_secret_basic`) or with `client_id` and `client_secret` in the form
/// (`client_secret_post`), not both. Errors are OAuth's (RFC 6749 §5.2), not the API's.
#[utoipa::path(
    post,
    path = "/auth/token",
    operation_id = "oauth_token",
    tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        ClientRefusals,
        (status = 200, description = "The tokens", body = TokenResponse,
            headers(
                ("Cache-Control" = String, description = "`no-store`"),
                ("Pragma" = String, description = "`no-cache`"),
            )),
        (status = 400, description = "`invalid_request` (a missing or repeated parameter, two authentication methods, a tenant the application does not act for), `invalid_grant` (the code or refresh token is invalid, expired, used or another client's; the verifier or redirect URI does not match; the account can no longer sign in), `unauthorized_client` (the application may not use this grant or act for that tenant), `unsupported_grant_type`, `invalid_scope`", body = OAuthErrorBody),
    ),
    security(("client_basic" = []), ()),
)]
async fn token(
    State(state): State<AppState>,
    caller: RequestMeta,
    RawForm(form): RawForm,
) -> Result<Response, OAuthFailure> {
    let (svc, params, client) = client_request(&state, &caller.headers, &form).await?;
    let get = |k: &str| params.get(k).cloned();
    let req = TokenRequest {
        grant_type: get("grant_type"),
        code: get("code"),
        redirect_uri: get("redirect_uri"),
        code_verifier: get("code_verifier"),
        refresh_token: get("refresh_token"),
        scope: get("scope"),
        tenant: get("tenant").or_else(|| get("organization")),
    };
    let response = svc.token(&caller.ctx, &client, req).await?;
    metrics::counter!("gatehouse_tokens_issued_total").increment(1);
    Ok((no_store(), Json(response)).into_response())
}

/// Token introspection.
///
/// Says whether an access token or refresh token is live, and what it carries (RFC 7662).
/// A token that is unknown, expired, revoked, or none of the calling client's business
/// answers `{"active": false}`: a client sees the tokens of its own application, of the
/// tenants its application acts for, or any with the `admin` scope.
#[utoipa::path(
    post,
    path = "/auth/introspect",
    operation_id = "oauth_introspect",
    tag = "oauth",
    request_body(content = IntrospectForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        ClientRefusals,
        (status = 200, description = "What the token is", body = Introspection,
            headers(
                ("Cache-Control" = String, description = "`no-store`"),
                ("Pragma" = String, description = "`no-cache`"),
            )),
        (status = 400, description = "`invalid_request`: `token` is missing, a parameter is repeated, or two authentication methods are used", body = OAuthErrorBody),
    ),
    security(("client_basic" = []), ()),
)]
async fn introspect(
    State(state): State<AppState>,
    caller: RequestMeta,
    RawForm(form): RawForm,
) -> Result<Response, OAuthFailure> {
    let (svc, params, client) = client_request(&state, &caller.headers, &form).await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let answer = svc.introspect(&client, token).await?;
    if answer["active"] == false {
        tally("oauth.introspection.inactive", client.application_id);
    }
    Ok((no_store(), Json(answer)).into_response())
}

/// Token revocation.
///
/// Revokes an access token, or a refresh token with every token of its family (RFC 7009).
/// Only the calling client's own tokens are revoked; an unknown token or another client's
/// is left alone, with the same answer.
#[utoipa::path(
    post,
    path = "/auth/revoke",
    operation_id = "oauth_revoke",
    tag = "oauth",
    request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        ClientRefusals,
        (status = 200, description = "Revoked, or nothing of the client's to revoke (empty body)",
            headers(
                ("Cache-Control" = String, description = "`no-store`"),
                ("Pragma" = String, description = "`no-cache`"),
            )),
        (status = 400, description = "`invalid_request` (`token` is missing, a parameter is repeated, or two authentication methods are used) or `unsupported_token_type` (`token_type_hint` is neither `access_token` nor `refresh_token`)", body = OAuthErrorBody),
    ),
    security(("client_basic" = []), ()),
)]
async fn revoke(
    State(state): State<AppState>,
    caller: RequestMeta,
    RawForm(form): RawForm,
) -> Result<Response, OAuthFailure> {
    let (svc, params, client) = client_request(&state, &caller.headers, &form).await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    if let Some(hint) = params.get("token_type_hint") {
        if !["access_token", "refresh_token"].contains(&hint.as_str()) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedTokenType,
                "token_type_hint must be access_token or refresh_token",
            )
            .into());
        }
    }
    svc.revoke(&caller.ctx, &client, token).await?;
    Ok((StatusCode::OK, no_store()).into_response())
}

// ---- /userinfo ---------------------------------------------------------------------

/// UserInfo endpoint.
///
/// The claims about the person an access token stands for (OpenID Connect Core §5.3): the
/// token must carry `openid` and belong to a person who can still sign in. `email` adds
/// `email` and `email_verified`, `profile` adds `name`. The token goes in the
/// `Authorization: Bearer` header.
#[utoipa::path(
    get,
    path = "/userinfo",
    operation_id = "oauth_userinfo",
    tag = "oauth",
    responses(
        (status = 200, description = "The person's claims", body = UserInfo,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "No bearer token (empty body), or `invalid_token`: malformed, badly signed, expired, not issued here, or revoked", body = BearerError,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"gatehouse\"`, with `error` and `error_description` for an invalid token"))),
        (status = 403, description = "`insufficient_scope`: the token lacks `openid`, was issued to an application rather than a person, or the person can no longer sign in", body = BearerError,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"gatehouse\", error=\"insufficient_scope\", ...`"))),
        (status = 500, description = "`server_error`: the token service failed", body = BearerError),
        (status = 503, description = "`temporarily_unavailable`: try again shortly", body = BearerError),
    ),
    security(("oauth2" = ["openid"])),
)]
async fn userinfo_get(state: State<AppState>, headers: HeaderMap) -> Response {
    userinfo(state, headers).await
}

/// UserInfo endpoint (POST).
///
/// The same as `GET /userinfo` (OpenID Connect Core §5.3.1 allows both). The token goes in
/// the `Authorization: Bearer` header; a token in the body is not read.
#[utoipa::path(
    post,
    path = "/userinfo",
    operation_id = "oauth_userinfo_post",
    tag = "oauth",
    responses(
        (status = 200, description = "The person's claims", body = UserInfo,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "No bearer token (empty body), or `invalid_token`: malformed, badly signed, expired, not issued here, or revoked", body = BearerError,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"gatehouse\"`, with `error` and `error_description` for an invalid token"))),
        (status = 403, description = "`insufficient_scope`: the token lacks `openid`, was issued to an application rather than a person, or the person can no longer sign in", body = BearerError,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"gatehouse\", error=\"insufficient_scope\", ...`"))),
        (status = 500, description = "`server_error`: the token service failed", body = BearerError),
        (status = 503, description = "`temporarily_unavailable`: try again shortly", body = BearerError),
    ),
    security(("oauth2" = ["openid"])),
)]
async fn userinfo_post(state: State<AppState>, headers: HeaderMap) -> Response {
    userinfo(state, headers).await
}

async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let challenge = |status: StatusCode, error: &str, description: &str| {
        let value = format!(
            "Bearer realm=\"gatehouse\", error=\"{error}\", error_description=\"{description}\""
        );
        let mut res = (
            status,
            no_store(),
            Json(serde_json::json!({"error": error, "error_description": description})),
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(WWW_AUTHENTICATE, v);
        }
        res
    };
    let Some(token) = bearer_token(&headers) else {
        let mut res = (StatusCode::UNAUTHORIZED, no_store()).into_response();
        res.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"gatehouse\""),
        );
        return res;
    };
    let Ok(svc) = state.tokens.get().await else {
        return challenge(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "try again shortly",
        );
    };
    let claims = match svc.verify_access_token(token, None) {
        Ok(c) => c,
        Err(why) => return challenge(StatusCode::UNAUTHORIZED, "invalid_token", why.describe()),
    };
    match svc.userinfo(&claims).await {
        Ok(Some(info)) => (no_store(), Json(info)).into_response(),
        Ok(None) => challenge(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the token was not issued to a user with the openid scope",
        ),
        Err(e) => OAuthFailure::from(e).into_response(),
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

// ---- RP-initiated logout -------------------------------------------------------------

/// End-session endpoint.
///
/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends this browser's
/// session and returns to the application's registered post-logout redirect URI, or to
/// the sign-in page. Without an `id_token_hint` naming the person and session signed in
/// here (or a same-origin request), the person is sent to Gatehouse's own sign-out page to
/// confirm instead.
#[utoipa::path(
    get,
    path = "/auth/logout",
    operation_id = "oauth_logout",
    tag = "oauth",
    params(LogoutQuery),
    responses(
        (status = 303, description = "A redirect (`Location`): to `post_logout_redirect_uri` (with `state`) or `/login?flash=signed-out` once signed out (the session cookie is cleared); or to `/logout`, Gatehouse's page asking the person to confirm",
            headers(
                ("Location" = String, description = "Where the browser goes next"),
                ("Set-Cookie" = String, description = "Clears the session cookie when a session was ended"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        (status = 400, description = "An error page: a repeated parameter, an `id_token_hint` issued to another client than `client_id`, or a `post_logout_redirect_uri` that is invalid or not registered for the application", body = String, content_type = "text/html"),
        (status = 503, description = "An error page: signing out failed; try again shortly", body = String, content_type = "text/html"),
    ),
)]
async fn logout(
    State(state): State<AppState>,
    caller: RequestMeta,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match parse_params(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.description),
    };
    let Ok(svc) = state.tokens.get().await else {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The sign-in service is unavailable. Try again shortly.",
        );
    };
    let hint = params
        .get("id_token_hint")
        .and_then(|t| svc.id_token_hint(t));
    let client_id = hint
        .as_ref()
        .map(|h| h.client_id.clone())
        .or_else(|| params.get("client_id").cloned());
    if let (Some(h), Some(asked)) = (&hint, params.get("client_id")) {
        if &h.client_id != asked {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The id_token_hint was not issued to this client.",
            );
        }
    }
    let mut target = "/login?flash=signed-out".to_owned();
    if let Some(uri) = params.get("post_logout_redirect_uri") {
        let client = match &client_id {
            Some(id) => svc.client(id).await.ok().flatten(),
            None => None,
        };
        let Some(client) = client.filter(|c| c.post_logout_redirect_uris.iter().any(|u| u == uri))
        else {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The post_logout_redirect_uri is not registered for this application.",
            );
        };
        let Ok(mut url) = url::Url::parse(uri) else {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The post_logout_redirect_uri is invalid.",
            );
        };
        if let Some(st) = params.get("state") {
            url.query_pairs_mut().append_pair("state", st);
        }
        drop(client);
        target = url.into();
    }
    // The session this browser would end. A hint stands for the person's wish only when
    // it names that person and session (an attacker's own ID token must not sign a victim
    // out); otherwise the person confirms on Gatehouse's own page.
    let token = caller.session_token(&state);
    let session = match &token {
        Some(t) => match authenticate_session(&state.pool, t).await {
            Ok(s) => Some(s),
            Err(DomainError::Unauthenticated(_)) => None,
            Err(e) => {
                tracing::warn!(error = %e, "RP-initiated logout: session lookup failed");
                return error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Signing out failed. Try again shortly.",
                );
            }
        },
        None => None,
    };
    let hint_matches = match (&hint, &session) {
        (Some(h), Some(s)) => h.matches(s.user_id, s.session_id),
        (Some(_), None) => true,
        (None, _) => false,
    };
    let trusted = hint_matches || same_origin(&caller.headers, &state.settings.public_url());
    if !trusted {
        return redirect("/logout");
    }
    let mut res = redirect(&target);
    if let Some(token) = token {
        if let Err(e) = gatehouse_domain::login::sign_out(&state.pool, &caller.ctx, &token).await {
            tracing::warn!(error = %e, "RP-initiated logout failed");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Signing out failed. Try again shortly.",
            );
        }
        if let Ok(v) = HeaderValue::from_str(&session_cookie(state.settings.serves_https(), "", 0))
        {
            res.headers_mut().append(SET_COOKIE, v);
        }
    }
    res
}
