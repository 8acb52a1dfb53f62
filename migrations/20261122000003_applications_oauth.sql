-- Managed applications, API keys and the token service (SPEC §4, §5; DAT-APP, DAT-KEY).

CREATE TABLE applications (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    environment   text NOT NULL DEFAULT 'production' CHECK (environment IN ('development', 'staging', 'production')),
    owner_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    redirect_uris text[] NOT NULL DEFAULT '{}' CHECK (cardinality(redirect_uris) <= 20),
    grant_types   text[] NOT NULL DEFAULT '{client_credentials}'
                  CHECK (grant_types <@ ARRAY['authorization_code', 'client_credentials', 'refresh_token']::text[]),
    post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applications_page_idx ON applications (created_at DESC, id DESC);

-- Tenants an application may act for.
CREATE TABLE application_tenants (
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, tenant_id)
);
CREATE INDEX application_tenants_tenant_idx ON application_tenants (tenant_id);

-- DAT-KEY. The id is the OAuth client_id; only SHA-256 of the 256-bit secret is kept.
CREATE TABLE api_keys (
    id             text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{8,64}$'),
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    -- A key may be bound to one tenant; NULL means the application's enabled tenants.
    tenant_id      uuid REFERENCES tenants (id) ON DELETE CASCADE,
    name           text CHECK (name IS NULL OR length(name) <= 200),
    secret_hash    bytea NOT NULL CHECK (length(secret_hash) = 32),
    scopes         text[] NOT NULL DEFAULT '{}'
                   CHECK (scopes <@ ARRAY['flag:read', 'bill:write', 'bill:read', 'log:write', 'log:read',
                                          'users:read', 'users:write', 'openid', 'profile', 'email',
                                          'offline_access']::text[]),
    expires_at     timestamptz,
    revoked_at     timestamptz,
    last_used_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_application_idx ON api_keys (application_id);

-- Authorization codes: single use, 60 s, PKCE S256 only.
CREATE TABLE oauth_authorization_codes (
    code_hash        bytea PRIMARY KEY CHECK (length(code_hash) = 32),
    application_id   uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    client_id        text NOT NULL,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id        uuid REFERENCES tenants (id) ON DELETE CASCADE,
    session_id       uuid REFERENCES sessions (id) ON DELETE SET NULL,
    redirect_uri     text NOT NULL,
    scope            text NOT NULL,
    nonce            text,
    code_challenge   text NOT NULL CHECK (length(code_challenge) = 43),
    code_challenge_method text NOT NULL DEFAULT 'S256' CHECK (code_challenge_method = 'S256'),
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Refresh tokens: opaque, 30 days, rotated on use; a reused one revokes its family.
CREATE TABLE oauth_refresh_tokens (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash      bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    family_id       uuid NOT NULL,
    parent_id       uuid REFERENCES oauth_refresh_tokens (id) ON DELETE SET NULL,
    application_id  uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    client_id       text NOT NULL,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id       uuid REFERENCES tenants (id) ON DELETE CASCADE,
    session_id      uuid REFERENCES sessions (id) ON DELETE SET NULL,
    scope           text NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    revoked_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_refresh_tokens_family_idx ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_user_idx ON oauth_refresh_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX oauth_refresh_tokens_tenant_idx ON oauth_refresh_tokens (tenant_id) WHERE revoked_at IS NULL;

-- Access tokens are JWTs; revoked ones are remembered until they would have expired.
CREATE TABLE oauth_revoked_access_tokens (
    jti         uuid PRIMARY KEY,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_revoked_access_tokens_expires_idx ON oauth_revoked_access_tokens (expires_at);

-- Signing keys (NFR-SEC-004): private part encrypted at rest; retired public keys stay in
-- JWKS until every token they signed has expired.
CREATE TABLE oauth_signing_keys (
    kid                    text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{8,64}$'),
    algorithm              text NOT NULL CHECK (algorithm IN ('RS256', 'ES256', 'EdDSA')),
    public_jwk             jsonb NOT NULL,
    private_key_ciphertext bytea NOT NULL,
    status                 text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retiring', 'retired')),
    created_at             timestamptz NOT NULL DEFAULT now(),
    rotated_at             timestamptz,
    publish_until          timestamptz
);
-- At most one active key per algorithm.
CREATE UNIQUE INDEX oauth_signing_keys_active_key ON oauth_signing_keys (algorithm) WHERE status = 'active';
