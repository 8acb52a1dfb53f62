-- The audit trail (SPEC §8; DAT-LOG, FR-LOG-001..003, CON-SEC-002).
--
-- Append-only in the database itself: a trigger rejects UPDATE, DELETE and TRUNCATE for
-- every role, the application's own included. Retention drops whole expired monthly
-- partitions (partitioned by recorded_at, the server's clock, so entries shipped with old
-- timestamps still land in the current partition).
--
-- Each entry carries the SHA-256 of its predecessor and its own hash over its content, so
-- any change, removal or insertion is detectable (`gatehouse audit verify`). Appends are
-- serialised on the single audit_chain_head row, held until the appending transaction
-- commits, so concurrent appends can never fork the chain.

CREATE TABLE audit_log (
    seq          bigint NOT NULL,
    id           uuid NOT NULL,
    recorded_at  timestamptz NOT NULL,
    occurred_at  timestamptz NOT NULL,
    tenant_id    uuid,
    actor_id     uuid,
    actor_type   text NOT NULL CHECK (actor_type IN ('user', 'operator', 'system', 'application')),
    action       text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' AND length(action) <= 100),
    resource     text CHECK (resource IS NULL OR length(resource) <= 500),
    outcome      text NOT NULL CHECK (outcome IN ('success', 'failure')),
    metadata     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
    request_id   text CHECK (request_id IS NULL OR length(request_id) <= 128),
    -- 'control_plane' for Gatehouse's own records (FR-LOG-003), 'application' for API-LOG.
    source       text NOT NULL DEFAULT 'control_plane' CHECK (source IN ('control_plane', 'application')),
    application_id uuid,
    prev_hash    bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash         bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (seq, recorded_at)
) PARTITION BY RANGE (recorded_at);

CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;

CREATE INDEX audit_log_time_idx ON audit_log (recorded_at DESC, seq DESC);
CREATE INDEX audit_log_tenant_time_idx ON audit_log (tenant_id, recorded_at DESC, seq DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, recorded_at DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, recorded_at DESC);
CREATE INDEX audit_log_id_idx ON audit_log (id);

-- The chain head: the last sequence number and hash. Genesis hash is 32 zero bytes.
CREATE TABLE audit_chain_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq        bigint NOT NULL,
    hash       bytea NOT NULL CHECK (length(hash) = 32)
);
INSERT INTO audit_chain_head (seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change();
-- Partitions get their own truncate guard (TRUNCATE on a partition bypasses the parent's).
CREATE TRIGGER audit_log_default_no_truncate
    BEFORE TRUNCATE ON audit_log_default
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

-- Creates the monthly partition holding `at` if it does not exist yet. Called at startup
-- and daily by the server for this month and the next.
CREATE FUNCTION audit_log_ensure_partition(at timestamptz) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    month_start timestamptz := date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    month_end   timestamptz := month_start + interval '1 month';
    part_name   text := 'audit_log_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYYMM');
BEGIN
    IF to_regclass(part_name) IS NULL THEN
        -- Rows already in the default partition for that month would block the new one;
        -- leave them where they are rather than fail.
        IF EXISTS (SELECT 1 FROM audit_log_default WHERE recorded_at >= month_start AND recorded_at < month_end) THEN
            RETURN NULL;
        END IF;
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)',
                       part_name, month_start, month_end);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change()',
                       part_name || '_no_truncate', part_name);
    END IF;
    RETURN part_name;
END;
$$;

SELECT audit_log_ensure_partition(now());
SELECT audit_log_ensure_partition(now() + interval '1 month');

-- The hash of one entry: SHA-256 over the predecessor's hash and a canonical JSON text of
-- the entry (jsonb's text form is deterministic; times are printed in UTC with
-- microseconds whatever the session's TimeZone). Used by the append and by verification,
-- so both always agree.
CREATE FUNCTION audit_entry_hash(
    prev_hash bytea, seq bigint, id uuid, recorded_at timestamptz, occurred_at timestamptz,
    tenant_id uuid, actor_id uuid, actor_type text, action text, resource text, outcome text,
    metadata jsonb, request_id text, source text, application_id uuid
) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev_hash || convert_to(jsonb_build_array(
        seq, id,
        to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        tenant_id, actor_id, actor_type, action, resource, outcome, metadata, request_id,
        source, application_id)::text, 'UTF8'))
$$;
