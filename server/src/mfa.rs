//! The HTTP side of passkeys (NFR-SEC-003; SPEC §1: "WebAuthn is the one flow that needs
//! JavaScript"): JSON endpoints under `/passkeys/` that `public/passkeys.js` calls around
//! `navigator.credentials`. Each ceremony is a `start` (answers the options for the
//! browser and a `challenge_id`) and a `finish` (takes the browser's answer):
//!
//! - `register/*` adds a passkey to the fully signed-in person's account;
//! - `login/*` signs in with a passkey alone (passwordless), creating the session exactly
//!   as a password sign-in does, and answers `{"redirect": path}`;
//! - `mfa/*` proves a passkey as the second factor of a pending sign-in and completes it.
//!
//! Errors answer `{"error": "A clear sentence."}` with a 4xx status (5xx bodies are
//! opaque). These routes are outside the server-function CSRF middleware, so every
//! request must come from Gatehouse's own origin (`Origin` equal to the public URL's, or
//! `Sec-Fetch-Site: same-origin`) and carry a JSON body, which a cross-site form cannot.
//! Every response is `Cache-Control: no-store`.

use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use gatehouse_app::auth::ssr::{cookie_name_for, cookie_value, session_cookie};
use gatehouse_app::auth::{landing_path, safe_return_path};
use gatehouse_app::error::{log_failure, status_of};
use gatehouse_domain::mfa::{
    self, PasskeyName, PublicKeyCredential, RegisterPublicKeyCredential, Webauthn,
};
use gatehouse_domain::sessions::{authenticate_session, CurrentSession, ABSOLUTE_LIFETIME};
use gatehouse_domain::DomainError;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/passkeys/register/start", post(register_start))
        .route("/passkeys/register/finish", post(register_finish))
        .route("/passkeys/login/start", post(login_start))
        .route("/passkeys/login/finish", post(login_finish))
        .route("/passkeys/mfa/start", post(mfa_start))
        .route("/passkeys/mfa/finish", post(mfa_finish))
}

#[derive(Debug, Deserialize)]
struct RegisterFinish {
    challenge_id: Uuid,
    credential: RegisterPublicKeyCredential,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LoginFinish {
    challenge_id: Uuid,
    credential: PublicKeyCredential,
    #[serde(default)]
    return_to: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MfaFinish {
    challenge_id: Uuid,
    credential: PublicKeyCredential,
    #[serde(default)]
    return_to: Option<String>,
    /// Remember this browser as a trusted device (NFR-SEC-006), as the code form offers.
    #[serde(default)]
    trust_device: bool,
}

/// Starts adding a passkey to the signed-in person's account.
#[tracing::instrument(skip_all)]
async fn register_start(State(state): State<AppState>, caller: RequestMeta) -> Response {
    respond(async {
        caller.require_same_origin(&state)?;
        let session = signed_in(&state, &caller).await?;
        let ceremony =
            mfa::start_registration(&state.pool, &webauthn(&state)?, session.user_id).await?;
        Ok(Json(ceremony).into_response())
    })
    .await
}

/// Finishes adding a passkey; answers the stored passkey (`id`, `name`, ...).
#[tracing::instrument(skip_all)]
async fn register_finish(
    State(state): State<AppState>,
    caller: RequestMeta,
    body: Result<Json<RegisterFinish>, JsonRejection>,
) -> Response {
    respond(async {
        caller.require_same_origin(&state)?;
        let session = signed_in(&state, &caller).await?;
        let Json(body) = body.map_err(unreadable)?;
        let name = PasskeyName::parse_or_default(body.name.as_deref())?;
        let passkey = mfa::finish_registration(
            &state.pool,
            &caller.ctx,
            &webauthn(&state)?,
            session.user_id,
            body.challenge_id,
            &body.credential,
            name,
        )
        .await?;
        Ok((StatusCode::CREATED, Json(json!({ "passkey": passkey }))).into_response())
    })
    .await
}

/// Starts a passwordless sign-in (anyone may).
#[tracing::instrument(skip_all)]
async fn login_start(State(state): State<AppState>, caller: RequestMeta) -> Response {
    respond(async {
        caller.require_same_origin(&state)?;
        let ceremony = mfa::start_passwordless_login(&state.pool, &webauthn(&state)?).await?;
        Ok(Json(ceremony).into_response())
    })
    .await
}

/// Finishes a passwordless sign-in: the passkey (possession plus the authenticator's user
/// verification) is the whole sign-in, so the session is complete ("hwk", MFA verified).
/// The browser's previous session ends (the id rotates at sign-in).
#[tracing::instrument(skip_all)]
async fn login_finish(
    State(state): State<AppState>,
    caller: RequestMeta,
    body: Result<Json<LoginFinish>, JsonRejection>,
) -> Response {
    respond(async {
        caller.require_same_origin(&state)?;
        let Json(body) = body.map_err(unreadable)?;
        let user_id = mfa::finish_passwordless_login(
            &state.pool,
            &caller.ctx,
            &webauthn(&state)?,
            body.challenge_id,
            &body.credential,
        )
        .await?;
        let previous = caller.session_token(&state);
        let (issued, role) = gatehouse_domain::login::complete_sign_in(
            &state.pool,
            &caller.ctx,
            user_id,
            &["hwk"],
            true,
            previous.as_deref(),
        )
        .await?;
        let https = state.settings.serves_https();
        let cookies = [session_cookie(
            https,
            issued.token.expose_secret(),
            ABSOLUTE_LIFETIME.whole_seconds(),
        )];
        redirect_with_cookies(landing(body.return_to.as_deref(), role.as_str()), &cookies)
    })
    .await
}

/// Starts the passkey second factor of this browser's pending sign-in.
#[tracing::instrument(skip_all)]
async fn mfa_start(State(state): State<AppState>, caller: RequestMeta) -> Response {
    respond(async {
        caller.require_same_origin(&state)?;
        let (session, _) = pending(&state, &caller).await?;
        match mfa::start_second_factor(&state.pool, &webauthn(&state)?, session.user_id).await {
            Ok(ceremony) => Ok(Json(ceremony).into_response()),
            Err(DomainError::NotFound(_)) => Err(PasskeyError::new(
                StatusCode::NOT_FOUND,
                "This account has no passkey; use your authenticator app or a recovery code.",
            )),
            Err(other) => Err(other.into()),
        }
    })
    .await
}

/// Finishes the passkey second factor and completes the pending sign-in: the pending
/// session ends and a full one replaces it ("hwk" added to its methods).
#[tracing::instrument(skip_all)]
async fn mfa_finish(
    State(state): State<AppState>,
    caller: RequestMeta,
    body: Result<Json<MfaFinish>, JsonRejection>,
) -> Response {
    respond(async {
        caller.require_same_origin(&state)?;
        let (session, pending_token) = pending(&state, &caller).await?;
        let Json(body) = body.map_err(unreadable)?;
        mfa::finish_second_factor(
            &state.pool,
            &caller.ctx,
            &webauthn(&state)?,
            session.user_id,
            body.challenge_id,
            &body.credential,
        )
        .await?;
        let (issued, role, device) = gatehouse_domain::login::complete_mfa_sign_in(
            &state.pool,
            &caller.ctx,
            &pending_token,
            "hwk",
            body.trust_device,
        )
        .await?;
        let https = state.settings.serves_https();
        let mut cookies = vec![session_cookie(
            https,
            issued.token.expose_secret(),
            ABSOLUTE_LIFETIME.whole_seconds(),
        )];
        if let Some(device) = device {
            cookies.push(gatehouse_app::auth::ssr::device_cookie(
                https,
                device.expose_secret(),
            ));
        }
        redirect_with_cookies(landing(body.return_to.as_deref(), role.as_str()), &cookies)
    })
    .await
}

impl crate::extract::RequestMeta {
    fn require_same_origin(&self, state: &AppState) -> Result<(), PasskeyError> {
        if crate::csrf::same_origin(&self.headers, &state.settings.public_url()) {
            Ok(())
        } else {
            tracing::warn!("cross-origin passkey request refused");
            Err(PasskeyError::new(
                StatusCode::FORBIDDEN,
                "This request came from another site and was refused.",
            ))
        }
    }

    pub(crate) fn session_token(&self, state: &AppState) -> Option<String> {
        cookie_value(
            &self.headers,
            cookie_name_for(state.settings.serves_https()),
        )
    }
}

/// The fully signed-in session (second factor done where needed).
async fn signed_in(state: &AppState, caller: &RequestMeta) -> Result<CurrentSession, PasskeyError> {
    let expired = || {
        PasskeyError::new(
            StatusCode::UNAUTHORIZED,
            "Your session has ended; please sign in again.",
        )
    };
    let token = caller.session_token(state).ok_or_else(expired)?;
    match authenticate_session(&state.pool, &token).await {
        Ok(session) if session.mfa_verified => Ok(session),
        Ok(_) => Err(PasskeyError::new(
            StatusCode::UNAUTHORIZED,
            "Finish signing in with your second factor first.",
        )),
        Err(DomainError::Unauthenticated(_)) => Err(expired()),
        Err(other) => Err(other.into()),
    }
}

/// The pending session of this browser (first factor proven, second to come) and its token.
async fn pending(
    state: &AppState,
    caller: &RequestMeta,
) -> Result<(CurrentSession, String), PasskeyError> {
    let expired = || {
        PasskeyError::new(
            StatusCode::UNAUTHORIZED,
            "This sign-in has expired; please sign in again.",
        )
    };
    let token = caller.session_token(state).ok_or_else(expired)?;
    match authenticate_session(&state.pool, &token).await {
        Ok(session) if !session.mfa_verified => Ok((session, token)),
        Ok(_) => Err(PasskeyError::new(
            StatusCode::CONFLICT,
            "You are already signed in.",
        )),
        Err(DomainError::Unauthenticated(_)) => Err(expired()),
        Err(other) => Err(other.into()),
    }
}

fn webauthn(state: &AppState) -> Result<Webauthn, PasskeyError> {
    Ok(mfa::webauthn_for(&state.settings.public_url())?)
}

/// Where a completed sign-in goes: a safe `return_to`, or the role's landing page.
fn landing(return_to: Option<&str>, role: &str) -> String {
    return_to
        .and_then(safe_return_path)
        .unwrap_or_else(|| landing_path(role).to_owned())
}

fn redirect_with_cookies(target: String, cookies: &[String]) -> Result<Response, PasskeyError> {
    let mut response = Json(json!({ "redirect": target })).into_response();
    for cookie in cookies {
        let value = HeaderValue::from_str(cookie)
            .map_err(|_| PasskeyError::unexpected("a session cookie is not a header value"))?;
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

// --- errors -------------------------------------------------------------------------------

/// An answer of `{"error": "..."}`: a sentence a person can read, never internals.
#[derive(Debug)]
struct PasskeyError {
    status: StatusCode,
    message: String,
}

impl PasskeyError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// Logs the cause (with the request id, from the span) and answers an opaque 500.
    fn unexpected(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "passkey request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side; please try again.",
        )
    }
}

impl From<DomainError> for PasskeyError {
    fn from(err: DomainError) -> Self {
        let (status, _) = status_of(&err);
        log_failure(&err);
        let message = match err {
            DomainError::Unexpected(_) => {
                "Something went wrong on our side; please try again.".to_owned()
            }
            DomainError::Validation(fields) => fields
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        Self::new(status, sentence(&message))
    }
}

impl IntoResponse for PasskeyError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// A JSON body that could not be read (wrong content type, not JSON, missing fields).
fn unreadable(rejection: JsonRejection) -> PasskeyError {
    tracing::info!(error = %rejection.body_text(), "unreadable passkey request");
    PasskeyError::new(
        rejection.status(),
        "The browser's answer could not be read; please try again.",
    )
}

/// The domain's messages are lower-case clauses; people read sentences.
fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return "The request was refused.".into(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Runs a handler body and turns its error into the JSON answer; nothing is cached.
async fn respond(
    body: impl std::future::Future<Output = Result<Response, PasskeyError>>,
) -> Response {
    let mut response = match body.await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    };
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one error table answers here as through REST and pages: a locked account is
    /// 423, not 429.
    #[test]
    fn a_locked_account_is_423_as_at_every_other_door() {
        let locked = || DomainError::Locked {
            message: "too many failed sign-ins; try again in 15 minutes".into(),
            retry_after_secs: 900,
        };
        assert_eq!(PasskeyError::from(locked()).status, StatusCode::LOCKED);
        assert_eq!(
            crate::api::error::ApiError::from(locked()).status,
            StatusCode::LOCKED
        );
    }

    #[test]
    fn refusals_read_as_sentences_and_hide_internals() {
        let err = PasskeyError::from(DomainError::Unauthenticated(
            "the passkey could not be verified".into(),
        ));
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        assert_eq!(err.message, "The passkey could not be verified.");
        let err = PasskeyError::from(DomainError::Unexpected(anyhow::anyhow!(
            "relation webauthn_challenges does not exist"
        )));
        assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!err.message.contains("webauthn_challenges"));
        let err = PasskeyError::from(DomainError::validation("name", "give the passkey a name"));
        assert_eq!(
            (err.status, err.message.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "Give the passkey a name.")
        );
    }

    #[test]
    fn sign_ins_land_by_role_or_on_a_safe_return_path() {
        assert_eq!(landing(None, "user"), "/account");
        assert_eq!(landing(Some("/admin/users"), "owner"), "/admin/users");
        assert_eq!(landing(Some("//evil.example"), "owner"), "/admin");
        assert_eq!(
            landing(Some("https://evil.example"), "operator"),
            "/operator"
        );
    }
}
