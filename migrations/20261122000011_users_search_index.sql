-- Tenant user search at scale (issue 6, bench/scale; NFR-CAP-001/002).
--
-- The Users API's `search` (domain/src/user_admin.rs, list_users) is a contains match within
-- one tenant: lower(email) LIKE '%term%' OR lower(coalesce(name, '')) LIKE '%term%', newest
-- first. With only the page index (users_tenant_page_idx) a search that finds few people
-- reads every user of the tenant: ~20 ms for a 10,000-user tenant on 2 cores, and one heap
-- page per user once the tenant's rows are spread through a table of millions.
--
-- A trigram GIN index led by tenant_id answers such a search from the index (the matching
-- rows only, in any size of table); for a term most users match, the planner keeps the page
-- index, which stops after one page. Both OR arms are in this one index (a BitmapOr of two
-- scans of it). pg_trgm and btree_gin (the uuid column in a GIN index) ship with PostgreSQL
-- (contrib) and are trusted extensions: the database owner may create them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE INDEX users_tenant_search_idx ON users
    USING gin (tenant_id, lower(email) gin_trgm_ops, lower(coalesce(name, '')) gin_trgm_ops);
