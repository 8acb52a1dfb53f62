use crate::layout::{Guarded, PlannedConsole};
use leptos::prelude::*;

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Guarded page="admin">
        <PlannedConsole
            title="Tenant Administration"
            audience="For your organisation's owners and admins."
            items=&[
                ("Users", "Invite, change roles, disable and delete users (FR-TENANT-001..006)."),
                ("Sessions", "See and revoke your users' sessions (UC-TENANT-SESSION-REVOKE)."),
                ("Security policies", "Password policy, MFA requirement and session timeout (FR-AUTH-006)."),
                ("Single sign-on and plan", "Your OpenID Connect provider and subscription (owners only)."),
            ]
        />
        </Guarded>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    AdminPage()
}

#[component]
pub fn UserPage() -> impl IntoView {
    AdminPage()
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    AdminPage()
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    AdminPage()
}
