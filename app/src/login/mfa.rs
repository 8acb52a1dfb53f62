//! The second step of Universal Login (NFR-SEC-003, NFR-SEC-006, SPEC §3): `/login/mfa`
//! asks a pending session for its second factor (authenticator code, recovery code or
//! passkey); `/login/mfa/setup` makes an account that must use MFA enrol an authenticator
//! app first (operators and auditors at their first sign-in). The TOTP enrolment
//! component is shared with the account page.

use crate::error::AppError;
use crate::layout::{Flash, PageTitle};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// What the second-factor page offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub email: String,
    pub has_totp: bool,
    pub has_passkey: bool,
    /// Why the second factor is asked for, in the person's words (NFR-SEC-006).
    pub reasons: Vec<String>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::auth::ssr::{current_session, request, session_token};
    use gatehouse_domain::sessions::CurrentSession;

    /// The pending session of this browser (password proven, second factor to come), or
    /// an error after sending the browser where it belongs.
    pub async fn pending_session() -> Result<(CurrentSession, String), AppError> {
        let (_, headers) = request().await?;
        match (current_session().await?, session_token(&headers)) {
            (Some(s), Some(token)) if !s.mfa_verified => Ok((s, token)),
            (Some(s), _) => {
                leptos_axum::redirect(crate::auth::landing_path(s.role.as_str()));
                Err(AppError::redirected(
                    http::StatusCode::CONFLICT,
                    "You are already signed in.",
                ))
            }
            _ => {
                leptos_axum::redirect("/login?error=expired");
                Err(AppError::redirected(
                    http::StatusCode::UNAUTHORIZED,
                    "This sign-in has expired; please sign in again.",
                ))
            }
        }
    }

    /// Sets the new full session (and the trusted-device cookie) after the second factor.
    pub fn finish(token: &str, device: Option<&str>) {
        use crate::auth::ssr::{set_device_cookie, set_session_cookie};
        set_session_cookie(
            token,
            gatehouse_domain::sessions::ABSOLUTE_LIFETIME.whole_seconds(),
        );
        if let Some(device) = device {
            set_device_cookie(device);
        }
    }

    /// The trusted-device token this browser carries, if any.
    pub fn device_token(headers: &http::HeaderMap) -> Option<String> {
        use crate::auth::ssr::{cookie_value, device_cookie_name, web_config};
        cookie_value(
            headers,
            device_cookie_name(web_config().is_ok_and(|c| c.https)),
        )
    }
}

#[cfg(feature = "ssr")]
pub use ssr::device_token;

#[server(prefix = "/_rpc", endpoint = "mfa_challenge")]
pub async fn mfa_challenge() -> Result<Challenge, AppError> {
    let (session, _) = ssr::pending_session().await?;
    let factors =
        gatehouse_domain::mfa::mfa_factors(&crate::auth::ssr::pool()?, session.user_id).await?;
    Ok(Challenge {
        email: session.email,
        has_totp: !factors.totp.is_empty(),
        has_passkey: !factors.passkeys.is_empty(),
        reasons: gatehouse_domain::login::challenge_reasons(
            &crate::auth::ssr::pool()?,
            session.session_id,
        )
        .await?,
    })
}

/// Checks the second factor of a pending sign-in and completes it.
#[server(prefix = "/_rpc", endpoint = "verify_mfa")]
pub async fn verify_mfa(
    code: String,
    trust_device: Option<String>,
    return_to: Option<String>,
) -> Result<(), AppError> {
    use crate::auth::ssr::{keys, pool, request};
    use crate::auth::{landing_path, safe_return_path};
    use gatehouse_domain::mfa::{verify_second_factor, SecondFactor};
    use gatehouse_domain::DomainError;
    use secrecy::ExposeSecret;

    let (session, token) = ssr::pending_session().await?;
    let (ctx, _) = request().await?;
    let pool = pool()?;
    let back = |code: &str| {
        let rt = return_to
            .as_deref()
            .and_then(safe_return_path)
            .map(|p| format!("&return_to={}", crate::ui::url_encode(&p)))
            .unwrap_or_default();
        leptos_axum::redirect(&format!("/login/mfa?error={code}{rt}"));
        Ok(())
    };
    let method = match verify_second_factor(&pool, &ctx, &*keys()?, session.user_id, code.trim())
        .await
    {
        Ok(SecondFactor::Totp) => "otp",
        Ok(SecondFactor::RecoveryCode { .. }) => "rec",
        Err(DomainError::Locked { .. }) => return back("locked"),
        Err(DomainError::Unauthenticated(_) | DomainError::Validation(_)) => return back("code"),
        Err(other) => return Err(other.into()),
    };
    let trust = crate::ui::ssr::ticked(&trust_device);
    let (issued, role, device) =
        gatehouse_domain::login::complete_mfa_sign_in(&pool, &ctx, &token, method, trust).await?;
    ssr::finish(
        issued.token.expose_secret(),
        device.as_ref().map(|d| d.expose_secret()),
    );
    let target = return_to
        .as_deref()
        .and_then(safe_return_path)
        .unwrap_or_else(|| landing_path(role.as_str()).to_owned());
    leptos_axum::redirect(&target);
    Ok(())
}

/// A new, unconfirmed authenticator-app enrolment: the key as a QR code and as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetup {
    pub enrolment_id: String,
    /// The base32 key for typing into the app (shown to its owner only, once).
    pub manual_key: String,
    pub qr_svg: String,
}

/// Starts enrolling an authenticator app, for a signed-in person or a pending sign-in
/// that must enrol.
#[server(prefix = "/_rpc", endpoint = "begin_totp_setup")]
pub async fn begin_totp_setup() -> Result<TotpSetup, AppError> {
    use crate::auth::ssr::{current_session, keys, pool};
    use secrecy::ExposeSecret;
    // The page's one resource, so it also guards the page (see account_overview).
    let Some(session) = current_session().await? else {
        leptos_axum::redirect("/login?return_to=%2Faccount%2Fmfa%2Ftotp");
        return Err(AppError::redirected(
            http::StatusCode::UNAUTHORIZED,
            "Please sign in.",
        ));
    };
    let pool = pool()?;
    // A sign-in waiting for its second factor may not enrol another (CON-SEC-005).
    session.may_change_factors(&pool).await?;
    let enrolment = gatehouse_domain::mfa::begin_totp_enrolment(
        &pool,
        &*keys()?,
        session.user_id,
        &session.email,
        "Gatehouse",
    )
    .await?;
    Ok(TotpSetup {
        enrolment_id: enrolment.id.to_string(),
        manual_key: enrolment.secret_base32.expose_secret().to_owned(),
        qr_svg: enrolment.qr_svg,
    })
}

/// What confirming an enrolment gives: the recovery codes (first enrolment only, shown
/// once) and where to go next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpConfirmed {
    pub recovery_codes: Vec<String>,
    pub next: String,
}

/// Confirms an enrolment with a first code. A pending sign-in that had to enrol is
/// completed by it.
#[server(prefix = "/_rpc", endpoint = "confirm_totp_setup")]
pub async fn confirm_totp_setup(
    enrolment_id: String,
    code: String,
    label: Option<String>,
) -> Result<TotpConfirmed, AppError> {
    use crate::auth::ssr::{current_session, keys, pool, request, session_token};
    use secrecy::ExposeSecret;
    let session = current_session().await?.ok_or_else(AppError::signed_out)?;
    let (ctx, headers) = request().await?;
    let pool = pool()?;
    // A sign-in waiting for its second factor may not enrol another (CON-SEC-005).
    session.may_change_factors(&pool).await?;
    let id = uuid::Uuid::parse_str(enrolment_id.trim())
        .map_err(|_| AppError::invalid("this enrolment has expired; start again"))?;
    let label = label.filter(|l| !l.trim().is_empty());
    let codes = gatehouse_domain::mfa::confirm_totp_enrolment(
        &pool,
        &ctx,
        &*keys()?,
        session.user_id,
        id,
        code.trim(),
        label.as_deref().map(str::trim),
    )
    .await?;
    let mut next = "/account?mfa=added".to_owned();
    if !session.mfa_verified {
        let token = session_token(&headers).ok_or_else(AppError::signed_out)?;
        // An enrolment proves the new factor, not this browser: it is not trusted.
        let (issued, role, device) =
            gatehouse_domain::login::complete_mfa_sign_in(&pool, &ctx, &token, "otp", false)
                .await?;
        ssr::finish(
            issued.token.expose_secret(),
            device.as_ref().map(|d| d.expose_secret()),
        );
        next = crate::auth::landing_path(role.as_str()).to_owned();
    }
    Ok(TotpConfirmed {
        recovery_codes: codes
            .unwrap_or_default()
            .iter()
            .map(|c| c.expose_secret().to_owned())
            .collect(),
        next,
    })
}

fn challenge_error(code: &str) -> &'static str {
    match code {
        "locked" => "Too many wrong codes. Wait 15 minutes, then sign in again.",
        "passkey" => "The passkey could not be used. Try again or enter a code.",
        _ => "That code is not right. Check the time on your device and enter the newest code, or use a recovery code.",
    }
}

use super::{INPUT, PRIMARY};

/// `/login/mfa`: the second factor of a pending sign-in.
#[component]
pub fn MfaPage() -> impl IntoView {
    let query = use_query_map();
    let challenge = Resource::new_blocking(|| (), |_| mfa_challenge());
    let action = ServerAction::<VerifyMfa>::new();
    let error = move || query.read().get("error").map(|c| challenge_error(&c));
    let return_to = move || query.read().get("return_to").unwrap_or_default();
    view! {
        <PageTitle text="Two-step verification" />
        <script src="/passkeys.js" defer></script>
        <div class="mx-auto max-w-md rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
            <h1 class="text-2xl font-semibold tracking-tight">"Two-step verification"</h1>
            <Suspense fallback=|| view! { <p class="mt-2 text-slate-500">"Loading…"</p> }>
                {move || challenge.get().map(|c| match c {
                    Err(e) => view! { <div class="mt-4"><Flash message=e.message error=true /></div> }.into_any(),
                    Ok(c) => view! {
                        <p class="mt-1 text-sm text-slate-600">
                            {format!("Signing in as {}. ", c.email)}
                            {if c.has_totp { "Enter the 6-digit code from your authenticator app, or one of your recovery codes." } else { "Use your passkey, or one of your recovery codes." }}
                        </p>
                        {(!c.reasons.is_empty()).then(|| view! {
                            <div class="mt-3 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="mfa-reasons">
                                <p class="font-medium">"We ask because of:"</p>
                                <ul class="mt-1 list-disc pl-5">
                                    {c.reasons.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}
                                </ul>
                            </div>
                        })}
                        {error().map(|m| view! { <div class="mt-4"><Flash message=m error=true /></div> })}
                        <p data-passkey-error role="alert" class="mt-2 text-sm text-red-700"></p>
                        <Show when=move || c.has_passkey>
                            <button type="button" data-passkey="mfa" data-return-to=return_to
                                class="mt-6 w-full rounded-md border border-slate-300 bg-white px-4 py-2 font-medium hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                                "Use a passkey"
                            </button>
                        </Show>
                        <ActionForm action=action attr:class="mt-6 space-y-4">
                            <input type="hidden" name="return_to" value=return_to />
                            <div>
                                <label for="code" class="block text-sm font-medium">"Code"</label>
                                <input id="code" name="code" required autocomplete="one-time-code" inputmode="text" autofocus
                                    class=INPUT placeholder="123456" />
                            </div>
                            <label class="flex items-center gap-2 text-sm text-slate-700">
                                <input type="checkbox" name="trust_device" value="true" checked />
                                "Trust this browser for 30 days"
                            </label>
                            <button type="submit" class=PRIMARY>"Verify"</button>
                        </ActionForm>
                    }.into_any(),
                })}
            </Suspense>
            <p class="mt-6 border-t border-slate-200 pt-4 text-sm text-slate-600">
                <a href="/logout" class="text-indigo-600 hover:underline">"Cancel and sign out"</a>
            </p>
        </div>
    }
}

/// `/login/mfa/setup`: an account that must use MFA enrols its first authenticator app.
#[component]
pub fn MfaSetupPage() -> impl IntoView {
    view! {
        <PageTitle text="Set up two-step verification" />
        <div class="mx-auto max-w-lg rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
            <h1 class="text-2xl font-semibold tracking-tight">"Set up two-step verification"</h1>
            <p class="mt-1 text-sm text-slate-600">
                "Your account must use a second factor. Add an authenticator app (such as 1Password, Google Authenticator or Aegis) to finish signing in."
            </p>
            <div class="mt-6"><TotpEnrolment /></div>
        </div>
    }
}

/// Enrolling an authenticator app: the QR code and key, a first code to confirm, then the
/// recovery codes (shown once) and a link onwards.
#[component]
pub fn TotpEnrolment() -> impl IntoView {
    let setup = Resource::new_blocking(|| (), |_| begin_totp_setup());
    let confirm = ServerAction::<ConfirmTotpSetup>::new();
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Preparing a new key…"</p> }>
            {move || setup.get().map(|s| match s {
                Err(e) => view! { <Flash message=e.message error=true /> }.into_any(),
                Ok(s) => {
                    let (qr, key, id) = (
                        StoredValue::new(s.qr_svg),
                        StoredValue::new(s.manual_key),
                        StoredValue::new(s.enrolment_id),
                    );
                    let done = move || confirm.value().get().and_then(Result::ok);
                    let failed = move || confirm.value().get().and_then(Result::err);
                    view! {
                        <Show when=move || done().is_none()>
                            <ol class="list-decimal space-y-4 pl-5 text-sm text-slate-700">
                                <li>
                                    "Scan this QR code with your authenticator app."
                                    <div class="mt-2 w-52 rounded-md border border-slate-200 bg-white p-2" data-testid="totp-qr" inner_html=qr.get_value()></div>
                                </li>
                                <li>
                                    "Or type this key: "
                                    <code data-testid="totp-secret" class="break-all rounded bg-slate-100 px-2 py-1 font-mono text-slate-900">{key.get_value()}</code>
                                </li>
                                <li>"Enter the 6-digit code the app shows."</li>
                            </ol>
                            {move || failed().map(|e| view! { <div class="mt-4"><Flash message=e.message error=true /></div> })}
                            <ActionForm action=confirm attr:class="mt-4 space-y-4">
                                <input type="hidden" name="enrolment_id" value=id.get_value() />
                                <div>
                                    <label for="totp-code" class="block text-sm font-medium">"Code from the app"</label>
                                    <input id="totp-code" name="code" required inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" class=INPUT />
                                </div>
                                <div>
                                    <label for="totp-label" class="block text-sm font-medium">"Name (optional)"</label>
                                    <input id="totp-label" name="label" maxlength="100" placeholder="Authenticator app" class=INPUT />
                                </div>
                                <button type="submit" class=PRIMARY>"Confirm"</button>
                            </ActionForm>
                        </Show>
                        {move || done().map(|d| view! { <RecoveryCodes codes=d.recovery_codes next=d.next /> })}
                    }.into_any()
                }
            })}
        </Suspense>
    }
}

/// Recovery codes, shown once, with a link onwards.
#[component]
pub fn RecoveryCodes(codes: Vec<String>, next: String) -> impl IntoView {
    let has_codes = !codes.is_empty();
    view! {
        <div data-testid="mfa-enrolled">
            <Flash message="Two-step verification is on." />
            <Show when=move || has_codes>
                <p class="mt-4 text-sm text-slate-700">
                    "Save these recovery codes somewhere safe. Each works once if you lose your device. They are shown only now."
                </p>
            </Show>
            <ul data-testid="recovery-codes" class="mt-3 grid grid-cols-2 gap-2 font-mono text-sm">
                {codes.into_iter().map(|c| view! { <li class="rounded bg-slate-100 px-2 py-1">{c}</li> }).collect_view()}
            </ul>
            <a href=next data-testid="mfa-continue" class="mt-6 inline-block rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">"Continue"</a>
        </div>
    }
}
