-- Browser sessions of the web interface: a person signs in with their unit's token once and
-- the browser then holds only a random session secret (cookie). Only the SHA-256 of that
-- secret is kept; `csrf` is the per-session token that every state-changing request made
-- with the cookie must echo (header X-CSRF-Token or form field _csrf).
CREATE TABLE sessions (
    secret_hash TEXT NOT NULL PRIMARY KEY,
    token_id    TEXT NOT NULL REFERENCES tokens (id),
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_expiry ON sessions (expires_at);
