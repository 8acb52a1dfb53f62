//! Password reset pages (FR-AUTH-004, UC-AUTH-RESET): `/forgot-password` asks for the
//! address and always answers the same way (no user enumeration); `/reset-password/{token}`
//! sets a new password under the tenant's policy, which signs the account out everywhere.

use crate::error::AppError;
use crate::layout::{Flash, PageTitle};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{INPUT, PRIMARY};

/// Mails a reset link if the address has an account; the answer never says whether.
#[server(prefix = "/_rpc", endpoint = "request_reset")]
pub async fn request_reset(email: String, tenant: Option<String>) -> Result<(), AppError> {
    use crate::auth::ssr::{pool, request, web_config};
    use gatehouse_domain::types::{Email, TenantDomain};
    let (ctx, _) = request().await?;
    let tenant = tenant
        .filter(|t| !t.trim().is_empty())
        .and_then(|t| TenantDomain::parse(t.trim()).ok());
    let mut answer = "/forgot-password?sent=1".to_owned();
    if let Ok(email) = Email::parse(&email) {
        // SPEC §3: the people of an organisation that requires SSO have no password here
        // (owners keep theirs for break-glass). Said for the whole domain, so it tells
        // nothing about whether this address has an account.
        if let Some(route) = gatehouse_domain::sso::route_email(&pool()?, &email)
            .await?
            .filter(|r| r.enforced)
        {
            answer.push_str(&format!(
                "&sso={}",
                crate::ui::url_encode(&route.tenant_name)
            ));
        }
        // The work happens after the answer, so a real address and an unknown one take
        // the same time to answer (no enumeration by timing, SPEC §3). At most
        // `RESET_WORK` requests run in the background; beyond that (a flood) the request
        // is served before answering, so the flood waits on itself, not on the database.
        static RESET_WORK: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(16);
        let (pool, base) = (pool()?, web_config()?.public_url);
        let work = async move {
            if let Err(e) = gatehouse_domain::login::request_password_reset(
                &pool,
                &ctx,
                &email,
                tenant.as_ref(),
                &base,
            )
            .await
            {
                tracing::warn!(error = %e, "a password reset request failed");
            }
        };
        match RESET_WORK.try_acquire() {
            Ok(permit) => {
                tokio::spawn(async move {
                    work.await;
                    drop(permit);
                });
            }
            Err(_) => work.await,
        }
    }
    leptos_axum::redirect(&answer);
    Ok(())
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let action = ServerAction::<RequestReset>::new();
    let sent = move || query.read().get("sent").is_some();
    view! {
        <PageTitle text="Forgot password" />
        <div class="mx-auto max-w-md rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
            <h1 class="text-2xl font-semibold tracking-tight">"Forgot your password?"</h1>
            <p class="mt-1 text-sm text-slate-600">"Enter your email address. If it belongs to an account, we send a link to choose a new password. The link works for one hour."</p>
            <Show when=sent>
                <div class="mt-4"><Flash message="If that address has an account, a reset link is on its way. Check your inbox." /></div>
            </Show>
            {move || query.read().get("sso").map(|org| view! {
                <p class="mt-4 rounded-md border border-indigo-200 bg-indigo-50 px-3 py-2 text-sm text-indigo-900" data-testid="sso-reset-note">
                    {format!("{org} signs in with single sign-on: your password is managed by your organisation's identity provider, not here. Reset it there, or ask your IT team. (Owners keep a password here for emergencies.)")}
                </p>
            })}
            {move || action.value().get().and_then(Result::err).map(|e| view! { <div class="mt-4"><Flash message=e.message error=true /></div> })}
            <ActionForm action=action attr:class="mt-6 space-y-4">
                <input type="hidden" name="tenant" value=move || query.read().get("tenant").unwrap_or_default() />
                <div>
                    <label for="email" class="block text-sm font-medium">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required class=INPUT />
                </div>
                <button type="submit" class=PRIMARY>"Send reset link"</button>
            </ActionForm>
            <p class="mt-6 border-t border-slate-200 pt-4 text-sm"><a href="/login" class="text-indigo-600 hover:underline">"Back to sign in"</a></p>
        </div>
    }
}

/// Whose password the link would reset and what the new one must be, or why it cannot.
#[server(prefix = "/_rpc", endpoint = "reset_link")]
pub async fn reset_link(token: String) -> Result<(String, Vec<String>), AppError> {
    use crate::auth::ssr::pool;
    let pool = pool()?;
    let (user_id, email) = gatehouse_domain::login::reset_link_user(&pool, token.trim()).await?;
    let rules = gatehouse_domain::passwords::requirements_for_user(&pool, user_id).await?;
    Ok((email, rules))
}

/// The password policy as a hint under a new-password field (CON-SEC-001).
#[component]
pub fn PasswordRules(rules: Vec<String>) -> impl IntoView {
    view! {
        <p id="password-rules" data-testid="password-rules" class="mt-1 text-xs text-slate-500">
            {format!("Use {}.", rules.join(", "))}
        </p>
    }
}

#[server(prefix = "/_rpc", endpoint = "reset_password")]
pub async fn reset_password(
    token: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    use crate::auth::ssr::{pool, request};
    if password != confirm {
        return Err(AppError::invalid("the two passwords are not the same"));
    }
    let (ctx, _) = request().await?;
    gatehouse_domain::login::reset_password(
        &pool()?,
        &ctx,
        token.trim(),
        &secrecy::SecretString::from(password),
    )
    .await?;
    leptos_axum::redirect("/login?reset=1");
    Ok(())
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let link = Resource::new_blocking(token, reset_link);
    let action = ServerAction::<ResetPassword>::new();
    view! {
        <PageTitle text="Choose a new password" />
        <div class="mx-auto max-w-md rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
            <h1 class="text-2xl font-semibold tracking-tight">"Choose a new password"</h1>
            <Suspense fallback=|| view! { <p class="mt-2 text-slate-500">"Loading…"</p> }>
                {move || link.get().map(|l| match l {
                    Err(e) => view! {
                        <div class="mt-4"><Flash message=e.message error=true /></div>
                        <p class="mt-4 text-sm"><a href="/forgot-password" class="text-indigo-600 hover:underline">"Ask for a new link"</a></p>
                    }.into_any(),
                    Ok((email, rules)) => view! {
                        <p class="mt-1 text-sm text-slate-600">{format!("For {email}. This signs you out everywhere.")}</p>
                        {move || action.value().get().and_then(Result::err).map(|e| view! { <div class="mt-4" data-testid="reset-error"><Flash message=e.message error=true /></div> })}
                        <ActionForm action=action attr:class="mt-6 space-y-4">
                            <input type="hidden" name="token" value=token />
                            <input type="text" name="username" autocomplete="username" value=email.clone() class="hidden" aria-hidden="true" tabindex="-1" />
                            <div>
                                <label for="password" class="block text-sm font-medium">"New password"</label>
                                <input id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="password-rules" class=INPUT />
                                <PasswordRules rules=rules.clone() />
                            </div>
                            <div>
                                <label for="confirm" class="block text-sm font-medium">"New password again"</label>
                                <input id="confirm" name="confirm" type="password" autocomplete="new-password" required class=INPUT />
                            </div>
                            <button type="submit" class=PRIMARY>"Set new password"</button>
                        </ActionForm>
                    }.into_any(),
                })}
            </Suspense>
        </div>
    }
}
