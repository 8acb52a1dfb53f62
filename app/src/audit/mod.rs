pub mod tenant_log;

use crate::layout::{Guarded, PlannedConsole};
use leptos::prelude::*;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Guarded page="audit">
        <PlannedConsole
            title="Auditor Console"
            audience="For compliance officers: read-only, across all tenants."
            items=&[
                ("Search", "Filter by time, tenant, actor, action, outcome and resource."),
                ("Details", "Every entry with its metadata and request id."),
                ("Export", "Download any selection as CSV, safe to open in a spreadsheet."),
                ("Integrity", "The hash chain proves no entry was changed or removed."),
            ]
        />
        </Guarded>
    }
}
