//! `/admin/audit` (SPEC §8; FR-LOG-001/002): the tenant's own audit log for its owners and
//! admins — newest first, filters in the URL (action prefix, actor, outcome, days), cursor
//! pages, and the current filter as a CSV download (`/admin/audit.csv`, served by the server).

use crate::error::AppError;
use crate::layout::{PageHeader, PageTitle};
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRow {
    pub when: String,
    pub action: String,
    pub outcome: String,
    pub actor: String,
    pub resource: String,
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogData {
    pub entries: Vec<EntryRow>,
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
            .map(|r| EntryRow {
                when: when(r.occurred_at),
                action: r.action,
                outcome: r.outcome,
                actor: r.actor_email.unwrap_or(r.actor_type),
                resource: r.resource.unwrap_or_default(),
                details: details(&r.metadata),
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

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let names = ["action", "actor", "outcome", "from", "to"];
    let log = Resource::new_blocking(
        move || {
            let q = query.read();
            let get = |k: &str| q.get(k).unwrap_or_default();
            (
                get("action"),
                get("actor"),
                get("outcome"),
                get("from"),
                get("to"),
                get("cursor"),
            )
        },
        |(action, actor, outcome, from, to, cursor)| {
            tenant_audit_log(action, actor, outcome, from, to, cursor)
        },
    );
    view! {
        <PageTitle text="Audit log" />
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || log.get().map(|l| {
                let q = query.read_untracked();
                let value = |k: &str| q.get(k).unwrap_or_default();
                let values: Vec<(&str, String)> = names.iter().map(|k| (*k, value(k))).collect();
                let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let filters = query_string(&pairs);
                let csv = format!("/admin/audit.csv{filters}");
                let filtered = !filters.is_empty();
                let outcome = value("outcome");
                match l {
                    Err(e) => view! { <Refused message=e.message back=("/admin/audit", "The whole log") /> }.into_any(),
                    Ok(l) => {
                        let next = l.next_cursor.clone().map(|c| {
                            let mut with_cursor = pairs.clone();
                            with_cursor.push(("cursor", &c));
                            format!("/admin/audit{}", query_string(&with_cursor))
                        });
                        view! {
                            <nav aria-label="Breadcrumb" class="mb-2 text-sm text-slate-500">
                                <a href="/admin" class=LINK>"Tenant Administration"</a>
                                " / Audit log"
                            </nav>
                            <PageHeader title="Audit log" subtitle="Everything that happened in your organisation, newest first." />
                            <section class=CARD aria-labelledby="log-h">
                                <div class="flex flex-wrap items-baseline justify-between gap-2">
                                    <h2 id="log-h" class="text-lg font-semibold">"Entries"</h2>
                                    <a href=csv class=format!("{SECONDARY} inline-block") data-testid="csv-download" rel="external" download>"Download CSV"</a>
                                </div>
                                <form method="get" action="/admin/audit" role="search" class="mt-4 flex flex-wrap items-end gap-3" data-testid="audit-filters">
                                    <div>
                                        <label for="audit-action" class="block text-sm font-medium">"Action starts with"</label>
                                        <input id="audit-action" name="action" value=value("action") placeholder="user." class=format!("{INPUT} font-mono") />
                                    </div>
                                    <div>
                                        <label for="audit-actor" class="block text-sm font-medium">"Actor"</label>
                                        <input id="audit-actor" name="actor" value=value("actor") placeholder="Email" class=INPUT />
                                    </div>
                                    <div>
                                        <label for="audit-outcome" class="block text-sm font-medium">"Outcome"</label>
                                        <select id="audit-outcome" name="outcome" class=INPUT>
                                            {[("", "Any"), ("success", "Success"), ("failure", "Failure")].into_iter().map(|(v, label)| {
                                                let selected = v == outcome;
                                                view! { <option value=v selected=selected>{label}</option> }
                                            }).collect_view()}
                                        </select>
                                    </div>
                                    <div>
                                        <label for="audit-from" class="block text-sm font-medium">"From"</label>
                                        <input id="audit-from" name="from" type="date" value=value("from") class=INPUT />
                                    </div>
                                    <div>
                                        <label for="audit-to" class="block text-sm font-medium">"To"</label>
                                        <input id="audit-to" name="to" type="date" value=value("to") class=INPUT />
                                    </div>
                                    <button type="submit" class=BUTTON>"Filter"</button>
                                    {filtered.then(|| view! { <a href="/admin/audit" class=format!("{LINK} py-2 text-sm")>"Clear filters"</a> })}
                                </form>
                                {if l.entries.is_empty() {
                                    view! {
                                        <p class="mt-4 rounded-md border border-dashed border-slate-300 p-6 text-center text-slate-700" data-testid="no-entries">
                                            {if filtered { "No entry matches these filters." } else { "Nothing recorded yet." }}
                                        </p>
                                    }.into_any()
                                } else {
                                    view! {
                                        <div class="mt-4 overflow-x-auto">
                                            <table class="w-full text-left text-sm">
                                                <thead class="border-b border-slate-200 text-slate-500">
                                                    <tr>
                                                        <th scope="col" class=TH>"When"</th>
                                                        <th scope="col" class=TH>"Action"</th>
                                                        <th scope="col" class=TH>"Outcome"</th>
                                                        <th scope="col" class=TH>"Actor"</th>
                                                        <th scope="col" class=TH>"Resource"</th>
                                                        <th scope="col" class=TH>"Details"</th>
                                                    </tr>
                                                </thead>
                                                <tbody class="divide-y divide-slate-100">
                                                    {l.entries.into_iter().map(|e| view! {
                                                        <tr data-testid="audit-entry">
                                                            <td class=format!("{TD} whitespace-nowrap text-slate-600")>{e.when}</td>
                                                            <td class=format!("{TD} font-mono text-xs")>{e.action}</td>
                                                            <td class=TD><span class=badge(&e.outcome)>{title_case(&e.outcome)}</span></td>
                                                            <td class=format!("{TD} break-all")>{e.actor}</td>
                                                            <td class=format!("{TD} font-mono text-xs break-all text-slate-600")>{e.resource}</td>
                                                            <td class=format!("{TD} max-w-xs font-mono text-xs break-all text-slate-600")>{e.details}</td>
                                                        </tr>
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                                <nav aria-label="Pages" class="mt-4 flex justify-end text-sm">
                                    {next.map(|n| view! { <a href=n class=LINK data-testid="next-page">"Older entries →"</a> })}
                                </nav>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
