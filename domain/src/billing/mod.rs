//! Usage and billing events (SPEC §7; FR-BILL-001..003, API-BILL): exactly once, and
//! provably complete.
//!
//! - Ingestion ([`ingest`]): every event is validated before anything is stored; each is
//!   then `accepted`, `duplicate` (the same application id and content: stored once) or
//!   `conflict` (the same id, other content: refused and named), answered after the commit.
//!   The daily rollup changes in the same transaction, so totals never count a retry.
//! - Pulls ([`pull`]): in ingestion order below the commit watermark (migration 0020), so
//!   an event that commits late is in the next pull and none is passed over.
//! - Voids ([`void`]): a correction appended as a record of its own, seen by the next
//!   pull and subtracted from the totals in its transaction; nothing is edited.
//! - Usage ([`usage`]): exact totals per tenant × type × day or month from the rollup, in
//!   UTC or a time zone (the UTC days a local window only partly covers are summed from
//!   the events themselves).
//! - CloudEvents ([`parse_cloud_events`]): OpenMeter's format, mapped onto the same events.

mod cloudevents;
mod events;
mod pull;
mod voids;

pub use cloudevents::*;
pub use events::*;
pub use pull::*;
pub use voids::*;
