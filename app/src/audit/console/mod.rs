//! `/audit` and `/audit/entries/:id`: the Auditor Console's search of the whole audit trail
//! (SPEC §8; FR-LOG-002) for auditors and, read-only, for operators. The filters live in the
//! URL (a GET form), so a search can be bookmarked, shared and saved as a view; auditors
//! download the same selection as CSV or JSON Lines (served by the server). Every search
//! and every entry opened is itself recorded (CON-SEC-002).
//!
//! Times are shown in UTC and carry their RFC 3339 value (`<time datetime data-local>`);
//! `public/localtime.js` adds the reader's own zone beside them.
//!
//! `search` holds the search page (`/audit`), its filters and saved views; `entry` the
//! page of one entry (`/audit/entries/:id`) and its before/after diff. This module keeps
//! what both share: the entry types, the console's sub-navigation and the entries table.

use crate::layout::PageHeader;
use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

mod entry;
mod search;

pub use entry::AuditEntryPage;
pub use search::AuditConsolePage;

/// The console's start page: the first link of its breadcrumbs.
pub const AUDITOR_CONSOLE: Link = ("/audit", "Auditor Console");

/// A moment as the console shows it: UTC text, and the RFC 3339 value for the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    pub iso: String,
    pub utc: String,
}

/// One entry in a list of entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryLine {
    pub id: String,
    pub seq: i64,
    pub recorded: Moment,
    pub action: String,
    pub outcome: String,
    pub actor: String,
    pub actor_type: String,
    /// The tenant's domain, or `platform`.
    pub tenant: String,
    pub resource: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::*;
    use gatehouse_domain::audit::AuditEntryRow;
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, UtcOffset};

    pub fn moment(t: OffsetDateTime) -> Moment {
        let t = t.to_offset(UtcOffset::UTC);
        Moment {
            iso: t.format(&Rfc3339).unwrap_or_default(),
            utc: format!(
                "{}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
        }
    }

    /// Lower-case hex, as the exports write hashes (the app has no `hex` dependency for
    /// this one line).
    pub fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn tenant_of(r: &AuditEntryRow) -> String {
        match (&r.tenant_domain, r.tenant_id) {
            (Some(domain), _) => domain.clone(),
            (None, Some(id)) => id.to_string(),
            (None, None) => "platform".to_owned(),
        }
    }

    pub fn line_of(r: &AuditEntryRow) -> EntryLine {
        EntryLine {
            id: r.id.to_string(),
            seq: r.seq,
            recorded: moment(r.recorded_at),
            action: r.action.clone(),
            outcome: r.outcome.clone(),
            actor: r
                .actor_label
                .clone()
                .unwrap_or_else(|| title_case(&r.actor_type)),
            actor_type: r.actor_type.clone(),
            tenant: tenant_of(r),
            resource: r.resource.clone(),
        }
    }
}

// --- the browser side ---------------------------------------------------------------------

/// The console's title and its two areas, `current` marked.
#[component]
pub fn AuditHeader(current: &'static str, subtitle: &'static str) -> impl IntoView {
    const AREAS: &[(&str, &str, &str)] = &[
        ("/audit", "Search", "search"),
        ("/audit/integrity", "Integrity", "integrity"),
    ];
    view! {
        <PageHeader title="Auditor Console" subtitle=subtitle />
        <nav aria-label="Auditor Console" class="-mt-2 mb-6 flex gap-1 overflow-x-auto border-b border-slate-200 text-sm" data-testid="audit-nav">
            {AREAS.iter().map(|(href, label, key)| {
                let here = *key == current;
                let class = if here {
                    "-mb-px whitespace-nowrap border-b-2 border-indigo-600 px-3 py-2 font-medium text-indigo-700"
                } else {
                    "-mb-px whitespace-nowrap border-b-2 border-transparent px-3 py-2 text-slate-600 hover:border-slate-300 hover:text-slate-900"
                };
                view! {
                    <a href=*href class=class aria-current=here.then_some("page") data-testid=format!("audit-nav-{key}")>{*label}</a>
                }
            }).collect_view()}
        </nav>
    }
}

/// A moment in UTC; `public/localtime.js` fills the line under it with the reader's own
/// zone.
#[component]
pub fn LocalTime(at: Moment) -> impl IntoView {
    view! {
        <time datetime=at.iso data-local>
            {at.utc}
            <span class="block text-xs text-slate-500" data-local-out></span>
        </time>
    }
}

/// The column heads of an entries table.
fn entry_columns() -> Vec<Column> {
    let mut head = columns(&["Time", "Action", "Outcome", "Actor", "Tenant", "Resource"]);
    head.push(Column::actions());
    head
}

/// The rows of an entries table, each with the test id `testid` and a link to the entry.
fn entry_rows(entries: Vec<EntryLine>, testid: &'static str) -> Vec<AnyView> {
    entries
        .into_iter()
        .map(|e| {
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
            } = e;
            let href = format!("/audit/entries/{id}");
            let label = format!("View entry {seq}");
            let outcome_class = badge(&outcome);
            let outcome_text = title_case(&outcome);
            view! {
                <tr data-testid=testid>
                    <td class=format!("{TD_NOWRAP} text-slate-600")><LocalTime at=recorded /></td>
                    <td class=format!("{TD} font-mono text-xs min-w-[12rem] break-words")>{action}</td>
                    <td class=TD><span class=outcome_class>{outcome_text}</span></td>
                    <td class=TD_NOWRAP>
                        <span class="block">{actor}</span>
                        <span class="block text-xs text-slate-500">{actor_type}</span>
                    </td>
                    <td class=format!("{TD_NOWRAP} font-mono text-xs")>{tenant}</td>
                    <td class=format!("{TD} font-mono text-xs min-w-[10rem] break-words text-slate-600")>{resource.unwrap_or_else(|| "—".into())}</td>
                    <td class=format!("{TD_NOWRAP} text-right")>
                        <a href=href class=LINK aria-label=label data-testid="view-entry">"View"</a>
                    </td>
                </tr>
            }
            .into_any()
        })
        .collect()
}
