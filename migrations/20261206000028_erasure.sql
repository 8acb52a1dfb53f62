-- The rights of access and erasure (CON-COMP-001).
--
-- `users.erased_at`: the person was erased. Their row stays, pseudonymised (the address
-- `erased-<id>@erased.invalid`, no name, no password), so what refers to it (audit entries,
-- usage events, tokens' history) still joins, and their data keys are destroyed.
-- `erasure_requests`: a person asks for erasure from their account; a tenant owner or admin
-- approves it (which erases) or declines it, with a reason the person sees.
ALTER TABLE users ADD COLUMN erased_at timestamptz;

CREATE TABLE erasure_requests (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    requested_at timestamptz NOT NULL DEFAULT now(),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'declined')),
    decided_at   timestamptz,
    decided_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    reason       text CHECK (reason IS NULL OR length(reason) <= 500),
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
-- One open request per person.
CREATE UNIQUE INDEX erasure_requests_pending_key ON erasure_requests (user_id) WHERE status = 'pending';
CREATE INDEX erasure_requests_tenant_idx ON erasure_requests (tenant_id, requested_at DESC);
