-- Platform staff through the vendor's own OpenID provider (SPEC §3: operators and auditors
-- whose identities are managed outside Gatehouse). The deployment configures it; it is the
-- one connection without a tenant.
ALTER TABLE sso_connections ALTER COLUMN tenant_id DROP NOT NULL;
CREATE UNIQUE INDEX sso_connections_platform_key ON sso_connections ((tenant_id IS NULL)) WHERE tenant_id IS NULL;
