//! `/audit`: the search of the whole audit trail, its filters (in the URL), the CSV and
//! JSON Lines downloads, and the person's saved views.

use super::{entry_columns, entry_rows, AuditHeader, EntryLine};
use crate::error::AppError;
use crate::layout::{Flash, PageTitle};
use crate::ui::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

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

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    pub use crate::audit::console::ssr::line_of;

    /// Entries per page.
    pub const PAGE_SIZE: i64 = 50;

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

    #[cfg(test)]
    mod tests {
        use super::{cursor_of, filters_of, query_of};
        use crate::audit::console::search::{FILTERS, RANGES};

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

// --- the browser side ---------------------------------------------------------------------

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
