-- The stale-flags view (issue 5): when a flag was last evaluated through the Flag API or
-- OFREP (recorded in batches by each server, at most once a minute per flag).
ALTER TABLE flag_definitions ADD COLUMN last_evaluated_at timestamptz;
