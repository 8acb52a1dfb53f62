//! The server's own request counts over the last minutes, for the Operator Console's
//! health panel: how many requests were answered and how many of them failed (5xx).
//! Process-wide, like the Prometheus recorder the same middleware feeds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The window the console reports on, in minutes.
pub const WINDOW_MINUTES: u64 = 15;
const SLOTS: usize = WINDOW_MINUTES as usize;

/// One minute's counts; `minute` says which minute they belong to, so a slot left over
/// from an earlier lap of the ring is recognised and restarted.
struct Slot {
    minute: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
}

pub struct RequestStats {
    slots: [Slot; SLOTS],
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    minute: AtomicU64::new(0),
    requests: AtomicU64::new(0),
    errors: AtomicU64::new(0),
};

static STATS: RequestStats = RequestStats {
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
    STATS.record_at(now_minute(), status);
}

/// Requests and failed (5xx) requests over the last [`WINDOW_MINUTES`] minutes.
pub fn snapshot() -> (u64, u64) {
    STATS.snapshot_at(now_minute())
}

impl RequestStats {
    fn record_at(&self, minute: u64, status: u16) {
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
            slot.requests.store(0, Ordering::Relaxed);
            slot.errors.store(0, Ordering::Relaxed);
        }
        slot.requests.fetch_add(1, Ordering::Relaxed);
        if status >= 500 {
            slot.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn snapshot_at(&self, minute: u64) -> (u64, u64) {
        self.slots
            .iter()
            .filter(|s| minute.saturating_sub(s.minute.load(Ordering::Relaxed)) < WINDOW_MINUTES)
            .fold((0, 0), |(r, e), s| {
                (
                    r + s.requests.load(Ordering::Relaxed),
                    e + s.errors.load(Ordering::Relaxed),
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
