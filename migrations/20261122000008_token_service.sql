-- Token service (SPEC §4, §5): what the first schema left for the provider itself.

-- The `admin` scope of FR-SYS-002 (issue 4) joins the allowed key scopes.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check
    CHECK (scopes <@ ARRAY['flag:read', 'bill:write', 'bill:read', 'log:write', 'log:read',
                           'users:read', 'users:write', 'admin', 'openid', 'profile', 'email',
                           'offline_access']::text[]);

-- What a code issued, so that a replayed code revokes it (RFC 6749 §4.1.2).
ALTER TABLE oauth_authorization_codes
    ADD COLUMN auth_time         timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN issued_access_jti uuid,
    ADD COLUMN issued_access_expires_at timestamptz,
    ADD COLUMN issued_family_id  uuid;

-- The access token minted beside each refresh token, so that revoking a family (reuse
-- detection, replayed code) revokes its access tokens too.
ALTER TABLE oauth_refresh_tokens
    ADD COLUMN access_jti        uuid,
    ADD COLUMN access_expires_at timestamptz,
    ADD COLUMN auth_time         timestamptz;

-- Tokens of a subject issued at or before `not_before` are dead: a suspended tenant, a
-- disabled/archived user (or one whose sessions were all revoked), a disabled application,
-- a revoked key. Rows older than the longest access-token lifetime are pruned: every token
-- they could refuse has expired by then. Each server keeps these in memory, kept coherent
-- through NOTIFY gatehouse_tokens.
CREATE TABLE oauth_token_cutoffs (
    subject_kind text NOT NULL CHECK (subject_kind IN ('tenant', 'user', 'application', 'client')),
    subject_id   text NOT NULL,
    not_before   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject_kind, subject_id)
);
CREATE INDEX oauth_token_cutoffs_not_before_idx ON oauth_token_cutoffs (not_before);
