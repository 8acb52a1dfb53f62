//! The console lists: a filter form whose values live in the URL, the table with its empty
//! state, and the cursor pages under it.
//!
//! One rule for narrow screens, kept here: a table never squeezes its cells to fit. It
//! scrolls sideways inside its own box ([`DataTable`]), and cells holding addresses, ids and
//! dates stay on one line ([`TD_NOWRAP`]), so an email address is never broken mid-word.

use super::{query_string, BUTTON, LINK, TH};
use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use std::borrow::Cow;

/// A cell whose value stays on one line: an address, an id, a date. The table scrolls
/// sideways instead of breaking it.
pub const TD_NOWRAP: &str = "px-3 py-2 align-top whitespace-nowrap";

/// One column head of a [`DataTable`].
#[derive(Debug, Clone)]
pub struct Column {
    label: Cow<'static, str>,
    align: Option<&'static str>,
    /// Named for screen readers only (the row actions).
    hidden: bool,
}

impl Column {
    pub fn new(label: impl Into<Cow<'static, str>>) -> Self {
        Self {
            label: label.into(),
            align: None,
            hidden: false,
        }
    }

    /// A column of numbers.
    pub fn right(mut self) -> Self {
        self.align = Some("text-right");
        self
    }

    pub fn center(mut self) -> Self {
        self.align = Some("text-center");
        self
    }

    /// The last column, holding each row's buttons: no visible heading.
    pub fn actions() -> Self {
        Self {
            hidden: true,
            ..Self::new("Actions")
        }
    }

    fn head(self) -> impl IntoView {
        let class = match self.align {
            Some(align) => format!("{TH} {align}"),
            None => TH.to_owned(),
        };
        let label = self.label.into_owned();
        if self.hidden {
            view! { <th scope="col" class=class><span class="sr-only">{label}</span></th> }
                .into_any()
        } else {
            view! { <th scope="col" class=class>{label}</th> }.into_any()
        }
    }
}

impl From<&'static str> for Column {
    fn from(label: &'static str) -> Self {
        Self::new(label)
    }
}

/// Plain columns, one per label.
pub fn columns(labels: &[&'static str]) -> Vec<Column> {
    labels.iter().map(|l| Column::new(*l)).collect()
}

/// A console table: the column heads and the rows, or `empty` in its place when there are
/// no rows. The table scrolls sideways inside its own box on a narrow screen.
#[component]
pub fn DataTable(
    columns: Vec<Column>,
    rows: Vec<AnyView>,
    #[prop(into)] empty: ViewFn,
) -> impl IntoView {
    if rows.is_empty() {
        return empty.run();
    }
    view! {
        <div class="relative mt-4 overflow-x-auto">
            <table class="w-full text-left text-sm">
                <thead class="border-b border-slate-200 text-slate-500">
                    <tr>{columns.into_iter().map(Column::head).collect_view()}</tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// What a list shows when it has nothing: a dashed box with `title`, and the children
/// (a hint, a link) under it.
#[component]
pub fn EmptyState(
    #[prop(into)] title: String,
    testid: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="mt-4 rounded-md border border-dashed border-slate-300 p-6 text-center" data-testid=testid>
            <p class="font-medium text-slate-700">{title}</p>
            {children.map(|hint| view! { <p class="mt-1 text-sm text-slate-600">{hint()}</p> })}
        </div>
    }
}

/// A short line in a dashed box where a card's list has nothing yet.
#[component]
pub fn EmptyNote(
    #[prop(into)] text: String,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <p class="mt-4 rounded-md border border-dashed border-slate-300 p-4 text-sm text-slate-600" data-testid=testid>
            {text}
        </p>
    }
}

/// A list page's filters as its URL holds them (a GET form sets them), and the cursor of
/// the page shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filters: Vec<(&'static str, String)>,
    pub cursor: String,
}

impl ListQuery {
    /// The filters `names` (and the cursor) from the page's query; a missing one is "".
    pub fn read(query: &ParamsMap, names: &[&'static str]) -> Self {
        Self {
            filters: names
                .iter()
                .map(|name| (*name, query_param(query, name)))
                .collect(),
            cursor: query_param(query, "cursor"),
        }
    }

    /// One filter's value ("" when not set).
    pub fn get(&self, name: &str) -> String {
        self.filters
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Whether any filter is set.
    pub fn filtered(&self) -> bool {
        self.filters.iter().any(|(_, v)| !v.is_empty())
    }

    /// `path` with the filters (the first page), or with them and `cursor` (a later one).
    pub fn link(&self, path: &str, cursor: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> =
            self.filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(cursor) = cursor {
            pairs.push(("cursor", cursor));
        }
        format!("{path}{}", query_string(&pairs))
    }
}

/// One value of a page's query ("" when it has none).
pub fn query_param(query: &ParamsMap, name: &str) -> String {
    query.get(name).unwrap_or_default()
}

/// The search and filter form above a list (a GET form: the URL holds the filters), with
/// its fields as children, the submit button, and a link clearing the filters when any is
/// set.
#[component]
pub fn FilterForm(
    /// The list's path.
    path: &'static str,
    testid: &'static str,
    /// The submit button's text.
    submit: &'static str,
    filtered: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <form method="get" action=path role="search" class="mt-4 flex flex-wrap items-end gap-3" data-testid=testid>
            {children()}
            <button type="submit" class=BUTTON data-testid="filter-submit">{submit}</button>
            {filtered.then(|| view! { <a href=path class=format!("{LINK} py-2 text-sm")>"Clear filters"</a> })}
        </form>
    }
}

/// An `<option>` of a select, chosen when its value is `current`.
pub fn choice(value: impl Into<String>, label: impl Into<String>, current: &str) -> impl IntoView {
    let (value, label): (String, String) = (value.into(), label.into());
    let selected = value == current;
    view! { <option value=value selected=selected>{label}</option> }
}

/// The links under a list to the next page (`next_cursor`) and, on a later page, back to
/// the first (unless `only_next`); both keep the list's filters.
#[component]
pub fn Pager(
    /// The list's path.
    path: &'static str,
    list: ListQuery,
    next_cursor: Option<String>,
    #[prop(default = "Next page →")] next_label: &'static str,
    #[prop(optional)] only_next: bool,
) -> impl IntoView {
    let first = (!only_next && !list.cursor.is_empty()).then(|| list.link(path, None));
    let next = next_cursor.map(|c| list.link(path, Some(c.as_str())));
    view! {
        <nav aria-label="Pages" class="mt-4 flex justify-between text-sm">
            <span>{first.map(|f| view! { <a href=f class=LINK data-testid="first-page">"← First page"</a> })}</span>
            <span>{next.map(|n| view! { <a href=n class=LINK data-testid="next-page">{next_label}</a> })}</span>
        </nav>
    }
}
