use leptos::prelude::*;

/// The page for unknown addresses; answers with status 404.
///
/// In the browser, the router also lands here when it navigates on its own to an address
/// only the server knows — `/authorize` after signing in, say (a server function's
/// redirect is followed client-side). Outside the first hydration that means "ask the
/// server": the page is loaded for real. A genuine 404 comes from the server and is
/// hydrated, so it never loops.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let hydrating = Owner::current_shared_context().is_some_and(|sc| sc.during_hydration());
        if !hydrating {
            let _ = window().location().reload();
        }
    }
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <crate::layout::PageTitle text="Page not found" />
        <div class="mx-auto max-w-md py-16 text-center">
            <p class="text-sm font-semibold text-indigo-600">"404"</p>
            <h1 class="mt-2 text-3xl font-semibold tracking-tight">"Page not found"</h1>
            <p class="mt-3 text-slate-600">"The page you asked for does not exist or has moved."</p>
            <a href="/" class="mt-6 inline-block rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">"Back to the start"</a>
        </div>
    }
}
