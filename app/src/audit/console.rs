//! `/audit` and `/audit/entries/:id`: the Auditor Console's search of the whole audit trail
//! (SPEC §8; FR-LOG-002) for auditors and, read-only, for operators. The filters live in the
//! URL (a GET form), so a search can be bookmarked, shared and saved as a view; auditors
//! download the same selection as CSV or JSON Lines (served by the server). Every search
//! and every entry opened is itself recorded (CON-SEC-002).
//!
//! Times are shown in UTC and carry their RFC 3339 value (`<time datetime data-local>`);
//! `public/localtime.js` adds the reader's own zone beside them.

use crate::error::AppError;
use crate::layout::{Flash, PageHeader, PageTitle};
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// The console's start page: the first link of its breadcrumbs.
pub const AUDITOR_CONSOLE: Link = ("/audit", "Auditor Console");

/// The filters of the console's URL, in order. The same names as
/// `gatehouse_domain::audit::FILTER_NAMES` (the browser build has no `domain`; a test below
/// keeps the two lists equal).
pub const FILTERS: &[&str] = &[
    "range",
    "from",
    "to",
    "tenant",
    "actor",
    "actor_type",
    "action",
    "outcome",
    "resource",
    "request_id",
    "ip",
];

/// The quick ranges (the domain's `QUICK_RANGES`), "any time" and a custom range.
const RANGES: &[(&str, &str)] = &[
    ("", "Any time"),
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("custom", "Custom (From and To)"),
];

const ACTOR_TYPES: &[(&str, &str)] = &[
    ("", "Any"),
    ("user", "User"),
    ("operator", "Operator"),
    ("system", "System"),
    ("application", "Application"),
];

const OUTCOMES: &[(&str, &str)] = &[("", "Any"), ("success", "Success"), ("failure", "Failure")];

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchData {
    pub entries: Vec<EntryLine>,
    pub next_cursor: Option<String>,
    /// The filters that could not be used; no search ran when there are any.
    pub problems: Vec<Problem>,
    /// Auditors download the selection; operators only read.
    pub may_export: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedViewRow {
    pub id: String,
    pub name: String,
    /// The console's query string, without `?`.
    pub query: String,
}

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
    /// The metadata, pretty-printed.
    pub metadata: String,
    pub diff: Vec<DiffRow>,
    pub prev_hash: String,
    pub hash: String,
    pub same_request: Vec<EntryLine>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::*;
    use gatehouse_domain::audit::{AuditEntryRow, EntryDetail};
    use leptos::serde_json::{Map, Value};
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, UtcOffset};

    /// Entries per page.
    pub const PAGE_SIZE: i64 = 50;

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

    /// The filters of a console query string (with or without `?`), in [`FILTERS`] order;
    /// blank and unknown ones are dropped, the first value of each is kept.
    pub fn filters_of(raw: &str) -> Vec<(&'static str, String)> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.trim().trim_start_matches('?').as_bytes())
                .into_owned()
                .collect();
        FILTERS
            .iter()
            .filter_map(|name| {
                pairs
                    .iter()
                    .find(|(k, v)| k.as_str() == *name && !v.trim().is_empty())
                    .map(|(_, v)| (*name, v.trim().to_owned()))
            })
            .collect()
    }

    /// The page's cursor in a console query string, if any.
    pub fn cursor_of(raw: &str) -> Option<String> {
        url::form_urlencoded::parse(raw.trim().trim_start_matches('?').as_bytes())
            .into_owned()
            .find(|(k, v)| k == "cursor" && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
    }

    /// `?a=1&b=2` of the filters ("" when none).
    pub fn query_of(filters: &[(&'static str, String)]) -> String {
        let pairs: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
        query_string(&pairs)
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
        use super::{cursor_of, diff, filters_of, query_of};
        use crate::audit::console::{DiffRow, FILTERS, RANGES};
        use leptos::serde_json::json;

        #[test]
        fn the_filter_names_and_ranges_are_the_domains() {
            assert_eq!(FILTERS, gatehouse_domain::audit::FILTER_NAMES);
            let quick: Vec<&str> = gatehouse_domain::audit::QUICK_RANGES
                .iter()
                .map(|r| r.0)
                .collect();
            let ours: Vec<&str> = RANGES
                .iter()
                .map(|r| r.0)
                .filter(|c| !c.is_empty() && *c != "custom")
                .collect();
            assert_eq!(ours, quick);
        }

        #[test]
        fn a_query_keeps_the_known_filters_in_order_and_drops_the_cursor() {
            let f = filters_of("?outcome=failure&cursor=abc&bogus=1&action=user.&ip=");
            assert_eq!(
                f,
                vec![
                    ("action", "user.".to_owned()),
                    ("outcome", "failure".to_owned())
                ]
            );
            assert_eq!(query_of(&f), "?action=user.&outcome=failure");
            assert_eq!(cursor_of("action=x&cursor=abc"), Some("abc".to_owned()));
            assert_eq!(filters_of("actor=ann%40acme.test")[0].1, "ann@acme.test");
        }

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

#[server(prefix = "/_rpc", endpoint = "audit_search")]
pub async fn audit_search(#[server(default)] query: String) -> Result<SearchData, AppError> {
    use crate::auth::ssr::{pool, request};
    use crate::ui::ssr::{actor_of, console_session, problems};
    use gatehouse_domain::audit::{record_read, search, AuditFilter};
    use gatehouse_domain::permissions::Permission;
    use gatehouse_domain::{DomainError, FieldError};
    let filters = ssr::filters_of(&query);
    // The page's one resource, so it also guards the page.
    let path = format!("/audit{}", ssr::query_of(&filters));
    let me = actor_of(&console_session("audit", &path).await?);
    let may_export = me.require(Permission::AuditExport).is_ok();
    let refused = |details: Vec<FieldError>| -> Result<SearchData, AppError> {
        Ok(SearchData {
            entries: Vec::new(),
            next_cursor: None,
            problems: problems(details),
            may_export,
        })
    };
    let given = |name: &str| {
        filters
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    };
    let filter = match AuditFilter::parse(given, time::OffsetDateTime::now_utc()) {
        Ok(f) => f,
        Err(DomainError::Validation(details)) => return refused(details),
        Err(e) => return Err(e.into()),
    };
    let cursor = ssr::cursor_of(&query);
    let pool = pool()?;
    let page = match search(&pool, &me, &filter, cursor.as_deref(), ssr::PAGE_SIZE).await {
        Ok(page) => page,
        Err(DomainError::Validation(details)) => return refused(details),
        Err(e) => return Err(e.into()),
    };
    // CON-SEC-002: reading the trail is itself recorded, once per search.
    let (ctx, _) = request().await?;
    record_read(
        &pool,
        &ctx,
        &me,
        "audit.search",
        None,
        leptos::serde_json::json!({ "filter": filter.describe(), "count": page.data.len() }),
    )
    .await?;
    Ok(SearchData {
        entries: page.data.iter().map(ssr::line_of).collect(),
        next_cursor: page.next_cursor,
        problems: Vec::new(),
        may_export,
    })
}

#[server(prefix = "/_rpc", endpoint = "audit_saved_views")]
pub async fn audit_saved_views() -> Result<Vec<SavedViewRow>, AppError> {
    use crate::auth::ssr::pool;
    use crate::ui::ssr::{actor_of, console_session};
    let me = actor_of(&console_session("audit", "/audit").await?);
    Ok(gatehouse_domain::audit::saved_views(&pool()?, &me)
        .await?
        .into_iter()
        .map(|v| SavedViewRow {
            id: v.id.to_string(),
            name: v.name,
            query: v.query,
        })
        .collect())
}

/// Saves the filters of `query` (the console's query string) as a view named `name`.
#[server(prefix = "/_rpc", endpoint = "save_audit_view")]
pub async fn save_audit_view(
    name: String,
    #[server(default)] query: String,
) -> Result<Submitted<String>, AppError> {
    use crate::auth::ssr::{pool, request};
    use crate::ui::ssr::{actor_of, console_session, form_refusal};
    use gatehouse_domain::audit::{save_view, AuditFilter};
    use gatehouse_domain::DomainError;
    let me = actor_of(&console_session("audit", "/audit").await?);
    // Only the filters, in their order, without the page: a view opens at its first page.
    let filters = ssr::filters_of(&query);
    let given = |n: &str| {
        filters
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone())
    };
    match AuditFilter::parse(given, time::OffsetDateTime::now_utc()) {
        Ok(_) => {}
        Err(DomainError::Validation(_)) => {
            return Ok(Submitted::Refused(vec![Problem {
                field: "query".into(),
                message: "correct the filters above before saving them".into(),
            }]))
        }
        Err(e) => return Err(e.into()),
    }
    let query = ssr::query_of(&filters);
    let (ctx, _) = request().await?;
    match save_view(&pool()?, &ctx, &me, &name, query.trim_start_matches('?')).await {
        Ok(view) => Ok(Submitted::Done(format!(
            "The view “{}” is saved.",
            view.name
        ))),
        Err(e) => form_refusal(e).map(Submitted::Refused),
    }
}

#[server(prefix = "/_rpc", endpoint = "delete_audit_view")]
pub async fn delete_audit_view(
    id: String,
    #[server(default)] name: String,
) -> Result<String, AppError> {
    use crate::auth::ssr::{pool, request};
    use crate::ui::ssr::{actor_of, console_session, id_of, not_found_as};
    const GONE: &str = "That view no longer exists.";
    let me = actor_of(&console_session("audit", "/audit").await?);
    let id = id_of(&id, "view", GONE)?;
    let (ctx, _) = request().await?;
    gatehouse_domain::audit::delete_view(&pool()?, &ctx, &me, id)
        .await
        .map_err(|e| not_found_as(e, GONE))?;
    let name = name.trim();
    Ok(if name.is_empty() {
        "The view is deleted.".to_owned()
    } else {
        format!("The view “{name}” is deleted.")
    })
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

// --- the browser side ---------------------------------------------------------------------

const STEP: &str = "mt-1 text-sm text-slate-600";

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
                    <td class=format!("{TD} font-mono text-xs break-all")>{action}</td>
                    <td class=TD><span class=outcome_class>{outcome_text}</span></td>
                    <td class=TD_NOWRAP>
                        <span class="block">{actor}</span>
                        <span class="block text-xs text-slate-500">{actor_type}</span>
                    </td>
                    <td class=format!("{TD_NOWRAP} font-mono text-xs")>{tenant}</td>
                    <td class=format!("{TD} font-mono text-xs break-all text-slate-600")>{resource.unwrap_or_else(|| "—".into())}</td>
                    <td class=format!("{TD_NOWRAP} text-right")>
                        <a href=href class=LINK aria-label=label data-testid="view-entry">"View"</a>
                    </td>
                </tr>
            }
            .into_any()
        })
        .collect()
}

/// A filter's name as the form labels it.
fn label_of(field: &str) -> &'static str {
    match field {
        "range" => "Time range",
        "from" => "From",
        "to" => "To",
        "tenant" => "Tenant",
        "actor" => "Actor",
        "actor_type" => "Actor type",
        "action" => "Action",
        "outcome" => "Outcome",
        "resource" => "Resource",
        "request_id" => "Request id",
        "ip" => "IP address",
        "cursor" => "Page",
        _ => "Filter",
    }
}

/// The filter form's values (from the URL) and the problems the search had with them.
struct FilterValues {
    list: ListQuery,
    problems: Vec<Problem>,
}

impl FilterValues {
    fn messages(&self, name: &str) -> Vec<String> {
        self.problems
            .iter()
            .filter(|p| p.field == name)
            .map(|p| p.message.clone())
            .collect()
    }

    /// A field's box: label, control, and its problems under it.
    fn field(
        &self,
        id: &'static str,
        name: &'static str,
        label: &'static str,
        wide: bool,
        control: impl Fn(String, Option<String>) -> AnyView,
    ) -> AnyView {
        let messages = self.messages(name);
        let invalid = (!messages.is_empty()).to_string();
        let described = (!messages.is_empty()).then(|| format!("{id}-error"));
        let class = if wide {
            "w-full sm:w-56"
        } else {
            "w-full sm:w-44"
        };
        view! {
            <div class=class>
                <label for=id class="block text-sm font-medium">{label}</label>
                {control(invalid, described)}
                {(!messages.is_empty()).then(|| view! {
                    <p id=format!("{id}-error") class="mt-1 text-xs text-red-700" data-testid=format!("{id}-error")>{messages.join("; ")}</p>
                })}
            </div>
        }
        .into_any()
    }

    fn input(
        &self,
        id: &'static str,
        name: &'static str,
        label: &'static str,
        kind: &'static str,
        placeholder: &'static str,
    ) -> AnyView {
        let value = self.list.get(name);
        let mono = matches!(name, "action" | "resource" | "request_id" | "ip");
        let class = if mono {
            format!("{INPUT} font-mono text-sm")
        } else {
            INPUT.to_owned()
        };
        self.field(id, name, label, kind == "datetime-local", move |invalid, described| {
            view! {
                <input id=id name=name type=kind value=value.clone() placeholder=placeholder class=class.clone()
                    aria-invalid=invalid aria-describedby=described />
            }
            .into_any()
        })
    }

    fn select(
        &self,
        id: &'static str,
        name: &'static str,
        label: &'static str,
        options: &'static [(&'static str, &'static str)],
    ) -> AnyView {
        let current = self.list.get(name);
        self.field(
            id,
            name,
            label,
            name == "range",
            move |invalid, described| {
                view! {
                <select id=id name=name class=INPUT aria-invalid=invalid aria-describedby=described>
                    {options.iter().map(|(v, l)| choice(*v, *l, &current)).collect_view()}
                </select>
            }
            .into_any()
            },
        )
    }
}

#[component]
pub fn AuditConsolePage() -> impl IntoView {
    let query = use_query_map();
    let search = Resource::new_blocking(
        move || {
            let list = ListQuery::read(&query.read(), FILTERS);
            let cursor = (!list.cursor.is_empty()).then_some(list.cursor.as_str());
            list.link("", cursor)
        },
        audit_search,
    );
    let save = ServerAction::<SaveAuditView>::new();
    let delete = ServerAction::<DeleteAuditView>::new();
    let views = Resource::new_blocking(
        move || (save.version().get(), delete.version().get()),
        |_| audit_saved_views(),
    );
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    let saved = save.value();
    Effect::new(move |_| match saved.get() {
        Some(Ok(Submitted::Done(m))) => notice.set(Some(Ok(m))),
        Some(Ok(Submitted::Refused(_))) => notice.set(Some(Err(AppError::new(
            "The view was not saved: see the form.",
        )))),
        Some(Err(e)) => notice.set(Some(Err(e))),
        None => {}
    });
    follow_outcome(notice, delete.value());
    view! {
        <PageTitle text="Auditor Console" />
        <script src="/localtime.js" defer></script>
        {when_loaded(search, None, move |data: SearchData| {
            let list = ListQuery::read(&query.read_untracked(), FILTERS);
            let current = list.link("", None).trim_start_matches('?').to_owned();
            let SearchData { entries, next_cursor, problems, may_export } = data;
            let refused = !problems.is_empty();
            let nothing = if refused {
                "No search ran: correct the filters above."
            } else if list.filtered() {
                "No entry matches these filters."
            } else {
                "Nothing recorded yet."
            };
            let exports = {
                let csv = list.link("/audit/export.csv", None);
                let jsonl = list.link("/audit/export.jsonl", None);
                move || match (may_export, refused) {
                    (true, false) => view! {
                        <div class="flex flex-wrap gap-2">
                            <a href=csv.clone() class=format!("{SECONDARY} inline-block") rel="external" download data-testid="export-csv">"Download CSV"</a>
                            <a href=jsonl.clone() class=format!("{SECONDARY} inline-block") rel="external" download data-testid="export-jsonl">"Download JSON Lines"</a>
                        </div>
                    }
                    .into_any(),
                    (true, true) => ().into_any(),
                    (false, _) => view! {
                        <span class="text-sm text-slate-500" data-testid="export-note">"Read-only: exports are for auditors."</span>
                    }
                    .into_any(),
                }
            };
            let problem_box = refused.then(|| {
                let lines = problems
                    .iter()
                    .map(|p| format!("{}: {}", label_of(&p.field), p.message))
                    .collect::<Vec<_>>();
                view! {
                    <div role="alert" data-testid="filter-problems" class="mt-4 rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
                        <p class="font-medium">"These filters cannot be used:"</p>
                        <ul class="mt-1 list-disc pl-5">
                            {lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
                        </ul>
                    </div>
                }
            });
            let form = FilterValues { list: list.clone(), problems };
            let rows = entry_rows(entries, "audit-entry");
            view! {
                <AuditHeader current="search" subtitle="Every entry of the audit trail, across all tenants, newest first." />
                {outcome(notice)}
                <SavedViewsCard views save delete current />
                <Card heading_id="entries-h" title="Entries" extra="mt-6" aside=exports>
                    <FilterForm path="/audit" testid="audit-filters" submit="Search" filtered=list.filtered()>
                        {form.select("audit-range", "range", "Time range", RANGES)}
                        {form.input("audit-from", "from", "From (UTC)", "datetime-local", "")}
                        {form.input("audit-to", "to", "To (UTC)", "datetime-local", "")}
                        {form.input("audit-tenant", "tenant", "Tenant", "text", "acme or platform")}
                        {form.input("audit-actor", "actor", "Actor", "text", "Email or id")}
                        {form.select("audit-actor-type", "actor_type", "Actor type", ACTOR_TYPES)}
                        {form.input("audit-action", "action", "Action starts with", "text", "user.")}
                        {form.select("audit-outcome", "outcome", "Outcome", OUTCOMES)}
                        {form.input("audit-resource", "resource", "Resource", "text", "user:…")}
                        {form.input("audit-request-id", "request_id", "Request id", "text", "")}
                        {form.input("audit-ip", "ip", "IP address", "text", "203.0.113.7")}
                    </FilterForm>
                    <p class="mt-2 text-xs text-slate-500">"From and To apply to “Any time” and “Custom”; a quick range ends now."</p>
                    {problem_box}
                    <DataTable columns=entry_columns() rows
                        empty=move || view! { <EmptyState testid="no-entries" title=nothing /> } />
                    <Pager path="/audit" list next_cursor next_label="Older entries →" only_next=true />
                </Card>
            }
            .into_any()
        })}
    }
}

/// The person's saved views as links, each with a confirmed delete, and the form that
/// saves the filters shown (`current`, a query string) under a name.
#[component]
fn SavedViewsCard(
    views: Resource<Result<Vec<SavedViewRow>, AppError>>,
    save: ServerAction<SaveAuditView>,
    delete: ServerAction<DeleteAuditView>,
    current: String,
) -> impl IntoView {
    let value = save.value();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_when_done(save.version(), value, form);
    let name_problems = move || {
        let mut all = problems_with(value, "name")();
        all.extend(problems_with(value, "query")());
        all
    };
    view! {
        <Card heading_id="views-h" title="Saved views" testid="saved-views">
            <Transition fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Loading…"</p> }>
                {move || views.get().map(|loaded| match loaded {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyNote text="No saved views yet: search, then save the filters under a name." testid="no-saved-views" />
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <ul class="mt-3 divide-y divide-slate-100">
                            {list.into_iter().map(|v| saved_view(v, delete)).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(e) => view! { <div class="mt-3"><Flash message=e.message error=true /></div> }.into_any(),
                })}
            </Transition>
            <ActionForm action=save node_ref=form attr:class="mt-4 flex flex-wrap items-end gap-2" attr:data-testid="save-view-form">
                <input type="hidden" name="query" value=current />
                <div class="min-w-0 flex-1">
                    <Field id="save-view-name" label="Save this view as" field="name" problems=name_problems>
                        <input id="save-view-name" name="name" required maxlength="80" placeholder="Failed sign-ins" class=INPUT
                            data-testid="save-view-name" aria-invalid=invalid_when(value, "name") aria-describedby="name-error" />
                    </Field>
                </div>
                <button type="submit" class=BUTTON data-testid="save-view" disabled=move || save.pending().get()>"Save view"</button>
            </ActionForm>
        </Card>
    }
}

fn saved_view(v: SavedViewRow, delete: ServerAction<DeleteAuditView>) -> impl IntoView {
    let SavedViewRow { id, name, query } = v;
    let href = if query.is_empty() {
        "/audit".to_owned()
    } else {
        format!("/audit?{query}")
    };
    let confirm = format!("Delete the view “{name}”?");
    let shown = if query.is_empty() {
        "the whole trail".to_owned()
    } else {
        query
    };
    view! {
        <li class="flex flex-wrap items-center justify-between gap-2 py-2">
            <div class="min-w-0">
                <a href=href class=format!("{LINK} font-medium") data-testid="saved-view">{name.clone()}</a>
                <span class="block break-all font-mono text-xs text-slate-500">{shown}</span>
            </div>
            <ActionForm action=delete>
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="name" value=name />
                <ConfirmSubmit label="Delete" testid="delete-view" confirm=confirm />
            </ActionForm>
        </li>
    }
}

// --- /audit/entries/:id -------------------------------------------------------------------

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
                    </dl>
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
