-- Usage and billing events (SPEC §7; FR-BILL-001..003, API-BILL): exactly once, and
-- provably complete for the billing system's pulls.
--
-- - `content_hash` tells a re-sent event (`duplicate`: same id, same content) from a
--   different event reusing an id (`conflict`: refused).
-- - `seq` is the ingestion order and `txid` the inserting transaction. A pull reads in
--   (txid, seq) order and only below the oldest transaction still running
--   (`pg_snapshot_xmin`): a transaction that took its sequence numbers early and commits
--   late is still below the watermark when it commits, so the next pull gets it, and no
--   pull ever passes over it.
-- - `billing_usage_daily` is the exact total per tenant × type × UTC day, kept in the same
--   transaction as the events (a retried batch adds nothing twice).
ALTER TABLE billing_events
    ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    ADD COLUMN content_hash bytea CHECK (content_hash IS NULL OR length(content_hash) = 32);
CREATE INDEX billing_events_pull_idx ON billing_events (txid, seq);
CREATE INDEX billing_events_tenant_pull_idx ON billing_events (tenant_id, txid, seq);

CREATE TABLE billing_usage_daily (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    event_type text NOT NULL,
    day        date NOT NULL,
    quantity   numeric NOT NULL,
    events     bigint NOT NULL,
    PRIMARY KEY (tenant_id, event_type, day)
);
CREATE INDEX billing_usage_daily_day_idx ON billing_usage_daily (day, tenant_id);
