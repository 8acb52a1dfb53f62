//! One endpoint's page (`/admin/webhooks/:id`, `/operator/webhooks/:id`): its settings and
//! the form that changes them, a test event, the signing secret's rotation (the new secret
//! shown once; both sign for 24 hours), turning it off and on, deletion, and its delivery
//! history (`super::deliveries`).

use super::deliveries::{DeliveriesCard, RedeliverWebhook};
use super::{endpoint_badge, event_chips, Console, EndpointRow, EventTypeChoice};
use super::{DeliveryRow, EventTypeFields, OpenedDelivery, SecretBox};
use crate::error::AppError;
use crate::layout::PageTitle;
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// The delivery history's filters, in the order of its URL.
const FILTERS: &[&str] = &["status"];

/// The endpoint's page: the endpoint, what its form offers, and one page of its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointPageData {
    pub endpoint: EndpointRow,
    pub event_types: Vec<EventTypeChoice>,
    /// Plain http and private addresses are allowed (a development server).
    pub http_allowed: bool,
    pub deliveries: Vec<DeliveryRow>,
    pub next_cursor: Option<String>,
    /// The delivery opened from the history (`?delivery=`), if any.
    pub opened: Option<OpenedDelivery>,
    /// `?delivery=` names one this endpoint's history does not hold (any more).
    pub opened_missing: bool,
}

/// A secret just made by a rotation: the one time it leaves the server, so this type is
/// serialized (to the person's browser) on purpose, and its `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotatedSecret {
    pub secret: String,
    /// Until when the previous secret signs beside it.
    pub both_until: Option<String>,
}

impl std::fmt::Debug for RotatedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedSecret")
            .field("secret", &"[redacted]")
            .field("both_until", &self.both_until)
            .finish()
    }
}

#[server(prefix = "/_rpc", endpoint = "webhook_endpoint")]
pub async fn webhook_endpoint(
    console: String,
    id: String,
    #[server(default)] status: String,
    #[server(default)] cursor: String,
    #[server(default)] delivery: String,
) -> Result<EndpointPageData, AppError> {
    use crate::auth::ssr::services;
    use gatehouse_domain::webhooks::{get_delivery, get_endpoint, list_deliveries, DeliveryStatus};
    use gatehouse_domain::DomainError;
    const PAGE: i64 = 25;
    let console = super::ssr::console(&console)?;
    // The page's one resource, so it also guards the page.
    let (_, owner) = super::ssr::owner_for_page(console, &console.endpoint_path(&id)).await?;
    let id = super::ssr::endpoint_id(&id)?;
    let status = match status.trim() {
        "" => None,
        "pending" => Some(DeliveryStatus::Pending),
        "delivered" => Some(DeliveryStatus::Delivered),
        "failed" => Some(DeliveryStatus::Failed),
        _ => {
            return Err(AppError::invalid(
                "the status is pending, delivered or failed",
            ))
        }
    };
    let services = services()?;
    let pool = services.pool();
    let endpoint = get_endpoint(pool, owner, id)
        .await
        .map_err(super::ssr::page_error)?;
    let cursor = Some(cursor.trim()).filter(|c| !c.is_empty());
    let page = list_deliveries(pool, owner, id, status, PAGE, cursor)
        .await
        .map_err(super::ssr::page_error)?;
    // A delivery that is not (or no longer) in the history leaves the page as it is.
    let (opened, opened_missing) = match delivery.trim() {
        "" => (None, false),
        raw => match uuid::Uuid::parse_str(raw) {
            Err(_) => (None, true),
            Ok(delivery_id) => match get_delivery(pool, owner, id, delivery_id).await {
                Ok(d) => (Some(super::ssr::opened_delivery(d)), false),
                Err(DomainError::NotFound(_)) => (None, true),
                Err(e) => return Err(e.into()),
            },
        },
    };
    Ok(EndpointPageData {
        endpoint: super::ssr::endpoint_row(endpoint),
        event_types: super::ssr::catalog(),
        http_allowed: services.web().webhooks_allow_private,
        deliveries: page
            .data
            .into_iter()
            .map(super::ssr::delivery_row)
            .collect(),
        next_cursor: page.next_cursor,
        opened,
        opened_missing,
    })
}

/// Saves the settings form: URL, description (empty clears it), event types, rate limit.
#[server(prefix = "/_rpc", endpoint = "update_webhook")]
pub async fn update_webhook(
    id: String,
    url: String,
    #[server(default)] description: String,
    #[server(default)] event_types: Vec<String>,
    #[server(default)] rate_limit_per_second: String,
) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::webhooks::{update_endpoint, EndpointChanges};
    let (actor, owner) = super::ssr::owner().await?;
    let (ctx, _) = request().await?;
    let id = super::ssr::endpoint_id(&id)?;
    let rate_limit_per_second = match super::ssr::rate(&rate_limit_per_second) {
        Ok(rate) => rate,
        Err(problem) => return Ok(Submitted::Refused(vec![problem])),
    };
    let changes = EndpointChanges {
        url: Some(url),
        description: Some(Some(description)),
        event_types: Some(event_types),
        rate_limit_per_second,
        enabled: None,
    };
    let services = services()?;
    let done = update_endpoint(
        services.pool(),
        &ctx,
        &actor,
        owner,
        id,
        changes,
        services.web().webhooks_allow_private,
    )
    .await;
    match services.apply(done).await {
        Ok(_) => Ok(Submitted::Done("The endpoint is saved.".into())),
        Err(e) => crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    }
}

/// One action on an endpoint: `test` (send it a test event), `turn-off` or `turn-on`.
#[server(prefix = "/_rpc", endpoint = "act_on_webhook")]
pub async fn act_on_webhook(id: String, action: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::webhooks::{send_test, update_endpoint, EndpointChanges};
    let (actor, owner) = super::ssr::owner().await?;
    let (ctx, _) = request().await?;
    let id = super::ssr::endpoint_id(&id)?;
    let services = services()?;
    let pool = services.pool();
    let allow_private = services.web().webhooks_allow_private;
    let turn = async |enabled: bool| {
        let changes = EndpointChanges {
            enabled: Some(enabled),
            ..Default::default()
        };
        let done = update_endpoint(pool, &ctx, &actor, owner, id, changes, allow_private).await;
        services.apply(done).await
    };
    let message = match action.as_str() {
        "test" => {
            services
                .apply(send_test(pool, &ctx, &actor, owner, id).await)
                .await?;
            "A test event is on its way: it shows in the delivery history below."
        }
        "turn-off" => {
            turn(false).await?;
            "The endpoint is turned off: it receives no events, and its pending deliveries are marked failed."
        }
        "turn-on" => {
            turn(true).await?;
            "The endpoint is on again: it receives new events from now on."
        }
        _ => return Err(AppError::invalid("unknown action")),
    };
    Ok(message.to_owned())
}

/// Makes a new signing secret; the previous one keeps signing beside it for 24 hours.
#[server(prefix = "/_rpc", endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(id: String) -> Result<RotatedSecret, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::webhooks::rotate_secret;
    use secrecy::ExposeSecret;
    let (actor, owner) = super::ssr::owner().await?;
    let (ctx, _) = request().await?;
    let id = super::ssr::endpoint_id(&id)?;
    let services = services()?;
    let rotated = services
        .apply(
            rotate_secret(
                services.pool(),
                services.keys(),
                &ctx,
                &actor,
                owner,
                id,
                time::Duration::hours(24),
            )
            .await,
        )
        .await?;
    super::ssr::no_store();
    Ok(RotatedSecret {
        secret: rotated.secret.expose_secret().to_owned(),
        both_until: rotated
            .endpoint
            .previous_secret_expires_at
            .map(crate::ui::ssr::when),
    })
}

/// Deletes an endpoint with its delivery history, and sends the browser to the list.
#[server(prefix = "/_rpc", endpoint = "delete_webhook")]
pub async fn delete_webhook(id: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::webhooks::delete_endpoint;
    let (actor, owner) = super::ssr::owner().await?;
    let (ctx, _) = request().await?;
    let id = super::ssr::endpoint_id(&id)?;
    let services = services()?;
    services
        .apply(delete_endpoint(services.pool(), &ctx, &actor, owner, id).await)
        .await?;
    // Its page is gone; the list says what happened.
    leptos_axum::redirect(&format!("{}?deleted=1", super::ssr::list_path(owner)));
    Ok("The endpoint is deleted, with its delivery history.".to_owned())
}

#[component]
pub fn AdminEndpointPage() -> impl IntoView {
    view! { <EndpointPage console=Console::Admin /> }
}

#[component]
pub fn OperatorEndpointPage() -> impl IntoView {
    view! { <EndpointPage console=Console::Operator /> }
}

#[component]
fn EndpointPage(console: Console) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let edit = ServerAction::<UpdateWebhook>::new();
    let act = ServerAction::<ActOnWebhook>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let redeliver = ServerAction::<RedeliverWebhook>::new();
    // Saves counted, so every save reloads the page (two saves answer the same message)
    // and a refused one does not (the form keeps what was typed).
    let saves = RwSignal::new(0usize);
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    Effect::new(move |_| match edit.value().get() {
        Some(Ok(Submitted::Done(m))) => {
            notice.set(Some(Ok(m)));
            saves.update(|n| *n += 1);
        }
        Some(Ok(Submitted::Refused(_))) => notice.set(Some(Err(AppError::new(
            "The endpoint was not saved: see the form.",
        )))),
        Some(Err(e)) => notice.set(Some(Err(e))),
        None => {}
    });
    follow_outcome(notice, act.value());
    follow_outcome(notice, redeliver.value());
    follow_outcome(notice, delete.value());
    // A rotation's secret shows in its own box; only a refusal is a flash line.
    Effect::new(move |_| match rotate.value().get() {
        Some(Ok(_)) => notice.set(None),
        Some(Err(e)) => notice.set(Some(Err(e))),
        None => {}
    });
    // Not reloaded on deletion: the endpoint is gone and the browser goes to the list.
    let detail = Resource::new_blocking(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                ListQuery::read(&query.read(), FILTERS),
                query.read().get("delivery").unwrap_or_default(),
                saves.get(),
                (
                    act.version().get(),
                    rotate.version().get(),
                    redeliver.version().get(),
                ),
            )
        },
        move |(id, list, delivery, _, _)| {
            webhook_endpoint(
                console.key().to_owned(),
                id,
                list.get("status"),
                list.cursor,
                delivery,
            )
        },
    );
    view! {
        <PageTitle text="Webhook endpoint" />
        <script src="/copy.js" defer></script>
        {when_loaded(detail, Some((console.list_path(), "All endpoints")), move |d: EndpointPageData| {
            let list = ListQuery::read(&query.read_untracked(), FILTERS);
            view! {
                <Breadcrumb console=console.start() list=(console.list_path(), "Webhooks") />
                {outcome(notice)}
                <RotatedBox rotate />
                <EndpointView console data=d list edit act rotate delete redeliver />
            }
            .into_any()
        })}
    }
}

/// The secret a rotation just made, once.
#[component]
fn RotatedBox(rotate: ServerAction<RotateWebhookSecret>) -> impl IntoView {
    move || match rotate.value().get() {
        Some(Ok(r)) => {
            let overlap = match r.both_until {
                Some(until) => format!("Until {until}, every message is signed with both the old and the new secret, so your receiver can switch over without missing one."),
                None => "The old secret no longer signs.".to_owned(),
            };
            view! {
                <SecretBox testid="secret-rotated" heading="The signing secret is rotated."
                    note=format!("Copy the new secret now and store it where your receiver can read it: it will not be shown again. {overlap}")
                    secret=r.secret>
                    <button type="button" class=SECONDARY data-testid="secret-stored" on:click=move |_| rotate.value().set(None)>"I have stored it"</button>
                </SecretBox>
            }
            .into_any()
        }
        _ => ().into_any(),
    }
}

#[component]
fn EndpointView(
    console: Console,
    data: EndpointPageData,
    list: ListQuery,
    edit: ServerAction<UpdateWebhook>,
    act: ServerAction<ActOnWebhook>,
    rotate: ServerAction<RotateWebhookSecret>,
    delete: ServerAction<DeleteWebhook>,
    redeliver: ServerAction<RedeliverWebhook>,
) -> impl IntoView {
    let EndpointPageData {
        endpoint,
        event_types: choices,
        http_allowed,
        deliveries,
        next_cursor,
        opened,
        opened_missing,
    } = data;
    let EndpointRow {
        id,
        url,
        description,
        event_types,
        status,
        rate_limit,
        failing_since,
        disabled_reason,
        previous_secret_until,
        created,
        updated,
    } = endpoint;
    let disabled = status == "disabled";
    let failing = status == "failing";
    let lead = description
        .clone()
        .unwrap_or_else(|| "No description.".to_owned());
    // Each card's children are a closure of their own: what two of them show is cloned.
    let (title, checked) = (url.clone(), event_types.clone());
    let facts = format!(" · at most {rate_limit} messages a second · added {created}");
    let (actions_id, edit_id, rotate_id, delete_id, history_id) =
        (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
    let actions = move || {
        let (test_id, toggle_id) = (actions_id.clone(), actions_id.clone());
        view! {
            <div class="flex flex-wrap items-center gap-2">
                {(!disabled).then(move || view! {
                    <ActionForm action=act>
                        <input type="hidden" name="id" value=test_id />
                        <input type="hidden" name="action" value="test" />
                        <button type="submit" class=BUTTON data-testid="send-test-event" disabled=move || act.pending().get()>"Send test event"</button>
                    </ActionForm>
                })}
                <ActionForm action=act>
                    <input type="hidden" name="id" value=toggle_id />
                    {if disabled {
                        view! {
                            <input type="hidden" name="action" value="turn-on" />
                            <button type="submit" class=SECONDARY data-testid="turn-on">"Turn on"</button>
                        }
                        .into_any()
                    } else {
                        view! {
                            <input type="hidden" name="action" value="turn-off" />
                            <ConfirmSubmit label="Turn off" testid="turn-off"
                                confirm="Turn it off? It receives no events until it is turned on again, and its pending deliveries are marked failed.".to_owned() />
                        }
                        .into_any()
                    }}
                </ActionForm>
            </div>
        }
    };
    view! {
        <DetailHeader title testid="endpoint-url" title_class="break-all font-mono" lead actions>
            <span class=endpoint_badge(&status) data-testid="endpoint-status">{title_case(&status)}</span>
            {facts}
        </DetailHeader>
        {disabled.then(|| {
            let why = disabled_reason.map(|r| format!(" Reason: {r}.")).unwrap_or_default();
            view! {
                <Note testid="disabled-note">
                    {format!("This endpoint is off: it receives no events until it is turned on again.{why}")}
                </Note>
            }
        })}
        {failing_since.map(|since| {
            let text = if failing {
                format!("Every delivery to this endpoint has failed since {since}, so it is marked failing. Gatehouse keeps sending and retrying; the first 2xx answer makes it active again.")
            } else {
                format!("Deliveries to this endpoint have failed since {since}. After 5 days without a success it is marked failing.")
            };
            view! { <Note testid="failing-note">{text}</Note> }
        })}
        <div class="grid gap-6 lg:grid-cols-5 lg:items-start">
            <Card heading_id="settings-h" title="Settings" extra="lg:col-span-3">
                <SettingsForm edit id=edit_id url description event_types=checked rate_limit choices http_allowed />
            </Card>
            <div class="space-y-6 lg:col-span-2">
                <Card heading_id="details-h" title="Details">
                    <dl class="mt-4 space-y-3 text-sm">
                        <div><dt class="text-slate-500">"Endpoint ID"</dt><dd class="break-words font-mono text-xs" data-testid="endpoint-id">{id}</dd></div>
                        <div><dt class="text-slate-500">"Event types"</dt><dd class="mt-1">{event_chips(event_types, usize::MAX)}</dd></div>
                        <div><dt class="text-slate-500">"Added"</dt><dd>{created}</dd></div>
                        <div><dt class="text-slate-500">"Last changed"</dt><dd>{updated}</dd></div>
                    </dl>
                    <ActionForm action=delete attr:class="mt-6 border-t border-slate-100 pt-4">
                        <input type="hidden" name="id" value=delete_id />
                        <ConfirmSubmit label="Delete endpoint" testid="delete-endpoint" danger=true
                            confirm="Delete this endpoint and its delivery history? This cannot be undone.".to_owned() />
                    </ActionForm>
                </Card>
                <Card heading_id="secret-h" title="Signing secret" testid="secret-card">
                    <p class="mt-1 text-sm text-slate-600">
                        "Each message carries the headers webhook-id, webhook-timestamp and webhook-signature, an HMAC-SHA256 signature made with this endpoint's secret (Standard Webhooks 1.0). Any Standard Webhooks library verifies it."
                    </p>
                    {previous_secret_until.map(|until| view! {
                        <p class="mt-2 text-sm text-slate-700" data-testid="secret-overlap">
                            {format!("Recently rotated: until {until}, the previous secret signs each message too.")}
                        </p>
                    })}
                    <ActionForm action=rotate attr:class="mt-4">
                        <input type="hidden" name="id" value=rotate_id />
                        <ConfirmSubmit label="Rotate secret" testid="rotate-secret"
                            confirm="Make a new secret? The current one keeps signing beside it for 24 hours, then stops.".to_owned() />
                    </ActionForm>
                    <p class="mt-2 text-xs text-slate-500">"The new secret is shown once. For 24 hours both secrets sign every message, so your receiver can switch without missing one."</p>
                </Card>
            </div>
        </div>
        <DeliveriesCard console endpoint_id=history_id list deliveries next_cursor opened opened_missing disabled redeliver />
    }
}

/// The settings form, filled with the endpoint's values.
#[component]
fn SettingsForm(
    edit: ServerAction<UpdateWebhook>,
    id: String,
    url: String,
    description: Option<String>,
    event_types: Vec<String>,
    rate_limit: i32,
    choices: Vec<EventTypeChoice>,
    http_allowed: bool,
) -> impl IntoView {
    let value = edit.value();
    let url_hint = if http_allowed {
        "https, or plain http on this development server."
    } else {
        "An https URL on the public internet."
    };
    view! {
        <ActionForm action=edit attr:class="mt-4 space-y-4" attr:data-testid="edit-endpoint-form">
            <input type="hidden" name="id" value=id />
            <Field id="edit-url" label="URL" field="url" problems=problems_with(value, "url")>
                <input id="edit-url" name="url" type="url" required maxlength="2000" spellcheck="false" autocomplete="off" value=url
                    class=format!("{INPUT} font-mono text-sm")
                    aria-invalid=invalid_when(value, "url") aria-describedby="url-hint url-error" />
                <p id="url-hint" class="mt-1 text-xs text-slate-500">{url_hint}</p>
            </Field>
            <div class="grid gap-4 sm:grid-cols-2">
                <Field id="edit-description" label="Description" field="description" problems=problems_with(value, "description")>
                    <input id="edit-description" name="description" maxlength="500" value=description.unwrap_or_default() class=INPUT
                        aria-invalid=invalid_when(value, "description") aria-describedby="description-error" />
                </Field>
                <Field id="edit-rate" label="Rate limit (messages per second)" field="rate_limit_per_second" problems=problems_with(value, "rate_limit_per_second")>
                    <input id="edit-rate" name="rate_limit_per_second" type="number" min="1" max="1000" step="1" value=rate_limit.to_string() required class=INPUT
                        aria-invalid=invalid_when(value, "rate_limit_per_second") aria-describedby="rate_limit_per_second-error" />
                </Field>
            </div>
            <EventTypeFields choices checked=event_types prefix="edit" problems=problems_with(value, "event_types") />
            <SubmitRow label="Save changes" testid="save-endpoint" pending=edit.pending() />
        </ActionForm>
    }
}
