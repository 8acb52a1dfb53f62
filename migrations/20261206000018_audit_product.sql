-- The audit trail as a product (SPEC §8; FR-LOG-001/002, API-LOG, CON-SEC-002).
--
-- 1. Applications' events (API-LOG) join the one chain. `audit_ingest` appends a whole
--    batch under one acquisition of the chain head's lock (one round trip, one lock, up to
--    1,000 entries), and `audit_ingested` makes an application's own event id idempotent:
--    the head is locked before the id is claimed, so two requests carrying the same id are
--    serialised and the second one finds the first one's row ("duplicate").
-- 2. Signed checkpoints: an Ed25519 key kept only for them (sealed with the master key),
--    and the checkpoints themselves as signed notes.
-- 3. The chain's start: the sequence number and predecessor hash of the first entry kept.
--    Verification checks the first remaining entry against it, so removing the oldest
--    entries is detected; retention moves it when it drops a whole partition.
-- 4. The Auditor Console's saved views and its background verifications.
-- 5. Indexes for every console filter, each ending in the console's order.

CREATE TABLE audit_ingested (
    application_id uuid NOT NULL,
    event_id       text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
    seq            bigint NOT NULL,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (application_id, event_id)
);
CREATE INDEX audit_ingested_recorded_idx ON audit_ingested (recorded_at);

-- Appends `p_events` (a JSON array of validated events, each with `id`, `event_id`,
-- `tenant_id`, `occurred_at`, `action`, `resource`, `outcome`, `metadata`) for application
-- `p_application`, in order, under one lock of the chain head. Answers one row per event:
-- its index, its sequence number (the earlier one for a duplicate) and whether it was a
-- duplicate. The head stays locked until the calling transaction ends.
CREATE FUNCTION audit_ingest(p_application uuid, p_request_id text, p_events jsonb)
RETURNS TABLE (out_idx int, out_seq bigint, out_duplicate boolean) LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint;
    head_hash bytea;
    at        timestamptz;
    e         jsonb;
    i         int := 0;
    s         bigint;
    h         bytea;
    v_id      uuid;
    v_tenant  uuid;
    v_occ     timestamptz;
BEGIN
    SELECT c.seq, c.hash INTO head_seq, head_hash FROM audit_chain_head c WHERE c.singleton FOR UPDATE;
    FOR e IN SELECT value FROM jsonb_array_elements(p_events) LOOP
        s := head_seq + 1;
        at := date_trunc('microseconds', clock_timestamp());
        INSERT INTO audit_ingested (application_id, event_id, seq, recorded_at)
        VALUES (p_application, e->>'event_id', s, at)
        ON CONFLICT DO NOTHING;
        IF FOUND THEN
            v_id := (e->>'id')::uuid;
            v_tenant := (e->>'tenant_id')::uuid;
            v_occ := (e->>'occurred_at')::timestamptz;
            h := audit_entry_hash(head_hash, s, v_id, at, v_occ, v_tenant, NULL, 'application',
                                  e->>'action', e->>'resource', e->>'outcome', e->'metadata',
                                  p_request_id, 'application', p_application);
            INSERT INTO audit_log (seq, id, recorded_at, occurred_at, tenant_id, actor_id, actor_type,
                                   action, resource, outcome, metadata, request_id, source,
                                   application_id, prev_hash, hash)
            VALUES (s, v_id, at, v_occ, v_tenant, NULL, 'application', e->>'action', e->>'resource',
                    e->>'outcome', e->'metadata', p_request_id, 'application', p_application,
                    head_hash, h);
            head_seq := s;
            head_hash := h;
            out_idx := i; out_seq := s; out_duplicate := false;
        ELSE
            SELECT g.seq INTO out_seq FROM audit_ingested g
             WHERE g.application_id = p_application AND g.event_id = e->>'event_id';
            out_idx := i; out_duplicate := true;
        END IF;
        RETURN NEXT;
        i := i + 1;
    END LOOP;
    UPDATE audit_chain_head c SET seq = head_seq, hash = head_hash WHERE c.singleton;
END;
$$;

-- The key that signs checkpoints. The private half is sealed (AES-GCM under the master key,
-- associated data `audit_checkpoint_key:<id>`); only the newest unretired key signs.
CREATE TABLE audit_signing_keys (
    id          text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    public_key  bytea NOT NULL CHECK (length(public_key) = 32),
    sealed_seed bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);

-- Signed checkpoints of the chain (C2SP signed-note form): "the trail had `seq` entries
-- and its head hash was `hash` at `signed_at`".
CREATE TABLE audit_checkpoints (
    seq        bigint PRIMARY KEY,
    hash       bytea NOT NULL CHECK (length(hash) = 32),
    signed_at  timestamptz NOT NULL,
    key_id     text NOT NULL REFERENCES audit_signing_keys (id),
    note       text NOT NULL
);

CREATE TABLE audit_chain_start (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq        bigint NOT NULL,
    prev_hash  bytea NOT NULL CHECK (length(prev_hash) = 32)
);
-- The first entry kept: the oldest one there is (1 on a fresh trail).
INSERT INTO audit_chain_start (seq, prev_hash)
SELECT coalesce((SELECT seq FROM audit_log ORDER BY seq LIMIT 1), 1),
       coalesce((SELECT prev_hash FROM audit_log ORDER BY seq LIMIT 1),
                '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);

CREATE TABLE audit_saved_views (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    query       text NOT NULL CHECK (length(query) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name)
);

CREATE TABLE audit_verifications (
    id          uuid PRIMARY KEY,
    started_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    total       bigint NOT NULL DEFAULT 0,
    checked     bigint NOT NULL DEFAULT 0,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'intact', 'broken', 'failed')),
    problem     text,
    broken_seq  bigint
);
CREATE INDEX audit_verifications_started_idx ON audit_verifications (started_at DESC);

-- The console's filters, each with its order (newest first) so a page is an index range.
CREATE INDEX audit_log_request_idx ON audit_log (request_id, recorded_at DESC, seq DESC)
    WHERE request_id IS NOT NULL;
CREATE INDEX audit_log_ip_idx ON audit_log ((metadata->>'ip'), recorded_at DESC, seq DESC);
CREATE INDEX audit_log_resource_idx ON audit_log (resource, recorded_at DESC, seq DESC)
    WHERE resource IS NOT NULL;
CREATE INDEX audit_log_reported_actor_idx ON audit_log ((metadata->'actor'->>'id'), recorded_at DESC, seq DESC)
    WHERE source = 'application';
CREATE INDEX audit_log_application_idx ON audit_log (application_id, recorded_at DESC, seq DESC)
    WHERE application_id IS NOT NULL;
CREATE INDEX audit_log_action_prefix_idx ON audit_log (action text_pattern_ops);
DROP INDEX audit_log_actor_idx;
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, recorded_at DESC, seq DESC);

-- API-LOG's event types are `^[a-z][a-z0-9_.]{0,63}$` (a single word is allowed); the
-- control plane's own keep their dotted form.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (
    length(action) <= 100 AND (
        action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'
        OR (source = 'application' AND action ~ '^[a-z][a-z0-9_.]{0,63}$')));
