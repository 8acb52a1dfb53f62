//! `/operator/flags` and `/operator/flags/:key` (FR-FLAG-001, FR-FLAG-002): the Operator
//! Console's feature flags.

use crate::layout::{Guarded, PlannedConsole};
use leptos::prelude::*;

#[component]
pub fn FlagsPage() -> impl IntoView {
    view! {
        <Guarded page="operator">
            <PlannedConsole title="Feature flags" audience="Definitions, plan defaults and overrides." items=&[] />
        </Guarded>
    }
}

#[component]
pub fn FlagPage() -> impl IntoView {
    FlagsPage()
}
