//! Usage in the consoles (IF-TENANT-CONSOLE, FR-BILL-003): what applications reported
//! through the Billing API, as exact totals per event type for this month and last month,
//! and a per-day chart of this month so far.
//!
//! - `usage`: the shared report (table, charts, empty state) and the Operator Console's
//!   Usage section of a tenant's page.
//! - `subscription`: `/admin/subscription`, where owners and admins see their plan, what
//!   it gives them and their usage, and owners change the plan (FR-TENANT-003).
//! - `chart`: the server-rendered SVG bar chart both use.
//!
//! The totals come from the daily rollup kept with the events, so they are exact; the
//! quantities stay decimal strings and become numbers only to be drawn.

pub mod chart;
pub mod subscription;
pub mod usage;
