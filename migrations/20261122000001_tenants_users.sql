-- Tenants and users (DAT-TENANT, DAT-USER, DAT-ROLE; SPEC §2).
-- Every tenant-owned table carries tenant_id so queries for a tenant user are always
-- filtered by the caller's tenant, and so the tables keep a path to Citus sharding.

CREATE TABLE tenants (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                     text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    -- The tenant's unique slug, used in /t/{domain}/login and as the OAuth organization.
    domain                   text NOT NULL UNIQUE
                             CHECK (domain ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
    plan                     text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'enterprise')),
    status                   text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    -- CON-SEC-005: who must use a second factor.
    mfa_policy               text NOT NULL DEFAULT 'off' CHECK (mfa_policy IN ('off', 'admins', 'everyone')),
    -- CON-SEC-001 / FR-AUTH-006: {min_length, require_upper, require_lower, require_digit,
    -- require_symbol, min_strength, history}; defaults apply to missing keys.
    password_policy          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(password_policy) = 'object'),
    session_idle_timeout_secs integer NOT NULL DEFAULT 1800 CHECK (session_idle_timeout_secs BETWEEN 60 AND 86400),
    -- Password login off for everyone but owners (break-glass) when the tenant enforces SSO.
    sso_enforced             boolean NOT NULL DEFAULT false,
    suspended_at             timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'suspended') = (suspended_at IS NOT NULL))
);
CREATE INDEX tenants_created_idx ON tenants (created_at DESC, id DESC);
CREATE INDEX tenants_status_plan_idx ON tenants (status, plan);
CREATE INDEX tenants_name_lower_idx ON tenants (lower(name) text_pattern_ops);

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL for platform users (operators, auditors).
    tenant_id      uuid REFERENCES tenants (id) ON DELETE RESTRICT,
    email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = btrim(email) AND position('@' IN email) > 1),
    name           text CHECK (name IS NULL OR length(name) BETWEEN 1 AND 200),
    role           text NOT NULL CHECK (role IN ('owner', 'admin', 'user', 'operator', 'auditor')),
    status         text NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'active', 'disabled', 'archived')),
    -- argon2id PHC string; NULL until an invitation is accepted, or for SSO-only users.
    password_hash  text,
    email_verified_at timestamptz,
    last_login_at  timestamptz,
    archived_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- Platform roles belong to platform users, tenant roles to tenant users.
    CHECK ((tenant_id IS NULL) = (role IN ('operator', 'auditor'))),
    CHECK ((status = 'archived') = (archived_at IS NOT NULL))
);
-- One live account per address and tenant (case-insensitive); NULLS NOT DISTINCT makes the
-- rule hold for platform users too. Archived accounts free their address for a re-invite.
CREATE UNIQUE INDEX users_tenant_email_key ON users (tenant_id, lower(email)) NULLS NOT DISTINCT
    WHERE status <> 'archived';
-- Login looks an address up across tenants (SPEC §3, several-tenants case).
CREATE INDEX users_email_lower_idx ON users (lower(email));
-- Cursor pagination of a tenant's users, newest first, and filters by role/status.
CREATE INDEX users_tenant_page_idx ON users (tenant_id, created_at DESC, id DESC);
CREATE INDEX users_tenant_role_status_idx ON users (tenant_id, role, status);
