//! Universal Login (SPEC §3, UC-LOGIN, UC-LOGOUT): `/login`, with a tenant hint from
//! `/t/{domain}/login` or `?tenant=`, and `/logout`. The forms are `ActionForm`s posting
//! to server functions, so they work before (and without) the wasm.

pub mod invite;
pub mod mfa;
pub mod password_reset;
pub mod verify_email;

use crate::error::AppError;
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
    use crate::auth::ssr::{pool, request, session_token, set_session_cookie, web_config};
    use crate::auth::{landing_path, safe_return_path};
    use gatehouse_domain::login::{
        begin_sign_in, verify_password_login, LoginOutcome, NextStep, PasswordLogin, SignInSignals,
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
    let back = |code: &str| {
        let hint = tenant
            .as_ref()
            .map(|t| format!("&tenant={t}"))
            .unwrap_or_default();
        leptos_axum::redirect(&format!("/login?error={code}{hint}"));
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
            recent_failures,
            ..
        }) => {
            let previous = session_token(&headers);
            let device = crate::login::mfa::device_token(&headers);
            let signals = SignInSignals {
                device_token: device.as_deref(),
                recent_failures,
                previous_token: previous.as_deref(),
            };
            let account_url = format!("{}/account", web_config()?.public_url);
            let started = begin_sign_in(&pool, &ctx, user_id, "pwd", signals, &account_url).await?;
            let return_to = return_to.as_deref().and_then(safe_return_path);
            let lifetime = match started.next {
                NextStep::Done => gatehouse_domain::sessions::ABSOLUTE_LIFETIME,
                _ => gatehouse_domain::sessions::PENDING_LIFETIME,
            };
            set_session_cookie(
                started.issued.token.expose_secret(),
                lifetime.whole_seconds(),
            );
            if let Some(device) = &started.device {
                crate::auth::ssr::set_device_cookie(device.expose_secret());
            }
            let back = return_to
                .as_deref()
                .map(|p| format!("?return_to={}", crate::ui::url_encode(p)))
                .unwrap_or_default();
            let target = match started.next {
                NextStep::Done => {
                    return_to.unwrap_or_else(|| landing_path(started.role.as_str()).to_owned())
                }
                NextStep::SecondFactor => format!("/login/mfa{back}"),
                NextStep::EnrolSecondFactor => format!("/login/mfa/setup{back}"),
            };
            leptos_axum::redirect(&target);
            Ok(())
        }
        Ok(LoginOutcome::ChooseTenant(choices)) => {
            let domains: Vec<String> = choices
                .into_iter()
                .filter_map(|c| c.tenant_domain)
                .collect();
            leptos_axum::redirect(&format!("/login?choose={}", domains.join(",")));
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

/// The sentence for a refusal code in `?error=`.
fn error_message(code: &str) -> &'static str {
    match code {
        "locked" => "Too many failed sign-ins. Wait 15 minutes, then try again.",
        "expired" => "Your sign-in took too long. Please sign in again.",
        "user_disabled" => "This account is disabled. Ask an administrator of your organisation.",
        "tenant_suspended" => {
            "Your organisation's access is suspended. Contact your service provider."
        }
        "invitation_pending" => {
            "Accept your invitation first, with the link in the invitation email."
        }
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
    let (show_password, set_show_password) = signal(false);
    let action = ServerAction::<SignIn>::new();
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
                <ActionForm action=action attr:class="mt-6 space-y-4">
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
                    <input type="hidden" name="return_to" value=move || query.read().get("return_to").unwrap_or_default() />
                    <div>
                        <label for="email" class="block text-sm font-medium">"Email"</label>
                        <input id="email" name="email" type="email" autocomplete="username" required
                            class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500" />
                    </div>
                    <div>
                        <div class="flex items-center justify-between">
                            <label for="password" class="block text-sm font-medium">"Password"</label>
                            <a href="/forgot-password" class="text-sm text-indigo-600 hover:underline">"Forgot password?"</a>
                        </div>
                        <div class="relative mt-1">
                            <input id="password" name="password" autocomplete="current-password" required
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
                    <button type="submit"
                        class="w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white shadow-sm hover:bg-indigo-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2">
                        "Sign in"
                    </button>
                </ActionForm>
                <div class="mt-6 border-t border-slate-200 pt-4">
                    <p data-passkey-error role="alert" class="mb-2 text-sm text-red-700"></p>
                    <button type="button" data-passkey="login" data-return-to=move || query.read().get("return_to").unwrap_or_default()
                        class="w-full rounded-md border border-slate-300 bg-white px-4 py-2 font-medium hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                        "Sign in with a passkey"
                    </button>
                </div>
            </div>
        </div>
    }
}
