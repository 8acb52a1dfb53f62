use crate::layout::PageHeader;
use leptos::prelude::*;

const AREAS: &[(&str, &str, &str)] = &[
    (
        "/login",
        "Universal Login",
        "Password, SSO, passkeys and authenticator apps for every tenant's users.",
    ),
    (
        "/operator",
        "Operator Console",
        "Provision and suspend tenants, manage plans, feature flags and applications.",
    ),
    (
        "/admin",
        "Tenant Administration",
        "Owners and admins manage their users, roles, sessions, SSO and policies.",
    ),
    (
        "/audit",
        "Auditor Console",
        "Search the tamper-evident audit trail and download it as CSV.",
    ),
];

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <leptos_meta::Title text="Gatehouse" />
        <PageHeader title="Welcome to Gatehouse" subtitle="Login, tokens, tenants, feature flags, usage and audit — in one self-hosted server." />
        <div class="grid gap-4 sm:grid-cols-2">
            {AREAS
                .iter()
                .map(|(href, name, what)| {
                    view! {
                        <a href=*href class="group rounded-lg border border-slate-200 bg-white p-5 shadow-sm transition hover:border-indigo-300 hover:shadow focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                            <p class="font-semibold group-hover:text-indigo-600">{*name}</p>
                            <p class="mt-1 text-sm text-slate-600">{*what}</p>
                        </a>
                    }
                })
                .collect_view()}
        </div>
    }
}
