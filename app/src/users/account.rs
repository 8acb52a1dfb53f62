//! `/account` (SPEC §3): every signed-in person's own profile, password, second factors
//! (authenticator apps, passkeys, recovery codes) and sessions (FR-AUTH-005, FR-AUTH-006,
//! NFR-SEC-003). Each server function acts on the caller's own account only.

use crate::error::AppError;
use crate::layout::{Flash, PageHeader, PageTitle};
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub current: bool,
    pub device: String,
    pub ip: String,
    /// The country of the address, or "—".
    pub location: String,
    pub signed_in: String,
    pub last_seen: String,
    pub methods: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorRow {
    pub id: String,
    pub kind: String,
    pub label: String,
    pub added: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub organisation: Option<String>,
    pub last_login: Option<String>,
    pub sessions: Vec<SessionRow>,
    pub factors: Vec<FactorRow>,
    pub recovery_codes_left: i64,
    /// Whether the person belongs to an organisation whose admins can erase them.
    pub in_tenant: bool,
    pub erasure: Option<ErasureState>,
}

/// The person's latest erasure request (CON-COMP-001).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureState {
    pub status: String,
    pub requested: String,
    pub reason: Option<String>,
}

/// A short name for a browser from its user agent.
#[cfg(feature = "ssr")]
fn device_name(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else {
        return "Unknown device".into();
    };
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/", "curl/", "node"]
        .iter()
        .find(|b| ua.contains(*b))
        .map(|b| match *b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            "Safari/" => "Safari",
            "curl/" => "curl",
            _ => "Script",
        })
        .unwrap_or("Browser");
    let os = [
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_owned(),
    }
}

/// How a session was proven, in words (`sessions.auth_methods`).
#[cfg(feature = "ssr")]
fn method_label(method: &str, provider: Option<&str>) -> String {
    match (method, provider) {
        ("pwd", _) => "Password".into(),
        ("sso", Some(host)) => format!("Single sign-on ({host})"),
        ("sso", None) => "Single sign-on".into(),
        ("idp_mfa", _) => "provider's second factor".into(),
        ("otp", _) => "Authenticator app".into(),
        ("hwk", _) => "Passkey".into(),
        ("rec", _) => "Recovery code".into(),
        (other, _) => other.into(),
    }
}

#[server(prefix = "/_rpc", endpoint = "account_overview")]
pub async fn account_overview() -> Result<Overview, AppError> {
    use crate::auth::ssr::{page_session, pool};
    use crate::ui::ssr::when;
    // This is the page's one resource, so it also guards the page: without a session the
    // browser is sent to sign in. (A second resource nested under a guard's Suspense
    // could hydrate against the wrong serialized value.)
    let me = page_session("/account").await?;
    let pool = pool()?;
    let profile = gatehouse_domain::users::profile(&pool, me.user_id).await?;
    let sessions = gatehouse_domain::users::list_sessions(&pool, me.user_id).await?;
    let factors = gatehouse_domain::mfa::mfa_factors(&pool, me.user_id).await?;
    let erasure =
        gatehouse_domain::users::own_erasure_request(&pool, &crate::ui::ssr::actor_of(&me))
            .await?
            .map(|r| ErasureState {
                status: r.status,
                requested: when(r.requested_at),
                reason: r.reason,
            });
    // Sessions started through the organisation's provider name it.
    let provider = match me.tenant_id {
        Some(t)
            if sessions
                .iter()
                .any(|s| s.auth_methods.iter().any(|m| m == "sso")) =>
        {
            gatehouse_domain::sso::provider_host(&pool, t).await?
        }
        _ => None,
    };
    let mut rows: Vec<FactorRow> = factors
        .totp
        .iter()
        .map(|t| FactorRow {
            id: t.id.to_string(),
            kind: "totp".into(),
            label: t.label.clone(),
            added: when(t.created_at),
        })
        .collect();
    rows.extend(factors.passkeys.iter().map(|p| FactorRow {
        id: p.id.to_string(),
        kind: "passkey".into(),
        label: p.name.clone(),
        added: when(p.created_at),
    }));
    Ok(Overview {
        email: profile.email,
        name: profile.name,
        role: profile.role,
        organisation: profile.tenant_name,
        last_login: profile.last_login_at.map(when),
        sessions: sessions
            .into_iter()
            .map(|s| SessionRow {
                id: s.id.to_string(),
                current: s.id == me.session_id,
                device: device_name(s.user_agent.as_deref()),
                location: crate::ui::ssr::place(s.ip.as_deref()),
                ip: s.ip.unwrap_or_else(|| "—".into()),
                signed_in: when(s.created_at),
                last_seen: when(s.last_seen_at),
                methods: s
                    .auth_methods
                    .iter()
                    .map(|m| method_label(m, provider.as_deref()))
                    .collect::<Vec<_>>()
                    .join(" + "),
            })
            .collect(),
        factors: rows,
        recovery_codes_left: factors.recovery_codes_left,
        in_tenant: me.tenant_id.is_some(),
        erasure,
    })
}

/// Asks the person's organisation to erase them (CON-COMP-001); an owner or admin decides.
#[server(prefix = "/_rpc", endpoint = "request_my_erasure")]
pub async fn request_my_erasure() -> Result<String, AppError> {
    use crate::auth::ssr::{pool, request, signed_in};
    let me = signed_in().await?;
    let (ctx, _) = request().await?;
    gatehouse_domain::users::request_erasure(&pool()?, &ctx, &crate::ui::ssr::actor_of(&me))
        .await?;
    Ok("Your request is sent: your organisation's owners and admins will decide.".into())
}

#[server(prefix = "/_rpc", endpoint = "update_profile")]
pub async fn update_profile(name: String) -> Result<String, AppError> {
    use crate::auth::ssr::{pool, request, signed_in};
    use gatehouse_domain::types::DisplayName;
    let me = signed_in().await?;
    let (ctx, _) = request().await?;
    let name = match name.trim() {
        "" => None,
        n => Some(DisplayName::parse(n)?),
    };
    gatehouse_domain::users::update_name(&pool()?, &ctx, me.user_id, name).await?;
    Ok("Your name is saved.".into())
}

#[server(prefix = "/_rpc", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<String, AppError> {
    use crate::auth::ssr::{pool, request, signed_in};
    use secrecy::SecretString;
    let me = signed_in().await?;
    if new_password != confirm_password {
        return Err(AppError::invalid("the two new passwords are not the same"));
    }
    let (ctx, _) = request().await?;
    let ended = gatehouse_domain::users::change_password(
        &pool()?,
        &ctx,
        me.user_id,
        me.session_id,
        &SecretString::from(current_password),
        &SecretString::from(new_password),
    )
    .await?;
    Ok(match ended {
        0 => "Your password is changed.".into(),
        1 => "Your password is changed. Your other session was signed out.".into(),
        n => format!("Your password is changed. Your {n} other sessions were signed out."),
    })
}

#[cfg(feature = "ssr")]
fn parse_id(raw: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(raw.trim())
        .map_err(|_| AppError::from(gatehouse_domain::DomainError::NotFound("session or factor")))
}

#[server(prefix = "/_rpc", endpoint = "revoke_my_session")]
pub async fn revoke_my_session(session_id: String) -> Result<String, AppError> {
    use crate::auth::ssr::{pool, request, signed_in};
    let me = signed_in().await?;
    let (ctx, _) = request().await?;
    gatehouse_domain::users::revoke_own_session(&pool()?, &ctx, me.user_id, parse_id(&session_id)?)
        .await?;
    Ok("The session is signed out.".into())
}

#[server(prefix = "/_rpc", endpoint = "revoke_other_sessions")]
pub async fn revoke_other_sessions() -> Result<String, AppError> {
    use crate::auth::ssr::{pool, request, signed_in};
    let me = signed_in().await?;
    let (ctx, _) = request().await?;
    let n =
        gatehouse_domain::users::revoke_other_sessions(&pool()?, &ctx, me.user_id, me.session_id)
            .await?;
    Ok(format!("Signed out everywhere else ({n} sessions)."))
}

#[server(prefix = "/_rpc", endpoint = "remove_factor")]
pub async fn remove_factor(kind: String, id: String) -> Result<String, AppError> {
    use crate::auth::ssr::{pool, request, signed_in};
    let me = signed_in().await?;
    let (ctx, _) = request().await?;
    let id = parse_id(&id)?;
    let pool = pool()?;
    match kind.as_str() {
        "totp" => {
            gatehouse_domain::mfa::remove_totp(&pool, &ctx, me.user_id, me.user_id, id).await?
        }
        "passkey" => gatehouse_domain::mfa::remove_passkey(&pool, &ctx, me.user_id, id).await?,
        _ => {
            return Err(AppError::from(gatehouse_domain::DomainError::NotFound(
                "session or factor",
            )))
        }
    }
    Ok("The second factor is removed.".into())
}

#[server(prefix = "/_rpc", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes() -> Result<Vec<String>, AppError> {
    use crate::auth::ssr::{pool, request, signed_in};
    use secrecy::ExposeSecret;
    let me = signed_in().await?;
    let (ctx, _) = request().await?;
    let codes =
        gatehouse_domain::mfa::regenerate_recovery_codes(&pool()?, &ctx, me.user_id).await?;
    Ok(codes.iter().map(|c| c.expose_secret().to_owned()).collect())
}

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <PageTitle text="Your account" />
        <script src="/passkeys.js" defer></script>
        <AccountBody />
    }
}

#[component]
fn AccountBody() -> impl IntoView {
    let query = use_query_map();
    let profile = ServerAction::<UpdateProfile>::new();
    let password = ServerAction::<ChangePassword>::new();
    let revoke = ServerAction::<RevokeMySession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let remove = ServerAction::<RemoveFactor>::new();
    let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
    let erase = ServerAction::<RequestMyErasure>::new();
    let overview = Resource::new_blocking(
        move || {
            (
                erase.version().get(),
                profile.version().get(),
                revoke.version().get(),
                revoke_others.version().get(),
                remove.version().get(),
                regenerate.version().get(),
            )
        },
        |_| account_overview(),
    );
    let added = move || {
        let q = query.read();
        if q.get("mfa").is_some() {
            Some("Your authenticator app is added.")
        } else if q.get("passkey").is_some() {
            Some("Your passkey is added.")
        } else {
            None
        }
    };
    // The outcome of an action, as a flash line where the action is.
    let flash =
        |value: MappedSignal<Option<Result<String, AppError>>>| move || value.get().map(flash_of);
    view! {
        <PageHeader title="Your account" subtitle="Your profile, password, two-step verification and sessions." />
        {move || added().map(|m| view! { <div class="mb-4"><Flash message=m /></div> })}
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || overview.get().map(|o| match o {
                Err(e) => view! { <div data-testid="page-refused"><Flash message=e.message error=true /></div> }.into_any(),
                Ok(o) => view! {
                    <div class="grid gap-6 lg:grid-cols-2">
                        <Card heading_id="profile-h" title="Profile">
                            <dl class="mt-4 grid grid-cols-3 gap-2 text-sm">
                                <dt class="text-slate-500">"Email"</dt><dd class="col-span-2 break-words" data-testid="account-email">{o.email.clone()}</dd>
                                <dt class="text-slate-500">"Role"</dt><dd class="col-span-2">{o.role.clone()}</dd>
                                <dt class="text-slate-500">"Organisation"</dt><dd class="col-span-2">{o.organisation.clone().unwrap_or_else(|| "Platform".into())}</dd>
                                <dt class="text-slate-500">"Last sign-in"</dt><dd class="col-span-2">{o.last_login.clone().unwrap_or_else(|| "—".into())}</dd>
                            </dl>
                            <ActionForm action=profile attr:class="mt-4 flex items-end gap-2">
                                <div class="flex-1">
                                    <label for="name" class="block text-sm font-medium">"Name"</label>
                                    <input id="name" name="name" maxlength="200" value=o.name.clone().unwrap_or_default() class=INPUT />
                                </div>
                                <button type="submit" class=BUTTON>"Save"</button>
                            </ActionForm>
                            <div class="mt-2">{flash(profile.value())}</div>
                        </Card>

                        <Card heading_id="password-h" title="Password">
                            <p class="mt-1 text-sm text-slate-600">"Changing it signs you out everywhere else."</p>
                            <ActionForm action=password attr:class="mt-4 space-y-3">
                                <div>
                                    <label for="current_password" class="block text-sm font-medium">"Current password"</label>
                                    <input id="current_password" name="current_password" type="password" autocomplete="current-password" required class=INPUT />
                                </div>
                                <div>
                                    <label for="new_password" class="block text-sm font-medium">"New password"</label>
                                    <input id="new_password" name="new_password" type="password" autocomplete="new-password" required class=INPUT />
                                </div>
                                <div>
                                    <label for="confirm_password" class="block text-sm font-medium">"New password again"</label>
                                    <input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required class=INPUT />
                                </div>
                                <button type="submit" class=BUTTON>"Change password"</button>
                            </ActionForm>
                            <div class="mt-2" data-testid="password-outcome">{flash(password.value())}</div>
                        </Card>

                        <section class=format!("{CARD} min-w-0 lg:col-span-2") aria-labelledby="mfa-h">
                            <div class="flex flex-wrap items-center justify-between gap-2">
                                <h2 id="mfa-h" class="text-lg font-semibold">"Two-step verification"</h2>
                                <div class="flex gap-2">
                                    <a href="/account/mfa/totp" class=SECONDARY data-testid="add-totp">"Add authenticator app"</a>
                                    <button type="button" data-passkey="register" class=SECONDARY>"Add passkey"</button>
                                </div>
                            </div>
                            <p data-passkey-error role="alert" class="mt-2 text-sm text-red-700"></p>
                            {flash(remove.value())}
                            <FactorsTable factors=o.factors.clone() remove />
                            {(!o.factors.is_empty()).then(|| view! {
                                <div class="mt-4 flex flex-wrap items-center justify-between gap-2 border-t border-slate-100 pt-4">
                                    <p class="text-sm text-slate-600" data-testid="recovery-left">{format!("Recovery codes left: {}", o.recovery_codes_left)}</p>
                                    <ActionForm action=regenerate>
                                        <ConfirmSubmit label="New recovery codes" confirm="Your old codes stop working.".to_owned() testid="regenerate-codes" />
                                    </ActionForm>
                                </div>
                            })}
                            {move || regenerate.value().get().map(|r| match r {
                                Ok(codes) => view! { <crate::login::mfa::RecoveryCodes codes next="/account".to_owned() /> }.into_any(),
                                Err(e) => view! { <Flash message=e.message error=true /> }.into_any(),
                            })}
                        </section>

                        <section class=format!("{CARD} min-w-0 lg:col-span-2") aria-labelledby="sessions-h">
                            <div class="flex flex-wrap items-center justify-between gap-2">
                                <h2 id="sessions-h" class="text-lg font-semibold">"Sessions"</h2>
                                <ActionForm action=revoke_others>
                                    <ConfirmSubmit label="Sign out everywhere else" confirm="End all your other sessions?".to_owned() testid="revoke-others" />
                                </ActionForm>
                            </div>
                            {flash(revoke.value())}
                            {flash(revoke_others.value())}
                            <SessionsTable sessions=o.sessions.clone() revoke />
                        </section>

                        <section class=format!("{CARD} min-w-0 lg:col-span-2") aria-labelledby="data-h" data-testid="your-data">
                            <h2 id="data-h" class="text-lg font-semibold">"Your data"</h2>
                            <p class="mt-1 text-sm text-slate-600">"Everything we hold about you — profile, sessions, second factors, applications and the audit entries about you — as one JSON file."</p>
                            <div class="mt-4 flex flex-wrap items-center gap-3">
                                <a href="/account/data" download class=SECONDARY rel="external" data-testid="download-data">"Download your data"</a>
                            </div>
                            {flash(erase.value())}
                            <ErasureSection in_tenant=o.in_tenant erasure=o.erasure.clone() erase />
                        </section>
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

/// Where the person stands on erasure, and the button to ask for it.
#[component]
fn ErasureSection(
    in_tenant: bool,
    erasure: Option<ErasureState>,
    erase: ServerAction<RequestMyErasure>,
) -> impl IntoView {
    if !in_tenant {
        return view! {
            <p class="mt-4 text-sm text-slate-600">"To be erased, ask another operator: platform accounts are erased by the platform's operators."</p>
        }
        .into_any();
    }
    let state = match &erasure {
        Some(e) if e.status == "pending" => Some(view! {
            <p class="mt-4 text-sm text-slate-700" data-testid="erasure-pending">
                {format!("You asked to be erased on {}. Your organisation's owners and admins will decide; you can keep using your account meanwhile.", e.requested)}
            </p>
        }.into_any()),
        Some(e) if e.status == "declined" => Some(view! {
            <p class="mt-4 text-sm text-slate-700" data-testid="erasure-declined">
                {format!("Your request of {} was declined: {}", e.requested, e.reason.clone().unwrap_or_default())}
            </p>
        }.into_any()),
        _ => None,
    };
    let pending = erasure.as_ref().is_some_and(|e| e.status == "pending");
    view! {
        <div class="mt-6 border-t border-slate-100 pt-4">
            <h3 class="text-sm font-semibold">"Erase your account"</h3>
            <p class="mt-1 text-sm text-slate-600">"Your personal data is removed from every record, including the audit trail's entries about you, and cannot be recovered. Your organisation's owners or admins approve it."</p>
            {state}
            {(!pending).then(|| view! {
                <ActionForm action=erase attr:class="mt-3">
                    <ConfirmSubmit label="Ask to be erased" testid="request-erasure" danger=true confirm="Ask your organisation to erase your account and personal data? Once approved it cannot be undone.".to_owned() />
                </ActionForm>
            })}
        </div>
    }
    .into_any()
}

/// The second factors, each with its remove button.
#[component]
fn FactorsTable(factors: Vec<FactorRow>, remove: ServerAction<RemoveFactor>) -> impl IntoView {
    let mut head = columns(&["Factor", "Type", "Added"]);
    head.push(Column::actions());
    let rows: Vec<AnyView> = factors
        .into_iter()
        .map(|f| view! {
            <tr data-testid="factor-row">
                <td class=format!("{TD} font-medium")>{f.label}</td>
                <td class=TD>{if f.kind == "totp" { "Authenticator app" } else { "Passkey" }}</td>
                <td class=format!("{TD_NOWRAP} text-slate-600")>{f.added}</td>
                <td class=format!("{TD} text-right")>
                    <ActionForm action=remove>
                        <input type="hidden" name="kind" value=f.kind />
                        <input type="hidden" name="id" value=f.id />
                        <ConfirmSubmit label="Remove" confirm="Remove this factor?".to_owned() testid="remove-factor" />
                    </ActionForm>
                </td>
            </tr>
        }.into_any())
        .collect();
    view! {
        <DataTable columns=head rows
            empty=|| view! { <EmptyNote testid="no-factors" text="No second factor yet. Add an authenticator app or a passkey to protect your account." /> } />
    }
}

/// The signed-in person's sessions; every one but this browser's can be ended.
#[component]
fn SessionsTable(
    sessions: Vec<SessionRow>,
    revoke: ServerAction<RevokeMySession>,
) -> impl IntoView {
    let mut head = columns(&[
        "Device",
        "IP address",
        "Location",
        "Signed in",
        "Last seen",
        "Method",
    ]);
    head.push(Column::actions());
    let rows: Vec<AnyView> = sessions
        .into_iter()
        .map(|s| {
            let id = s.id;
            view! {
                <tr data-testid="session-row">
                    <td class=format!("{TD} font-medium")>
                        {s.device}
                        {s.current.then(|| view! { <span class="ml-2 whitespace-nowrap rounded bg-emerald-100 px-2 py-0.5 text-xs text-emerald-800">"This browser"</span> })}
                    </td>
                    <td class=format!("{TD_NOWRAP} font-mono text-xs")>{s.ip}</td>
                    <td class=format!("{TD_NOWRAP} text-slate-600") data-testid="session-location">{s.location}</td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{s.signed_in}</td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{s.last_seen}</td>
                    <td class=format!("{TD} text-slate-600")>{s.methods}</td>
                    <td class=format!("{TD} text-right")>
                        {(!s.current).then(move || view! {
                            <ActionForm action=revoke>
                                <input type="hidden" name="session_id" value=id />
                                <ConfirmSubmit label="Sign out" confirm="End this session?".to_owned() testid="revoke-session" />
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
            .into_any()
        })
        .collect();
    view! { <DataTable columns=head rows empty=|| () /> }
}

/// `/account/mfa/totp`: add an authenticator app.
#[component]
pub fn AddTotpPage() -> impl IntoView {
    view! {
        <PageTitle text="Add an authenticator app" />
        <div class="mx-auto max-w-lg rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
                <h1 class="text-2xl font-semibold tracking-tight">"Add an authenticator app"</h1>
                <p class="mt-1 text-sm text-slate-600"><a href="/account" class="text-indigo-600 hover:underline">"Back to your account"</a></p>
                <div class="mt-6"><crate::login::mfa::TotpEnrolment /></div>
            </div>
    }
}
