//! `/admin`: Tenant Administration's start page — the areas of the console and those a later
//! change brings (FR-TENANT-001..006, FR-AUTH-006).

use crate::layout::{Guarded, PageHeader, PageTitle};
use leptos::prelude::*;

pub use crate::tenant_admin::{PeoplePage as UsersPage, PersonPage as UserPage};
pub use crate::tenant_audit_page::AuditLogPage;
pub use crate::tenant_settings::SettingsPage;

/// The areas: link, name, what, test id.
const AREAS: &[(&str, &str, &str, &str)] = &[
    (
        "/admin/users",
        "Users",
        "Invite people, change roles, disable, delete, end sessions, reset MFA (FR-TENANT-001..006).",
        "admin-users",
    ),
    (
        "/admin/settings",
        "Settings",
        "Password and MFA policies, session timeout; your plan (FR-AUTH-006, FR-TENANT-003).",
        "admin-settings",
    ),
    (
        "/admin/audit",
        "Audit log",
        "Everything that happened in your organisation, with filters and a CSV download.",
        "admin-audit",
    ),
];

/// Areas not built yet.
const PLANNED: &[(&str, &str)] = &[
    (
        "Pending invitations",
        "Resend or revoke an invitation before it is accepted.",
    ),
    (
        "Single sign-on",
        "Your company's OpenID Connect provider (owners only).",
    ),
];

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <PageTitle text="Tenant Administration" />
        <Guarded page="admin">
            <PageHeader title="Tenant Administration" subtitle="For your organisation's owners and admins." />
            <ul class="mb-6 grid gap-4 sm:grid-cols-3">
                {AREAS.iter().map(|(href, name, what, testid)| view! {
                    <li>
                        <a href=*href data-testid=*testid
                            class="block h-full rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300 hover:shadow focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                            <p class="font-medium text-indigo-700">{format!("{name} →")}</p>
                            <p class="mt-1 text-sm text-slate-600">{*what}</p>
                        </a>
                    </li>
                }).collect_view()}
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
