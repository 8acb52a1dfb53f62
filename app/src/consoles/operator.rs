//! `/operator`: the Operator Console's dashboard (FR-OPS-001) — tenants by status and plan,
//! the server's health (database, email outbox backlog, error rate from its own request
//! counts, usage events ingested and refused), recent control-plane events, and the way to
//! each area of the console.

use crate::audit::{AuditRow, RecentAudit};
use crate::error::AppError;
use crate::layout::{Area, AreaCards, PageHeader, PageTitle};
use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub tenants_total: i64,
    pub tenants_by_status: Vec<(String, i64)>,
    pub tenants_by_plan: Vec<(String, i64)>,
    pub users_total: i64,
    pub recent: Vec<AuditRow>,
    pub outbox_pending: i64,
    pub outbox_failed: i64,
    pub oldest_pending: Option<String>,
    /// Why waiting mail is not going out (e.g. the SMTP server unreachable).
    pub outbox_error: Option<String>,
    pub database_ms: f64,
    pub requests: u64,
    pub server_errors: u64,
    /// Usage events received and refused over the window (issue 19).
    pub usage_events: u64,
    pub usage_refused: u64,
    pub window_minutes: u64,
    /// The last backup and verify.
    pub backups: Vec<BackupLine>,
}

/// One line of the Backups card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupLine {
    /// `create` or `verify`.
    pub kind: String,
    /// A backup in the last 26 h (a verify in the last 8 days), and the newest run not failed.
    pub healthy: bool,
    pub text: String,
}

#[server(prefix = "/_rpc", endpoint = "operator_dashboard")]
pub async fn operator_dashboard() -> Result<DashboardData, AppError> {
    use crate::audit::ssr::audit_row;
    use crate::auth::ssr::pool;
    use crate::ui::ssr::{operator_for_page, when};
    // The page's one resource, so it also guards the page.
    let actor = operator_for_page("/operator").await?;
    let d = gatehouse_domain::tenants::dashboard(&pool()?, Some(&actor)).await?;
    let (requests, server_errors) = crate::request_stats::snapshot();
    let (usage_events, usage_refused) = crate::request_stats::usage_snapshot();
    let pairs = |counts: Vec<gatehouse_domain::tenants::Count>| {
        counts.into_iter().map(|c| (c.label, c.count)).collect()
    };
    let now = time::OffsetDateTime::now_utc();
    let backups = d
        .backups
        .into_iter()
        .map(|b| {
            let promise = if b.kind == "create" {
                time::Duration::hours(26)
            } else {
                time::Duration::days(8)
            };
            let fresh = b.last_success_at.is_some_and(|t| now - t <= promise);
            let failure = b
                .last_failure
                .map(|f| format!("; the last run failed: {f}"));
            let text = match b.last_success_at {
                None if b.last_ok.is_none() => "never run".to_owned(),
                None => format!("never succeeded{}", failure.unwrap_or_default()),
                Some(t) => format!(
                    "{}{}{}",
                    when(t),
                    b.size_bytes
                        .map(|s| format!(" ({:.1} MB)", s as f64 / 1_000_000.0))
                        .unwrap_or_default(),
                    failure.unwrap_or_default()
                ),
            };
            BackupLine {
                healthy: fresh && b.last_ok != Some(false),
                kind: b.kind,
                text,
            }
        })
        .collect();
    Ok(DashboardData {
        tenants_total: d.tenants_total,
        tenants_by_status: pairs(d.tenants_by_status),
        tenants_by_plan: pairs(d.tenants_by_plan),
        users_total: d.users_total,
        recent: d.recent.into_iter().map(audit_row).collect(),
        outbox_pending: d.outbox.pending,
        outbox_failed: d.outbox.failed,
        oldest_pending: d.outbox.oldest_pending.map(when),
        outbox_error: d.outbox.last_error,
        database_ms: d.database_ms,
        requests,
        server_errors,
        usage_events,
        usage_refused,
        window_minutes: crate::request_stats::WINDOW_MINUTES,
        backups,
    })
}

/// The console's areas.
const AREAS: &[Area] = &[
    (
        "/operator/tenants",
        "Tenants",
        "Provision, suspend and reactivate tenants; change plans.",
        "operator-tenants",
    ),
    (
        "/operator/flags",
        "Feature flags",
        "Definitions, plan defaults, overrides, history and stale flags.",
        "operator-flags",
    ),
    (
        "/operator/applications",
        "Applications",
        "Managed applications, redirect URIs and API keys.",
        "operator-applications",
    ),
    (
        "/operator/webhooks",
        "Webhooks",
        "Platform endpoints that receive every tenant's events; delivery history.",
        "operator-webhooks",
    ),
    (
        "/operator/maintenance",
        "Maintenance",
        "Schedule maintenance windows: a banner for tenants, webhooks and GET /api/v1/status.",
        "operator-maintenance",
    ),
];

#[component]
pub fn OperatorPage() -> impl IntoView {
    let dashboard = Resource::new_blocking(|| (), |_| operator_dashboard());
    view! {
        <PageTitle text="Operator Console" />
        {when_loaded(dashboard, None, |d: DashboardData| view! {
            <PageHeader title="Operator Console" subtitle="For the vendor's operators (MFA required)." />
            <AreaCards areas=AREAS />
            <Dashboard data=d />
        }.into_any())}
    }
}

#[component]
fn Dashboard(data: DashboardData) -> impl IntoView {
    let error_rate = if data.requests == 0 {
        0.0
    } else {
        data.server_errors as f64 * 100.0 / data.requests as f64
    };
    let healthy_errors = error_rate < 1.0;
    let healthy_outbox =
        data.outbox_failed == 0 && data.outbox_pending < 100 && data.outbox_error.is_none();
    let counts = |title: &'static str, rows: Vec<(String, i64)>, testid: &'static str| {
        view! {
            <div>
                <h3 class="text-sm font-medium text-slate-500">{title}</h3>
                {if rows.is_empty() {
                    view! { <p class="mt-2 text-sm text-slate-600">"None yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="mt-2 space-y-1 text-sm" data-testid=testid>
                            {rows.into_iter().map(|(label, n)| view! {
                                <li class="flex items-center justify-between gap-2">
                                    <span class=badge(&label)>{title_case(&label)}</span>
                                    <span class="tabular-nums font-medium">{n}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </div>
        }
    };
    let tenants_total = data.tenants_total;
    let totals = format!(
        " {} · {} {}",
        if data.tenants_total == 1 {
            "tenant"
        } else {
            "tenants"
        },
        data.users_total,
        if data.users_total == 1 {
            "person"
        } else {
            "people"
        }
    );
    let health_line = |label: &'static str, ok: bool, text: String, testid: &'static str| {
        view! {
            <li class="flex items-start justify-between gap-3">
                <span class="text-slate-600">{label}</span>
                <span class="flex items-center gap-2 text-right" data-testid=testid>
                    <span aria-hidden="true" class=if ok { "mt-1.5 h-2 w-2 shrink-0 rounded-full bg-emerald-500" } else { "mt-1.5 h-2 w-2 shrink-0 rounded-full bg-amber-500" }></span>
                    <span class="sr-only">{if ok { "healthy:" } else { "needs attention:" }}</span>
                    {text}
                </span>
            </li>
        }
    };
    view! {
        <div class="grid gap-6 lg:grid-cols-3">
            <Card heading_id="tenants-h" title="Tenants" extra="lg:col-span-2"
                aside=move || view! {
                    <span class="text-sm text-slate-500">
                        <span data-testid="tenants-total">{tenants_total}</span>
                        {totals.clone()}
                    </span>
                }>
                <div class="mt-4 grid gap-6 sm:grid-cols-2">
                    {counts("By status", data.tenants_by_status, "tenants-by-status")}
                    {counts("By plan", data.tenants_by_plan, "tenants-by-plan")}
                </div>
            </Card>
            <Card heading_id="health-h" title="Health">
                <ul class="mt-4 space-y-3 text-sm">
                    {health_line("Database", data.database_ms < 100.0, format!("answering ({:.1} ms)", data.database_ms), "health-database")}
                    {health_line(
                        "Email outbox",
                        healthy_outbox,
                        match (data.outbox_pending, data.outbox_failed, data.oldest_pending.clone()) {
                            (0, 0, _) => "nothing waiting".to_owned(),
                            (p, f, oldest) => format!(
                                "{p} waiting{}{}",
                                oldest.map(|o| format!(" (oldest {o})")).unwrap_or_default(),
                                if f > 0 { format!(", {f} failed") } else { String::new() }
                            ),
                        },
                        "health-outbox",
                    )}
                    {data.outbox_error.clone().map(|error| view! {
                        <li class="-mt-2 break-words text-right text-xs text-amber-800" data-testid="health-outbox-error">
                            "Last error: "{error}
                        </li>
                    })}
                    {health_line(
                        "Server errors",
                        healthy_errors,
                        format!("{error_rate:.2} % of {} requests in the last {} min", data.requests, data.window_minutes),
                        "health-errors",
                    )}
                    {health_line(
                        "Usage events",
                        data.usage_refused * 100 <= data.usage_events,
                        format!(
                            "{:.1} per second, {} refused, in the last {} min",
                            data.usage_events as f64 / (data.window_minutes.max(1) * 60) as f64,
                            data.usage_refused,
                            data.window_minutes
                        ),
                        "health-usage",
                    )}
                </ul>
            </Card>
            <Card heading_id="backups-h" title="Backups" testid="backups">
                <ul class="mt-4 space-y-3 text-sm">
                    {data.backups.into_iter().map(|b| {
                        let (label, testid) = if b.kind == "create" {
                            ("Last backup", "backup-create")
                        } else {
                            ("Last verify", "backup-verify")
                        };
                        health_line(label, b.healthy, b.text, testid)
                    }).collect_view()}
                </ul>
            </Card>
            <div class="lg:col-span-3"><crate::tenants::alerts::SecurityAlerts with_tenant=true /></div>
        </div>
        <RecentAudit entries=data.recent with_tenant=true />
    }
}
