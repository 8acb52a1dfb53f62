//! `/admin/audit` (SPEC §8; FR-LOG-001/002): the tenant's own audit log for its owners and
//! admins — newest first, filters in the URL (action prefix, actor, outcome, days), cursor
//! pages, and the current filter as a CSV download (`/admin/audit.csv`, served by the server).

use super::{AuditRow, AuditTable};
use crate::error::AppError;
use crate::layout::PageTitle;
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogData {
    pub entries: Vec<AuditRow>,
    pub next_cursor: Option<String>,
}

#[server(prefix = "/_rpc", endpoint = "tenant_audit_log")]
pub async fn tenant_audit_log(
    #[server(default)] action: String,
    #[server(default)] actor: String,
    #[server(default)] outcome: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] cursor: String,
) -> Result<AuditLogData, AppError> {
    use crate::auth::ssr::pool;
    use crate::ui::ssr::{actor_of, console_session, when};
    use gatehouse_domain::audit::{tenant_audit_page, AuditQuery};
    // The page's one resource, so it also guards the page.
    let me = actor_of(&console_session("admin", "/admin/audit").await?);
    let tenant = crate::ui::ssr::tenant_of(&me)?;
    // Blank filters mean none.
    let query = AuditQuery::from_filters(
        Some(&action),
        Some(&actor),
        Some(&outcome),
        Some(&from),
        Some(&to),
        Some(&cursor),
        50,
    )?;
    let page = tenant_audit_page(&pool()?, &me, tenant, query).await?;
    Ok(AuditLogData {
        entries: page
            .data
            .into_iter()
            .map(|r| AuditRow {
                when: when(r.occurred_at),
                action: r.action,
                outcome: r.outcome,
                actor: r.actor_email.unwrap_or(r.actor_type),
                // The log leaves the cell of an entry about no resource empty.
                resource: Some(r.resource.unwrap_or_default()),
                tenant: None,
                details: Some(details(&r.metadata)),
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}

/// The metadata as short `key: value` pairs, without the request's IP and browser (the
/// CSV has everything).
#[cfg(feature = "ssr")]
fn details(meta: &leptos::serde_json::Value) -> String {
    use leptos::serde_json::Value;
    let Some(map) = meta.as_object() else {
        return String::new();
    };
    let text: Vec<String> = map
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "ip" | "user_agent"))
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}: {s}"),
            other => format!("{k}: {other}"),
        })
        .collect();
    let text = text.join(" · ");
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(160).collect::<String>())
    } else {
        text
    }
}

/// The log's filters, in the order of its URL.
const FILTERS: &[&str] = &["action", "actor", "outcome", "from", "to"];

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let log = Resource::new_blocking(
        move || ListQuery::read(&query.read(), FILTERS),
        |list| {
            let get = |name: &str| list.get(name);
            tenant_audit_log(
                get("action"),
                get("actor"),
                get("outcome"),
                get("from"),
                get("to"),
                list.cursor.clone(),
            )
        },
    );
    view! {
        <PageTitle text="Audit log" />
        {when_loaded(log, Some(("/admin/audit", "The whole log")), move |l: AuditLogData| {
            let list = ListQuery::read(&query.read_untracked(), FILTERS);
            let filtered = list.filtered();
            let csv = list.link("/admin/audit.csv", None);
            let nothing = if filtered { "No entry matches these filters." } else { "Nothing recorded yet." };
            let (action, actor, outcome, from, to) = (
                list.get("action"),
                list.get("actor"),
                list.get("outcome"),
                list.get("from"),
                list.get("to"),
            );
            view! {
                <ListHeader console=TENANT_ADMINISTRATION title="Audit log" subtitle="Everything that happened in your organisation, newest first." />
                <Card heading_id="log-h" title="Entries"
                    aside=move || view! { <a href=csv.clone() class=format!("{SECONDARY} inline-block") data-testid="csv-download" rel="external" download>"Download CSV"</a> }>
                    <FilterForm path="/admin/audit" testid="audit-filters" submit="Filter" filtered>
                        <div>
                            <label for="audit-action" class="block text-sm font-medium">"Action starts with"</label>
                            <input id="audit-action" name="action" value=action placeholder="user." class=format!("{INPUT} font-mono") />
                        </div>
                        <div>
                            <label for="audit-actor" class="block text-sm font-medium">"Actor"</label>
                            <input id="audit-actor" name="actor" value=actor placeholder="Email" class=INPUT />
                        </div>
                        <div>
                            <label for="audit-outcome" class="block text-sm font-medium">"Outcome"</label>
                            <select id="audit-outcome" name="outcome" class=INPUT>
                                {[("", "Any"), ("success", "Success"), ("failure", "Failure")].into_iter().map(|(v, label)| choice(v, label, &outcome)).collect_view()}
                            </select>
                        </div>
                        <div>
                            <label for="audit-from" class="block text-sm font-medium">"From"</label>
                            <input id="audit-from" name="from" type="date" value=from class=INPUT />
                        </div>
                        <div>
                            <label for="audit-to" class="block text-sm font-medium">"To"</label>
                            <input id="audit-to" name="to" type="date" value=to class=INPUT />
                        </div>
                    </FilterForm>
                    <AuditTable entries=l.entries row_testid="audit-entry" with_details=true
                        empty=move || view! { <EmptyState testid="no-entries" title=nothing /> } />
                    <Pager path="/admin/audit" list next_cursor=l.next_cursor next_label="Older entries →" only_next=true />
                </Card>
            }
            .into_any()
        })}
    }
}
