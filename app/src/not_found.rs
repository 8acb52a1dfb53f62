use leptos::prelude::*;

/// The page for unknown addresses; answers with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
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
