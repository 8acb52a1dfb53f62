//! `/operator`: the Operator Console's start page — the areas that are ready (links) and
//! those a later issue brings.

use crate::layout::{Guarded, PageHeader, PageTitle};
use leptos::prelude::*;

/// Areas of the console that are not built yet.
const PLANNED: &[(&str, &str)] = &[
    (
        "Dashboard",
        "Tenants by status and plan, recent control-plane events, system health.",
    ),
    (
        "Tenants",
        "Provision, suspend and reactivate tenants; change plans (UC-PROV-001, FR-OPS-001).",
    ),
    (
        "Feature flags",
        "Definitions, plan defaults and per-tenant overrides (FR-FLAG-001).",
    ),
];

#[component]
pub fn OperatorPage() -> impl IntoView {
    view! {
        <PageTitle text="Operator Console" />
        <Guarded page="operator">
            <PageHeader title="Operator Console" subtitle="For the vendor's operators (MFA required)." />
            <ul class="mb-6 grid gap-4 sm:grid-cols-2">
                <li>
                    <a
                        href="/operator/applications"
                        data-testid="operator-applications"
                        class="block h-full rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300 hover:shadow focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                    >
                        <p class="font-medium text-indigo-700">"Applications →"</p>
                        <p class="mt-1 text-sm text-slate-600">"Managed applications, redirect URIs and API keys (FR-SYS-001..003)."</p>
                    </a>
                </li>
            </ul>
            <div class="rounded-lg border border-dashed border-slate-300 bg-white p-6">
                <p class="text-sm font-medium text-slate-700">"Coming next"</p>
                <ul class="mt-4 grid gap-4 sm:grid-cols-2">
                    {PLANNED
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
        </Guarded>
    }
}
