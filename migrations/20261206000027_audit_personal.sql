-- Personal data in the audit trail, encrypted per data subject (CON-COMP-001): erasure by
-- crypto-shredding, so the hash chain and its signed checkpoints never change.
--
-- 1. `subject_keys`: one data key per data subject (`user:<id>`, `ip:<ref>`,
--    `email:<ref>`, and `$index`, the key of the address references), sealed with the master
--    key (AES-256-GCM, associated data `subject_key:<subject>`). Erasure destroys the sealed
--    key and keeps the row, so the subject reads as erased rather than unknown.
-- 2. `audit_ip_refs`: a keyed hash of each entry's address, so the Auditor Console can still
--    search by address and the detectors count by address. It lives outside the chain
--    (nothing hashes it) because erasure must delete the references of a person's entries.
-- 3. `audit_append` and `audit_ingest` write those references with the entry.
-- 4. The one-time sealing of entries written before this migration rewrites metadata and
--    re-links the chain, which the append-only trigger allows only to a transaction that
--    says so (`gatehouse.audit_reseal`); `audit_reseal` records that it ran, and the
--    checkpoints it superseded are kept apart.

CREATE TABLE subject_keys (
    subject      text PRIMARY KEY CHECK (length(subject) BETWEEN 3 AND 100),
    sealed_key   bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((sealed_key IS NULL) = (destroyed_at IS NOT NULL))
);

CREATE TABLE audit_ip_refs (
    ip_ref      bytea NOT NULL CHECK (length(ip_ref) = 32),
    seq         bigint NOT NULL,
    recorded_at timestamptz NOT NULL,
    subject     text NOT NULL,
    PRIMARY KEY (ip_ref, seq)
);
CREATE INDEX audit_ip_refs_subject_idx ON audit_ip_refs (subject);
CREATE INDEX audit_ip_refs_recorded_idx ON audit_ip_refs (recorded_at);

CREATE TABLE audit_reseal (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    done_at       timestamptz NOT NULL,
    entries       bigint NOT NULL,
    sealed        bigint NOT NULL,
    old_head_hash bytea,
    new_head_hash bytea
);

-- Checkpoints signed before the one-time sealing: their hashes are those of the chain as it
-- was, kept on record but no longer checked against the re-linked chain.
CREATE TABLE audit_checkpoints_superseded (LIKE audit_checkpoints INCLUDING ALL);

CREATE OR REPLACE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('gatehouse.audit_reseal', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP FUNCTION audit_append(uuid, timestamptz, uuid, uuid, text, text, text, text, jsonb, text);

-- As in migration 0013, with the entry's address reference (`p_ip_ref`, under
-- `p_ip_subject`) written beside it.
CREATE FUNCTION audit_append(
    p_id uuid, p_occurred_at timestamptz, p_tenant_id uuid, p_actor_id uuid,
    p_actor_type text, p_action text, p_resource text, p_outcome text, p_metadata jsonb,
    p_request_id text, p_ip_ref bytea, p_ip_subject text, OUT out_seq bigint, OUT out_hash bytea
) LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint;
    head_hash bytea;
    at        timestamptz;
BEGIN
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_head h WHERE h.singleton FOR UPDATE;
    at := date_trunc('microseconds', clock_timestamp());
    out_seq := head_seq + 1;
    out_hash := audit_entry_hash(head_hash, out_seq, p_id, at, coalesce(p_occurred_at, at),
                                 p_tenant_id, p_actor_id, p_actor_type, p_action, p_resource,
                                 p_outcome, p_metadata, p_request_id, 'control_plane', NULL);
    INSERT INTO audit_log (seq, id, recorded_at, occurred_at, tenant_id, actor_id, actor_type,
                           action, resource, outcome, metadata, request_id, source,
                           application_id, prev_hash, hash)
    VALUES (out_seq, p_id, at, coalesce(p_occurred_at, at), p_tenant_id, p_actor_id,
            p_actor_type, p_action, p_resource, p_outcome, p_metadata, p_request_id,
            'control_plane', NULL, head_hash, out_hash);
    IF p_ip_ref IS NOT NULL THEN
        INSERT INTO audit_ip_refs (ip_ref, seq, recorded_at, subject)
        VALUES (p_ip_ref, out_seq, at, p_ip_subject);
    END IF;
    UPDATE audit_chain_head h SET seq = out_seq, hash = out_hash WHERE h.singleton;
END;
$$;

-- As in migration 0018; an event may carry `ip_ref` (hex) and `ip_subject`, which go to
-- `audit_ip_refs` and not into the entry.
CREATE OR REPLACE FUNCTION audit_ingest(p_application uuid, p_request_id text, p_events jsonb)
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
            IF e ? 'ip_ref' THEN
                INSERT INTO audit_ip_refs (ip_ref, seq, recorded_at, subject)
                VALUES (decode(e->>'ip_ref', 'hex'), s, at, e->>'ip_subject');
            END IF;
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
