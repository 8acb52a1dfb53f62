//! Universal Login (SPEC §3, UC-LOGIN, UC-LOGOUT): `/login`, with a tenant hint from
//! `/t/{domain}/login` or `?tenant=`, and `/logout`. The forms are `ActionForm`s posting
//! to server functions, so they work before (and without) the wasm.

pub mod invite;
pub mod mfa;
pub mod password_reset;
pub mod verify_email;

use crate::error::AppError;

/// The Universal Login pages' field and main button (their cards are narrower than the
/// consoles' forms: full-width, larger type than `ui::INPUT` / `ui::BUTTON`).
pub(crate) const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";
pub(crate) const PRIMARY: &str = "w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white shadow-sm hover:bg-indigo-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2";
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Checks the password, starts the session (cookie) and sends the person where their
/// role belongs. Refusals come back to `/login?error=CODE`.
#[server(prefix = "/_rpc", endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    tenant: Option<String>,
    return_to: Option<String>,
) -> Result<(), AppError> {
    use crate::auth::ssr::{
        after_sign_in, pool, request, session_lifetime, session_token, set_session_cookie,
        web_config,
    };
    use gatehouse_domain::login::{
        begin_sign_in, verify_password_login, LoginOutcome, PasswordLogin, SignInSignals,
    };
    use gatehouse_domain::types::{Email, TenantDomain};
    use gatehouse_domain::DomainError;
    use secrecy::{ExposeSecret, SecretString};

    let pool = pool()?;
    let (ctx, headers) = request().await?;
    let tenant = tenant
        .filter(|t| !t.trim().is_empty())
        .map(|t| TenantDomain::parse(&t))
        .transpose()
        .ok()
        .flatten();
    let typed = email.clone();
    let back = |code: &str| {
        let hint = tenant
            .as_ref()
            .map(|t| format!("&tenant={t}"))
            .unwrap_or_default();
        let again = return_to
            .as_deref()
            .map(|r| format!("&return_to={}", crate::ui::url_encode(r)))
            .unwrap_or_default();
        leptos_axum::redirect(&format!(
            "/login?error={code}&email={}{hint}{again}",
            crate::ui::url_encode(&typed)
        ));
        Ok(())
    };
    let Ok(email) = Email::parse(&email) else {
        return back("invalid");
    };
    let login = PasswordLogin {
        email,
        password: SecretString::from(password),
        tenant: tenant.clone(),
    };
    match verify_password_login(&pool, &ctx, login).await {
        Ok(LoginOutcome::Authenticated {
            user_id,
            role,
            tenant_id,
            ..
        }) if role.is_platform() && !web_config()?.platform_password_sign_in => {
            let refused = gatehouse_domain::users::SignInRefusal::PlatformSso;
            gatehouse_domain::login::refuse_sign_in(&pool, &ctx, user_id, tenant_id, refused)
                .await?;
            back(refused.code())
        }
        Ok(LoginOutcome::Authenticated {
            user_id,
            recent_failures,
            break_glass,
            ..
        }) => {
            let previous = session_token(&headers);
            let device = crate::login::mfa::device_token(&headers);
            let signals = SignInSignals {
                device_token: device.as_deref(),
                recent_failures,
                previous_token: previous.as_deref(),
                break_glass,
                ..Default::default()
            };
            let account_url = format!("{}/account", web_config()?.public_url);
            let started = begin_sign_in(&pool, &ctx, user_id, "pwd", signals, &account_url).await?;
            set_session_cookie(
                started.issued.token.expose_secret(),
                session_lifetime(started.next),
            );
            if let Some(device) = &started.device {
                crate::auth::ssr::set_device_cookie(device.expose_secret());
            }
            let target = after_sign_in(started.next, started.role.as_str(), return_to.as_deref());
            leptos_axum::redirect(&target);
            Ok(())
        }
        Ok(LoginOutcome::ChooseTenant(choices)) => {
            let domains: Vec<String> = choices
                .into_iter()
                .filter_map(|c| c.tenant_domain)
                .collect();
            leptos_axum::redirect(&format!(
                "/login?choose={}&email={}",
                domains.join(","),
                crate::ui::url_encode(&typed)
            ));
            Ok(())
        }
        Err(DomainError::Unauthenticated(_)) => back("invalid"),
        Err(DomainError::Locked { .. }) => back("locked"),
        Ok(LoginOutcome::Refused(refused)) => back(match refused.message() {
            Some(_) => refused.code(),
            None => "invalid",
        }),
        Err(other) => Err(other.into()),
    }
}

/// Ends the current session and clears the cookie.
#[server(prefix = "/_rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::auth::ssr::{clear_session_cookie, pool, request, session_token};
    let pool = pool()?;
    let (ctx, headers) = request().await?;
    if let Some(token) = session_token(&headers) {
        gatehouse_domain::login::sign_out(&pool, &ctx, &token).await?;
    }
    clear_session_cookie();
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}

/// Email first (UC-LOGIN): the address decides the next step. Its verified domain may
/// route to the organisation's provider; otherwise the password step follows. Either way
/// the page comes back with the address, so what happens next is the page's.
#[server(prefix = "/_rpc", endpoint = "continue_sign_in")]
pub async fn continue_sign_in(
    email: String,
    tenant: Option<String>,
    return_to: Option<String>,
) -> Result<(), AppError> {
    use gatehouse_domain::types::Email;
    let mut next = match Email::parse(&email) {
        Ok(e) => format!("/login?email={}", crate::ui::url_encode(e.as_str())),
        Err(_) => "/login?error=invalid_email".to_owned(),
    };
    if let Some(t) = tenant.filter(|t| !t.trim().is_empty()) {
        next.push_str(&format!("&tenant={}", crate::ui::url_encode(t.trim())));
    }
    if let Some(r) = return_to.as_deref().and_then(crate::auth::safe_return_path) {
        next.push_str(&format!("&return_to={}", crate::ui::url_encode(&r)));
    }
    leptos_axum::redirect(&next);
    Ok(())
}

/// Where the organisation's provider takes a sign-in, when it does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SsoRoute {
    pub start: String,
    pub organisation: String,
    /// Passwords are off for the organisation's people (owners keep break-glass).
    pub required: bool,
}

/// The SSO route of a tenant hint or an email address (verified domain, active connection).
#[server(prefix = "/_rpc", endpoint = "sso_choice")]
pub async fn sso_choice(
    email: Option<String>,
    tenant: Option<String>,
    return_to: Option<String>,
) -> Result<Option<SsoRoute>, AppError> {
    use crate::auth::ssr::pool;
    use gatehouse_domain::types::Email;
    let pool = pool()?;
    let email = email.and_then(|e| Email::parse(&e).ok());
    let route = match (tenant.filter(|t| !t.trim().is_empty()), &email) {
        (Some(t), _) => {
            gatehouse_domain::sso::route_tenant(&pool, &t.trim().to_ascii_lowercase()).await?
        }
        (None, Some(e)) => gatehouse_domain::sso::route_email(&pool, e).await?,
        (None, None) => None,
    };
    Ok(route.map(|r| {
        let mut start = format!("/sso/{}/start?", r.connection_id);
        let mut params = Vec::new();
        if let Some(e) = &email {
            params.push(format!("login_hint={}", crate::ui::url_encode(e.as_str())));
        }
        if let Some(back) = return_to.as_deref().and_then(crate::auth::safe_return_path) {
            params.push(format!("return_to={}", crate::ui::url_encode(&back)));
        }
        start.push_str(&params.join("&"));
        SsoRoute {
            start,
            organisation: r.tenant_name,
            required: r.enforced,
        }
    }))
}

/// Where platform staff start signing in through the vendor's provider, when the
/// deployment configured one (a setting: no database read on every sign-in page).
#[server(prefix = "/_rpc", endpoint = "platform_sso_start")]
pub async fn platform_sso_start(return_to: Option<String>) -> Result<Option<String>, AppError> {
    if !crate::auth::ssr::web_config()?.platform_sso {
        return Ok(None);
    }
    let back = return_to
        .as_deref()
        .and_then(crate::auth::safe_return_path)
        .map(|r| format!("?return_to={}", crate::ui::url_encode(&r)))
        .unwrap_or_default();
    Ok(Some(format!("/sso/platform/start{back}")))
}

/// The sentence for a refusal code in `?error=`.
fn error_message(code: &str) -> &'static str {
    match code {
        "locked" => "Too many failed sign-ins. Wait 15 minutes, then try again.",
        "expired" => "Your sign-in took too long. Please sign in again.",
        "invalid_email" => "Enter a valid email address.",
        "user_disabled" | "sso_user_disabled" => {
            "This account is disabled. Ask an administrator of your organisation."
        }
        "tenant_suspended" | "sso_tenant_suspended" => {
            "Your organisation's access is suspended. Contact your service provider."
        }
        "invitation_pending" | "sso_invitation_pending" => {
            "Accept your invitation first, with the link in the invitation email."
        }
        "platform_sso" => {
            "Platform staff sign in through the vendor's single sign-on: use the link below."
        }
        "sso_no_platform_role" => "Your account at the vendor's sign-in service has no operator or auditor role.",
        "sso_enforced" => {
            "Your organisation signs in with single sign-on. Use the button for your organisation."
        }
        "sso_idp_error" => "Your organisation's sign-in service did not sign you in (access was denied or cancelled).",
        "sso_bad_state" => "This single sign-on attempt expired or was started in another browser. Please start again.",
        "sso_email_unverified" => "Your organisation's sign-in service did not confirm your email address, so it cannot be matched to an account. Ask your IT team.",
        "sso_domain_unverified" | "sso_no_email" => "Your email domain is not verified for this organisation's single sign-on. Ask your organisation's owner.",
        "sso_unknown_user" => "There is no account for you in this organisation yet. Ask an administrator to invite you.",
        "sso_linked_elsewhere" => "Your account is already linked to another identity at your organisation's sign-in service. Ask an administrator.",
        "sso_unavailable" => "Single sign-on is not available for this organisation right now. Try your password, or ask your organisation's owner.",
        "sso_idp_unreachable" => "Your organisation's sign-in service could not be reached. Try again in a moment.",
        c if c.starts_with("sso_") => "Single sign-on failed: the answer from your organisation's sign-in service could not be trusted. Please try again or ask your IT team.",
        _ => "The email address or password is not correct.",
    }
}

#[component]
pub fn LogoutPage() -> impl IntoView {
    let action = ServerAction::<SignOut>::new();
    view! {
        <crate::layout::PageTitle text="Sign out" />
        <div class="mx-auto max-w-md rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
            <h1 class="text-2xl font-semibold tracking-tight">"Sign out?"</h1>
            <p class="mt-2 text-sm text-slate-600">"This ends your session on this device."</p>
            <ActionForm action=action attr:class="mt-6">
                <button type="submit" data-testid="sign-out"
                    class="w-full rounded-md bg-slate-900 px-4 py-2 font-medium text-white hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2">
                    "Sign out"
                </button>
            </ActionForm>
        </div>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let tenant = move || {
        params
            .read()
            .get("domain")
            .or_else(|| query.read().get("tenant"))
            .filter(|t| !t.trim().is_empty())
    };
    let email = move || {
        let q = query.read();
        q.get("email")
            .or_else(|| q.get("login_hint"))
            .filter(|e| !e.trim().is_empty())
    };
    let return_to = move || query.read().get("return_to").unwrap_or_default();
    let route = Resource::new_blocking(
        move || (email(), tenant(), query.read().get("return_to")),
        |(email, tenant, back)| sso_choice(email, tenant, back),
    );
    let platform =
        Resource::new_blocking(move || query.read().get("return_to"), platform_sso_start);
    let (show_password, set_show_password) = signal(false);
    let action = ServerAction::<SignIn>::new();
    let next = ServerAction::<ContinueSignIn>::new();
    let error = move || query.read().get("error").map(|code| error_message(&code));
    let signed_out = move || {
        let q = query.read();
        if q.get("signed_out").is_some() {
            Some("You are signed out.")
        } else if q.get("reset").is_some() {
            Some("Your password is changed and every session signed out. Sign in with the new password.")
        } else {
            None
        }
    };
    let break_glass = move || query.read().get("break_glass").is_some();
    let choices = move || {
        query
            .read()
            .get("choose")
            .map(|list| {
                list.split(',')
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let other_email = move || {
        let mut link = "/login".to_owned();
        let mut q = Vec::new();
        if let Some(t) = tenant() {
            q.push(format!("tenant={}", crate::ui::url_encode(&t)));
        }
        let back = return_to();
        if !back.is_empty() {
            q.push(format!("return_to={}", crate::ui::url_encode(&back)));
        }
        if !q.is_empty() {
            link.push('?');
            link.push_str(&q.join("&"));
        }
        link
    };
    let password_form = move |address: String| {
        view! {
            <ActionForm action=action attr:class="mt-6 space-y-4" attr:data-testid="password-form">
                {move || {
                    let list = choices();
                    if list.is_empty() {
                        view! { <input type="hidden" name="tenant" value=move || tenant().unwrap_or_default() /> }.into_any()
                    } else {
                        view! {
                            <fieldset class="rounded-md border border-indigo-200 bg-indigo-50 p-3">
                                <legend class="px-1 text-sm font-medium">"Choose your organisation"</legend>
                                <p class="text-sm text-slate-600">"Your password matches accounts in several organisations. Choose one and enter your password again."</p>
                                {list.into_iter().enumerate().map(|(i, d)| view! {
                                    <label class="mt-2 flex items-center gap-2 text-sm">
                                        <input type="radio" name="tenant" value=d.clone() checked=i == 0 />
                                        {d.clone()}
                                    </label>
                                }).collect_view()}
                            </fieldset>
                        }.into_any()
                    }
                }}
                <input type="hidden" name="return_to" value=return_to />
                <input id="email" name="email" type="email" autocomplete="username" value=address readonly class="sr-only" tabindex="-1" />
                <div>
                    <div class="flex items-center justify-between">
                        <label for="password" class="block text-sm font-medium">"Password"</label>
                        <a href="/forgot-password" class="text-sm text-indigo-600 hover:underline">"Forgot password?"</a>
                    </div>
                    <div class="relative mt-1">
                        <input id="password" name="password" autocomplete="current-password" required autofocus
                            type=move || if show_password.get() { "text" } else { "password" }
                            class="block w-full rounded-md border border-slate-300 px-3 py-2 pr-16 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500" />
                        <button type="button" data-testid="toggle-password"
                            class="absolute inset-y-0 right-0 px-3 text-sm font-medium text-slate-600 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 rounded-r-md"
                            aria-controls="password"
                            aria-pressed=move || show_password.get().to_string()
                            on:click=move |_| set_show_password.update(|s| *s = !*s)>
                            {move || if show_password.get() { "Hide" } else { "Show" }}
                        </button>
                    </div>
                </div>
                <button type="submit" data-testid="sign-in" class=PRIMARY>
                    "Sign in"
                </button>
            </ActionForm>
        }
    };
    let sso_button = |choice: &SsoRoute| {
        view! {
            <a href=choice.start.clone() rel="external" data-testid="sso-continue"
                class="mt-6 flex w-full items-center justify-center rounded-md bg-slate-900 px-4 py-2 font-medium text-white hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2">
                {format!("Continue with {} SSO", choice.organisation)}
            </a>
        }
    };
    let steps = move || {
        let choice = route.get().and_then(Result::ok).flatten();
        match email() {
            None => view! {
                {choice.as_ref().map(|c| view! {
                    {sso_button(c)}
                    <p class="mt-4 text-center text-xs uppercase tracking-wide text-slate-500">"or with your email"</p>
                })}
                <ActionForm action=next attr:class="mt-6 space-y-4" attr:data-testid="email-form">
                    <input type="hidden" name="tenant" value=move || tenant().unwrap_or_default() />
                    <input type="hidden" name="return_to" value=return_to />
                    <div>
                        <label for="email" class="block text-sm font-medium">"Email"</label>
                        <input id="email" name="email" type="email" autocomplete="username webauthn" required autofocus class=INPUT />
                    </div>
                    <button type="submit" data-testid="continue" class=PRIMARY>
                        "Continue"
                    </button>
                </ActionForm>
            }.into_any(),
            Some(address) => {
                let shown = address.clone();
                let password = match &choice {
                    Some(c) if c.required && !break_glass() => {
                        let mut glass = format!("{}&break_glass=1", crate::ui::url_encode(&address));
                        glass.insert_str(0, "/login?email=");
                        if let Some(t) = tenant() {
                            glass.push_str(&format!("&tenant={}", crate::ui::url_encode(&t)));
                        }
                        view! {
                            <p class="mt-4 text-center text-sm text-slate-500">
                                "Owner without access to your provider? "
                                <a href=glass class="text-indigo-600 hover:underline" data-testid="break-glass">"Break-glass sign-in"</a>
                            </p>
                        }.into_any()
                    }
                    Some(_) => view! {
                        <p class="mt-6 text-center text-xs uppercase tracking-wide text-slate-500">"or with your password"</p>
                        {password_form(address)}
                    }.into_any(),
                    None => password_form(address).into_any(),
                };
                view! {
                    <div class="mt-4 flex items-center justify-between gap-2 rounded-md bg-slate-50 px-3 py-2 text-sm">
                        <span class="min-w-0 truncate" data-testid="login-email">{shown}</span>
                        <a href=other_email class="shrink-0 text-indigo-600 hover:underline" data-testid="other-email">"Use another email"</a>
                    </div>
                    {choice.as_ref().map(sso_button)}
                    {password}
                }.into_any()
            }
        }
    };
    view! {
        <crate::layout::PageTitle text="Sign in" />
        <script src="/passkeys.js" defer></script>
        <div class="mx-auto max-w-md">
            <div class="rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
                <h1 class="text-2xl font-semibold tracking-tight">"Sign in"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {move || match tenant() {
                        Some(t) => format!("to {t} on Gatehouse"),
                        None => "with your work email".to_owned(),
                    }}
                </p>
                {move || signed_out().map(|message| view! {
                    <p role="status" class="mt-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">{message}</p>
                })}
                {move || error().map(|message| view! {
                    <p role="alert" data-testid="login-error" class="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{message}</p>
                })}
                <Suspense fallback=|| ()>{steps}</Suspense>
                <div class="mt-6 border-t border-slate-200 pt-4">
                    <p data-passkey-error role="alert" class="mb-2 text-sm text-red-700"></p>
                    <button type="button" data-passkey="login" data-return-to=return_to
                        class="w-full rounded-md border border-slate-300 bg-white px-4 py-2 font-medium hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                        "Sign in with a passkey"
                    </button>
                    <Suspense fallback=|| ()>
                        {move || platform.get().and_then(Result::ok).flatten().map(|start| view! {
                            <p class="mt-4 text-center text-sm text-slate-500">
                                "Platform staff: "
                                <a href=start rel="external" class="text-indigo-600 hover:underline" data-testid="platform-sso">"sign in with your company's SSO"</a>
                            </p>
                        })}
                    </Suspense>
                </div>
            </div>
        </div>
    }
}
