-- The Auditor Console's actor and actor-type filters at 10 million entries (bench/audit):
-- an OR of three columns made the planner walk the time index and filter (p95 2.7 s), and
-- a rare actor type did the same (p95 219 ms). One expression names the actor of every
-- entry — the person or system id of Gatehouse's own entries, the id an application
-- reported for its events — so the actor filter is one indexed condition in the console's
-- order; the actor type gets its own index in that order.
DROP INDEX IF EXISTS audit_log_reported_actor_idx;
CREATE INDEX IF NOT EXISTS audit_log_actor_key_idx ON audit_log (
    (CASE WHEN source = 'application' THEN metadata->'actor'->>'id' ELSE actor_id::text END),
    recorded_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS audit_log_actor_type_idx ON audit_log (actor_type, recorded_at DESC, seq DESC);
