//! `/admin/sso` (FR-AUTH-003, UC-TENANT-SSO; SPEC §3): the owner connects the
//! organisation's OpenID provider in steps — discovery, the redirect URI to register, the
//! client, a test sign-in, activation — then chooses how people are created and which
//! roles their groups give, claims email domains (proven by DNS), and may require SSO.

pub mod operator;

use crate::error::AppError;
use crate::layout::PageTitle;
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub key_count: usize,
    pub iss_parameter: bool,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestView {
    pub at: String,
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub groups: Vec<String>,
    pub amr: Vec<String>,
    pub mapped_role: String,
    pub claims: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionView {
    pub id: String,
    pub found: Found,
    pub redirect_uri: String,
    pub client_id: String,
    pub has_secret: bool,
    pub status: String,
    pub tested: bool,
    pub last_test: Option<TestView>,
    pub jit_enabled: bool,
    pub default_role: String,
    pub groups_claim: String,
    /// `group = role` lines.
    pub group_roles: String,
    pub trust_idp_mfa: bool,
    pub enforced: bool,
    pub last_login_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainView {
    pub domain: String,
    pub state: String,
    pub record_name: String,
    pub record_value: String,
    pub method: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsoPageData {
    pub connection: Option<ConnectionView>,
    pub domains: Vec<DomainView>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::*;
    use gatehouse_domain::sso::{Connection, DomainClaim};

    pub fn view_of(c: Connection, public_url: &str) -> ConnectionView {
        let d = &c.discovered;
        ConnectionView {
            id: c.id.to_string(),
            redirect_uri: gatehouse_domain::sso::redirect_uri(public_url, c.id),
            found: Found {
                issuer: d.issuer.clone(),
                authorization_endpoint: d.authorization_endpoint.clone(),
                token_endpoint: d.token_endpoint.clone(),
                jwks_uri: d.jwks_uri.clone(),
                key_count: d.key_count,
                iss_parameter: d.iss_parameter_supported,
                scopes: d.scopes_supported.clone(),
            },
            client_id: c.client_id.unwrap_or_default(),
            has_secret: c.has_secret,
            status: c.status.as_str().to_owned(),
            tested: c.tested_at.is_some(),
            last_test: c.last_test.map(|t| TestView {
                at: crate::ui::ssr::when(t.at),
                subject: t.subject,
                email: t.email.unwrap_or_default(),
                email_verified: t.email_verified,
                groups: t.groups,
                amr: t.amr,
                mapped_role: t.mapped_role.as_str().to_owned(),
                claims: leptos::serde_json::to_string_pretty(&t.claims).unwrap_or_default(),
            }),
            jit_enabled: c.jit_enabled,
            default_role: c.mapping.default_role.as_str().to_owned(),
            groups_claim: c.mapping.groups_claim.clone(),
            group_roles: c
                .mapping
                .group_roles
                .iter()
                .map(|(g, r)| format!("{g} = {}", r.as_str()))
                .collect::<Vec<_>>()
                .join("\n"),
            trust_idp_mfa: c.trust_idp_mfa,
            enforced: c.enforced,
            last_login_at: c.last_login_at.map(crate::ui::ssr::when),
        }
    }

    pub fn domain_view(d: DomainClaim) -> DomainView {
        DomainView {
            domain: d.domain,
            state: d.state.as_str().to_owned(),
            record_name: d.record_name,
            record_value: d.record_value,
            method: d.verified_method,
            last_error: d.last_check_error,
        }
    }

    /// The owner of the signed-in person's tenant (the page and every action).
    pub async fn owner(
        path: &str,
    ) -> Result<(gatehouse_domain::permissions::Actor, uuid::Uuid), AppError> {
        use crate::ui::ssr::{actor_of, console_session, tenant_of};
        let actor = actor_of(&console_session("admin", path).await?);
        let tenant = tenant_of(&actor)?;
        actor.require(gatehouse_domain::permissions::Permission::TenantManageSso)?;
        Ok((actor, tenant))
    }
}

#[server(prefix = "/_rpc", endpoint = "sso_page")]
pub async fn sso_page() -> Result<SsoPageData, AppError> {
    use crate::auth::ssr::services;
    let (actor, tenant) = ssr::owner("/admin/sso").await?;
    let services = services()?;
    let connection = gatehouse_domain::sso::get_connection(services.pool(), &actor, tenant).await?;
    let domains = gatehouse_domain::sso::list_domains(services.pool(), &actor, tenant).await?;
    Ok(SsoPageData {
        connection: connection.map(|c| ssr::view_of(c, &services.web().public_url)),
        domains: domains.into_iter().map(ssr::domain_view).collect(),
    })
}

#[server(prefix = "/_rpc", endpoint = "discover_sso")]
pub async fn discover_sso(issuer: String) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{request, services};
    let (actor, tenant) = ssr::owner("/admin/sso").await?;
    let (ctx, _) = request().await?;
    let services = services()?;
    let done = gatehouse_domain::sso::discover_connection(
        services.pool(),
        &ctx,
        &actor,
        services.sso(),
        tenant,
        &issuer,
    )
    .await;
    match services.apply(done).await {
        Ok(c) => Ok(Submitted::Done(format!(
            "Discovery succeeded: {} publishes {} signing key(s).",
            c.issuer, c.discovered.key_count
        ))),
        Err(e) => crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    }
}

#[server(prefix = "/_rpc", endpoint = "save_sso_client")]
pub async fn save_sso_client(
    client_id: String,
    client_secret: String,
) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{request, services};
    let (actor, tenant) = ssr::owner("/admin/sso").await?;
    let (ctx, _) = request().await?;
    let services = services()?;
    let secret = (!client_secret.is_empty()).then(|| secrecy::SecretString::from(client_secret));
    let done = gatehouse_domain::sso::set_client(
        services.pool(),
        &ctx,
        &actor,
        services.keys(),
        tenant,
        &client_id,
        secret,
    )
    .await;
    match services.apply(done).await {
        Ok(_) => Ok(Submitted::Done(
            "The client is saved. Run a test sign-in before activating.".into(),
        )),
        Err(e) => crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    }
}

#[server(prefix = "/_rpc", endpoint = "set_sso_status")]
pub async fn set_sso_status(status: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    let (actor, tenant) = ssr::owner("/admin/sso").await?;
    let (ctx, _) = request().await?;
    let services = services()?;
    let pool = services.pool();
    match status.as_str() {
        "active" | "inactive" => {
            let active = status == "active";
            services
                .apply(
                    gatehouse_domain::sso::set_connection_active(
                        pool, &ctx, &actor, tenant, active,
                    )
                    .await,
                )
                .await?;
            Ok(if active {
                "Single sign-on is active: people from your verified domains are sent to your provider.".into()
            } else {
                "Single sign-on is off: people sign in with their passwords.".into()
            })
        }
        "deleted" => {
            services
                .apply(gatehouse_domain::sso::delete_connection(pool, &ctx, &actor, tenant).await)
                .await?;
            Ok("The connection is deleted.".into())
        }
        "required" | "optional" => {
            let required = status == "required";
            services
                .apply(
                    gatehouse_domain::sso::set_sso_enforced(pool, &ctx, &actor, tenant, required)
                        .await,
                )
                .await?;
            Ok(if required {
                "SSO is required: passwords and passkeys are off for everyone but owners.".into()
            } else {
                "SSO is optional again: people may also sign in with their passwords.".into()
            })
        }
        _ => Err(AppError::with_status(
            http::StatusCode::BAD_REQUEST,
            "Unknown action.",
        )),
    }
}

#[server(prefix = "/_rpc", endpoint = "save_sso_people")]
pub async fn save_sso_people(
    #[server(default)] jit_enabled: Option<String>,
    default_role: String,
    groups_claim: String,
    group_roles: String,
    #[server(default)] trust_idp_mfa: Option<String>,
) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{request, services};
    use crate::ui::ssr::ticked;
    let (actor, tenant) = ssr::owner("/admin/sso").await?;
    let (ctx, _) = request().await?;
    let mut problems = Vec::new();
    let mut mapping = std::collections::BTreeMap::new();
    for (n, line) in group_roles.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.rsplit_once('=') {
            Some((group, role)) if !group.trim().is_empty() => {
                mapping.insert(group.trim().to_owned(), role.trim().to_owned());
            }
            _ => problems.push(Problem {
                field: "group_roles".into(),
                message: format!("line {}: write `group = admin` or `group = user`", n + 1),
            }),
        }
    }
    if !problems.is_empty() {
        return Ok(Submitted::Refused(problems));
    }
    let change = gatehouse_domain::sso::SsoSettingsChange {
        jit_enabled: Some(ticked(&jit_enabled)),
        default_role: Some(default_role),
        groups_claim: Some(groups_claim),
        group_roles: Some(mapping),
        trust_idp_mfa: Some(ticked(&trust_idp_mfa)),
    };
    let services = services()?;
    let done =
        gatehouse_domain::sso::update_sso_settings(services.pool(), &ctx, &actor, tenant, change)
            .await;
    match services.apply(done).await {
        Ok(_) => Ok(Submitted::Done(
            "Saved: the next SSO sign-in follows these rules.".into(),
        )),
        Err(e) => crate::ui::ssr::form_refusal(e).map(|mut p| {
            for problem in p.iter_mut().filter(|p| p.field.starts_with("group_roles")) {
                problem.message = format!(
                    "{}: {}",
                    problem.field.trim_start_matches("group_roles."),
                    problem.message
                );
                problem.field = "group_roles".into();
            }
            Submitted::Refused(p)
        }),
    }
}

#[server(prefix = "/_rpc", endpoint = "claim_sso_domain")]
pub async fn claim_sso_domain(domain: String) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{request, services};
    let (actor, tenant) = ssr::owner("/admin/sso").await?;
    let (ctx, _) = request().await?;
    let services = services()?;
    let done =
        gatehouse_domain::sso::claim_domain(services.pool(), &ctx, &actor, tenant, &domain).await;
    match services.apply(done).await {
        Ok(c) => Ok(Submitted::Done(format!(
            "Add the TXT record for {} at your DNS provider, then check it.",
            c.domain
        ))),
        Err(e) => crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    }
}

#[server(prefix = "/_rpc", endpoint = "sso_domain_action")]
pub async fn sso_domain_action(domain: String, action: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    let (actor, tenant) = ssr::owner("/admin/sso").await?;
    let (ctx, _) = request().await?;
    let services = services()?;
    let pool = services.pool();
    if action == "remove" {
        services
            .apply(gatehouse_domain::sso::remove_domain(pool, &ctx, &actor, tenant, &domain).await)
            .await?;
        return Ok(format!("{domain} is removed."));
    }
    let claim = services
        .apply(
            gatehouse_domain::sso::verify_domain(
                pool,
                &ctx,
                &actor,
                services.sso(),
                tenant,
                &domain,
            )
            .await,
        )
        .await?;
    match claim.last_check_error {
        None => Ok(format!("{domain} is verified.")),
        Some(why) => Err(AppError::with_status(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            format!("{domain} is not verified yet: {why}."),
        )),
    }
}

/// The sentence for a test sign-in's refusal code.
fn test_error(code: &str) -> String {
    let why = match code {
        "idp_error" => "the provider refused the sign-in (for example, access was denied)",
        "bad_state" => "the sign-in expired or was started in another browser",
        "iss_mismatch" | "iss_missing" => "the answer did not come from the configured issuer",
        "token_exchange" => {
            "the provider refused the code exchange: check the client id and secret"
        }
        "idp_unreachable" => "the provider's token endpoint could not be reached",
        "unknown_key" | "bad_signature" => {
            "the ID token's signature did not verify with the provider's keys"
        }
        "bad_nonce" => "the ID token belongs to another sign-in (nonce)",
        "bad_audience" => "the ID token was issued for another client",
        "token_expired" => "the ID token had expired",
        "no_client" => "enter the client id and secret first",
        _ => "the sign-in did not complete",
    };
    format!("The test sign-in failed: {why}.")
}

// --- the browser side ---------------------------------------------------------------------

const STEP: &str = "mt-1 text-sm text-slate-600";

#[component]
pub fn SsoPage() -> impl IntoView {
    let discover = ServerAction::<DiscoverSso>::new();
    let client = ServerAction::<SaveSsoClient>::new();
    let status = ServerAction::<SetSsoStatus>::new();
    let people = ServerAction::<SaveSsoPeople>::new();
    let claim = ServerAction::<ClaimSsoDomain>::new();
    let domain = ServerAction::<SsoDomainAction>::new();
    let page = Resource::new_blocking(
        move || {
            (
                discover.version().get(),
                client.version().get(),
                status.version().get(),
                people.version().get(),
                claim.version().get(),
                domain.version().get(),
            )
        },
        |_| sso_page(),
    );
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    for value in [
        discover.value(),
        client.value(),
        people.value(),
        claim.value(),
    ] {
        Effect::new(move |_| match value.get() {
            Some(Ok(Submitted::Done(m))) => notice.set(Some(Ok(m))),
            Some(Ok(Submitted::Refused(_))) => {
                notice.set(Some(Err(AppError::new("Nothing was saved: see the form."))))
            }
            Some(Err(e)) => notice.set(Some(Err(e))),
            None => {}
        });
    }
    follow_outcome(notice, status.value());
    follow_outcome(notice, domain.value());
    let query = use_query_map();
    let from_test = move || {
        let q = query.read();
        if q.get("tested").is_some() {
            Some(Ok(
                "The test sign-in succeeded: see what the provider sent below.".to_owned(),
            ))
        } else {
            q.get("test_error")
                .map(|code| Err(AppError::new(test_error(&code))))
        }
    };
    view! {
        <PageTitle text="Single sign-on" />
        <script src="/copy.js" defer></script>
        {when_loaded(page, None, move |p: SsoPageData| view! {
            <ListHeader console=TENANT_ADMINISTRATION title="Single sign-on" subtitle="Your organisation's OpenID Connect provider, its email domains, and who may use passwords." />
            {move || from_test().filter(|_| notice.get().is_none()).map(|r| view! { <div class="mb-4" data-testid="test-flash">{flash_of(r)}</div> })}
            {outcome(notice)}
            <div class="grid gap-6 lg:grid-cols-2 lg:items-start">
                <ProviderCard connection=p.connection.clone() action=discover />
                {p.connection.clone().map(|c| view! {
                    <ClientCard connection=c.clone() action=client />
                    <TestCard connection=c.clone() status=status />
                    <PeopleCard connection=c.clone() action=people />
                })}
                <DomainsCard domains=p.domains.clone() claim=claim action=domain />
                {p.connection.map(|c| view! { <RequireCard connection=c status=status /> })}
            </div>
        }.into_any())}
    }
}

#[component]
fn ProviderCard(
    connection: Option<ConnectionView>,
    action: ServerAction<DiscoverSso>,
) -> impl IntoView {
    let value = action.value();
    let issuer = connection
        .as_ref()
        .map(|c| c.found.issuer.clone())
        .unwrap_or_default();
    view! {
        <Card heading_id="provider-h" title="1. Your identity provider" testid="provider-card">
            <p class=STEP>"Enter the issuer URL of your OpenID Connect provider. Gatehouse reads its discovery document and keys."</p>
            <ActionForm action=action attr:class="mt-4 flex flex-wrap items-end gap-2" attr:data-testid="discover-form">
                <div class="min-w-0 flex-1">
                    <Field id="issuer" label="Issuer URL" field="issuer" problems=problems_with(value, "issuer")>
                        <input id="issuer" name="issuer" type="url" required value=issuer placeholder="https://login.example.com"
                            class=INPUT aria-invalid=invalid_when(value, "issuer") aria-describedby="issuer-error" />
                    </Field>
                </div>
                <button type="submit" class=BUTTON data-testid="discover">{move || if action.pending().get() { "Checking…" } else { "Discover" }}</button>
            </ActionForm>
            {connection.map(|c| {
                let f = c.found;
                let row = |label: &'static str, value: String| view! {
                    <div class="grid grid-cols-3 gap-2 py-1"><dt class="text-slate-500">{label}</dt><dd class="col-span-2 break-all font-mono text-xs">{value}</dd></div>
                };
                view! {
                    <dl class="mt-4 divide-y divide-slate-100 text-sm" data-testid="discovery">
                        {row("Issuer", f.issuer)}
                        {row("Authorization", f.authorization_endpoint)}
                        {row("Token", f.token_endpoint)}
                        {row("Keys", format!("{} signing key(s) at {}", f.key_count, f.jwks_uri))}
                        {row("PKCE", "S256 supported".to_owned())}
                        {row("Issuer in response", if f.iss_parameter { "sent (RFC 9207), required".to_owned() } else { "not advertised".to_owned() })}
                        {row("Scopes", f.scopes.join(" "))}
                    </dl>
                }
            })}
        </Card>
    }
}

#[component]
fn ClientCard(connection: ConnectionView, action: ServerAction<SaveSsoClient>) -> impl IntoView {
    let value = action.value();
    // A saved secret leaves the page at once: it is never shown again.
    let secret_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let (Some(Ok(Submitted::Done(_))), Some(input)) = (value.get(), secret_input.get()) {
            input.set_value("");
        }
    });
    let secret_hint = if connection.has_secret {
        "Stored. Leave empty to keep it; enter a new one to replace it."
    } else {
        "Shown once by your provider; Gatehouse stores it encrypted and never shows it again."
    };
    view! {
        <Card heading_id="client-h" title="2. Register Gatehouse" testid="client-card">
            <p class=STEP>"At your provider, create a web application (confidential client, authorization code flow) with exactly this redirect URI:"</p>
            <div class="mt-2 flex items-center gap-2">
                <code class="min-w-0 flex-1 break-all rounded bg-slate-100 px-2 py-1 text-xs" data-testid="redirect-uri">{connection.redirect_uri.clone()}</code>
                <button type="button" class=SECONDARY data-copy=connection.redirect_uri.clone() data-testid="copy-redirect-uri">"Copy"</button>
            </div>
            <ActionForm action=action attr:class="mt-4 space-y-3" attr:data-testid="client-form">
                <Field id="client-id" label="Client id" field="client_id" problems=problems_with(value, "client_id")>
                    <input id="client-id" name="client_id" required value=connection.client_id.clone() class=INPUT autocomplete="off"
                        aria-invalid=invalid_when(value, "client_id") aria-describedby="client_id-error" />
                </Field>
                <Field id="client-secret" label="Client secret" field="client_secret" problems=problems_with(value, "client_secret")>
                    <input id="client-secret" node_ref=secret_input name="client_secret" type="password" autocomplete="new-password" class=INPUT
                        placeholder=if connection.has_secret { "••••••••  (stored)" } else { "" }
                        aria-invalid=invalid_when(value, "client_secret") aria-describedby="client-secret-hint client_secret-error" />
                    <p id="client-secret-hint" class="mt-1 text-xs text-slate-500">{secret_hint}</p>
                </Field>
                <SubmitRow label="Save client" testid="save-client" pending=action.pending() />
            </ActionForm>
        </Card>
    }
}

#[component]
fn TestCard(connection: ConnectionView, status: ServerAction<SetSsoStatus>) -> impl IntoView {
    let ready = !connection.client_id.is_empty() && connection.has_secret;
    let test_href = format!("/sso/{}/test", connection.id);
    let state = connection.status.clone();
    view! {
        <Card heading_id="test-h" title="3. Test and activate" testid="test-card"
            aside=move || view! { <span class=badge(&state) data-testid="connection-status">{title_case(&state)}</span> }>
            <p class=STEP>"A test sign-in runs the real round trip and shows what the provider sends. Nobody is created or changed."</p>
            <div class="mt-4 flex flex-wrap items-center gap-2">
                {if ready {
                    view! { <a href=test_href rel="external" class=BUTTON data-testid="test-sign-in">"Run a test sign-in"</a> }.into_any()
                } else {
                    view! { <span class="text-sm text-slate-500">"Save the client first."</span> }.into_any()
                }}
                {match (connection.status.as_str(), connection.tested) {
                    ("active", _) => view! {
                        <ActionForm action=status>
                            <input type="hidden" name="status" value="inactive" />
                            <ConfirmSubmit label="Deactivate" testid="deactivate" confirm="Turn SSO off? People will sign in with passwords.".to_owned() />
                        </ActionForm>
                    }.into_any(),
                    (_, true) => view! {
                        <ActionForm action=status>
                            <input type="hidden" name="status" value="active" />
                            <button type="submit" class=BUTTON data-testid="activate">"Activate"</button>
                        </ActionForm>
                    }.into_any(),
                    _ => view! { <span class="text-sm text-slate-500" data-testid="activate-hint">"Only a tested connection can be activated."</span> }.into_any(),
                }}
                <ActionForm action=status>
                    <input type="hidden" name="status" value="deleted" />
                    <ConfirmSubmit label="Delete" testid="delete-connection" danger=true confirm="Delete the connection and its links to people?".to_owned() />
                </ActionForm>
            </div>
            {connection.last_login_at.map(|at| view! { <p class="mt-3 text-sm text-slate-600">"Last SSO sign-in: " {at}</p> })}
            {connection.last_test.map(|t| view! {
                <div class="mt-4 rounded-md border border-slate-200 p-3 text-sm" data-testid="test-result">
                    <p class="font-medium">"Last test: " {t.at}</p>
                    <dl class="mt-2 grid grid-cols-3 gap-1">
                        <dt class="text-slate-500">"Subject"</dt><dd class="col-span-2 break-all font-mono text-xs">{t.subject}</dd>
                        <dt class="text-slate-500">"Email"</dt><dd class="col-span-2 break-all">{t.email} {if t.email_verified { " (verified)" } else { " (not verified)" }}</dd>
                        <dt class="text-slate-500">"Groups"</dt><dd class="col-span-2" data-testid="test-groups">{if t.groups.is_empty() { "none".to_owned() } else { t.groups.join(", ") }}</dd>
                        <dt class="text-slate-500">"Methods (amr)"</dt><dd class="col-span-2">{t.amr.join(", ")}</dd>
                        <dt class="text-slate-500">"Role it gives"</dt><dd class="col-span-2"><span class=badge(&t.mapped_role) data-testid="test-role">{title_case(&t.mapped_role)}</span></dd>
                    </dl>
                    <details class="mt-2"><summary class="cursor-pointer text-slate-600">"All claims"</summary>
                        <pre class="mt-2 overflow-x-auto rounded bg-slate-50 p-2 text-xs">{t.claims}</pre>
                    </details>
                </div>
            })}
        </Card>
    }
}

#[component]
fn PeopleCard(connection: ConnectionView, action: ServerAction<SaveSsoPeople>) -> impl IntoView {
    let value = action.value();
    let role = connection.default_role.clone();
    view! {
        <Card heading_id="people-h" title="People and roles" testid="people-card">
            <p class=STEP>"People are recognised by the provider's subject, never by email alone. The role follows the groups at every sign-in; owners are never changed."</p>
            <ActionForm action=action attr:class="mt-4 space-y-3" attr:data-testid="people-form">
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" name="jit_enabled" value="on" checked=connection.jit_enabled data-testid="jit"
                        class="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" />
                    "Create an account at the first sign-in (verified domains only)"
                </label>
                <Field id="default-role" label="Role when no group matches" field="default_role" problems=problems_with(value, "default_role")>
                    <select id="default-role" name="default_role" class=INPUT>
                        {[("user", "User"), ("admin", "Admin")].into_iter().map(|(v, l)| choice(v, l, &role)).collect_view()}
                    </select>
                </Field>
                <Field id="groups-claim" label="Groups claim" field="groups_claim" problems=problems_with(value, "groups_claim")>
                    <input id="groups-claim" name="groups_claim" value=connection.groups_claim.clone() class=INPUT
                        aria-invalid=invalid_when(value, "groups_claim") aria-describedby="groups_claim-error" />
                </Field>
                <Field id="group-roles" label="Group → role (one per line: group = admin | user)" field="group_roles" problems=problems_with(value, "group_roles")>
                    <textarea id="group-roles" name="group_roles" rows="4" class=format!("{INPUT} font-mono text-xs")
                        aria-invalid=invalid_when(value, "group_roles") aria-describedby="group_roles-error">{connection.group_roles.clone()}</textarea>
                </Field>
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" name="trust_idp_mfa" value="on" checked=connection.trust_idp_mfa
                        class="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" />
                    "Trust the provider's second factor (amr) for your MFA policy"
                </label>
                <SubmitRow label="Save" testid="save-people" pending=action.pending() />
            </ActionForm>
        </Card>
    }
}

#[component]
fn DomainsCard(
    domains: Vec<DomainView>,
    claim: ServerAction<ClaimSsoDomain>,
    action: ServerAction<SsoDomainAction>,
) -> impl IntoView {
    let value = claim.value();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_when_done(claim.version(), value, form);
    view! {
        <Card heading_id="domains-h" title="Email domains" testid="domains-card">
            <p class=STEP>"Sign-ins from a verified domain go to your provider. Prove ownership with a DNS TXT record; a claim waits 30 days for it."</p>
            {if domains.is_empty() {
                view! { <p class="mt-4 rounded-md border border-dashed border-slate-300 p-4 text-center text-sm text-slate-500" data-testid="no-domains">"No domains yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-4 divide-y divide-slate-100">
                        {domains.into_iter().map(|d| {
                            let pending = d.state == "pending";
                            let name = d.domain.clone();
                            let verify_name = d.domain.clone();
                            let confirm = format!("Remove {name}?");
                            view! {
                                <li class="py-3 text-sm" data-testid=format!("domain-{}", d.domain)>
                                    <div class="flex flex-wrap items-center justify-between gap-2">
                                        <span class="font-medium">{d.domain.clone()}</span>
                                        <span class=badge(&d.state) data-testid="domain-state">{title_case(&d.state)}</span>
                                    </div>
                                    {pending.then(|| view! {
                                        <div class="mt-2 rounded bg-slate-50 p-2 text-xs">
                                            <p>"TXT record at " <code class="break-all">{d.record_name.clone()}</code></p>
                                            <div class="mt-1 flex items-center gap-2">
                                                <code class="min-w-0 flex-1 break-all" data-testid="txt-value">{d.record_value.clone()}</code>
                                                <button type="button" class=SECONDARY data-copy=d.record_value.clone()>"Copy"</button>
                                            </div>
                                        </div>
                                    })}
                                    {d.last_error.clone().filter(|_| pending).map(|e| view! { <p class="mt-1 text-xs text-red-700">"Last check: " {e}</p> })}
                                    {d.method.clone().map(|m| view! { <p class="mt-1 text-xs text-slate-500">{if m == "operator" { "Verified by your service provider" } else { "Verified by DNS" }}</p> })}
                                    <div class="mt-2 flex flex-wrap gap-2">
                                        {pending.then(|| view! {
                                            <ActionForm action=action>
                                                <input type="hidden" name="domain" value=verify_name.clone() />
                                                <input type="hidden" name="action" value="verify" />
                                                <button type="submit" class=SECONDARY data-testid="verify-domain">"Check DNS"</button>
                                            </ActionForm>
                                        })}
                                        <ActionForm action=action>
                                            <input type="hidden" name="domain" value=name />
                                            <input type="hidden" name="action" value="remove" />
                                            <ConfirmSubmit label="Remove" testid="remove-domain" confirm=confirm />
                                        </ActionForm>
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <ActionForm action=claim node_ref=form attr:class="mt-4 flex flex-wrap items-end gap-2" attr:data-testid="claim-form">
                <div class="min-w-0 flex-1">
                    <Field id="claim-domain" label="Claim a domain" field="domain" problems=problems_with(value, "domain")>
                        <input id="claim-domain" name="domain" placeholder="example.com" required class=INPUT
                            aria-invalid=invalid_when(value, "domain") aria-describedby="domain-error" />
                    </Field>
                </div>
                <button type="submit" class=BUTTON data-testid="claim-domain-submit">"Claim"</button>
            </ActionForm>
        </Card>
    }
}

#[component]
fn RequireCard(connection: ConnectionView, status: ServerAction<SetSsoStatus>) -> impl IntoView {
    view! {
        <Card heading_id="require-h" title="Require SSO" testid="require-card">
            <p class=STEP>"When required, your people sign in only through your provider. Owners keep a password with a second factor for emergencies (break-glass); each such sign-in is recorded and mailed to the other owners."</p>
            <p class="mt-3 text-sm">"Now: " <span class=badge(if connection.enforced { "on" } else { "off" }) data-testid="sso-required">{if connection.enforced { "Required" } else { "Optional" }}</span></p>
            <ActionForm action=status attr:class="mt-3">
                {if connection.enforced {
                    view! {
                        <input type="hidden" name="status" value="optional" />
                        <ConfirmSubmit label="Make optional" testid="require-sso" confirm="Allow passwords again?".to_owned() />
                    }.into_any()
                } else {
                    view! {
                        <input type="hidden" name="status" value="required" />
                        <ConfirmSubmit label="Require SSO" testid="require-sso" confirm="Turn passwords and passkeys off for everyone but owners?".to_owned() />
                    }.into_any()
                }}
            </ActionForm>
        </Card>
    }
}
