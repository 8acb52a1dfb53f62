-- Signing a session out (or every other one) ends the refresh families and codes it
-- started: found by session, not by a scan.
CREATE INDEX oauth_refresh_tokens_session_idx ON oauth_refresh_tokens (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX oauth_authorization_codes_session_idx ON oauth_authorization_codes (session_id) WHERE session_id IS NOT NULL;
