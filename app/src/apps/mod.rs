//! `/operator/applications` and `/operator/applications/:id` (SPEC §5, FR-SYS-001..003,
//! UC-DEV-REGISTER): the Operator Console's managed applications and their API keys —
//! list, register, disable or enable, issue a key (its secret shown once), revoke a key.
//!
//! Every server function here authenticates itself and passes the signed-in person to the
//! domain as the actor, which refuses everyone without `ApplicationsManage` (operators
//! only). Each page has one resource, and that resource also guards the page.

use crate::error::AppError;
use crate::layout::{Flash, PageTitle};
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

/// One application as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRow {
    pub id: String,
    pub name: String,
    pub environment: String,
    pub status: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub tenants: Vec<String>,
    /// Acts for every tenant (platform tooling).
    pub all_tenants: bool,
    pub active_keys: i64,
    pub created: String,
    pub updated: String,
}

impl ApplicationRow {
    /// The tenants as a reader wants them: all, a list, or none (nobody admitted).
    pub fn tenants_text(&self, none: &str) -> String {
        if self.all_tenants {
            "All tenants".to_owned()
        } else if self.tenants.is_empty() {
            none.to_owned()
        } else {
            self.tenants.join(", ")
        }
    }
}

/// One API key as the pages show it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub client_id: String,
    pub name: Option<String>,
    pub scopes: Vec<String>,
    pub tenant: Option<String>,
    pub status: String,
    pub expires: Option<String>,
    pub last_used: Option<String>,
    pub created: String,
}

/// The list page: the applications and the choices the register form offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationsPageData {
    pub applications: Vec<ApplicationRow>,
    pub environments: Vec<String>,
    pub grant_types: Vec<String>,
}

/// The detail page: one application, its keys and the scopes a key may carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationPageData {
    pub application: ApplicationRow,
    pub keys: Vec<KeyRow>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    pub id: String,
    pub name: String,
}

/// A key just issued, with its secret: the one time the secret leaves the server, so this
/// type is serialized (to the operator's browser) on purpose, and its `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedSecret {
    pub client_id: String,
    pub name: Option<String>,
    pub secret: String,
}

impl std::fmt::Debug for IssuedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSecret")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{ApplicationRow, KeyRow};
    use crate::error::AppError;
    pub use crate::ui::ssr::{actor, end_of_day, entries, operator_for_page, problems, when};
    use gatehouse_domain::apps::{ApiKey, Application};
    use gatehouse_domain::DomainError;

    const NOT_FOUND: &str = "There is no application with this ID.";

    /// An application id from a URL or a form; anything else is "not found".
    pub fn application_id(raw: &str) -> Result<uuid::Uuid, AppError> {
        crate::ui::ssr::id_of(raw, "application", NOT_FOUND)
    }

    pub fn page_error(err: DomainError) -> AppError {
        crate::ui::ssr::not_found_as(err, NOT_FOUND)
    }

    pub fn application_row(a: Application) -> ApplicationRow {
        ApplicationRow {
            id: a.id.to_string(),
            name: a.name,
            environment: a.environment,
            status: a.status,
            redirect_uris: a.redirect_uris,
            post_logout_redirect_uris: a.post_logout_redirect_uris,
            grant_types: a.grant_types,
            tenants: a.tenants,
            all_tenants: a.all_tenants,
            active_keys: a.active_keys,
            created: when(a.created_at),
            updated: when(a.updated_at),
        }
    }

    pub fn key_row(k: ApiKey) -> KeyRow {
        KeyRow {
            client_id: k.id,
            name: k.name,
            scopes: k.scopes,
            tenant: k.tenant,
            status: k.status,
            expires: k.expires_at.map(when),
            last_used: k.last_used_at.map(when),
            created: when(k.created_at),
        }
    }
}

#[server(prefix = "/_rpc", endpoint = "applications_overview")]
pub async fn applications_overview() -> Result<ApplicationsPageData, AppError> {
    use crate::auth::ssr::pool;
    use gatehouse_domain::apps::{list_applications, ENVIRONMENTS, GRANT_TYPES};
    // The page's one resource, so it also guards the page.
    let actor = ssr::operator_for_page("/operator/applications").await?;
    let applications = list_applications(&pool()?, Some(&actor)).await?;
    Ok(ApplicationsPageData {
        applications: applications.into_iter().map(ssr::application_row).collect(),
        environments: ENVIRONMENTS.iter().map(|e| (*e).to_owned()).collect(),
        grant_types: GRANT_TYPES.iter().map(|g| (*g).to_owned()).collect(),
    })
}

#[server(prefix = "/_rpc", endpoint = "register_application")]
pub async fn register_application(
    name: String,
    environment: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    #[server(default)] grant_types: Vec<String>,
    tenants: String,
    #[server(default)] all_tenants: Option<String>,
) -> Result<Submitted<Registered>, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::apps::ApplicationInput;
    use gatehouse_domain::DomainError;
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let tenants = ssr::entries(&tenants, true);
    let input = ApplicationInput {
        name: Some(name),
        environment: Some(environment).filter(|e| !e.trim().is_empty()),
        redirect_uris: Some(ssr::entries(&redirect_uris, false)),
        post_logout_redirect_uris: Some(ssr::entries(&post_logout_redirect_uris, false)),
        grant_types: Some(grant_types),
        tenants: (!tenants.is_empty()).then_some(tenants),
        all_tenants: Some(crate::ui::ssr::ticked(&all_tenants)),
    };
    let services = services()?;
    match services
        .apply(
            gatehouse_domain::apps::register_application(
                services.pool(),
                &ctx,
                Some(&actor),
                input,
            )
            .await,
        )
        .await
    {
        Ok(app) => Ok(Submitted::Done(Registered {
            id: app.id.to_string(),
            name: app.name,
        })),
        // Dropping the transaction rolls back whatever was written before the refusal.
        Err(DomainError::Validation(details)) => Ok(Submitted::Refused(ssr::problems(details))),
        Err(e) => Err(e.into()),
    }
}

#[server(prefix = "/_rpc", endpoint = "application_detail")]
pub async fn application_detail(id: String) -> Result<ApplicationPageData, AppError> {
    use crate::auth::ssr::pool;
    use gatehouse_domain::apps::{get_application, list_keys, SCOPES};
    // The page's one resource, so it also guards the page.
    let actor = ssr::operator_for_page(&format!("/operator/applications/{id}")).await?;
    let id = ssr::application_id(&id)?;
    let pool = pool()?;
    let application = get_application(&pool, Some(&actor), id)
        .await
        .map_err(ssr::page_error)?;
    let keys = list_keys(&pool, Some(&actor), id)
        .await
        .map_err(ssr::page_error)?;
    Ok(ApplicationPageData {
        application: ssr::application_row(application),
        keys: keys.into_iter().map(ssr::key_row).collect(),
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// Disables (`status=disabled`) or enables (`status=active`) an application.
#[server(prefix = "/_rpc", endpoint = "set_application_status")]
pub async fn set_application_status(id: String, status: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let id = ssr::application_id(&id)?;
    let active = match status.as_str() {
        "active" => true,
        "disabled" => false,
        _ => return Err(AppError::invalid("the status is active or disabled")),
    };
    let services = services()?;
    let app = services
        .apply(
            gatehouse_domain::apps::set_application_status(
                services.pool(),
                &ctx,
                Some(&actor),
                id,
                active,
            )
            .await,
        )
        .await?;
    Ok(if active {
        format!("{} is enabled. Its keys work again.", app.name)
    } else {
        format!(
            "{} is disabled. Its keys are refused and its tokens no longer work.",
            app.name
        )
    })
}

#[server(prefix = "/_rpc", endpoint = "issue_api_key")]
pub async fn issue_api_key(
    application_id: String,
    name: String,
    #[server(default)] scopes: Vec<String>,
    expires_on: String,
    tenant: String,
) -> Result<Submitted<IssuedSecret>, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::apps::KeyInput;
    use gatehouse_domain::DomainError;
    use secrecy::ExposeSecret;
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let id = ssr::application_id(&application_id)?;
    let expires_at = match ssr::end_of_day(&expires_on) {
        Ok(e) => e,
        Err(problem) => return Ok(Submitted::Refused(vec![problem])),
    };
    let input = KeyInput {
        name: Some(name),
        scopes,
        expires_at,
        tenant: Some(tenant),
    };
    let services = services()?;
    match services
        .apply(
            gatehouse_domain::apps::issue_key(services.pool(), &ctx, Some(&actor), id, input).await,
        )
        .await
    {
        Ok(issued) => {
            // The answer carries the secret: no cache may keep it.
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.insert_header(
                    http::header::CACHE_CONTROL,
                    http::HeaderValue::from_static("no-store"),
                );
            }
            Ok(Submitted::Done(IssuedSecret {
                client_id: issued.key.id,
                name: issued.key.name,
                secret: issued.secret.expose_secret().to_owned(),
            }))
        }
        Err(DomainError::Validation(details)) => Ok(Submitted::Refused(ssr::problems(details))),
        Err(e) => Err(e.into()),
    }
}

#[server(prefix = "/_rpc", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(application_id: String, key_id: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    let actor = ssr::actor().await?;
    let (ctx, _) = request().await?;
    let id = ssr::application_id(&application_id)?;
    let services = services()?;
    let key = services
        .apply(
            gatehouse_domain::apps::revoke_key(
                services.pool(),
                &ctx,
                Some(&actor),
                Some(id),
                key_id.trim(),
            )
            .await,
        )
        .await?;
    Ok(format!(
        "Key {} is revoked. It is refused from now on.",
        key.id
    ))
}

// --- the browser side ---------------------------------------------------------------------

#[cfg(feature = "hydrate")]
mod clipboard {
    use leptos::__reexports::wasm_bindgen_futures::{js_sys, JsFuture};
    use leptos::wasm_bindgen::prelude::*;

    #[wasm_bindgen(wasm_bindgen = ::leptos::wasm_bindgen)]
    extern "C" {
        // Throws (caught) where there is no clipboard: outside a secure context.
        #[wasm_bindgen(catch, js_namespace = ["navigator", "clipboard"], js_name = writeText)]
        fn write_text(text: &str) -> Result<js_sys::Promise, JsValue>;
    }

    /// Puts `text` on the clipboard; false when the browser refused.
    pub async fn copy(text: &str) -> bool {
        match write_text(text) {
            Ok(promise) => JsFuture::from(promise).await.is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod clipboard {
    /// Only the browser has a clipboard.
    pub async fn copy(_text: &str) -> bool {
        false
    }
}

/// A read-only field with a copy button. Without a clipboard the field is still there to
/// select and copy by hand.
#[component]
fn CopyField(label: &'static str, id: &'static str, value: String) -> impl IntoView {
    let (copied, set_copied) = signal(None::<bool>);
    let text = value.clone();
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            set_copied.set(Some(clipboard::copy(&text).await));
        });
    };
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-amber-900">{label}</label>
            <div class="mt-1 flex gap-2">
                <input id=id data-testid=id readonly value=value spellcheck="false" autocomplete="off"
                    class="block w-full rounded-md border border-amber-300 bg-white px-3 py-2 font-mono text-sm focus:outline-none focus:ring-2 focus:ring-amber-500" />
                <button type="button" class=SECONDARY data-testid=format!("copy-{id}") on:click=copy>
                    {move || match copied.get() {
                        Some(true) => "Copied",
                        _ => "Copy",
                    }}
                </button>
            </div>
            <p role="status" class="mt-1 text-xs text-amber-900">
                {move || (copied.get() == Some(false)).then_some("The browser did not allow copying: select the text and copy it.")}
            </p>
        </div>
    }
}

// --- /operator/applications -----------------------------------------------------------------

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let register = ServerAction::<RegisterApplication>::new();
    let registered = move || last_done(register.value())().map(|r| r.id);
    // Reload the list when an application was registered, not when the form was refused
    // (nothing changed, and a reload rebuilds the form, which resets its select).
    let overview = Resource::new_blocking(registered, |_| applications_overview());
    view! {
        <PageTitle text="Applications" />
        {when_loaded(overview, None, move |o: ApplicationsPageData| view! {
            <ListHeader console=OPERATOR_CONSOLE title="Applications" subtitle="Managed applications, their redirect URIs and API keys." />
            {submission_flash(register.value(), "The application was not registered: see the form below.", |r: Registered| view! {
                <DoneFlash testid="registered" message=format!("{} is registered.", r.name)>
                    <a href=format!("/operator/applications/{}", r.id) class=LINK data-testid="open-registered">"Open it to issue a key →"</a>
                </DoneFlash>
            }.into_any())}
            <div class="space-y-6">
                <ApplicationsTable applications=o.applications />
                <RegisterForm action=register environments=o.environments grant_types=o.grant_types />
            </div>
        }.into_any())}
    }
}

#[component]
fn ApplicationsTable(applications: Vec<ApplicationRow>) -> impl IntoView {
    let count = applications.len();
    let mut head = columns(&["Name", "Environment", "Status", "Grant types", "Tenants"]);
    head.extend([Column::new("Active keys").right(), "Created".into()]);
    let rows: Vec<AnyView> = applications
        .into_iter()
        .map(|a| view! {
            <tr data-testid="app-row">
                <td class=TD>
                    <a href=format!("/operator/applications/{}", a.id) class=format!("{LINK} font-medium")>{a.name.clone()}</a>
                </td>
                <td class=TD><span class=badge(&a.environment)>{title_case(&a.environment)}</span></td>
                <td class=TD><span class=badge(&a.status) data-testid="app-status">{title_case(&a.status)}</span></td>
                <td class=format!("{TD} font-mono text-xs text-slate-700")>{a.grant_types.join(", ")}</td>
                <td class=format!("{TD} text-slate-700")>{a.tenants_text("None (admits nobody)")}</td>
                <td class=format!("{TD} text-right tabular-nums")>{a.active_keys}</td>
                <td class=format!("{TD_NOWRAP} text-slate-600")>{a.created.clone()}</td>
            </tr>
        }.into_any())
        .collect();
    view! {
        <Card heading_id="apps-h" title="Registered applications" aside=move || in_all(count, Some("app-count"))>
            <DataTable columns=head rows
                empty=|| view! {
                    <EmptyState testid="no-applications" title="No applications yet.">
                        "Register the first one below; then issue it an API key."
                    </EmptyState>
                } />
        </Card>
    }
}

#[component]
fn RegisterForm(
    action: ServerAction<RegisterApplication>,
    environments: Vec<String>,
    grant_types: Vec<String>,
) -> impl IntoView {
    let value = action.value();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_when_done(action.version(), value, form);
    view! {
        <Card heading_id="register-h" title="Register application">
            <p class="mt-1 text-sm text-slate-600">"Redirect URIs use https; plain http only to localhost or 127.0.0.1."</p>
            <ActionForm action=action node_ref=form attr:class="mt-4 grid gap-4 md:grid-cols-2" attr:data-testid="register-form">
                <Field id="app-name" label="Name" field="name" problems=problems_with(value, "name")>
                    <input id="app-name" name="name" required maxlength="200" class=INPUT
                        aria-invalid=invalid_when(value, "name") aria-describedby="name-error" />
                </Field>
                <Field id="app-environment" label="Environment" field="environment" problems=problems_with(value, "environment")>
                    <select id="app-environment" name="environment" class=INPUT
                        aria-invalid=invalid_when(value, "environment") aria-describedby="environment-error">
                        {environments.into_iter().map(|e| choice(e.clone(), title_case(&e), "production")).collect_view()}
                    </select>
                </Field>
                <Field id="app-redirect-uris" label="Redirect URIs" field="redirect_uris" problems=problems_with(value, "redirect_uris")>
                    <textarea id="app-redirect-uris" name="redirect_uris" rows="3" spellcheck="false"
                        placeholder="https://app.example.com/callback"
                        class=format!("{INPUT} font-mono text-sm")
                        aria-invalid=invalid_when(value, "redirect_uris") aria-describedby="redirect_uris-hint redirect_uris-error"></textarea>
                    <p id="redirect_uris-hint" class="mt-1 text-xs text-slate-500">"One per line."</p>
                </Field>
                <Field id="app-post-logout" label="Post-logout redirect URIs" field="post_logout_redirect_uris" problems=problems_with(value, "post_logout_redirect_uris")>
                    <textarea id="app-post-logout" name="post_logout_redirect_uris" rows="3" spellcheck="false"
                        placeholder="https://app.example.com/"
                        class=format!("{INPUT} font-mono text-sm")
                        aria-invalid=invalid_when(value, "post_logout_redirect_uris") aria-describedby="post_logout_redirect_uris-hint post_logout_redirect_uris-error"></textarea>
                    <p id="post_logout_redirect_uris-hint" class="mt-1 text-xs text-slate-500">"One per line; optional."</p>
                </Field>
                <fieldset aria-describedby="grant_types-error">
                    <legend class="block text-sm font-medium">"Grant types"</legend>
                    <div class="mt-2 space-y-1">
                        {grant_types.into_iter().map(|g| {
                            let id = format!("grant-{g}");
                            let checked = g == "client_credentials";
                            view! {
                                <label class="flex items-center gap-2 text-sm">
                                    <input id=id type="checkbox" name="grant_types[]" value=g.clone() checked=checked
                                        class="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" />
                                    <span class="font-mono">{g.clone()}</span>
                                </label>
                            }
                        }).collect_view()}
                    </div>
                    <FieldProblems field="grant_types" problems=problems_with(value, "grant_types") />
                </fieldset>
                <div>
                    <label for="app-tenants" class="block text-sm font-medium">"Tenants"</label>
                    <input id="app-tenants" name="tenants" placeholder="acme, globex" spellcheck="false" class=INPUT
                        aria-invalid=invalid_when(value, "tenants") aria-describedby="tenants-hint tenants-error" />
                    <p id="tenants-hint" class="mt-1 text-xs text-slate-500">"Domains of the tenants it may act for, separated by commas. Without any, it admits nobody unless it is for all tenants."</p>
                    <FieldProblems field="tenants" problems=problems_with(value, "tenants") />
                    <label class="mt-2 flex items-center gap-2 text-sm text-slate-700">
                        <input type="checkbox" name="all_tenants" value="true" data-testid="app-all-tenants" />
                        "All tenants (platform tooling)"
                    </label>
                </div>
                <SubmitRow label="Register application" testid="register-submit" pending=action.pending() extra="md:col-span-2" />
            </ActionForm>
        </Card>
    }
}

// --- /operator/applications/:id -------------------------------------------------------------

#[component]
pub fn ApplicationPage() -> impl IntoView {
    let params = use_params_map();
    let toggle = ServerAction::<SetApplicationStatus>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let issue = ServerAction::<IssueApiKey>::new();
    let issued = move || last_done(issue.value())().map(|k| k.client_id);
    let detail = Resource::new_blocking(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                toggle.version().get(),
                revoke.version().get(),
                issued(),
            )
        },
        |(id, _, _, _)| application_detail(id),
    );
    // One flash line: the outcome of the latest disable, enable or revoke.
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    follow_outcome(notice, toggle.value());
    follow_outcome(notice, revoke.value());
    view! {
        <PageTitle text="Application" />
        {when_loaded(detail, Some(("/operator/applications", "All applications")), move |d: ApplicationPageData| view! {
            <Breadcrumb console=OPERATOR_CONSOLE list=("/operator/applications", "Applications") />
            {outcome(notice)}
            <ApplicationView detail=d toggle revoke issue />
        }.into_any())}
    }
}

#[component]
fn ApplicationView(
    detail: ApplicationPageData,
    toggle: ServerAction<SetApplicationStatus>,
    revoke: ServerAction<RevokeApiKey>,
    issue: ServerAction<IssueApiKey>,
) -> impl IntoView {
    let ApplicationPageData {
        application: app,
        keys,
        scopes,
    } = detail;
    let active = app.status == "active";
    let tenants_text = app.tenants_text("None: the application admits nobody");
    let keys_line = format!(
        "{} active {}",
        app.active_keys,
        if app.active_keys == 1 { "key" } else { "keys" }
    );
    let ApplicationRow {
        id,
        name,
        environment,
        status,
        redirect_uris,
        post_logout_redirect_uris,
        grant_types,
        tenants,
        created,
        updated,
        ..
    } = app;
    let (toggle_id, issue_id, keys_id) = (id.clone(), id.clone(), id.clone());
    let uri_list = |uris: Vec<String>| {
        if uris.is_empty() {
            view! { <span class="text-slate-500">"None"</span> }.into_any()
        } else {
            view! {
                <ul class="space-y-0.5 font-mono text-xs break-words">
                    {uris.into_iter().map(|u| view! { <li>{u}</li> }).collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    let status_form = move || {
        let id = toggle_id.clone();
        view! {
            <ActionForm action=toggle>
                <input type="hidden" name="id" value=id />
                {if active {
                    view! {
                        <input type="hidden" name="status" value="disabled" />
                        <ConfirmSubmit label="Disable" danger=true testid="disable-app"
                            confirm="Disable it? Its keys stop working and its tokens are refused at once.".to_owned() />
                    }.into_any()
                } else {
                    view! {
                        <input type="hidden" name="status" value="active" />
                        <ConfirmSubmit label="Enable" testid="enable-app" confirm="Enable it again? Its unrevoked keys work again.".to_owned() />
                    }.into_any()
                }}
            </ActionForm>
        }
    };
    view! {
        <DetailHeader title=name testid="app-name" actions=status_form>
            <span class=badge(&environment)>{title_case(&environment)}</span>
            <span class=badge(&status) data-testid="app-status">{title_case(&status)}</span>
            <span class="text-slate-600">{keys_line}</span>
        </DetailHeader>
        {(!active).then(|| view! {
            <Note testid="disabled-note">
                "This application is disabled: its keys are refused and the tokens issued to it no longer work."
            </Note>
        })}
        <div class="grid gap-6 lg:grid-cols-5 lg:items-start">
            <Card heading_id="details-h" title="Details" extra="lg:col-span-2">
                <dl class="mt-4 space-y-3 text-sm">
                    <div><dt class="text-slate-500">"Application ID"</dt><dd class="font-mono text-xs break-words">{id}</dd></div>
                    <div><dt class="text-slate-500">"Grant types"</dt><dd class="font-mono text-xs">{grant_types.join(", ")}</dd></div>
                    <div><dt class="text-slate-500">"Redirect URIs"</dt><dd>{uri_list(redirect_uris)}</dd></div>
                    <div><dt class="text-slate-500">"Post-logout redirect URIs"</dt><dd>{uri_list(post_logout_redirect_uris)}</dd></div>
                    <div><dt class="text-slate-500">"Tenants"</dt><dd>{tenants_text}</dd></div>
                    <div><dt class="text-slate-500">"Created"</dt><dd>{created}</dd></div>
                    <div><dt class="text-slate-500">"Last changed"</dt><dd>{updated}</dd></div>
                </dl>
            </Card>
            <Card heading_id="issue-h" title="Issue key" extra="lg:col-span-3">
                <p class="mt-1 text-sm text-slate-600">"A key's ID is the OAuth client_id; its secret is shown once, right after issuing."</p>
                <IssuedKeyBox issue />
                <IssueKeyForm issue application_id=issue_id scopes tenants />
            </Card>
        </div>
        <KeysTable keys application_id=keys_id revoke />
    }
}

/// The secret of the key just issued, once, with copy buttons and a warning.
#[component]
fn IssuedKeyBox(issue: ServerAction<IssueApiKey>) -> impl IntoView {
    move || {
        match issue.value().get() {
        Some(Ok(Submitted::Done(k))) => view! {
            <div role="status" class="mt-4 space-y-3 rounded-lg border-2 border-amber-400 bg-amber-50 p-4" data-testid="issued-key">
                <p class="font-semibold text-amber-900">
                    {match &k.name {
                        Some(n) => format!("Key “{n}” is issued."),
                        None => "The key is issued.".to_owned(),
                    }}
                </p>
                <p class="text-sm font-medium text-amber-900" data-testid="secret-warning">
                    "Copy the secret now and store it safely: it will not be shown again. Gatehouse keeps only its hash."
                </p>
                <CopyField label="Client ID" id="issued-client-id" value=k.client_id.clone() />
                <CopyField label="Client secret" id="issued-secret" value=k.secret.clone() />
                <button type="button" class=SECONDARY data-testid="issued-done" on:click=move |_| issue.value().set(None)>"I have stored it"</button>
            </div>
        }.into_any(),
        Some(Err(e)) => view! { <div class="mt-4"><Flash message=e.message error=true /></div> }.into_any(),
        _ => ().into_any(),
    }
    }
}

#[component]
fn IssueKeyForm(
    issue: ServerAction<IssueApiKey>,
    application_id: String,
    scopes: Vec<String>,
    tenants: Vec<String>,
) -> impl IntoView {
    let value = issue.value();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_when_done(issue.version(), value, form);
    view! {
        <ActionForm action=issue node_ref=form attr:class="mt-4 space-y-4" attr:data-testid="issue-form">
            <input type="hidden" name="application_id" value=application_id />
            <div class="grid gap-4 sm:grid-cols-2">
                <Field id="key-name" label="Name" field="name" problems=problems_with(value, "name")>
                    <input id="key-name" name="name" maxlength="200" placeholder="billing worker" class=INPUT aria-describedby="name-error" />
                </Field>
                <Field id="key-expires" label="Expires" field="expires_at" problems=problems_with(value, "expires_at")>
                    <input id="key-expires" name="expires_on" type="date" class=INPUT aria-describedby="expires_at-hint expires_at-error" />
                    <p id="expires_at-hint" class="mt-1 text-xs text-slate-500">"At the end of that day (UTC); empty for never."</p>
                </Field>
            </div>
            <fieldset aria-describedby="scopes-error">
                <legend class="block text-sm font-medium">"Scopes"</legend>
                <div class="mt-2 grid grid-cols-2 gap-x-4 gap-y-1 sm:grid-cols-3">
                    {scopes.into_iter().map(|s| {
                        let id = format!("scope-{}", s.replace(':', "-"));
                        view! {
                            <label class="flex items-center gap-2 text-sm">
                                <input id=id type="checkbox" name="scopes[]" value=s.clone()
                                    class="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" />
                                <span class="font-mono">{s.clone()}</span>
                            </label>
                        }
                    }).collect_view()}
                </div>
                <FieldProblems field="scopes" problems=problems_with(value, "scopes") />
            </fieldset>
            {if tenants.is_empty() {
                view! {
                    <input type="hidden" name="tenant" value="" />
                    <p class="text-xs text-slate-500">"The application has no tenants, so the key is bound to none."</p>
                }.into_any()
            } else {
                view! {
                    <Field id="key-tenant" label="Tenant" field="tenant" problems=problems_with(value, "tenant")>
                        <select id="key-tenant" name="tenant" class=INPUT aria-describedby="tenant-error">
                            <option value="">"Not bound to one tenant"</option>
                            {tenants.into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                        </select>
                    </Field>
                }.into_any()
            }}
            <button type="submit" class=BUTTON data-testid="issue-submit" disabled=move || issue.pending().get()>"Issue key"</button>
        </ActionForm>
    }
}

#[component]
fn KeysTable(
    keys: Vec<KeyRow>,
    application_id: String,
    revoke: ServerAction<RevokeApiKey>,
) -> impl IntoView {
    let count = keys.len();
    let mut head = columns(&[
        "Client ID",
        "Name",
        "Scopes",
        "Tenant",
        "Status",
        "Expires",
        "Last used",
        "Created",
    ]);
    head.push(Column::actions());
    let rows: Vec<AnyView> = keys
        .into_iter()
        .map(|k| {
            let revocable = k.status != "revoked";
            let application_id = application_id.clone();
            let key_id = k.client_id.clone();
            view! {
                <tr data-testid="key-row" data-client-id=k.client_id.clone()>
                    <td class=format!("{TD_NOWRAP} font-mono text-xs")>{k.client_id.clone()}</td>
                    <td class=TD>{k.name.clone().unwrap_or_else(|| "—".into())}</td>
                    <td class=TD>
                        <div class="flex max-w-xs flex-wrap gap-1">
                            {if k.scopes.is_empty() {
                                view! { <span class="text-slate-500">"None"</span> }.into_any()
                            } else {
                                k.scopes.iter().map(|s| view! {
                                    <span class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs">{s.clone()}</span>
                                }).collect_view().into_any()
                            }}
                        </div>
                    </td>
                    <td class=TD_NOWRAP>{k.tenant.clone().unwrap_or_else(|| "Any".into())}</td>
                    <td class=TD><span class=badge(&k.status) data-testid="key-status">{title_case(&k.status)}</span></td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{k.expires.clone().unwrap_or_else(|| "Never".into())}</td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{k.last_used.clone().unwrap_or_else(|| "Never".into())}</td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{k.created.clone()}</td>
                    <td class=format!("{TD} text-right")>
                        {revocable.then(move || view! {
                            <ActionForm action=revoke>
                                <input type="hidden" name="application_id" value=application_id />
                                <input type="hidden" name="key_id" value=key_id />
                                <ConfirmSubmit label="Revoke" testid="revoke-key" confirm="Revoke this key?".to_owned() />
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
            .into_any()
        })
        .collect();
    view! {
        <Card heading_id="keys-h" title="API keys" extra="mt-6" aside=move || in_all(count, None)>
            <DataTable columns=head rows
                empty=|| view! { <EmptyNote testid="no-keys" text="No keys yet. Issue one above." /> } />
        </Card>
    }
}
