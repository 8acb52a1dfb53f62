-- Feature flags (SPEC §6; DAT-FLAG, FR-FLAG-001/002) and billing events (SPEC §7;
-- DAT-BILL-EVENT, FR-BILL-001..003).

CREATE TABLE flag_definitions (
    key                text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{0,63}$'),
    description        text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    default_value      boolean NOT NULL DEFAULT false,
    -- Beyond the spec: a sticky percentage rollout applied when no override or plan default decides.
    rollout_percentage smallint CHECK (rollout_percentage IS NULL OR rollout_percentage BETWEEN 0 AND 100),
    archived_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flag_plan_defaults (
    flag_key   text NOT NULL REFERENCES flag_definitions (key) ON DELETE CASCADE ON UPDATE CASCADE,
    plan       text NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
    value      boolean NOT NULL,
    PRIMARY KEY (flag_key, plan)
);

-- Effective value = override ?? plan default ?? default.
CREATE TABLE flag_overrides (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    flag_key   text NOT NULL REFERENCES flag_definitions (key) ON DELETE CASCADE ON UPDATE CASCADE,
    value      boolean NOT NULL,
    updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, flag_key)
);

CREATE TABLE billing_events (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    application_id  uuid REFERENCES applications (id) ON DELETE SET NULL,
    event_type      text NOT NULL CHECK (event_type ~ '^[a-z][a-z0-9_.]{0,63}$'),
    quantity        bigint NOT NULL CHECK (quantity > 0),
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    idempotency_key text CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 200),
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object')
);
-- Re-sending an event with the same idempotency id is never counted twice.
CREATE UNIQUE INDEX billing_events_idempotency_key ON billing_events (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- Export by tenant and period with cursor pagination; totals per type.
CREATE INDEX billing_events_tenant_time_idx ON billing_events (tenant_id, occurred_at, id);
CREATE INDEX billing_events_tenant_type_time_idx ON billing_events (tenant_id, event_type, occurred_at);
