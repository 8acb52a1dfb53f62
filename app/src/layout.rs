//! The shared frame of every page: top bar with the product name and the console
//! navigation (a menu button on narrow screens), the page body, and a footer.

pub mod not_found;

use leptos::prelude::*;
use leptos_router::components::A;

/// The consoles, each with the page key of [`crate::auth::roles_for_page`].
const NAV: &[(&str, &str, &str)] = &[
    ("/operator", "Operator", "operator"),
    ("/admin", "Tenant admin", "admin"),
    ("/audit", "Audit", "audit"),
    ("/account", "Account", "account"),
];

/// The header's navigation: the consoles the signed-in person may open and a sign-out
/// link, or a sign-in link.
#[component]
fn NavItems(me: Option<crate::auth::Me>, mobile: bool) -> impl IntoView {
    let button = if mobile {
        "mt-2 block rounded-md bg-indigo-500 px-3 py-2 text-sm font-medium"
    } else {
        "ml-2 rounded-md bg-indigo-500 px-3 py-2 text-sm font-medium hover:bg-indigo-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-white"
    };
    match me {
        Some(me) => {
            let links = NAV
                .iter()
                .filter(|(_, _, page)| {
                    crate::auth::roles_for_page(page).contains(&me.role.as_str())
                })
                .map(|(href, label, _)| view! { <NavLink href=*href label=*label /> })
                .collect_view();
            view! {
                {links}
                <span class="px-3 py-2 text-sm text-slate-300" data-testid="signed-in-as">{me.email}</span>
                <a href="/logout" class=button>"Sign out"</a>
            }
            .into_any()
        }
        None => view! { <a href="/login" class=button>"Sign in"</a> }.into_any(),
    }
}

/// Asks the header to read who is signed in again, for a page whose action changed it
/// without a navigation (a confirmed new email address). Provided by [`Shell`].
#[derive(Clone, Copy)]
pub struct RefreshSignedIn(RwSignal<u32>);

impl RefreshSignedIn {
    pub fn refresh(self) {
        self.0.update(|n| *n = n.wrapping_add(1));
    }
}

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let (menu_open, set_menu_open) = signal(false);
    let location = leptos_router::hooks::use_location();
    let refresh = RwSignal::new(0u32);
    provide_context(RefreshSignedIn(refresh));
    // Re-read on every navigation, so signing in or out shows at once.
    let me = Resource::new(
        move || (location.pathname.get(), refresh.get()),
        |_| crate::auth::signed_in_as(),
    );
    let nav = move |mobile: bool| {
        view! {
            <Transition fallback=|| ()>
                {move || me.get().map(|m| view! { <NavItems me=m.ok().flatten() mobile /> })}
            </Transition>
        }
    };
    view! {
        <div class="min-h-full flex flex-col">
            <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:shadow">
                "Skip to content"
            </a>
            <header class="bg-slate-900 text-white">
                <div class="mx-auto flex max-w-6xl items-center justify-between px-4 py-3">
                    <a href="/" class="flex items-center gap-2 text-lg font-semibold tracking-tight">
                        <span aria-hidden="true" class="inline-flex h-8 w-8 items-center justify-center rounded-md bg-indigo-500 font-bold">"G"</span>
                        "Gatehouse"
                    </a>
                    <nav aria-label="Main" class="hidden items-center gap-1 md:flex">
                        {nav(false)}
                    </nav>
                    <button
                        type="button"
                        class="rounded-md p-2 hover:bg-slate-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-white md:hidden"
                        aria-controls="mobile-nav"
                        aria-expanded=move || menu_open.get().to_string()
                        data-testid="menu-toggle"
                        on:click=move |_| set_menu_open.update(|open| *open = !*open)
                    >
                        <span class="sr-only">"Menu"</span>
                        <svg aria-hidden="true" class="h-6 w-6" fill="none" viewBox="0 0 24 24" stroke="currentColor" stroke-width="2">
                            <path stroke-linecap="round" stroke-linejoin="round" d="M4 6h16M4 12h16M4 18h16" />
                        </svg>
                    </button>
                </div>
                <nav
                    id="mobile-nav"
                    aria-label="Main"
                    class=move || if menu_open.get() { "border-t border-slate-800 px-4 pb-3 md:hidden" } else { "hidden" }
                >
                    {nav(true)}
                </nav>
            </header>
            <main id="main" class="mx-auto w-full max-w-6xl flex-1 px-4 py-8">
                <crate::tenants::maintenance::MaintenanceBanner />
                {children()}
            </main>
            <footer class="border-t border-slate-200 bg-white">
                <div class="mx-auto flex max-w-6xl flex-wrap justify-between gap-2 px-4 py-4 text-sm text-slate-500">
                    <span>"Gatehouse — the control plane for B2B SaaS"</span>
                    <span>"Self-hosted · " {env!("CARGO_PKG_VERSION")}</span>
                </div>
            </footer>
        </div>
    }
}

#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    view! {
        <A href=href attr:class="block rounded-md px-3 py-2 text-sm font-medium text-slate-200 hover:bg-slate-800 hover:text-white aria-[current=page]:bg-slate-800 aria-[current=page]:text-white">
            {label}
        </A>
    }
}

/// A page title with an optional line under it.
#[component]
pub fn PageHeader(
    title: &'static str,
    #[prop(optional)] subtitle: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="mb-6">
            <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
            {subtitle.map(|s| view! { <p class="mt-1 text-slate-600">{s}</p> })}
        </div>
    }
}

/// A console page whose features arrive with a later issue: says what it will hold.
#[component]
pub fn PlannedConsole(
    title: &'static str,
    audience: &'static str,
    items: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    view! {
        <PageTitle text=title />
        <PageHeader title=title subtitle=audience />
        <Planned heading="What this console will hold" items />
    }
}

/// A console's areas: link, name, what it holds, test id.
pub type Area = (&'static str, &'static str, &'static str, &'static str);

/// The start page's cards, one link per area of the console.
#[component]
pub fn AreaCards(areas: &'static [Area]) -> impl IntoView {
    view! {
        <ul class="mb-6 grid gap-4 sm:grid-cols-3">
            {areas.iter().map(|(href, name, what, testid)| view! {
                <li>
                    <a href=*href data-testid=*testid
                        class="block h-full rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300 hover:shadow focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                        <p class="font-medium text-indigo-700">{format!("{name} →")}</p>
                        <p class="mt-1 text-sm text-slate-600">{*what}</p>
                    </a>
                </li>
            }).collect_view()}
        </ul>
    }
}

/// What is not built yet, under `heading`.
#[component]
pub fn Planned(
    heading: &'static str,
    items: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-dashed border-slate-300 bg-white p-6">
            <p class="text-sm font-medium text-slate-700">{heading}</p>
            <ul class="mt-4 grid gap-4 sm:grid-cols-2">
                {items
                    .iter()
                    .map(|(name, what)| {
                        view! {
                            <li class="rounded-md border border-slate-200 p-4">
                                <p class="font-medium">{*name}</p>
                                <p class="mt-1 text-sm text-slate-600">{*what}</p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}

/// The document title: "{page} · Gatehouse".
#[component]
pub fn PageTitle(text: &'static str) -> impl IntoView {
    view! { <leptos_meta::Title text=format!("{text} · Gatehouse") /> }
}

/// A page that needs a signed-in person of `page`'s console (see
/// [`crate::auth::roles_for_page`]): renders its children with [`crate::auth::Me`]
/// in context, or sends the browser to sign in, or says whose page it is.
#[component]
pub fn Guarded(page: &'static str, children: ChildrenFn) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let path = format!(
        "{}{}",
        location.pathname.get_untracked(),
        location.search.get_untracked()
    );
    let me = Resource::new_blocking(
        || (),
        move |_| crate::auth::whoami(page.to_owned(), path.clone()),
    );
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                me.get().map(move |result| match result {
                    Ok(me) => {
                        provide_context(me);
                        children().into_any()
                    }
                    Err(e) => view! { <crate::ui::Refused message=e.message /> }.into_any(),
                })
            }}
        </Suspense>
    }
}

/// `message` as a sentence on a page: the domain's messages are lower-case clauses ("this
/// link is no longer valid; ask for a new one", SPEC §9), so a first word of plain
/// lower-case letters gets its capital and the end its full stop. A first word that is an
/// address or a domain ("ann@acme.test is invited") keeps its spelling.
pub fn as_sentence(message: &str) -> String {
    let message = message.trim();
    let first_word = message.split(' ').next().unwrap_or_default();
    let mut out = if first_word
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '\'')
    {
        let mut chars = message.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    } else {
        message.to_owned()
    };
    if !out.is_empty() && !out.ends_with(['.', '!', '?', ')', ':']) {
        out.push('.');
    }
    out
}

/// A success or error line after an action (flash message).
#[component]
pub fn Flash(#[prop(into)] message: String, #[prop(optional)] error: bool) -> impl IntoView {
    let message = as_sentence(&message);
    let class = if error {
        "rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
    } else {
        "rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800"
    };
    let role = if error { "alert" } else { "status" };
    view! { <p role=role class=class data-testid="flash">{message}</p> }
}

#[cfg(test)]
mod tests {
    use super::as_sentence;

    #[test]
    fn domain_clauses_read_as_sentences_and_addresses_keep_their_spelling() {
        assert_eq!(
            as_sentence("this link is no longer valid; ask for a new one"),
            "This link is no longer valid; ask for a new one."
        );
        assert_eq!(
            as_sentence("Two-step verification is on."),
            "Two-step verification is on."
        );
        assert_eq!(
            as_sentence("ann@acme.test is invited: the invitation is on its way."),
            "ann@acme.test is invited: the invitation is on its way."
        );
        assert_eq!(as_sentence("acme.test is taken"), "acme.test is taken.");
        assert_eq!(as_sentence(""), "");
    }
}
