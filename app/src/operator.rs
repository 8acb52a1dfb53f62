use crate::layout::{Guarded, PlannedConsole};
use leptos::prelude::*;

#[component]
pub fn OperatorPage() -> impl IntoView {
    view! {
        <Guarded page="operator">
        <PlannedConsole
            title="Operator Console"
            audience="For the vendor's operators (MFA required)."
            items=&[
                ("Dashboard", "Tenants by status and plan, recent control-plane events, system health."),
                ("Tenants", "Provision, suspend and reactivate tenants; change plans (UC-PROV-001, FR-OPS-001)."),
                ("Feature flags", "Definitions, plan defaults and per-tenant overrides (FR-FLAG-001)."),
                ("Applications", "Managed applications, redirect URIs and API keys (FR-SYS-001..003)."),
            ]
        />
        </Guarded>
    }
}
