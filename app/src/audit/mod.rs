//! The audit trail in the consoles: the entries table they share (a tenant's and a person's
//! recent entries, the operators' dashboard, the tenant's own log in `tenant_log`), and the
//! Auditor Console (`console`: search and entries; `integrity`: verification and checkpoints).

pub mod console;
pub mod integrity;
pub mod tenant_log;

use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One audit entry as the consoles show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub when: String,
    pub action: String,
    pub outcome: String,
    pub actor: String,
    pub resource: Option<String>,
    pub tenant: Option<String>,
    /// The entry's metadata in short (the tenant's log shows it).
    pub details: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::AuditRow;
    use crate::ui::ssr::when;
    use gatehouse_domain::audit::AuditLine;

    pub fn audit_row(l: AuditLine) -> AuditRow {
        AuditRow {
            when: when(l.occurred_at),
            action: l.action,
            outcome: l.outcome,
            actor: l.actor_email.unwrap_or(l.actor_type),
            resource: l.resource,
            tenant: l.tenant_domain,
            details: None,
        }
    }
}

/// Audit entries, newest first: when, action, outcome, actor, the tenant (`with_tenant`),
/// the resource and the details (`with_details`); `empty` in place of the table without
/// any. Each row has the test id `row_testid`.
#[component]
pub fn AuditTable(
    entries: Vec<AuditRow>,
    row_testid: &'static str,
    #[prop(optional)] with_tenant: bool,
    #[prop(optional)] with_details: bool,
    #[prop(into)] empty: ViewFn,
) -> impl IntoView {
    let mut head = columns(&["When", "Action", "Outcome", "Actor"]);
    if with_tenant {
        head.push("Tenant".into());
    }
    head.push("Resource".into());
    if with_details {
        head.push("Details".into());
    }
    let rows: Vec<AnyView> = entries
        .into_iter()
        .map(|e| {
            let AuditRow {
                when,
                action,
                outcome,
                actor,
                resource,
                tenant,
                details,
            } = e;
            let tenant = with_tenant.then(move || {
                view! { <td class=format!("{TD} font-mono text-xs")>{tenant.unwrap_or_else(|| "—".into())}</td> }
            });
            let details = with_details.then(move || {
                view! { <td class=format!("{TD} max-w-xs font-mono text-xs break-words text-slate-600")>{details.unwrap_or_default()}</td> }
            });
            view! {
                <tr data-testid=row_testid>
                    <td class=format!("{TD_NOWRAP} text-slate-600")>{when}</td>
                    <td class=format!("{TD} font-mono text-xs")>{action}</td>
                    <td class=TD><span class=badge(&outcome)>{title_case(&outcome)}</span></td>
                    <td class=TD_NOWRAP>{actor}</td>
                    {tenant}
                    <td class=format!("{TD_NOWRAP} font-mono text-xs text-slate-600")>{resource.unwrap_or_else(|| "—".into())}</td>
                    {details}
                </tr>
            }
            .into_any()
        })
        .collect();
    view! { <DataTable columns=head rows empty /> }
}

/// The recent audit entries of a page (a tenant's, a person's, the dashboard's).
#[component]
pub fn RecentAudit(entries: Vec<AuditRow>, #[prop(optional)] with_tenant: bool) -> impl IntoView {
    view! {
        <Card heading_id="recent-h" title="Recent audit entries" extra="mt-6">
            <AuditTable entries row_testid="audit-row" with_tenant
                empty=|| view! { <p class="mt-3 text-sm text-slate-600">"Nothing recorded yet."</p> } />
        </Card>
    }
}
