-- The audit append as one function (SPEC §8, FR-LOG-001): the chain head is locked, the
-- entry hashed and inserted and the head moved, exactly as before, but callable from
-- inside another statement, so a sign-in (session, last sign-in, known network and its
-- `auth.login.success` entry) is one atomic statement and one round trip (issue 3,
-- bench/login). The head stays locked until the calling transaction ends, so concurrent
-- appends still cannot fork the chain. `recorded_at` is read after the lock is taken, so
-- it never goes backwards along the chain.
CREATE FUNCTION audit_append(
    p_id uuid, p_occurred_at timestamptz, p_tenant_id uuid, p_actor_id uuid,
    p_actor_type text, p_action text, p_resource text, p_outcome text, p_metadata jsonb,
    p_request_id text, OUT out_seq bigint, OUT out_hash bytea
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
    UPDATE audit_chain_head h SET seq = out_seq, hash = out_hash WHERE h.singleton;
END;
$$;

-- `audit_entry_hash` calls STABLE functions (jsonb_build_array, to_char), so declared
-- IMMUTABLE it could not be inlined: every append parsed and planned its body again.
-- STABLE is what it is; the planner now inlines it into the append's cached plan.
ALTER FUNCTION audit_entry_hash(bytea, bigint, uuid, timestamptz, timestamptz, uuid, uuid, text,
                                text, text, text, jsonb, text, text, uuid) STABLE;
