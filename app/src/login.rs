//! Universal Login (SPEC §3): `/login`, with a tenant hint from `/t/{domain}/login` or
//! `?tenant=`.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn LoginPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let tenant = move || {
        params
            .read()
            .get("domain")
            .or_else(|| query.read().get("tenant"))
            .filter(|t| !t.trim().is_empty())
    };
    let (show_password, set_show_password) = signal(false);
    view! {
        <crate::layout::PageTitle text="Sign in" />
        <div class="mx-auto max-w-md">
            <div class="rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
                <h1 class="text-2xl font-semibold tracking-tight">"Sign in"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {move || match tenant() {
                        Some(t) => format!("to {t} on Gatehouse"),
                        None => "with your work email".to_owned(),
                    }}
                </p>
                <form method="post" action="/login" class="mt-6 space-y-4">
                    <input type="hidden" name="tenant" prop:value=move || tenant().unwrap_or_default() />
                    <div>
                        <label for="email" class="block text-sm font-medium">"Email"</label>
                        <input id="email" name="email" type="email" autocomplete="username" required
                            class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500" />
                    </div>
                    <div>
                        <div class="flex items-center justify-between">
                            <label for="password" class="block text-sm font-medium">"Password"</label>
                            <a href="/forgot-password" class="text-sm text-indigo-600 hover:underline">"Forgot password?"</a>
                        </div>
                        <div class="relative mt-1">
                            <input id="password" name="password" autocomplete="current-password" required
                                type=move || if show_password.get() { "text" } else { "password" }
                                class="block w-full rounded-md border border-slate-300 px-3 py-2 pr-16 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500" />
                            <button type="button" data-testid="toggle-password"
                                class="absolute inset-y-0 right-0 px-3 text-sm font-medium text-slate-600 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 rounded-r-md"
                                aria-controls="password"
                                aria-pressed=move || show_password.get().to_string()
                                on:click=move |_| set_show_password.update(|s| *s = !*s)>
                                {move || if show_password.get() { "Hide" } else { "Show" }}
                            </button>
                        </div>
                    </div>
                    <button type="submit"
                        class="w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white shadow-sm hover:bg-indigo-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2">
                        "Sign in"
                    </button>
                </form>
                <div class="mt-6 border-t border-slate-200 pt-4 text-sm text-slate-600">
                    <p>"Single sign-on, passkeys and authenticator apps are offered here once your organisation enables them."</p>
                </div>
            </div>
        </div>
    }
}
