-- The people list at scale (issue 23, bench/pages): a tenant's list hides archived people
-- by default, newest first. With only the page index (users_tenant_page_idx) a tenant whose
-- newest rows are archived (people who come and go: 13,559 archived beside 67 active in the
-- benchmark's acme) is read row by row until 25 live ones are found: 20 ms a page. This
-- index holds only the people not archived, in the same order, so the first page reads 25
-- rows whatever the archive holds. `list_users` writes the condition literally, so generic
-- plans can use it too. A large installation may build it first, CONCURRENTLY (README,
-- "Upgrading a large installation"); this migration then keeps it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE c.relname = 'users_tenant_live_page_idx' AND NOT i.indisvalid) THEN
        DROP INDEX users_tenant_live_page_idx;
    END IF;
END $$;

CREATE INDEX IF NOT EXISTS users_tenant_live_page_idx ON users (tenant_id, created_at DESC, id DESC)
    WHERE status <> 'archived';
