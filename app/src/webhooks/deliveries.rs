//! An endpoint's delivery history, newest first, filtered by status in the URL with cursor
//! pages; a delivery opened from it (`?delivery=`) shows every attempt — time, HTTP status,
//! latency, error, the start of the answer — and the body sent, and can be redelivered.

use super::{delivery_badge, Console, DeliveryRow, OpenedDelivery};
use crate::error::AppError;
use crate::ui::*;
use leptos::prelude::*;

/// Sends a delivery again at once, with a fresh schedule of retries (its history stays).
#[server(prefix = "/_rpc", endpoint = "redeliver_webhook")]
pub async fn redeliver_webhook(
    endpoint_id: String,
    delivery_id: String,
) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::webhooks::redeliver;
    let (actor, owner) = super::ssr::owner().await?;
    let (ctx, _) = request().await?;
    let endpoint_id = super::ssr::endpoint_id(&endpoint_id)?;
    let delivery_id = crate::ui::ssr::id_of(
        &delivery_id,
        "delivery",
        "There is no such delivery in this endpoint's history.",
    )?;
    let services = services()?;
    services
        .apply(
            redeliver(
                services.pool(),
                &ctx,
                &actor,
                owner,
                endpoint_id,
                delivery_id,
            )
            .await,
        )
        .await?;
    Ok("The delivery is queued again: it is sent now, with a fresh set of retries.".to_owned())
}

/// The history card: the status filter, the deliveries, the links to older and newest
/// ones, and the delivery opened from it.
#[component]
pub(super) fn DeliveriesCard(
    console: Console,
    endpoint_id: String,
    list: ListQuery,
    deliveries: Vec<DeliveryRow>,
    next_cursor: Option<String>,
    opened: Option<OpenedDelivery>,
    opened_missing: bool,
    /// A turned-off endpoint cannot be redelivered to.
    disabled: bool,
    redeliver: ServerAction<RedeliverWebhook>,
) -> impl IntoView {
    let path = console.endpoint_path(&endpoint_id);
    let status = list.get("status");
    let filtered = list.filtered();
    // Where the page is without a delivery opened: the same filter and page.
    let here = list.link(
        &path,
        (!list.cursor.is_empty()).then_some(list.cursor.as_str()),
    );
    let opened_id = opened.as_ref().map(|d| d.row.id.clone());
    let mut head = columns(&["Event type", "Status"]);
    head.extend([
        Column::new("Attempts").right(),
        Column::new("Last HTTP status").right(),
        "Created".into(),
        "Delivered".into(),
        Column::actions(),
    ]);
    let rows: Vec<AnyView> = deliveries
        .into_iter()
        .map(|d| {
            let open = opened_id.as_deref() == Some(d.id.as_str());
            let href = if open {
                here.clone()
            } else {
                format!(
                    "{path}{}#delivery",
                    query_string(&[
                        ("status", status.as_str()),
                        ("cursor", list.cursor.as_str()),
                        ("delivery", d.id.as_str()),
                    ])
                )
            };
            let outcome = match (&d.delivered, &d.next_attempt) {
                (Some(at), _) => at.clone(),
                (None, Some(next)) => format!("next try {next}"),
                (None, None) => "—".to_owned(),
            };
            view! {
                <tr data-testid="delivery-row" data-delivery-id=d.id.clone()
                    class=if open { "bg-indigo-50" } else { "" } aria-current=open.then_some("true")>
                    <td class=format!("{TD_NOWRAP} font-mono text-xs")>{d.event_type.clone()}</td>
                    <td class=TD><span class=delivery_badge(&d.status) data-testid="delivery-status">{title_case(&d.status)}</span></td>
                    <td class=format!("{TD} text-right tabular-nums")>{d.attempts}</td>
                    <td class=format!("{TD} text-right tabular-nums") data-testid="delivery-last-status">
                        {d.last_status.map_or_else(|| "—".to_owned(), |s| s.to_string())}
                    </td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{d.created.clone()}</td>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{outcome}</td>
                    <td class=format!("{TD} text-right")>
                        <a href=href class=LINK data-testid="delivery-details">{if open { "Hide details" } else { "Details" }}</a>
                    </td>
                </tr>
            }
            .into_any()
        })
        .collect();
    let nothing = if filtered {
        "No delivery matches this filter."
    } else {
        "Nothing sent yet. Send a test event to see a delivery here."
    };
    let older = next_cursor.map(|c| list.link(&path, Some(c.as_str())));
    let newest = (!list.cursor.is_empty()).then(|| list.link(&path, None));
    let clear = path.clone();
    view! {
        <Card heading_id="deliveries-h" title="Delivery history" extra="mt-6" testid="deliveries">
            <p class="mt-1 text-sm text-slate-600">"Newest first. Deliveries are kept for 30 days."</p>
            <form method="get" action=path role="search" class="mt-4 flex flex-wrap items-end gap-3" data-testid="delivery-filters">
                <div>
                    <label for="delivery-status" class="block text-sm font-medium">"Status"</label>
                    <select id="delivery-status" name="status" class=INPUT>
                        {[("", "Any"), ("pending", "Pending"), ("delivered", "Delivered"), ("failed", "Failed")]
                            .into_iter().map(|(v, label)| choice(v, label, &status)).collect_view()}
                    </select>
                </div>
                <button type="submit" class=BUTTON data-testid="filter-submit">"Filter"</button>
                {filtered.then(|| view! { <a href=clear class=format!("{LINK} py-2 text-sm")>"Clear filter"</a> })}
            </form>
            <DataTable columns=head rows
                empty=move || view! { <EmptyNote testid="no-deliveries" text=nothing /> } />
            <nav aria-label="Pages" class="mt-4 flex justify-between text-sm">
                <span>{newest.map(|n| view! { <a href=n class=LINK data-testid="newest-page">"← Newest"</a> })}</span>
                <span>{older.map(|o| view! { <a href=o class=LINK data-testid="older-page">"Older →"</a> })}</span>
            </nav>
        </Card>
        {opened_missing.then(|| view! {
            <p class="mt-4 rounded-md border border-dashed border-slate-300 p-4 text-sm text-slate-600" data-testid="delivery-missing">
                "That delivery is not in this endpoint's history: deliveries are kept for 30 days."
            </p>
        })}
        {opened.map(|d| view! { <DeliveryDetail data=d endpoint_id close=here disabled redeliver /> })}
    }
}

/// One delivery: its facts, every attempt, the body sent, and redelivery.
#[component]
fn DeliveryDetail(
    data: OpenedDelivery,
    endpoint_id: String,
    /// The history without this delivery opened.
    close: String,
    disabled: bool,
    redeliver: ServerAction<RedeliverWebhook>,
) -> impl IntoView {
    let OpenedDelivery {
        row,
        event_id,
        body,
        attempts,
    } = data;
    let delivery_id = row.id.clone();
    let mut head = columns(&["Time", "HTTP status"]);
    head.extend([
        Column::new("Latency").right(),
        "Error".into(),
        "Response".into(),
    ]);
    let rows: Vec<AnyView> = attempts
        .into_iter()
        .map(|a| {
            view! {
                <tr data-testid="attempt-row">
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{a.at}</td>
                    <td class=format!("{TD} tabular-nums") data-testid="attempt-status">
                        {a.status_code.map_or_else(|| "No answer".to_owned(), |s| s.to_string())}
                    </td>
                    <td class=format!("{TD_NOWRAP} text-right tabular-nums")>{format!("{} ms", a.latency_ms)}</td>
                    <td class=format!("{TD} break-words text-red-700")>{a.error.unwrap_or_else(|| "—".to_owned())}</td>
                    <td class=TD>
                        {match a.response {
                            Some(r) if !r.is_empty() => view! {
                                <pre class="max-h-48 max-w-md overflow-auto whitespace-pre-wrap break-all rounded bg-slate-50 p-2 font-mono text-xs" data-testid="attempt-response">{r}</pre>
                            }.into_any(),
                            _ => view! { <span class="text-slate-500">"—"</span> }.into_any(),
                        }}
                    </td>
                </tr>
            }
            .into_any()
        })
        .collect();
    let delivered = row
        .delivered
        .clone()
        .unwrap_or_else(|| "Not yet".to_owned());
    view! {
        <div id="delivery" class="mt-6">
            <Card heading_id="delivery-h" title="Delivery" testid="delivery-detail"
                aside=move || view! { <a href=close.clone() class=format!("{LINK} text-sm") data-testid="close-delivery">"Close"</a> }>
                <dl class="mt-4 grid gap-3 text-sm sm:grid-cols-3">
                    <div><dt class="text-slate-500">"Event type"</dt><dd class="font-mono text-xs" data-testid="delivery-event-type">{row.event_type.clone()}</dd></div>
                    <div>
                        <dt class="text-slate-500">"Status"</dt>
                        <dd><span class=delivery_badge(&row.status) data-testid="delivery-detail-status">{title_case(&row.status)}</span></dd>
                    </div>
                    <div><dt class="text-slate-500">"Message ID (webhook-id)"</dt><dd class="break-all font-mono text-xs">{event_id}</dd></div>
                    <div><dt class="text-slate-500">"Created"</dt><dd>{row.created.clone()}</dd></div>
                    <div><dt class="text-slate-500">"Delivered"</dt><dd>{delivered}</dd></div>
                    {row.next_attempt.clone().map(|next| view! {
                        <div><dt class="text-slate-500">"Next attempt"</dt><dd>{next}</dd></div>
                    })}
                </dl>
                {row.last_error.clone().map(|e| view! {
                    <p class="mt-3 text-sm text-red-700" data-testid="delivery-last-error">{format!("Last error: {e}")}</p>
                })}
                <div class="mt-4">
                    {if disabled {
                        view! { <p class="text-sm text-slate-600">"Turn the endpoint on to redeliver."</p> }.into_any()
                    } else {
                        view! {
                            <ActionForm action=redeliver>
                                <input type="hidden" name="endpoint_id" value=endpoint_id />
                                <input type="hidden" name="delivery_id" value=delivery_id />
                                <button type="submit" class=SECONDARY data-testid="redeliver" disabled=move || redeliver.pending().get()>"Redeliver"</button>
                            </ActionForm>
                        }.into_any()
                    }}
                </div>
                <h3 class="mt-6 text-sm font-semibold">"Attempts"</h3>
                <DataTable columns=head rows
                    empty=|| view! { <p class="mt-2 text-sm text-slate-600" data-testid="no-attempts">"No attempt yet: the first is due in a moment."</p> } />
                <h3 class="mt-6 text-sm font-semibold">"Body sent"</h3>
                <pre class="mt-2 max-h-96 overflow-auto rounded bg-slate-50 p-3 font-mono text-xs" data-testid="delivery-body">{body}</pre>
            </Card>
        </div>
    }
}
