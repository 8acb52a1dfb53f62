//! Maintenance windows (NFR-OPS-002) in the consoles: `/operator/maintenance`, where
//! operators schedule a window (start, end and a message for the tenants), see the windows
//! to come and the past ones, and cancel one after a confirmation; and
//! [`MaintenanceBanner`], the line the tenants' pages (`/admin…`, `/account…`) show from a
//! week before a window starts until it ends.
//!
//! The form's times are `datetime-local` values read as UTC (the page says so): a window
//! is the same moment for every tenant, whatever the operator's browser thinks the time
//! zone is. Every server function authenticates itself; the domain refuses everyone but
//! operators. The banner's function needs no session: what it shows is public
//! (`GET /api/v1/status` says the same).

use crate::error::AppError;
use crate::layout::PageTitle;
use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One window as the console lists it; times are UTC, to the minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowRow {
    pub id: String,
    pub starts: String,
    pub ends: String,
    pub message: String,
    /// `scheduled`, `in progress`, `ended` or `cancelled`.
    pub state: String,
    /// When it was cancelled, if it was.
    pub cancelled: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenancePageData {
    /// In progress or to come, soonest first.
    pub upcoming: Vec<WindowRow>,
    /// Over or cancelled, newest first.
    pub past: Vec<WindowRow>,
    /// The time now, UTC, to the minute: what the form's times are read against.
    pub now: String,
}

/// One line of the tenants' banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BannerLine {
    pub text: String,
    pub in_progress: bool,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{BannerLine, WindowRow};
    use gatehouse_domain::tenants::{MaintenanceWindow, WindowState};
    use time::{OffsetDateTime, UtcOffset};

    pub const NOT_FOUND: &str = "There is no maintenance window with this ID.";

    /// `2026-12-06 09:30`: a moment in UTC to the minute (the pages add "UTC").
    pub fn minute(t: OffsetDateTime) -> String {
        let t = t.to_offset(UtcOffset::UTC);
        format!(
            "{}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    }

    pub fn row(w: MaintenanceWindow, now: OffsetDateTime) -> WindowRow {
        WindowRow {
            id: w.id.to_string(),
            starts: minute(w.starts_at),
            ends: minute(w.ends_at),
            state: w.state(now).as_str().to_owned(),
            cancelled: w.cancelled_at.map(crate::ui::ssr::when),
            message: w.message,
        }
    }

    pub fn banner_line(w: &MaintenanceWindow, now: OffsetDateTime) -> BannerLine {
        let in_progress = w.state(now) == WindowState::InProgress;
        let lead = if in_progress {
            "Maintenance in progress"
        } else {
            "Scheduled maintenance"
        };
        BannerLine {
            text: format!(
                "{lead}: {} — from {} to {} UTC",
                w.message,
                minute(w.starts_at),
                minute(w.ends_at)
            ),
            in_progress,
        }
    }
}

/// The page's one resource, so it also guards the page.
#[server(prefix = "/_rpc", endpoint = "maintenance_windows")]
pub async fn maintenance_windows() -> Result<MaintenancePageData, AppError> {
    use crate::auth::ssr::pool;
    use gatehouse_domain::tenants::list_maintenance_windows;
    let actor = crate::ui::ssr::operator_for_page("/operator/maintenance").await?;
    let list = list_maintenance_windows(&pool()?, &actor).await?;
    let now = time::OffsetDateTime::now_utc();
    Ok(MaintenancePageData {
        upcoming: list
            .upcoming
            .into_iter()
            .map(|w| ssr::row(w, now))
            .collect(),
        past: list.past.into_iter().map(|w| ssr::row(w, now)).collect(),
        now: ssr::minute(now),
    })
}

/// Schedules a window from the form: `datetime-local` times read as UTC, and the message.
/// Every problem shows beside its field.
#[server(prefix = "/_rpc", endpoint = "schedule_maintenance_window")]
pub async fn schedule_maintenance_window(
    #[server(default)] starts_at: String,
    #[server(default)] ends_at: String,
    #[server(default)] message: String,
) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::tenants::{schedule_maintenance, NewMaintenanceWindow};
    let actor = crate::ui::ssr::actor().await?;
    let (ctx, _) = request().await?;
    let now = time::OffsetDateTime::now_utc();
    let new = match NewMaintenanceWindow::parse(&starts_at, &ends_at, &message, now) {
        Ok(new) => new,
        Err(e) => return crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    };
    let services = services()?;
    match services
        .apply(schedule_maintenance(services.pool(), &ctx, &actor, new).await)
        .await
    {
        Ok(w) => Ok(Submitted::Done(format!(
            "Maintenance is scheduled from {} to {} UTC. Webhooks and the status API announce it now; tenants see it in their consoles from 7 days before it starts.",
            ssr::minute(w.starts_at),
            ssr::minute(w.ends_at)
        ))),
        Err(e) => crate::ui::ssr::form_refusal(e).map(Submitted::Refused),
    }
}

/// Cancels a window that is not over: tenants stop seeing it, and endpoints get
/// `maintenance.cancelled`.
#[server(prefix = "/_rpc", endpoint = "cancel_maintenance_window")]
pub async fn cancel_maintenance_window(id: String) -> Result<String, AppError> {
    use crate::auth::ssr::{request, services};
    use gatehouse_domain::tenants::cancel_maintenance;
    let actor = crate::ui::ssr::actor().await?;
    let (ctx, _) = request().await?;
    let id = crate::ui::ssr::id_of(&id, "maintenance window", ssr::NOT_FOUND)?;
    let services = services()?;
    let w = services
        .apply(cancel_maintenance(services.pool(), &ctx, &actor, id).await)
        .await
        .map_err(|e| crate::ui::ssr::not_found_as(e, ssr::NOT_FOUND))?;
    Ok(format!(
        "The maintenance from {} to {} UTC is cancelled: tenants no longer see it, and webhooks announce the cancellation.",
        ssr::minute(w.starts_at),
        ssr::minute(w.ends_at)
    ))
}

/// The banner's lines: every window in progress, or starting within a week. Public, like
/// `GET /api/v1/status`, so it needs no session; a failure leaves the banner out rather
/// than the page (it is logged).
#[server(prefix = "/_rpc", endpoint = "maintenance_banner_lines")]
pub async fn maintenance_banner_lines() -> Result<Vec<BannerLine>, AppError> {
    use crate::auth::ssr::pool;
    let now = time::OffsetDateTime::now_utc();
    let windows = match gatehouse_domain::tenants::upcoming_windows(&pool()?).await {
        Ok(windows) => windows,
        Err(e) => {
            tracing::warn!(error = %e, "reading the maintenance windows for the banner failed");
            return Ok(Vec::new());
        }
    };
    Ok(windows
        .iter()
        .filter(|w| w.announced(now))
        .map(|w| ssr::banner_line(w, now))
        .collect())
}

/// Whether `path` is a tenant-facing console page: Tenant Administration or the account.
fn is_tenant_console(path: &str) -> bool {
    ["/admin", "/account"].iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// NFR-OPS-002: "Scheduled maintenance: {message} — from {start} to {end} UTC" above the
/// tenants' pages, from a week before a window starts until it ends. Asked once when the
/// browser arrives on those pages, not again on every navigation among them.
#[component]
pub fn MaintenanceBanner() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let shown_here = Memo::new(move |_| is_tenant_console(&location.pathname.get()));
    let lines = Resource::new(
        move || shown_here.get(),
        |shown| async move {
            if shown {
                maintenance_banner_lines().await.unwrap_or_default()
            } else {
                Vec::new()
            }
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || {
                lines
                    .get()
                    .filter(|lines| shown_here.get() && !lines.is_empty())
                    .map(|lines| view! {
                        <aside aria-label="Scheduled maintenance" data-testid="maintenance-banner"
                            class="mb-6 space-y-1 rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm font-medium text-amber-900">
                            {lines.into_iter().map(|l| view! {
                                <p data-testid="maintenance-line" data-in-progress=l.in_progress.to_string()>{l.text}</p>
                            }).collect_view()}
                        </aside>
                    })
            }}
        </Transition>
    }
}

#[component]
pub fn MaintenancePage() -> impl IntoView {
    let schedule = ServerAction::<ScheduleMaintenanceWindow>::new();
    let cancel = ServerAction::<CancelMaintenanceWindow>::new();
    // One flash line for both actions: the latest outcome.
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    // Windows scheduled, counted, so each one reloads the list and a refused form does not
    // (it keeps what was typed).
    let scheduled = RwSignal::new(0usize);
    Effect::new(move |_| match schedule.value().get() {
        Some(Ok(Submitted::Done(m))) => {
            notice.set(Some(Ok(m)));
            scheduled.update(|n| *n += 1);
        }
        Some(Ok(Submitted::Refused(_))) => notice.set(Some(Err(AppError::new(
            "The window was not scheduled: see the form below.",
        )))),
        Some(Err(e)) => notice.set(Some(Err(e))),
        None => {}
    });
    follow_outcome(notice, cancel.value());
    let windows = Resource::new_blocking(
        move || (scheduled.get(), cancel.version().get()),
        |_| maintenance_windows(),
    );
    view! {
        <PageTitle text="Maintenance" />
        {when_loaded(windows, None, move |d: MaintenancePageData| {
            view! {
                <ListHeader console=OPERATOR_CONSOLE title="Maintenance"
                    subtitle="Announce planned maintenance to every tenant: a banner in their consoles, webhooks, and GET /api/v1/status." />
                {outcome(notice)}
                <div class="space-y-6">
                    <UpcomingCard rows=d.upcoming cancel />
                    <ScheduleForm action=schedule now=d.now />
                    <PastCard rows=d.past />
                </div>
            }
            .into_any()
        })}
    }
}

/// A window's status badge: in progress amber, over or cancelled grey.
fn window_badge(state: &str) -> &'static str {
    badge(match state {
        "in progress" => "expired",
        "ended" => "disabled",
        "cancelled" => "revoked",
        _ => "scheduled",
    })
}

/// The cells both lists share.
fn window_cells(w: &WindowRow) -> AnyView {
    view! {
        <td class=format!("{TD_NOWRAP} tabular-nums")>{w.starts.clone()}</td>
        <td class=format!("{TD_NOWRAP} tabular-nums")>{w.ends.clone()}</td>
        <td class=TD data-testid="window-message">{w.message.clone()}</td>
        <td class=TD_NOWRAP>
            <span class=window_badge(&w.state) data-testid="window-state" title=w.cancelled.clone().map(|c| format!("Cancelled {c}"))>
                {title_case(&w.state)}
            </span>
        </td>
    }
    .into_any()
}

const WINDOW_COLUMNS: &[&str] = &["Starts (UTC)", "Ends (UTC)", "Message", "Status"];

#[component]
fn UpcomingCard(
    rows: Vec<WindowRow>,
    cancel: ServerAction<CancelMaintenanceWindow>,
) -> impl IntoView {
    let count = rows.len();
    let mut head = columns(WINDOW_COLUMNS);
    head.push(Column::actions());
    let rows: Vec<AnyView> = rows
        .into_iter()
        .map(|w| {
            let confirm = format!(
                "Cancel the maintenance from {} to {} UTC? Tenants stop seeing it, and webhooks announce the cancellation.",
                w.starts, w.ends
            );
            let cells = window_cells(&w);
            let WindowRow { id, message, state, .. } = w;
            view! {
                <tr data-testid="window-row" data-message=message data-state=state>
                    {cells}
                    <td class=format!("{TD} text-right")>
                        <ActionForm action=cancel>
                            <input type="hidden" name="id" value=id />
                            <ConfirmSubmit label="Cancel window" testid="cancel-window" danger=true confirm />
                        </ActionForm>
                    </td>
                </tr>
            }
            .into_any()
        })
        .collect();
    view! {
        <Card heading_id="upcoming-h" title="Upcoming" testid="upcoming-windows" aside=move || in_all(count, Some("upcoming-count"))>
            <DataTable columns=head rows
                empty=|| view! {
                    <EmptyState testid="no-upcoming" title="No maintenance is scheduled.">
                        "Schedule a window below: tenants see it in their consoles from a week before it starts."
                    </EmptyState>
                } />
        </Card>
    }
}

#[component]
fn ScheduleForm(action: ServerAction<ScheduleMaintenanceWindow>, now: String) -> impl IntoView {
    let value = action.value();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_when_done(action.version(), value, form);
    view! {
        <Card heading_id="schedule-h" title="Schedule a window">
            <p id="utc-note" class="mt-1 text-sm text-slate-600" data-testid="utc-note">
                {format!("Start and end are in UTC, not your browser's time zone: it is {now} UTC now. A window lasts at most 7 days.")}
            </p>
            <ActionForm action=action node_ref=form attr:class="mt-4 grid gap-4 md:grid-cols-2" attr:data-testid="schedule-form">
                <Field id="maintenance-starts" label="Starts (UTC)" field="starts_at" problems=problems_with(value, "starts_at")>
                    <input id="maintenance-starts" name="starts_at" type="datetime-local" required class=INPUT
                        aria-invalid=invalid_when(value, "starts_at") aria-describedby="utc-note starts_at-error" />
                </Field>
                <Field id="maintenance-ends" label="Ends (UTC)" field="ends_at" problems=problems_with(value, "ends_at")>
                    <input id="maintenance-ends" name="ends_at" type="datetime-local" required class=INPUT
                        aria-invalid=invalid_when(value, "ends_at") aria-describedby="utc-note ends_at-error" />
                </Field>
                <Field id="maintenance-message" label="Message for tenants" field="message" problems=problems_with(value, "message") extra="md:col-span-2">
                    <input id="maintenance-message" name="message" type="text" required maxlength="500"
                        placeholder="Database upgrade: sign-in may be unavailable for up to 20 minutes." class=INPUT
                        aria-invalid=invalid_when(value, "message") aria-describedby="message-hint message-error" />
                    <p id="message-hint" class="mt-1 text-xs text-slate-500">"One line, at most 500 characters, shown as written in the banner, the webhooks and the status API."</p>
                </Field>
                <SubmitRow label="Schedule maintenance" testid="schedule-submit" pending=action.pending() extra="md:col-span-2" />
            </ActionForm>
        </Card>
    }
}

#[component]
fn PastCard(rows: Vec<WindowRow>) -> impl IntoView {
    let rows: Vec<AnyView> = rows
        .into_iter()
        .map(|w| {
            let cells = window_cells(&w);
            view! {
                <tr data-testid="past-window-row" data-message=w.message data-state=w.state>
                    {cells}
                </tr>
            }
            .into_any()
        })
        .collect();
    view! {
        <Card heading_id="past-h" title="Past and cancelled" testid="past-windows">
            <DataTable columns=columns(WINDOW_COLUMNS) rows
                empty=|| view! { <EmptyNote text="No maintenance window has ended or been cancelled yet." testid="no-past" /> } />
        </Card>
    }
}

#[cfg(test)]
mod tests {
    use super::is_tenant_console;

    #[test]
    fn the_banner_belongs_to_tenant_administration_and_the_account() {
        for path in [
            "/admin",
            "/admin/users",
            "/admin/users/1",
            "/account",
            "/account/mfa/totp",
        ] {
            assert!(is_tenant_console(path), "{path}");
        }
        for path in [
            "/",
            "/login",
            "/operator",
            "/operator/maintenance",
            "/audit",
            "/administrator",
            "/accounts",
        ] {
            assert!(!is_tenant_console(path), "{path}");
        }
    }
}
