-- Backups (`gatehouse backup`, GATEHOUSE_BACKUP_*): every create, verify and restore. A
-- row is written when a run starts, so of several instances sharing this database one
-- takes a scheduled slot, and completed when it ends, with its audit entry
-- (backup.create, backup.verify, backup.restore) in the same transaction. The Operator
-- Console's dashboard and /metrics read it, so runs of the command line and of other
-- instances show too.
CREATE TABLE backup_runs (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('create', 'verify', 'restore')),
    -- The backup's name, once known (a run can fail before it is).
    backup      text CHECK (backup IS NULL OR backup ~ '^gatehouse-[0-9]{8}T[0-9]{6}Z$'),
    -- Started by the schedule (one per slot) rather than a person.
    scheduled   boolean NOT NULL DEFAULT false,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    -- NULL while it runs, or when its process died before it finished.
    ok          boolean,
    -- The encrypted archive's size.
    size_bytes  bigint CHECK (size_bytes IS NULL OR size_bytes >= 0),
    -- Where it went, the verify's summary, or why it failed. No secrets, no personal data.
    detail      text CHECK (detail IS NULL OR length(detail) <= 2000),
    CHECK ((finished_at IS NULL) = (ok IS NULL))
);
-- The newest runs of a kind (the dashboard, /metrics, the schedule's slot check).
CREATE INDEX backup_runs_kind_started_idx ON backup_runs (kind, started_at DESC);
