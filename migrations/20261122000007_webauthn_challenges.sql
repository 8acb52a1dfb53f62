-- In-flight WebAuthn ceremonies (NFR-SEC-003): webauthn-rs's registration or
-- authentication state between the start request and the finish request. The state
-- holds the challenge (and, for a second factor, the credentials allowed) but no key
-- material; it is still treated as sensitive: it is never logged or shown, each row is
-- single use (deleted when the ceremony finishes, whatever the outcome) and lives five
-- minutes. Expired rows are purged whenever a new ceremony starts.
CREATE TABLE webauthn_challenges (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The account the ceremony is for; NULL for a passwordless sign-in, where the
    -- authenticator names the account only at the finish.
    user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('registration', 'login', 'second_factor')),
    state       jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    CHECK (expires_at > created_at),
    CHECK ((kind = 'login') = (user_id IS NULL))
);
CREATE INDEX webauthn_challenges_expires_idx ON webauthn_challenges (expires_at);
