-- Security hardening (CON-SEC-005, NFR-SEC-003, SPEC §2-§4).

-- Why a session is pending (password proven, second factor to come): to give the second
-- factor, or to enrol the first one (an account that must use MFA and has none). Only an
-- enrolment session may add a factor; a pending session for the second factor may not,
-- or a password alone would beat the factor it stands in front of.
ALTER TABLE sessions
    ADD COLUMN pending_purpose text
        CHECK (pending_purpose IS NULL OR pending_purpose IN ('second_factor', 'enrolment'));

-- Refusals of a locked key since the lock began: they are audited at 1, 10, 100, ...
-- only, so a flood of attempts against a lock cannot flood the audit chain.
ALTER TABLE auth_throttle ADD COLUMN refused integer NOT NULL DEFAULT 0 CHECK (refused >= 0);

-- A user's token reaches the administration APIs only through an explicit scope
-- (CON-SEC-007): tenants and applications get theirs beside users:* and admin.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check
    CHECK (scopes <@ ARRAY['flag:read', 'bill:write', 'bill:read', 'log:write', 'log:read',
                           'users:read', 'users:write', 'tenants:read', 'tenants:write',
                           'apps:read', 'apps:write', 'admin', 'openid', 'profile', 'email',
                           'offline_access']::text[]);

-- An application acts only for the tenants it is enabled for; one with no tenants admits
-- nobody unless it is explicitly marked for all tenants (platform tooling). Applications
-- that had no tenants so far were open to all: they keep that, now explicitly.
ALTER TABLE applications ADD COLUMN all_tenants boolean NOT NULL DEFAULT false;
UPDATE applications a SET all_tenants = true
 WHERE NOT EXISTS (SELECT 1 FROM application_tenants at WHERE at.application_id = a.id);

-- Tokens an application holds for one tenant end when the tenant is taken off it.
ALTER TABLE oauth_token_cutoffs DROP CONSTRAINT oauth_token_cutoffs_subject_kind_check;
ALTER TABLE oauth_token_cutoffs ADD CONSTRAINT oauth_token_cutoffs_subject_kind_check
    CHECK (subject_kind IN ('tenant', 'user', 'application', 'client', 'application_tenant'));

-- Password-reset requests are counted per address and per IP too: past the limit they do
-- nothing and are audited only now and then, so they cannot flood mailboxes or the audit
-- chain.
ALTER TABLE auth_throttle DROP CONSTRAINT auth_throttle_scope_check;
ALTER TABLE auth_throttle ADD CONSTRAINT auth_throttle_scope_check
    CHECK (scope IN ('account', 'ip', 'reset_account', 'reset_ip'));
