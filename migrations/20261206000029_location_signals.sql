-- Location-aware adaptive authentication (NFR-SEC-006).
--
-- `tenants.location_signals`: which location signals ask for the second factor in this
-- tenant — a country never seen for the person, impossible travel, an hour outside the
-- person's usual ones. All three by default; a tenant may turn any off.
-- `sessions.challenge_reasons`: why a pending session was asked for its second factor
-- (`new_country:FR`, `impossible_travel:JP:FR`, ...), shown to the person on the
-- second-factor page.
ALTER TABLE tenants ADD COLUMN location_signals text[] NOT NULL
    DEFAULT ARRAY['new_country', 'impossible_travel', 'unusual_hour']
    CHECK (location_signals <@ ARRAY['new_country', 'impossible_travel', 'unusual_hour']);
ALTER TABLE sessions ADD COLUMN challenge_reasons text[];
