//! The security alerts card (NFR-MON-001): the latest findings of the anomaly detectors —
//! every tenant's on the operator's dashboard (each linked to its `security.alert` audit
//! entry and evidence), the tenant's own on Tenant Administration.

use crate::error::AppError;
use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRow {
    pub detector: String,
    pub tenant: Option<String>,
    pub raised: String,
    pub summary: String,
    /// The audit entry with the evidence, for those who read the whole trail.
    pub entry: Option<String>,
}

#[server(prefix = "/_rpc", endpoint = "security_alerts")]
pub async fn security_alerts() -> Result<Vec<AlertRow>, AppError> {
    use crate::auth::ssr::pool;
    use crate::ui::ssr::{actor, when};
    let actor = actor().await?;
    let platform = actor.tenant_id.is_none();
    Ok(
        gatehouse_domain::tenants::recent_alerts(&pool()?, &actor, 10)
            .await?
            .into_iter()
            .map(|a| AlertRow {
                detector: a.detector.replace('_', " "),
                tenant: a.tenant_domain,
                raised: when(a.raised_at),
                summary: a.summary,
                entry: platform.then(|| format!("/audit/entries/{}", a.audit_id)),
            })
            .collect(),
    )
}

/// The card; `with_tenant` adds each alert's tenant (the operator's view).
#[component]
pub fn SecurityAlerts(#[prop(optional)] with_tenant: bool) -> impl IntoView {
    let alerts = Resource::new(|| (), |_| security_alerts());
    view! {
        <Card heading_id="alerts-h" title="Security alerts" testid="security-alerts">
            <Transition fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Loading…"</p> }>
                {move || alerts.get().map(|a| match a {
                    Err(e) => view! { <p class="mt-3 text-sm text-red-700">{e.message}</p> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <p class="mt-3 text-sm text-slate-600" data-testid="no-alerts">"No suspicious activity found."</p>
                    }.into_any(),
                    Ok(rows) => view! {
                        <ul class="mt-3 divide-y divide-slate-100 text-sm">
                            {rows.into_iter().map(|r| view! {
                                <li class="py-2" data-testid="alert-row">
                                    <p class="font-medium break-words">
                                        {match r.entry.clone() {
                                            Some(href) => view! { <a href=href class=LINK>{r.summary.clone()}</a> }.into_any(),
                                            None => view! { <span>{r.summary.clone()}</span> }.into_any(),
                                        }}
                                    </p>
                                    <p class="text-xs text-slate-500">
                                        {format!("{} · {}", r.detector, r.raised)}
                                        {(with_tenant).then(|| r.tenant.clone().map(|t| format!(" · {t}")))}
                                    </p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
        </Card>
    }
}
