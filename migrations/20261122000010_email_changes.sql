-- Email address changes through verification of the new address (SPEC §9 Users API:
-- "email only through verification"; issue 6). A change waits here until the link mailed
-- to the new address is followed; only the token's hash is stored.
CREATE TABLE email_changes (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    new_email   text NOT NULL CHECK (length(new_email) BETWEEN 3 AND 254 AND position('@' IN new_email) > 1),
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    requested_by uuid REFERENCES users (id) ON DELETE SET NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_changes_user_idx ON email_changes (user_id);
