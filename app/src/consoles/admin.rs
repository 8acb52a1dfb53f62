//! `/admin`: Tenant Administration's start page — the areas of the console and those a later
//! change brings (FR-TENANT-001..006, FR-AUTH-006).

use crate::layout::{Area, AreaCards, Guarded, PageHeader, PageTitle};
use leptos::prelude::*;

/// The areas: link, name, what, test id.
const AREAS: &[Area] = &[
    (
        "/admin/users",
        "Users",
        "Invite people, resend or revoke invitations, change roles, disable, delete, end sessions, reset MFA.",
        "admin-users",
    ),
    (
        "/admin/settings",
        "Settings",
        "Password and MFA policies, session timeout.",
        "admin-settings",
    ),
    (
        "/admin/subscription",
        "Subscription",
        "Your plan and what it gives you, this month's usage; plan changes (owners).",
        "admin-subscription",
    ),
    (
        "/admin/sso",
        "Single sign-on",
        "Your OpenID Connect provider, verified email domains, roles from groups; require SSO (owners).",
        "admin-sso",
    ),
    (
        "/admin/audit",
        "Audit log",
        "Everything that happened in your organisation, with filters and a CSV download.",
        "admin-audit",
    ),
    (
        "/admin/webhooks",
        "Webhooks",
        "Endpoints that receive your organisation's events as signed HTTP requests; delivery history.",
        "admin-webhooks",
    ),
];

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <PageTitle text="Tenant Administration" />
        <Guarded page="admin">
            <PageHeader title="Tenant Administration" subtitle="For your organisation's owners and admins." />
            <AreaCards areas=AREAS />
            <div class="mt-6"><crate::tenants::alerts::SecurityAlerts /></div>
        </Guarded>
    }
}
