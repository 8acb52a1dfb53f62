-- Tenant single sign-on (FR-AUTH-001, FR-AUTH-003, UC-TENANT-SSO, SPEC §3). The wave-1
-- placeholders (sso_configs, sso_login_requests) were never used; the connection, the
-- people it knows and the flows in flight replace them.
DROP TABLE sso_login_requests;
DROP TABLE sso_configs;

-- One OpenID provider per tenant. Its redirect URI names the connection's id, so an
-- authorization response can only ever come back to the connection that asked (a mix-up
-- defence). Discovery's findings (the metadata and the JWK set) are kept, so a sign-in
-- needs no network call besides the code exchange.
CREATE TABLE sso_connections (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id                 uuid NOT NULL UNIQUE REFERENCES tenants (id) ON DELETE CASCADE,
    issuer                    text NOT NULL CHECK (issuer ~ '^https?://' AND length(issuer) <= 500),
    discovery                 jsonb NOT NULL CHECK (jsonb_typeof(discovery) = 'object'),
    jwks_fetched_at           timestamptz NOT NULL DEFAULT now(),
    client_id                 text CHECK (length(client_id) BETWEEN 1 AND 500),
    -- AES-GCM under the master key, with associated data naming the tenant and connection.
    client_secret_ciphertext  bytea,
    status                    text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'inactive')),
    -- A successful test sign-in since the issuer or the client last changed.
    tested_at                 timestamptz,
    last_test                 jsonb,
    jit_enabled               boolean NOT NULL DEFAULT false,
    default_role              text NOT NULL DEFAULT 'user' CHECK (default_role IN ('admin', 'user')),
    groups_claim              text NOT NULL DEFAULT 'groups' CHECK (length(groups_claim) BETWEEN 1 AND 100),
    -- {"idp-group": "admin" | "user"}: never owner.
    group_roles               jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(group_roles) = 'object'),
    trust_idp_mfa             boolean NOT NULL DEFAULT true,
    last_login_at             timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CHECK (status = 'draft'
           OR (client_id IS NOT NULL AND client_secret_ciphertext IS NOT NULL AND tested_at IS NOT NULL))
);

-- People as the provider knows them: keyed by (connection, iss, sub), never by email.
CREATE TABLE sso_identities (
    connection_id  uuid NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    issuer         text NOT NULL,
    subject        text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz,
    PRIMARY KEY (connection_id, issuer, subject),
    UNIQUE (connection_id, user_id)
);
CREATE INDEX sso_identities_user_idx ON sso_identities (user_id);

-- Authorization requests in flight: single use, bound to the browser that started them,
-- ten minutes. Only hashes of the state and of the browser's binding secret are kept.
CREATE TABLE sso_flows (
    state_hash               bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    connection_id            uuid NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    purpose                  text NOT NULL CHECK (purpose IN ('sign_in', 'test')),
    browser_hash             bytea NOT NULL CHECK (length(browser_hash) = 32),
    nonce                    text NOT NULL,
    pkce_verifier_ciphertext bytea NOT NULL,
    return_to                text CHECK (length(return_to) <= 2000),
    -- The owner running a test sign-in.
    tester_id                uuid REFERENCES users (id) ON DELETE CASCADE,
    expires_at               timestamptz NOT NULL,
    created_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sso_flows_expires_idx ON sso_flows (expires_at);

-- Domain ownership: how it was proven. A pending claim expires 30 days after it was made.
ALTER TABLE tenant_email_domains
    ADD COLUMN verified_method text CHECK (verified_method IN ('dns', 'operator')),
    ADD COLUMN last_checked_at timestamptz,
    ADD COLUMN last_check_error text;

-- The other owners hear of every break-glass sign-in (password while SSO is required).
ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_template_check;
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_template_check
    CHECK (template IN ('invitation', 'password_reset', 'new_device_sign_in', 'webhook_failing',
                        'email_verification', 'break_glass_sign_in'));
