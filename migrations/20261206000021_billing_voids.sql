-- Corrections to billing events (issue 19; FR-BILL-002, SPEC §7): a void is appended as a
-- record of its own, in ingestion order like any event, so the billing system sees it in
-- its next pull; nothing is edited or deleted. Totals subtract it (the rollup changes in
-- the void's transaction). One void per event.
ALTER TABLE billing_events
    ADD COLUMN kind text NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'void')),
    ADD COLUMN voids uuid REFERENCES billing_events (id) ON DELETE RESTRICT,
    ADD CONSTRAINT billing_events_void_shape CHECK ((kind = 'void') = (voids IS NOT NULL)),
    ADD CONSTRAINT billing_events_void_key CHECK (kind = 'event' OR idempotency_key IS NULL);
CREATE UNIQUE INDEX billing_events_one_void ON billing_events (voids) WHERE voids IS NOT NULL;
