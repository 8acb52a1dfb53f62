-- Anomaly detection over the audit trail (NFR-MON-001).
--
-- `security_alerts`: each finding of a detector, once per detector and key within its window.
-- The key and the summary are pseudonymous (`user:<id>`, an address's reference, a tenant's
-- id); the evidence with its personal values is the `security.alert` audit entry (`audit_id`),
-- sealed like every other.
CREATE TABLE security_alerts (
    id          uuid PRIMARY KEY,
    detector    text NOT NULL CHECK (detector ~ '^[a-z_]+$'),
    key         text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    tenant_id   uuid REFERENCES tenants (id) ON DELETE CASCADE,
    raised_at   timestamptz NOT NULL DEFAULT now(),
    summary     text NOT NULL CHECK (length(summary) BETWEEN 1 AND 500),
    count       bigint NOT NULL,
    audit_id    uuid NOT NULL
);
CREATE INDEX security_alerts_raised_idx ON security_alerts (raised_at DESC);
CREATE INDEX security_alerts_tenant_idx ON security_alerts (tenant_id, raised_at DESC);
CREATE INDEX security_alerts_key_idx ON security_alerts (detector, key, raised_at DESC);

ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_template_check;
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_template_check
    CHECK (template IN ('invitation', 'password_reset', 'new_device_sign_in', 'webhook_failing',
                        'email_verification', 'break_glass_sign_in', 'security_alert'));
