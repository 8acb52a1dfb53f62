-- Webhooks (issue 20; SPEC §9, Standard Webhooks 1.0). The tables of migration 0006 were
-- never used; they are replaced by an event log (one row per published event, which the
-- events stream also reads), endpoints with an overlapping previous secret and a throttle,
-- one delivery per endpoint and event, and every attempt kept for 30 days.
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;

-- Tenant endpoints (tenant_id set) receive their tenant's events; platform endpoints
-- (NULL) receive every tenant's.
CREATE TABLE webhook_endpoints (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id                uuid REFERENCES tenants (id) ON DELETE CASCADE,
    url                      text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    description              text CHECK (description IS NULL OR length(description) <= 500),
    event_types              text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 50),
    -- whsec_ secrets, sealed with the master key (AES-256-GCM).
    secret_ciphertext        bytea NOT NULL,
    previous_secret_ciphertext bytea,
    previous_secret_expires_at timestamptz,
    rate_limit_per_second    integer NOT NULL DEFAULT 20 CHECK (rate_limit_per_second BETWEEN 1 AND 1000),
    status                   text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'failing', 'disabled')),
    -- The first failure since the last success: 5 days of it make the endpoint failing.
    failing_since            timestamptz,
    disabled_reason          text CHECK (disabled_reason IS NULL OR length(disabled_reason) <= 500),
    created_by               uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK ((previous_secret_ciphertext IS NULL) = (previous_secret_expires_at IS NULL)),
    CHECK ((status = 'disabled') = (disabled_reason IS NOT NULL))
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, created_at, id);
CREATE INDEX webhook_endpoints_subscribed_idx ON webhook_endpoints USING gin (event_types)
    WHERE status <> 'disabled';

-- Every published event, written in the transaction of the change it announces. `seq` is
-- the events stream's Last-Event-ID; `body` is exactly what is signed and sent.
CREATE TABLE webhook_events (
    id         uuid PRIMARY KEY,
    seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    tenant_id  uuid REFERENCES tenants (id) ON DELETE CASCADE,
    event_type text NOT NULL CHECK (event_type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
    body       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_tenant_seq_idx ON webhook_events (tenant_id, seq);
CREATE INDEX webhook_events_created_idx ON webhook_events (created_at);

-- Attempts 1..8: at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     smallint,
    last_error      text CHECK (last_error IS NULL OR length(last_error) <= 1000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (endpoint_id, event_id),
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_history_idx ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    delivery_id      uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at     timestamptz NOT NULL DEFAULT now(),
    status_code      smallint,
    latency_ms       integer NOT NULL CHECK (latency_ms >= 0),
    error            text CHECK (error IS NULL OR length(error) <= 1000),
    response_excerpt text CHECK (response_excerpt IS NULL OR length(response_excerpt) <= 1000)
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempted_at);
CREATE INDEX webhook_attempts_time_idx ON webhook_attempts (attempted_at);

-- A person's token manages webhooks only through their own scopes (CON-SEC-007).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check
    CHECK (scopes <@ ARRAY['flag:read', 'bill:write', 'bill:read', 'log:write', 'log:read',
                           'users:read', 'users:write', 'tenants:read', 'tenants:write',
                           'apps:read', 'apps:write', 'webhooks:read', 'webhooks:write',
                           'admin', 'openid', 'profile', 'email', 'offline_access']::text[]);
