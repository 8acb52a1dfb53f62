-- Universal Login state (SPEC §3): sessions, invitations, password history and resets,
-- second factors, trusted devices, throttling, tenant SSO.

-- DAT-SESSION. The cookie carries a random id; only its SHA-256 is stored.
CREATE TABLE sessions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash       bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id        uuid REFERENCES tenants (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    -- Absolute lifetime (24 h); the idle timeout is the tenant's, copied at creation.
    expires_at       timestamptz NOT NULL,
    idle_timeout_secs integer NOT NULL CHECK (idle_timeout_secs BETWEEN 60 AND 86400),
    -- Set once the second factor (or an exemption) has been satisfied for this session.
    mfa_verified_at  timestamptz,
    auth_methods     text[] NOT NULL DEFAULT '{}',
    ip               inet,
    user_agent       text CHECK (user_agent IS NULL OR length(user_agent) <= 512),
    revoked_at       timestamptz,
    revoked_reason   text CHECK (revoked_reason IS NULL OR revoked_reason IN (
                         'logout', 'password_change', 'password_reset', 'role_change', 'user_disabled',
                         'user_archived', 'tenant_suspended', 'revoked_by_admin', 'revoked_by_user',
                         'privilege_change')),
    CHECK (expires_at > created_at),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX sessions_user_active_idx ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_tenant_active_idx ON sessions (tenant_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- DAT-INVITE (FR-TENANT-001). The invited user row exists with status 'invited'.
CREATE TABLE invitations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email        text NOT NULL,
    role         text NOT NULL CHECK (role IN ('owner', 'admin', 'user')),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    invited_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX invitations_tenant_idx ON invitations (tenant_id, created_at DESC, id DESC);
CREATE INDEX invitations_user_idx ON invitations (user_id);

-- CON-SEC-001: reuse of the last N passwords is refused.
CREATE TABLE password_history (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_history_user_idx ON password_history (user_id, created_at DESC);

-- FR-AUTH-004: single-use, hashed, one hour.
CREATE TABLE password_reset_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (user_id);

-- NFR-SEC-003: TOTP. The seed is encrypted at rest (AES-256-GCM, SPEC §10).
CREATE TABLE mfa_totp (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label             text NOT NULL DEFAULT 'Authenticator app' CHECK (length(label) BETWEEN 1 AND 100),
    secret_ciphertext bytea NOT NULL,
    -- The last accepted time step: a code is never accepted twice.
    last_used_step    bigint,
    confirmed_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mfa_totp_user_idx ON mfa_totp (user_id);

-- WebAuthn passkeys (webauthn-rs serialised Passkey; public material only).
CREATE TABLE webauthn_credentials (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id  bytea NOT NULL UNIQUE,
    name           text NOT NULL DEFAULT 'Passkey' CHECK (length(name) BETWEEN 1 AND 100),
    passkey        jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz
);
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);

-- Ten single-use recovery codes per generation, stored hashed.
CREATE TABLE recovery_codes (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   bytea NOT NULL CHECK (length(code_hash) = 32),
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, code_hash)
);

-- NFR-SEC-006: devices that completed a second factor, and networks seen before.
CREATE TABLE trusted_devices (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_agent   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX trusted_devices_user_idx ON trusted_devices (user_id);

CREATE TABLE known_networks (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The /24 (IPv4) or /48 (IPv6) a login came from.
    network     cidr NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, network)
);

-- Brute-force throttling per account and per IP: growing delay, then a temporary lock.
CREATE TABLE auth_throttle (
    scope         text NOT NULL CHECK (scope IN ('account', 'ip')),
    key           text NOT NULL,
    failures      integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    window_start  timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz,
    PRIMARY KEY (scope, key)
);

-- DAT-SSO-CONFIG (FR-AUTH-003): one OIDC provider per tenant; the secret encrypted at rest.
CREATE TABLE sso_configs (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id              uuid NOT NULL UNIQUE REFERENCES tenants (id) ON DELETE CASCADE,
    issuer_url             text NOT NULL CHECK (issuer_url ~ '^https?://'),
    client_id              text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
    client_secret_ciphertext bytea NOT NULL,
    enabled                boolean NOT NULL DEFAULT true,
    auto_create_users      boolean NOT NULL DEFAULT false,
    default_role           text NOT NULL DEFAULT 'user' CHECK (default_role IN ('admin', 'user')),
    -- {"idp-group": "admin", ...}
    group_role_mapping     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(group_role_mapping) = 'object'),
    groups_claim           text NOT NULL DEFAULT 'groups',
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Email domains a tenant has proven it owns; SSO is then chosen by the email's domain.
CREATE TABLE tenant_email_domains (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email_domain text NOT NULL CHECK (email_domain = lower(email_domain) AND length(email_domain) BETWEEN 3 AND 253),
    verification_token text NOT NULL,
    verified_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, email_domain)
);
CREATE UNIQUE INDEX tenant_email_domains_verified_key ON tenant_email_domains (email_domain) WHERE verified_at IS NOT NULL;

-- In-flight SSO logins: state, PKCE verifier and nonce until the IdP redirects back.
CREATE TABLE sso_login_requests (
    state_hash      bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pkce_verifier_ciphertext bytea NOT NULL,
    nonce           text NOT NULL,
    return_to       text,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
