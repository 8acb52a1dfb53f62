//! `/operator/tenants` and `/operator/tenants/:id` (UC-PROV-001, UC-TENANT-SUSPEND,
//! FR-OPS-001): the Operator Console's tenants.

use crate::layout::{Guarded, PlannedConsole};
use leptos::prelude::*;

#[component]
pub fn TenantsPage() -> impl IntoView {
    view! {
        <Guarded page="operator">
            <PlannedConsole title="Tenants" audience="Provision, suspend and reactivate tenants." items=&[] />
        </Guarded>
    }
}

#[component]
pub fn TenantPage() -> impl IntoView {
    TenantsPage()
}
