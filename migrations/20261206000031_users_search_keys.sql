-- Tenant user search at 10 M users (issue 23, bench/scale; NFR-CAP-001/002).
--
-- The Users API's `search` is a contains match within one tenant (lower(email) or
-- lower(name) LIKE '%term%'). Its index until now, a trigram GIN index led by tenant_id
-- (20261122000011), keeps one posting list per trigram for the whole table: a term's
-- trigrams ("eva", "ans", …) each name hundreds of thousands of people in other tenants,
-- and the scan reads and intersects all of them before the tenant_id entry cuts them down.
-- At 10 M users in 1,000 tenants that made a search for one address 6.7x slower than in a
-- 1-tenant database (1.8x for a surname).
--
-- Here each key is a trigram prefixed by its tenant (the last 8 hex digits of the tenant id,
-- the random part of a UUIDv7): a key's posting list holds that tenant's people only, so a
-- search reads what its own tenant has, whatever the size of the table. Every 3-character
-- substring counts (punctuation included, unlike pg_trgm's words), so a term's keys are
-- all in a matching row's keys; the LIKE recheck and tenant_id = $1 keep the answer exact
-- (a shared tenant suffix only adds candidates). Terms under 3 characters use the page
-- index (users_tenant_page_idx), which stops after one page of matches.
--
-- At 10 M users the index is 1.7 GB and takes about 20 minutes to build, during which
-- writes to users wait. A large installation builds it first without blocking (README,
-- "Upgrading a large installation": the function, then CREATE INDEX CONCURRENTLY); this
-- migration then keeps it.
CREATE OR REPLACE FUNCTION users_search_keys(tenant uuid, VARIADIC texts text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(
        SELECT DISTINCT right(tenant::text, 8) || substr(t, i, 3)
          FROM unnest(texts) AS t, generate_series(1, length(t) - 2) AS i
    );

-- A build that failed half-way (CONCURRENTLY) leaves an invalid index: built again here.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE c.relname = 'users_tenant_search_keys_idx' AND NOT i.indisvalid) THEN
        DROP INDEX users_tenant_search_keys_idx;
    END IF;
END $$;

CREATE INDEX IF NOT EXISTS users_tenant_search_keys_idx ON users
    USING gin (users_search_keys(tenant_id, lower(email), lower(coalesce(name, ''))));

DROP INDEX IF EXISTS users_tenant_search_idx;
