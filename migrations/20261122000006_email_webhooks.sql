-- Transactional email outbox (SPEC §3) and webhooks (SPEC §9).

-- Written in the same transaction as the change that causes the mail; a worker delivers
-- it through SMTP with retries and backoff, so nothing is lost while SMTP is down.
CREATE TABLE email_outbox (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid REFERENCES tenants (id) ON DELETE CASCADE,
    template        text NOT NULL CHECK (template IN ('invitation', 'password_reset', 'new_device_sign_in',
                                                      'webhook_failing', 'email_verification')),
    to_address      text NOT NULL CHECK (position('@' IN to_address) > 1),
    subject         text NOT NULL,
    text_body       text NOT NULL,
    html_body       text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX email_outbox_created_idx ON email_outbox (created_at DESC, id DESC);

-- Tenant-level (tenant_id set) or platform-level (NULL) endpoints.
CREATE TABLE webhooks (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid REFERENCES tenants (id) ON DELETE CASCADE,
    url               text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    description       text CHECK (description IS NULL OR length(description) <= 500),
    -- HMAC-SHA256 signing secret, encrypted at rest.
    secret_ciphertext bytea NOT NULL,
    events            text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 50),
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'failing', 'disabled')),
    failing_since     timestamptz,
    created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'failing') = (failing_since IS NOT NULL))
);
CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id);

-- Retries after 1 min, 5 min, 25 min, 2 h, 10 h; 30 days of history are kept.
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL CHECK (event_type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 6),
    next_attempt_at  timestamptz,
    last_status_code smallint,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_history_idx ON webhook_deliveries (webhook_id, created_at DESC);
