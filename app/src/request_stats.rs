//! The server's own counts over the last minutes, for the Operator Console's dashboard:
//! requests answered and how many of them failed (5xx); usage events taken and refused.
//! Process-wide, like the Prometheus recorder fed at the same places.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The window the console reports on, in minutes.
pub const WINDOW_MINUTES: u64 = 15;
const SLOTS: usize = WINDOW_MINUTES as usize;

/// One minute's two counts (all, and the failed ones); `minute` says which minute they
/// belong to, so a slot left over from an earlier lap of the ring is recognised and
/// restarted.
struct Slot {
    minute: AtomicU64,
    all: AtomicU64,
    failed: AtomicU64,
}

pub struct RequestStats {
    slots: [Slot; SLOTS],
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    minute: AtomicU64::new(0),
    all: AtomicU64::new(0),
    failed: AtomicU64::new(0),
};

static STATS: RequestStats = RequestStats {
    slots: [EMPTY; SLOTS],
};

/// Usage events: taken (accepted, duplicate or conflict) and refused (in a rejected
/// request or bulk line).
static USAGE: RequestStats = RequestStats {
    slots: [EMPTY; SLOTS],
};

fn now_minute() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 60)
        .unwrap_or(0)
}

/// Counts one answered request with its status.
pub fn record(status: u16) {
    STATS.add_at(now_minute(), 1, u64::from(status >= 500));
}

/// Requests and failed (5xx) requests over the last [`WINDOW_MINUTES`] minutes.
pub fn snapshot() -> (u64, u64) {
    STATS.snapshot_at(now_minute())
}

/// Counts usage events: `taken` stored or recognised, `refused` rejected.
pub fn record_usage(taken: u64, refused: u64) {
    USAGE.add_at(now_minute(), taken + refused, refused);
}

/// Usage events received and refused over the last [`WINDOW_MINUTES`] minutes.
pub fn usage_snapshot() -> (u64, u64) {
    USAGE.snapshot_at(now_minute())
}

impl RequestStats {
    #[cfg(test)]
    fn record_at(&self, minute: u64, status: u16) {
        self.add_at(minute, 1, u64::from(status >= 500));
    }

    fn add_at(&self, minute: u64, all: u64, failed: u64) {
        let slot = &self.slots[(minute % SLOTS as u64) as usize];
        let seen = slot.minute.load(Ordering::Relaxed);
        if seen != minute
            && slot
                .minute
                .compare_exchange(seen, minute, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            // A new minute in this slot: forget the old lap's counts. (A request of the
            // new minute counted between the swap and these stores may be lost; the panel
            // is an indication, not an invoice.)
            slot.all.store(0, Ordering::Relaxed);
            slot.failed.store(0, Ordering::Relaxed);
        }
        slot.all.fetch_add(all, Ordering::Relaxed);
        slot.failed.fetch_add(failed, Ordering::Relaxed);
    }

    fn snapshot_at(&self, minute: u64) -> (u64, u64) {
        self.slots
            .iter()
            .filter(|s| minute.saturating_sub(s.minute.load(Ordering::Relaxed)) < WINDOW_MINUTES)
            .fold((0, 0), |(r, e), s| {
                (
                    r + s.all.load(Ordering::Relaxed),
                    e + s.failed.load(Ordering::Relaxed),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> RequestStats {
        RequestStats {
            slots: [EMPTY; SLOTS],
        }
    }

    #[test]
    fn counts_requests_and_server_errors_in_the_window() {
        let stats = fresh();
        stats.record_at(1_000, 200);
        stats.record_at(1_000, 503);
        stats.record_at(1_005, 404);
        assert_eq!(stats.snapshot_at(1_005), (3, 1));
        // 15 minutes later the first minute has left the window.
        assert_eq!(stats.snapshot_at(1_015), (1, 0));
    }

    #[test]
    fn a_slot_reused_a_lap_later_starts_from_zero() {
        let stats = fresh();
        stats.record_at(1_000, 500);
        stats.record_at(1_000 + WINDOW_MINUTES, 200);
        assert_eq!(stats.snapshot_at(1_000 + WINDOW_MINUTES), (1, 0));
    }
}
