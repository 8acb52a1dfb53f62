//! The skeleton of a console page: "Loading…" and the refused-page box around its one
//! resource, the breadcrumb and header, the cards it is made of, the notes under its title
//! and the flash lines after its actions.

use super::{Submitted, CARD, LINK};
use crate::error::AppError;
use crate::layout::{Flash, PageHeader};
use leptos::prelude::*;

/// A link: where, and what it says.
pub type Link = (&'static str, &'static str);

/// The consoles' start pages: the first link of every breadcrumb.
pub const OPERATOR_CONSOLE: Link = ("/operator", "Operator Console");
pub const TENANT_ADMINISTRATION: Link = ("/admin", "Tenant Administration");

/// A console page's body around its one resource (which also guards the page):
/// "Loading…" until it answers, the refused-page box when it refused (with a link `back`
/// to the list), else `page` with the data.
pub fn when_loaded<T>(
    resource: impl Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    back: Option<Link>,
    page: impl Fn(T) -> AnyView + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    view! {
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || resource.get().map(|loaded| match loaded {
                Ok(data) => page(data),
                Err(e) => match back {
                    Some(back) => view! { <Refused message=e.message back /> }.into_any(),
                    None => view! { <Refused message=e.message /> }.into_any(),
                },
            })}
        </Transition>
    }
}

/// What a refused page shows instead (the console guard's look): not signed in as the
/// right person, or nothing to show; `back` links to the page's list.
#[component]
pub fn Refused(message: String, #[prop(optional)] back: Option<Link>) -> impl IntoView {
    view! {
        <div role="alert" data-testid="page-refused" class="mx-auto max-w-md rounded-xl border border-amber-200 bg-amber-50 p-6 text-amber-900">
            <p class="font-medium">{message}</p>
            <p class="mt-3 flex flex-wrap gap-4 text-sm">
                {back.map(|(href, label)| view! { <a class="text-indigo-700 underline" href=href>{label}</a> })}
                <a class="text-indigo-700 underline" href="/login">"Sign in with another account"</a>
            </p>
        </div>
    }
}

/// The trail above a console page's title: the console's start page, the list a detail
/// page belongs to, and the list page itself (`here`, not a link).
#[component]
pub fn Breadcrumb(
    console: Link,
    #[prop(optional)] list: Option<Link>,
    #[prop(optional)] here: Option<&'static str>,
) -> impl IntoView {
    view! {
        <nav aria-label="Breadcrumb" class="mb-2 text-sm text-slate-500">
            <a href=console.0 class=LINK>{console.1}</a>
            {list.map(|(href, label)| view! { " / " <a href=href class=LINK>{label}</a> })}
            {here.map(|h| format!(" / {h}"))}
        </nav>
    }
}

/// The top of a console's list page: the breadcrumb from the console's start page, the
/// title and the line under it.
#[component]
pub fn ListHeader(console: Link, title: &'static str, subtitle: &'static str) -> impl IntoView {
    view! {
        <Breadcrumb console here=title />
        <PageHeader title subtitle />
    }
}

/// The top of a detail page: the thing's name (`testid`), an optional lead line, the line
/// of facts under it (the children: badges, counts, dates) and the page's main actions on
/// the right.
#[component]
pub fn DetailHeader(
    #[prop(into)] title: String,
    testid: &'static str,
    /// Classes the title adds (`font-mono` for a key).
    #[prop(optional)]
    title_class: &'static str,
    #[prop(optional, into)] lead: Option<String>,
    #[prop(optional, into)] actions: Option<ViewFn>,
    children: Children,
) -> impl IntoView {
    let heading = view! {
        <h1 class=format!("text-2xl font-semibold tracking-tight {title_class}") data-testid=testid>{title}</h1>
        {lead.map(|l| view! { <p class="mt-1 text-slate-600">{l}</p> })}
        <p class="mt-2 flex flex-wrap items-center gap-2 text-sm text-slate-600">{children()}</p>
    };
    match actions {
        Some(actions) => view! {
            <div class="mb-6 flex flex-wrap items-start justify-between gap-4">
                <div>{heading}</div>
                {actions.run()}
            </div>
        }
        .into_any(),
        None => view! { <div class="mb-6">{heading}</div> }.into_any(),
    }
}

/// A warning under a page's title: the thing is disabled or suspended, or not the signed-in
/// person's to change.
#[component]
pub fn Note(testid: &'static str, children: Children) -> impl IntoView {
    view! {
        <p role="note" class="mb-6 rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid=testid>
            {children()}
        </p>
    }
}

/// One card of a console page with its heading (`heading_id` labels the section), and
/// `aside` at the heading's right: a count, a link, a button.
#[component]
pub fn Card(
    heading_id: &'static str,
    title: &'static str,
    /// Classes the card adds (its place in a grid, its margin).
    #[prop(optional)]
    extra: &'static str,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional, into)] aside: Option<ViewFn>,
    children: Children,
) -> impl IntoView {
    let class = if extra.is_empty() {
        CARD.to_owned()
    } else {
        format!("{CARD} {extra}")
    };
    let heading = view! { <h2 id=heading_id class="text-lg font-semibold">{title}</h2> };
    view! {
        <section class=class aria-labelledby=heading_id data-testid=testid>
            {match aside {
                Some(aside) => view! {
                    <div class="flex flex-wrap items-baseline justify-between gap-2">{heading}{aside.run()}</div>
                }
                .into_any(),
                None => heading.into_any(),
            }}
            {children()}
        </section>
    }
}

/// The outcome of an action as a flash line.
pub fn flash_of(outcome: Result<String, AppError>) -> AnyView {
    match outcome {
        Ok(m) => view! { <Flash message=m /> }.into_any(),
        Err(e) => view! { <Flash message=e.message error=true /> }.into_any(),
    }
}

/// The outcome of a server action as a page's flash line (above the page's content).
pub fn outcome(
    value: impl Get<Value = Option<Result<String, AppError>>> + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        value
            .get()
            .map(|r| view! { <div class="mb-4">{flash_of(r)}</div> })
    }
}

/// Shows each outcome of an action in `notice`: a page with several actions has one flash
/// line, the latest outcome.
pub fn follow_outcome(
    notice: RwSignal<Option<Result<String, AppError>>>,
    value: impl Get<Value = Option<Result<String, AppError>>> + Send + Sync + 'static,
) {
    Effect::new(move |_| {
        if let Some(r) = value.get() {
            notice.set(Some(r));
        }
    });
}

/// The flash line after a form was sent: `done` for a success, `refused` as an error line
/// when the form was refused (its problems show beside the fields), or the error.
pub fn submission_flash<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<Submitted<T>, AppError>>> + Send + Sync + 'static,
    refused: &'static str,
    done: impl Fn(T) -> AnyView + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        value.get().map(|r| match r {
            Ok(Submitted::Done(t)) => done(t),
            Ok(Submitted::Refused(_)) => {
                view! { <div class="mb-4"><Flash message=refused error=true /></div> }.into_any()
            }
            Err(e) => {
                view! { <div class="mb-4"><Flash message=e.message error=true /></div> }.into_any()
            }
        })
    }
}

/// A success line (`testid`) after something was made, with the children beside it: the
/// link to open what was made.
#[component]
pub fn DoneFlash(
    testid: &'static str,
    #[prop(into)] message: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    match children {
        Some(link) => view! {
            <div class="mb-4 flex flex-wrap items-center gap-3" data-testid=testid>
                <Flash message />
                {link()}
            </div>
        }
        .into_any(),
        None => view! { <div class="mb-4" data-testid=testid><Flash message /></div> }.into_any(),
    }
}

/// The count beside a list's heading.
pub fn in_all(count: usize, testid: Option<&'static str>) -> impl IntoView {
    view! { <span class="text-sm text-slate-500" data-testid=testid>{format!("{count} in all")}</span> }
}
