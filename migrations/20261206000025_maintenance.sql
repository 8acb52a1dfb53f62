-- Maintenance windows (NFR-OPS-002): operators announce a period of planned maintenance
-- (start, end, a message for the vendor's customers). Tenants see a banner in their
-- consoles beforehand, webhooks announce it (`maintenance.scheduled`,
-- `maintenance.cancelled`), and `GET /api/v1/status` lists it. Scheduling and cancelling
-- are audited (`maintenance.schedule`, `maintenance.cancel`) in the same transaction.
--
-- A window is platform-wide: it has no tenant. It is never deleted; a cancelled one keeps
-- its row (the Operator Console lists it among the past ones) with `cancelled_at` set.
CREATE TABLE maintenance_windows (
    id           uuid PRIMARY KEY,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    -- Shown to tenants as typed (trimmed): one line, no control characters.
    message      text NOT NULL CHECK (length(message) BETWEEN 1 AND 500 AND message !~ '[[:cntrl:]]'),
    -- The operator who scheduled it (kept as NULL when that account is erased).
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    -- The domain's rules, kept by the database whatever writes here: an end after the
    -- start, at most 7 days long.
    CHECK (ends_at > starts_at),
    CHECK (ends_at - starts_at <= interval '7 days')
);
-- What is not over yet and not cancelled: the banner, the status endpoint, the console's
-- upcoming list. Small by nature; the partial index keeps the public endpoint cheap.
CREATE INDEX maintenance_windows_upcoming_idx ON maintenance_windows (ends_at)
    WHERE cancelled_at IS NULL;
-- The console's past windows, newest first.
CREATE INDEX maintenance_windows_starts_idx ON maintenance_windows (starts_at DESC, id DESC);
