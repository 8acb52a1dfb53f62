//! The list of endpoints (`/admin/webhooks`, `/operator/webhooks`) and the form that adds
//! one. The new endpoint's signing secret is shown once, right after it is added.

use super::{endpoint_badge, event_chips, Console, EndpointRow, EventTypeChoice};
use super::{EventTypeFields, SecretBox};
use crate::error::AppError;
use crate::layout::PageTitle;
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// The list page: the owner's endpoints and what the add form offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointsPageData {
    pub endpoints: Vec<EndpointRow>,
    pub next_cursor: Option<String>,
    pub event_types: Vec<EventTypeChoice>,
    /// Plain http and private addresses are allowed (a development server).
    pub http_allowed: bool,
}

/// An endpoint just added, with its secret: the one time the secret leaves the server, so
/// this type is serialized (to the person's browser) on purpose, and its `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedEndpoint {
    pub id: String,
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for AddedEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddedEndpoint")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[server(prefix = "/_rpc", endpoint = "webhook_endpoints")]
pub async fn webhook_endpoints(
    console: String,
    #[server(default)] cursor: String,
) -> Result<EndpointsPageData, AppError> {
    use crate::auth::ssr::services;
    use gatehouse_domain::webhooks::list_endpoints;
    // An owner has at most 50 endpoints, so one page normally holds them all.
    const PAGE: i64 = 50;
    let console = super::ssr::console(&console)?;
    // The page's one resource, so it also guards the page.
    let (_, owner) = super::ssr::owner_for_page(console, console.list_path()).await?;
    let services = services()?;
    let cursor = Some(cursor.trim()).filter(|c| !c.is_empty());
    let page = list_endpoints(services.pool(), owner, PAGE, cursor).await?;
    Ok(EndpointsPageData {
        endpoints: page
            .data
            .into_iter()
            .map(super::ssr::endpoint_row)
            .collect(),
        next_cursor: page.next_cursor,
        event_types: super::ssr::catalog(),
        http_allowed: services.web().webhooks_allow_private,
    })
}

/// Adds an endpoint for the signed-in person's tenant (owners, admins) or for the platform
/// (operators); the answer carries its secret.
#[server(prefix = "/_rpc", endpoint = "create_webhook")]
pub async fn create_webhook(
    url: String,
    #[server(default)] description: String,
    #[server(default)] event_types: Vec<String>,
    #[server(default)] rate_limit_per_second: String,
) -> Result<Submitted<AddedEndpoint>, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::webhooks::{create_endpoint, NewEndpoint};
    use secrecy::ExposeSecret;
    let (actor, owner) = super::ssr::owner().await?;
    let (ctx, _) = request().await?;
    let rate_limit_per_second = match super::ssr::rate(&rate_limit_per_second) {
        Ok(rate) => rate,
        Err(problem) => return Ok(Submitted::Refused(vec![problem])),
    };
    let new = NewEndpoint {
        url,
        description: Some(description),
        event_types,
        rate_limit_per_second,
    };
    let services = services()?;
    let done = create_endpoint(
        services.pool(),
        services.keys(),
        &ctx,
        &actor,
        owner,
        new,
        services.web().webhooks_allow_private,
    )
    .await;
    match services.apply(done).await {
        Ok(made) => {
            super::ssr::no_store();
            Ok(Submitted::Done(AddedEndpoint {
                id: made.endpoint.id.to_string(),
                url: made.endpoint.url,
                secret: made.secret.expose_secret().to_owned(),
            }))
        }
        Err(e) => crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    }
}

/// The list has no filters: its URL holds only the cursor.
const NO_FILTERS: &[&str] = &[];

#[component]
pub fn AdminEndpointsPage() -> impl IntoView {
    view! { <EndpointsPage console=Console::Admin /> }
}

#[component]
pub fn OperatorEndpointsPage() -> impl IntoView {
    view! { <EndpointsPage console=Console::Operator /> }
}

#[component]
fn EndpointsPage(console: Console) -> impl IntoView {
    let query = use_query_map();
    let add = ServerAction::<CreateWebhook>::new();
    let added = move || last_done(add.value())().map(|a| a.id);
    // Reload the list when an endpoint was added, not when the form was refused (nothing
    // changed, and a reload rebuilds the form, which loses what was typed).
    let list = Resource::new_blocking(
        move || (ListQuery::read(&query.read(), NO_FILTERS), added()),
        move |(list, _)| webhook_endpoints(console.key().to_owned(), list.cursor),
    );
    view! {
        <PageTitle text="Webhooks" />
        <script src="/copy.js" defer></script>
        {when_loaded(list, None, move |d: EndpointsPageData| {
            let list = ListQuery::read(&query.read_untracked(), NO_FILTERS);
            view! {
                <ListHeader console=console.start() title="Webhooks" subtitle=console.subtitle() />
                // The endpoint's page sends the browser here after deleting it.
                {move || query.read().get("deleted").filter(|_| add.value().get().is_none()).map(|_| view! {
                    <DoneFlash testid="endpoint-deleted" message="The endpoint is deleted, with its delivery history." />
                })}
                {submission_flash(add.value(), "The endpoint was not added: see the form below.", move |a: AddedEndpoint| {
                    view! { <AddedBox added=a console add /> }.into_any()
                })}
                <div class="space-y-6">
                    <EndpointsTable console endpoints=d.endpoints list next_cursor=d.next_cursor />
                    <AddForm action=add event_types=d.event_types http_allowed=d.http_allowed />
                </div>
            }
            .into_any()
        })}
    }
}

/// The endpoint just added and its secret, once.
#[component]
fn AddedBox(
    added: AddedEndpoint,
    console: Console,
    add: ServerAction<CreateWebhook>,
) -> impl IntoView {
    let AddedEndpoint { id, url, secret } = added;
    view! {
        <SecretBox testid="endpoint-added" heading=format!("The endpoint for {url} is added.")
            note="Copy its signing secret now and store it where your receiver can read it: it will not be shown again. Gatehouse keeps it encrypted and uses it only to sign messages."
            secret>
            <a href=console.endpoint_path(&id) class=LINK data-testid="open-added">"Open it to send a test event →"</a>
            <button type="button" class=SECONDARY data-testid="secret-stored" on:click=move |_| add.value().set(None)>"I have stored it"</button>
        </SecretBox>
    }
}

#[component]
fn EndpointsTable(
    console: Console,
    endpoints: Vec<EndpointRow>,
    list: ListQuery,
    next_cursor: Option<String>,
) -> impl IntoView {
    let count = endpoints.len();
    let mut head = columns(&["Endpoint", "Event types", "Status"]);
    head.extend([Column::new("Rate limit").right(), "Created".into()]);
    let rows: Vec<AnyView> = endpoints
        .into_iter()
        .map(|e| {
            let href = console.endpoint_path(&e.id);
            view! {
                <tr data-testid="endpoint-row" data-url=e.url.clone()>
                    <td class=TD>
                        <a href=href class=format!("{LINK} break-all font-mono text-xs font-medium")>{e.url.clone()}</a>
                        {e.description.clone().map(|d| view! { <p class="mt-0.5 text-xs text-slate-600">{d}</p> })}
                    </td>
                    <td class=TD>{event_chips(e.event_types.clone(), 3)}</td>
                    <td class=TD><span class=endpoint_badge(&e.status) data-testid="endpoint-status">{title_case(&e.status)}</span></td>
                    <td class=format!("{TD_NOWRAP} text-right tabular-nums")>{format!("{}/s", e.rate_limit)}</td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{e.created.clone()}</td>
                </tr>
            }
            .into_any()
        })
        .collect();
    let explanation = console.explanation();
    view! {
        <Card heading_id="endpoints-h" title="Endpoints" aside=move || in_all(count, Some("endpoint-count"))>
            <DataTable columns=head rows
                empty=move || view! {
                    <EmptyState testid="no-endpoints" title="No endpoints yet.">{explanation}</EmptyState>
                } />
            <Pager path=console.list_path() list next_cursor />
        </Card>
    }
}

#[component]
fn AddForm(
    action: ServerAction<CreateWebhook>,
    event_types: Vec<EventTypeChoice>,
    http_allowed: bool,
) -> impl IntoView {
    let value = action.value();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_when_done(action.version(), value, form);
    let url_hint = if http_allowed {
        "https, or plain http on this development server; private and loopback addresses are allowed here."
    } else {
        "An https URL on the public internet: private, loopback and link-local addresses are refused."
    };
    view! {
        <Card heading_id="add-h" title="New endpoint">
            <p class="mt-1 text-sm text-slate-600">"Gatehouse sends each event as an HTTP POST with a JSON body, signed as Standard Webhooks 1.0 says. A 2xx answer counts as delivered; anything else is retried up to 7 times over about 28 hours."</p>
            <ActionForm action=action node_ref=form attr:class="mt-4 space-y-4" attr:data-testid="add-endpoint-form">
                <div class="grid gap-4 md:grid-cols-2">
                    <Field id="add-url" label="URL" field="url" problems=problems_with(value, "url") extra="md:col-span-2">
                        <input id="add-url" name="url" type="url" required maxlength="2000" spellcheck="false" autocomplete="off"
                            placeholder="https://example.com/webhooks/gatehouse" class=format!("{INPUT} font-mono text-sm")
                            aria-invalid=invalid_when(value, "url") aria-describedby="url-hint url-error" />
                        <p id="url-hint" class="mt-1 text-xs text-slate-500">{url_hint}</p>
                    </Field>
                    <Field id="add-description" label="Description" field="description" problems=problems_with(value, "description")>
                        <input id="add-description" name="description" maxlength="500" placeholder="CRM sync" class=INPUT
                            aria-invalid=invalid_when(value, "description") aria-describedby="description-hint description-error" />
                        <p id="description-hint" class="mt-1 text-xs text-slate-500">"Optional: what receives the events."</p>
                    </Field>
                    <Field id="add-rate" label="Rate limit (messages per second)" field="rate_limit_per_second" problems=problems_with(value, "rate_limit_per_second")>
                        <input id="add-rate" name="rate_limit_per_second" type="number" min="1" max="1000" step="1" value="20" required class=INPUT
                            aria-invalid=invalid_when(value, "rate_limit_per_second") aria-describedby="rate_limit_per_second-hint rate_limit_per_second-error" />
                        <p id="rate_limit_per_second-hint" class="mt-1 text-xs text-slate-500">"At most this many messages a second are sent to it (1 to 1000)."</p>
                    </Field>
                </div>
                <EventTypeFields choices=event_types checked=Vec::new() prefix="add" problems=problems_with(value, "event_types") />
                <SubmitRow label="Add endpoint" testid="add-endpoint" pending=action.pending() />
            </ActionForm>
        </Card>
    }
}
