//! `/admin/webhooks` and `/operator/webhooks`, each with its `/:id` page (SPEC §9;
//! Standard Webhooks 1.0): the endpoints a tenant's owners and admins register for their
//! tenant's events, and those operators register for the platform, which receive every
//! tenant's events. Both consoles share these pages; [`Console`] says which one a page
//! belongs to, and the signed-in person's role decides whose endpoints they manage
//! (`webhooks::Owner::of`).
//!
//! `endpoints` holds the list and the form that adds an endpoint (its secret shown once);
//! `endpoint` one endpoint's page: its settings, a test event, secret rotation, turning it
//! off and on, deletion; `deliveries` its delivery history, one delivery's attempts and the
//! body sent, and redelivery.
//!
//! Every server function authenticates itself and hands the signed-in person to the
//! domain, which refuses everyone but owners, admins and operators, and answers "not found"
//! for another owner's endpoint.

mod deliveries;
mod endpoint;
mod endpoints;

pub use endpoint::{AdminEndpointPage, OperatorEndpointPage};
pub use endpoints::{AdminEndpointsPage, OperatorEndpointsPage};

use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The console a webhooks page belongs to: Tenant Administration (the tenant's own
/// endpoints) or the Operator Console (the platform's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    Admin,
    Operator,
}

impl Console {
    /// The console's key for [`crate::auth::roles_for_page`], as the page's server
    /// functions receive it.
    pub fn key(self) -> &'static str {
        match self {
            Console::Admin => "admin",
            Console::Operator => "operator",
        }
    }

    pub fn list_path(self) -> &'static str {
        match self {
            Console::Admin => "/admin/webhooks",
            Console::Operator => "/operator/webhooks",
        }
    }

    pub fn endpoint_path(self, id: &str) -> String {
        format!("{}/{id}", self.list_path())
    }

    /// The console's start page, the first link of the breadcrumb.
    pub fn start(self) -> Link {
        match self {
            Console::Admin => TENANT_ADMINISTRATION,
            Console::Operator => OPERATOR_CONSOLE,
        }
    }

    fn subtitle(self) -> &'static str {
        match self {
            Console::Admin => {
                "Send your organisation's events to your own systems as signed HTTP requests."
            }
            Console::Operator => {
                "Platform endpoints: each receives the events it subscribes to from every tenant."
            }
        }
    }

    /// What a webhook is, for the empty list.
    fn explanation(self) -> &'static str {
        match self {
            Console::Admin => {
                "A webhook endpoint is a URL of yours that Gatehouse calls when something happens in your organisation: a person invited, a role changed, a flag updated. Each call is a signed HTTP POST, retried until your server answers. Add one below."
            }
            Console::Operator => {
                "A platform endpoint receives the events it subscribes to from every tenant: a tenant created or suspended, a plan changed, a person invited. Each call is a signed HTTP POST, retried until the receiver answers. Add one below."
            }
        }
    }
}

/// One type of the event catalog, as the forms offer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTypeChoice {
    pub name: String,
    pub description: String,
}

/// One endpoint as the pages show it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    /// `active`, `failing` or `disabled`.
    pub status: String,
    pub rate_limit: i32,
    /// Since when every attempt has failed, if they have.
    pub failing_since: Option<String>,
    pub disabled_reason: Option<String>,
    /// Until when the previous secret still signs beside the current one (a rotation).
    pub previous_secret_until: Option<String>,
    pub created: String,
    pub updated: String,
}

/// One delivery of an event to the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    /// The last answer's HTTP status, if one came.
    pub last_status: Option<i16>,
    pub last_error: Option<String>,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt: Option<String>,
    pub created: String,
    pub delivered: Option<String>,
}

/// One attempt of a delivery: what the receiver answered, and how fast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRow {
    pub at: String,
    pub status_code: Option<i16>,
    pub latency_ms: i32,
    pub error: Option<String>,
    /// The first kilobyte of the answer's body.
    pub response: Option<String>,
}

/// The delivery opened from the history: every attempt, and the body sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedDelivery {
    pub row: DeliveryRow,
    /// The `webhook-id` the receiver sees (the same on every attempt).
    pub event_id: String,
    /// The body sent, pretty-printed.
    pub body: String,
    pub attempts: Vec<AttemptRow>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::{AttemptRow, Console, DeliveryRow, EndpointRow, EventTypeChoice, OpenedDelivery};
    use crate::error::AppError;
    use crate::ui::ssr::{actor_of, console_session, when};
    use crate::ui::Problem;
    use gatehouse_domain::audit::EventType;
    use gatehouse_domain::permissions::Actor;
    use gatehouse_domain::webhooks::{Delivery, DeliveryDetail, Endpoint, Owner};
    use gatehouse_domain::DomainError;
    use time::{OffsetDateTime, UtcOffset};

    const NOT_FOUND: &str = "There is no webhook endpoint with this ID.";

    /// The console a page's server function was called for.
    pub fn console(key: &str) -> Result<Console, AppError> {
        match key {
            "admin" => Ok(Console::Admin),
            "operator" => Ok(Console::Operator),
            _ => Err(AppError::invalid("unknown console")),
        }
    }

    /// The person opening a page of `console` at `path`, and whose endpoints they manage:
    /// others are sent to sign in or refused as the console guard refuses them.
    pub async fn owner_for_page(console: Console, path: &str) -> Result<(Actor, Owner), AppError> {
        let actor = actor_of(&console_session(console.key(), path).await?);
        let owner = Owner::of(&actor, None)?;
        Ok((actor, owner))
    }

    /// The signed-in person behind a change, and whose endpoints they manage (owners and
    /// admins their tenant's, operators the platform's).
    pub async fn owner() -> Result<(Actor, Owner), AppError> {
        let actor = crate::ui::ssr::actor().await?;
        let owner = Owner::of(&actor, None)?;
        Ok((actor, owner))
    }

    /// Where an owner's endpoints are listed.
    pub fn list_path(owner: Owner) -> &'static str {
        match owner {
            Owner::Platform => Console::Operator.list_path(),
            Owner::Tenant(_) => Console::Admin.list_path(),
        }
    }

    /// An endpoint id from a URL or a form; anything else is "not found".
    pub fn endpoint_id(raw: &str) -> Result<uuid::Uuid, AppError> {
        crate::ui::ssr::id_of(raw, "webhook endpoint", NOT_FOUND)
    }

    pub fn page_error(err: DomainError) -> AppError {
        crate::ui::ssr::not_found_as(err, NOT_FOUND)
    }

    /// The types an endpoint can subscribe to, in catalog order.
    pub fn catalog() -> Vec<EventTypeChoice> {
        EventType::subscribable()
            .map(|t| EventTypeChoice {
                name: t.as_str().to_owned(),
                description: t.description().to_owned(),
            })
            .collect()
    }

    /// The rate limit field: empty leaves it to the domain (its default, or unchanged).
    pub fn rate(raw: &str) -> Result<Option<i32>, Problem> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        raw.parse::<i32>().map(Some).map_err(|_| Problem {
            field: "rate_limit_per_second".into(),
            message: "must be a whole number between 1 and 1000".into(),
        })
    }

    /// This answer carries a secret: no cache may keep it.
    pub fn no_store() {
        if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            res.insert_header(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
        }
    }

    /// A moment to the second: attempts can be seconds apart.
    fn when_exact(t: OffsetDateTime) -> String {
        let t = t.to_offset(UtcOffset::UTC);
        format!(
            "{}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    pub fn endpoint_row(e: Endpoint) -> EndpointRow {
        let now = OffsetDateTime::now_utc();
        EndpointRow {
            id: e.id.to_string(),
            url: e.url,
            description: e.description,
            event_types: e.event_types,
            status: e.status,
            rate_limit: e.rate_limit_per_second,
            failing_since: e.failing_since.map(when),
            disabled_reason: e.disabled_reason,
            previous_secret_until: e
                .previous_secret_expires_at
                .filter(|until| *until > now)
                .map(when),
            created: when(e.created_at),
            updated: when(e.updated_at),
        }
    }

    pub fn delivery_row(d: Delivery) -> DeliveryRow {
        DeliveryRow {
            id: d.id.to_string(),
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            next_attempt: d.next_attempt_at.map(when),
            created: when(d.created_at),
            delivered: d.delivered_at.map(when),
        }
    }

    pub fn opened_delivery(d: DeliveryDetail) -> OpenedDelivery {
        OpenedDelivery {
            event_id: d.delivery.event_id.to_string(),
            body: leptos::serde_json::to_string_pretty(&d.body).unwrap_or_default(),
            attempts: d
                .attempts_made
                .into_iter()
                .map(|a| AttemptRow {
                    at: when_exact(a.attempted_at),
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error,
                    response: a.response_excerpt,
                })
                .collect(),
            row: delivery_row(d.delivery),
        }
    }
}

/// An endpoint's status badge: failing in red.
fn endpoint_badge(status: &str) -> &'static str {
    badge(match status {
        "failing" => "failure",
        other => other,
    })
}

/// A delivery's status badge: delivered green, pending amber, failed red.
fn delivery_badge(status: &str) -> &'static str {
    badge(match status {
        "delivered" => "success",
        "pending" => "expired",
        "failed" => "failure",
        other => other,
    })
}

/// The subscribed event types as chips; past `max`, the rest as "+N more" (all of them in
/// its title).
fn event_chips(types: Vec<String>, max: usize) -> AnyView {
    let more = types.len().saturating_sub(max);
    let all = types.join(", ");
    view! {
        <div class="flex max-w-md flex-wrap gap-1" data-testid="event-types">
            {types.into_iter().take(max).map(|t| view! {
                <span class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs">{t}</span>
            }).collect_view()}
            {(more > 0).then(move || view! {
                <span class="px-1 text-xs text-slate-600" title=all>{format!("+{more} more")}</span>
            })}
        </div>
    }
    .into_any()
}

/// The event type checkboxes of the add and edit forms, each with what it announces.
#[component]
fn EventTypeFields(
    choices: Vec<EventTypeChoice>,
    /// The types ticked when the form opens.
    checked: Vec<String>,
    /// Keeps the checkboxes' ids apart from other forms'.
    prefix: &'static str,
    problems: impl Fn() -> Vec<String> + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <fieldset aria-describedby="event_types-hint event_types-error">
            <legend class="block text-sm font-medium">"Event types"</legend>
            <p id="event_types-hint" class="mt-1 text-xs text-slate-500">"The endpoint receives only the events ticked here."</p>
            <div class="mt-2 grid gap-2 sm:grid-cols-2">
                {choices.into_iter().map(|c| {
                    let id = format!("{prefix}-event-{}", c.name.replace('.', "-"));
                    let ticked = checked.contains(&c.name);
                    let label_for = id.clone();
                    view! {
                        <label for=label_for class="flex items-start gap-2 text-sm">
                            <input id=id type="checkbox" name="event_types[]" value=c.name.clone() checked=ticked
                                data-testid=format!("event-type-{}", c.name)
                                class="mt-0.5 h-4 w-4 shrink-0 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" />
                            <span>
                                <span class="font-mono">{c.name.clone()}</span>
                                <span class="block text-xs text-slate-600">{c.description.clone()}</span>
                            </span>
                        </label>
                    }
                }).collect_view()}
            </div>
            <FieldProblems field="event_types" problems />
        </fieldset>
    }
}

/// A signing secret shown the one time it leaves the server, with a copy button
/// (`public/copy.js`, loaded by the page) and the warning that it is not shown again; the
/// children hold what comes next (a link, the button that puts the box away).
#[component]
fn SecretBox(
    testid: &'static str,
    #[prop(into)] heading: String,
    #[prop(into)] note: String,
    secret: String,
    children: Children,
) -> impl IntoView {
    view! {
        <div role="status" class="mb-6 space-y-3 rounded-lg border-2 border-amber-400 bg-amber-50 p-4" data-testid=testid>
            <p class="font-semibold text-amber-900">{heading}</p>
            <p class="text-sm font-medium text-amber-900" data-testid="secret-warning">{note}</p>
            <div>
                <label for="signing-secret" class="block text-sm font-medium text-amber-900">"Signing secret"</label>
                <div class="mt-1 flex gap-2">
                    <input id="signing-secret" data-testid="signing-secret" readonly value=secret.clone() spellcheck="false" autocomplete="off"
                        class="block w-full rounded-md border border-amber-300 bg-white px-3 py-2 font-mono text-sm focus:outline-none focus:ring-2 focus:ring-amber-500" />
                    <button type="button" class=SECONDARY data-copy=secret data-testid="copy-signing-secret">"Copy"</button>
                </div>
            </div>
            <div class="flex flex-wrap items-center gap-3">{children()}</div>
        </div>
    }
}
