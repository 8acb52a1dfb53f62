//! `/audit/entries/:id`: one entry of the audit trail, its fields, the before and after of
//! what it changed, its place in the hash chain, and the other entries of its request.

use super::{entry_columns, entry_rows, EntryLine, LocalTime, Moment, AUDITOR_CONSOLE};
use crate::error::AppError;
use crate::layout::PageTitle;
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

/// One changed value of an entry's `old`/`new` metadata; `field` is `None` when the whole
/// value changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffRow {
    pub field: Option<String>,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDetailData {
    pub entry: EntryLine,
    pub occurred: Moment,
    pub tenant_id: Option<String>,
    pub actor_id: Option<String>,
    /// The application's name and id, for entries an application reported.
    pub application: Option<String>,
    pub request_id: Option<String>,
    pub source: String,
    /// The country of the entry's address (NFR-SEC-006), or "—".
    pub location: String,
    /// The person the entry is about, whose data can be downloaded (CON-COMP-001).
    pub person: Option<String>,
    /// The metadata, pretty-printed.
    pub metadata: String,
    pub diff: Vec<DiffRow>,
    pub prev_hash: String,
    pub hash: String,
    pub same_request: Vec<EntryLine>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::audit::console::ssr::{hex, line_of, moment};
    use gatehouse_domain::audit::EntryDetail;
    use leptos::serde_json::{Map, Value};

    pub fn detail_of(d: EntryDetail) -> EntryDetailData {
        let r = &d.entry;
        EntryDetailData {
            entry: line_of(r),
            occurred: moment(r.occurred_at),
            tenant_id: r.tenant_id.map(|id| id.to_string()),
            actor_id: r.actor_id.map(|id| id.to_string()),
            application: r.application_id.map(|id| match &r.application_name {
                Some(name) => format!("{name} ({id})"),
                None => id.to_string(),
            }),
            request_id: r.request_id.clone(),
            source: r.source.clone(),
            location: crate::ui::ssr::place(r.metadata["ip"].as_str()),
            person: r
                .resource
                .as_deref()
                .and_then(|res| res.strip_prefix("user:"))
                .filter(|id| uuid::Uuid::parse_str(id).is_ok())
                .map(str::to_owned),
            metadata: leptos::serde_json::to_string_pretty(&r.metadata).unwrap_or_default(),
            diff: diff(&r.metadata),
            prev_hash: hex(&r.prev_hash),
            hash: hex(&r.hash),
            same_request: d.same_request.iter().map(line_of).collect(),
        }
    }

    /// The before and after of an entry whose metadata holds `old` (or `previous`) and
    /// `new` (SPEC §8), at its top level or in an application's `data`: one row per
    /// changed key when both are objects, else one row.
    pub fn diff(meta: &Value) -> Vec<DiffRow> {
        fn pair(m: &Map<String, Value>) -> Option<(Value, Value)> {
            let after = m.get("new")?;
            let before = m.get("old").or_else(|| m.get("previous"))?;
            Some((before.clone(), after.clone()))
        }
        fn shown(v: Option<&Value>) -> String {
            match v {
                None => "—".to_owned(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            }
        }
        let Some(map) = meta.as_object() else {
            return Vec::new();
        };
        let found = pair(map).or_else(|| map.get("data").and_then(Value::as_object).and_then(pair));
        match found {
            None => Vec::new(),
            Some((Value::Object(before), Value::Object(after))) => {
                let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter()
                    .filter(|k| before.get(*k) != after.get(*k))
                    .map(|k| DiffRow {
                        field: Some(k.clone()),
                        before: shown(before.get(k)),
                        after: shown(after.get(k)),
                    })
                    .collect()
            }
            Some((before, after)) => vec![DiffRow {
                field: None,
                before: shown(Some(&before)),
                after: shown(Some(&after)),
            }],
        }
    }

    #[cfg(test)]
    mod tests {
        use super::diff;
        use crate::audit::console::entry::DiffRow;
        use leptos::serde_json::json;

        #[test]
        fn changed_keys_become_rows_and_plain_values_one_row() {
            let rows =
                diff(&json!({"old": {"a": 1, "b": "x"}, "new": {"a": 2, "b": "x", "c": true}}));
            assert_eq!(
                rows,
                vec![
                    DiffRow {
                        field: Some("a".into()),
                        before: "1".into(),
                        after: "2".into()
                    },
                    DiffRow {
                        field: Some("c".into()),
                        before: "—".into(),
                        after: "true".into()
                    },
                ]
            );
            let rows = diff(&json!({"data": {"previous": "basic", "new": "pro"}}));
            assert_eq!(
                rows,
                vec![DiffRow {
                    field: None,
                    before: "basic".into(),
                    after: "pro".into()
                }]
            );
            assert!(diff(&json!({"new": "only"})).is_empty());
        }
    }
}

#[server(prefix = "/_rpc", endpoint = "audit_entry")]
pub async fn audit_entry(id: String) -> Result<EntryDetailData, AppError> {
    use crate::auth::ssr::{pool, request};
    use crate::ui::ssr::{actor_of, console_session, id_of, not_found_as};
    use gatehouse_domain::audit::{entry, record_read};
    const GONE: &str = "There is no such audit entry.";
    let path = format!("/audit/entries/{}", url_encode(id.trim()));
    // The page's one resource, so it also guards the page.
    let me = actor_of(&console_session("audit", &path).await?);
    let id = id_of(&id, "audit entry", GONE)?;
    let pool = pool()?;
    let detail = entry(&pool, &me, id)
        .await
        .map_err(|e| not_found_as(e, GONE))?;
    // CON-SEC-002: opening an entry is recorded too.
    let (ctx, _) = request().await?;
    record_read(
        &pool,
        &ctx,
        &me,
        "audit.read",
        Some(format!("audit_entry:{id}")),
        leptos::serde_json::json!({}),
    )
    .await?;
    Ok(ssr::detail_of(detail))
}

// --- /audit/entries/:id -------------------------------------------------------------------

const STEP: &str = "mt-1 text-sm text-slate-600";

#[component]
pub fn AuditEntryPage() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new_blocking(
        move || params.read().get("id").unwrap_or_default(),
        audit_entry,
    );
    view! {
        <PageTitle text="Audit entry" />
        <script src="/localtime.js" defer></script>
        {when_loaded(detail, Some(("/audit", "Search the audit trail")), move |d: EntryDetailData| view! {
            <Breadcrumb console=AUDITOR_CONSOLE here="Entry" />
            <EntryView data=d />
        }.into_any())}
    }
}

/// One fact of an entry: its label and value (`testid` on the value).
fn fact(label: &'static str, testid: &'static str, value: AnyView) -> impl IntoView {
    view! {
        <div class="grid grid-cols-3 gap-2 py-2">
            <dt class="text-slate-500">{label}</dt>
            <dd class="col-span-2 min-w-0 break-words" data-testid=testid>{value}</dd>
        </div>
    }
}

fn plain(text: impl Into<String>) -> AnyView {
    let text: String = text.into();
    view! { <span>{text}</span> }.into_any()
}

fn mono(text: impl Into<String>) -> AnyView {
    let text: String = text.into();
    view! { <span class="break-all font-mono text-xs">{text}</span> }.into_any()
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".to_owned())
}

#[component]
fn EntryView(data: EntryDetailData) -> impl IntoView {
    let EntryDetailData {
        entry,
        occurred,
        tenant_id,
        actor_id,
        application,
        request_id,
        source,
        location,
        person,
        metadata,
        diff,
        prev_hash,
        hash,
        same_request,
    } = data;
    let EntryLine {
        id,
        seq,
        recorded,
        action,
        outcome,
        actor,
        actor_type,
        tenant,
        resource,
    } = entry;
    let lead = format!("By {actor} ({actor_type}) · {tenant}");
    let header_time = recorded.clone();
    let outcome_class = badge(&outcome);
    let outcome_text = title_case(&outcome);
    let outcome_badge = outcome_text.clone();
    let tenant_line = match tenant_id {
        Some(tid) if tid != tenant => format!("{tenant} ({tid})"),
        _ => tenant,
    };
    let request_link = request_id.clone().map(|rid| {
        let href = format!("/audit{}", query_string(&[("request_id", rid.as_str())]));
        view! { <a href=href class=format!("{LINK} break-all font-mono text-xs") data-testid="request-link">{rid}</a> }.into_any()
    });
    let changes = (!diff.is_empty()).then(|| {
        let rows: Vec<AnyView> = diff
            .into_iter()
            .map(|d| {
                view! {
                    <tr data-testid="diff-row">
                        <td class=format!("{TD_NOWRAP} font-mono text-xs")>{d.field.unwrap_or_else(|| "value".into())}</td>
                        <td class=format!("{TD} break-all font-mono text-xs text-red-800")>{d.before}</td>
                        <td class=format!("{TD} break-all font-mono text-xs text-emerald-800")>{d.after}</td>
                    </tr>
                }
                .into_any()
            })
            .collect();
        view! {
            <Card heading_id="changes-h" title="Changes" testid="entry-changes">
                <DataTable columns=columns(&["Field", "Before", "After"]) rows empty=|| () />
            </Card>
        }
    });
    let has_request = request_id.is_some();
    let same_rows = entry_rows(same_request, "same-request-entry");
    view! {
        <DetailHeader title=action.clone() testid="entry-action" title_class="break-all font-mono" lead=lead>
            <span class=outcome_class data-testid="entry-outcome">{outcome_badge}</span>
            <span>{format!("Entry {seq}")}</span>
            <span>"·"</span>
            <LocalTime at=header_time />
        </DetailHeader>
        <div class="grid gap-6 lg:grid-cols-3 lg:items-start">
            <div class="min-w-0 space-y-6 lg:col-span-2">
                <Card heading_id="fields-h" title="Entry" testid="entry-fields">
                    <dl class="mt-3 divide-y divide-slate-100 text-sm">
                        {fact("Position", "entry-seq", mono(seq.to_string()))}
                        {fact("Id", "entry-id", mono(id))}
                        {fact("Recorded", "entry-recorded", view! { <LocalTime at=recorded /> }.into_any())}
                        {fact("Occurred", "entry-occurred", view! { <LocalTime at=occurred /> }.into_any())}
                        {fact("Tenant", "entry-tenant", plain(tenant_line))}
                        {fact("Actor", "entry-actor", plain(actor))}
                        {fact("Actor id", "entry-actor-id", mono(or_dash(actor_id)))}
                        {fact("Actor type", "entry-actor-type", plain(actor_type))}
                        {fact("Application", "entry-application", plain(or_dash(application)))}
                        {fact("Action", "entry-action-field", mono(action))}
                        {fact("Resource", "entry-resource", mono(or_dash(resource)))}
                        {fact("Outcome", "entry-outcome-field", plain(outcome_text))}
                        {fact("Request id", "entry-request-id", request_link.unwrap_or_else(|| plain("—")))}
                        {fact("Source", "entry-source", plain(source))}
                        {fact("Location", "entry-location", plain(location))}
                    </dl>
                    {person.map(|id| view! {
                        <p class="mt-3 text-sm">
                            <a href=format!("/users/{id}/data.json") download rel="external" class=LINK data-testid="entry-person-data">"Download this person's data"</a>
                        </p>
                    })}
                </Card>
                {changes}
                <Card heading_id="metadata-h" title="Metadata">
                    <pre class="mt-3 max-h-96 overflow-auto rounded bg-slate-50 p-3 text-xs" data-testid="entry-metadata">{metadata}</pre>
                </Card>
            </div>
            <Card heading_id="chain-h" title="Hash chain" testid="entry-chain">
                <p class=STEP>"Each entry's hash covers its fields and the hash of the entry before it, so a change anywhere breaks every link after it."</p>
                <dl class="mt-3 space-y-3 text-sm">
                    <div>
                        <dt class="text-slate-500">"Position"</dt>
                        <dd class="font-mono text-xs" data-testid="chain-seq">{seq}</dd>
                    </div>
                    <div>
                        <dt class="text-slate-500">"Previous hash"</dt>
                        <dd class="break-all font-mono text-xs" data-testid="chain-prev-hash">{prev_hash}</dd>
                    </div>
                    <div>
                        <dt class="text-slate-500">"Hash"</dt>
                        <dd class="break-all font-mono text-xs" data-testid="chain-hash">{hash}</dd>
                    </div>
                </dl>
                <p class="mt-4 text-sm"><a href="/audit/integrity" class=LINK>"Verify the whole chain →"</a></p>
            </Card>
        </div>
        <Card heading_id="same-request-h" title="Same request" testid="same-request" extra="mt-6">
            {if has_request {
                view! {
                    <DataTable columns=entry_columns() rows=same_rows
                        empty=|| view! { <EmptyNote text="No other entry has this request id." testid="no-same-request" /> } />
                }
                .into_any()
            } else {
                view! { <EmptyNote text="This entry names no request." testid="no-request" /> }.into_any()
            }}
        </Card>
    }
}
