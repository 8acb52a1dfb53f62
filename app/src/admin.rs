//! `/admin`: Tenant Administration's start page — the areas that are ready and those a later
//! change brings (FR-TENANT-001..006, FR-AUTH-006).

use crate::layout::{Guarded, PageHeader, PageTitle};
use leptos::prelude::*;

pub use crate::tenant_admin::{PeoplePage as UsersPage, PersonPage as UserPage};
pub use crate::tenant_settings::SettingsPage;

/// Areas of the console that are not built yet.
const PLANNED: &[(&str, &str)] = &[(
    "Audit log",
    "Your organisation's audit entries with filters and a CSV download.",
)];

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <PageTitle text="Tenant Administration" />
        <Guarded page="admin">
            <PageHeader title="Tenant Administration" subtitle="For your organisation's owners and admins." />
            <ul class="mb-6 grid gap-4 sm:grid-cols-2">
                <li>
                    <a
                        href="/admin/users"
                        data-testid="admin-users"
                        class="block h-full rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300 hover:shadow focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                    >
                        <p class="font-medium text-indigo-700">"Users →"</p>
                        <p class="mt-1 text-sm text-slate-600">"Invite people, change roles, disable, delete, end sessions, reset MFA (FR-TENANT-001..006)."</p>
                    </a>
                </li>
                <li>
                    <a
                        href="/admin/settings"
                        data-testid="admin-settings"
                        class="block h-full rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-indigo-300 hover:shadow focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                    >
                        <p class="font-medium text-indigo-700">"Settings →"</p>
                        <p class="mt-1 text-sm text-slate-600">"Password and MFA policies, session timeout; your plan (FR-AUTH-006, FR-TENANT-003)."</p>
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

/// Not built yet: the start page says what is coming.
#[component]
pub fn AuditLogPage() -> impl IntoView {
    AdminPage()
}
