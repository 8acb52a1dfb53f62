//! `/invite/{token}` (FR-TENANT-001, UC-TENANT-INVITE): the invited person sets a name and
//! a password under the tenant's policy, then continues into sign-in (and MFA enrolment
//! when the tenant requires it). Unknown, expired and used links look the same.

use crate::error::AppError;
use crate::layout::{Flash, PageTitle};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::{INPUT, PRIMARY};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub email: String,
    pub role: String,
    pub organisation: String,
    /// What the password must be (CON-SEC-001), for the hint under the field.
    pub requirements: Vec<String>,
}

#[server(prefix = "/_rpc", endpoint = "invitation")]
pub async fn invitation(token: String) -> Result<InvitationView, AppError> {
    use crate::auth::ssr::pool;
    let pool = pool()?;
    let i = gatehouse_domain::users::invitation_by_token(&pool, token.trim()).await?;
    Ok(InvitationView {
        requirements: gatehouse_domain::passwords::requirements_for_user(&pool, i.user_id).await?,
        email: i.email,
        role: i.role,
        organisation: i.tenant_name,
    })
}

/// Accepts the invitation and signs the person in (second factor or its enrolment next,
/// when their tenant requires it).
#[server(prefix = "/_rpc", endpoint = "accept_invitation")]
pub async fn accept_invitation(
    token: String,
    name: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    use crate::auth::landing_path;
    use crate::auth::ssr::{pool, request, session_token, set_session_cookie, web_config};
    use gatehouse_domain::login::{begin_sign_in, NextStep, SignInSignals};
    use gatehouse_domain::types::DisplayName;
    use secrecy::ExposeSecret;
    if password != confirm {
        return Err(AppError::invalid("the two passwords are not the same"));
    }
    let name = match name.trim() {
        "" => None,
        n => Some(DisplayName::parse(n)?),
    };
    let (ctx, headers) = request().await?;
    let pool = pool()?;
    let user_id = gatehouse_domain::users::accept_invitation(
        &pool,
        &ctx,
        token.trim(),
        name,
        &secrecy::SecretString::from(password),
    )
    .await?;
    let previous = session_token(&headers);
    let device = crate::login::mfa::device_token(&headers);
    let started = begin_sign_in(
        &pool,
        &ctx,
        user_id,
        "pwd",
        SignInSignals {
            device_token: device.as_deref(),
            recent_failures: 0,
            previous_token: previous.as_deref(),
            ..Default::default()
        },
        &format!("{}/account", web_config()?.public_url),
    )
    .await?;
    let (lifetime, target) = match started.next {
        NextStep::Done => (
            gatehouse_domain::sessions::ABSOLUTE_LIFETIME,
            landing_path(started.role.as_str()).to_owned(),
        ),
        NextStep::SecondFactor => (
            gatehouse_domain::sessions::PENDING_LIFETIME,
            "/login/mfa".to_owned(),
        ),
        NextStep::EnrolSecondFactor => (
            gatehouse_domain::sessions::PENDING_LIFETIME,
            "/login/mfa/setup".to_owned(),
        ),
    };
    set_session_cookie(
        started.issued.token.expose_secret(),
        lifetime.whole_seconds(),
    );
    if let Some(device) = &started.device {
        crate::auth::ssr::set_device_cookie(device.expose_secret());
    }
    leptos_axum::redirect(&target);
    Ok(())
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let found = Resource::new_blocking(token, invitation);
    let action = ServerAction::<AcceptInvitation>::new();
    view! {
        <PageTitle text="Accept your invitation" />
        <div class="mx-auto max-w-md rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || found.get().map(|f| match f {
                    Err(e) => view! {
                        <h1 class="text-2xl font-semibold tracking-tight">"Invitation"</h1>
                        <div class="mt-4" data-testid="invite-gone"><Flash message=e.message error=true /></div>
                    }.into_any(),
                    Ok(i) => view! {
                        <h1 class="text-2xl font-semibold tracking-tight">{format!("Join {}", i.organisation)}</h1>
                        <p class="mt-1 text-sm text-slate-600">{format!("You are invited as {} with {}. Choose your name and a password.", i.role, i.email)}</p>
                        {move || action.value().get().and_then(Result::err).map(|e| view! { <div class="mt-4" data-testid="invite-error"><Flash message=e.message error=true /></div> })}
                        <ActionForm action=action attr:class="mt-6 space-y-4">
                            <input type="hidden" name="token" value=token />
                            <input type="text" name="username" autocomplete="username" value=i.email.clone() class="hidden" aria-hidden="true" tabindex="-1" />
                            <div>
                                <label for="name" class="block text-sm font-medium">"Your name"</label>
                                <input id="name" name="name" maxlength="200" autocomplete="name" class=INPUT />
                            </div>
                            <div>
                                <label for="password" class="block text-sm font-medium">"Password"</label>
                                <input id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="password-rules" class=INPUT />
                                <crate::login::password_reset::PasswordRules rules=i.requirements.clone() />
                            </div>
                            <div>
                                <label for="confirm" class="block text-sm font-medium">"Password again"</label>
                                <input id="confirm" name="confirm" type="password" autocomplete="new-password" required class=INPUT />
                            </div>
                            <button type="submit" class=PRIMARY>"Accept and sign in"</button>
                        </ActionForm>
                    }.into_any(),
                })}
            </Suspense>
        </div>
    }
}
