-- One-time links for desktop signing tools (see http/desktop.rs), in the database so that a
-- link made through one instance works through any other. Only the SHA-256 of the link's
-- secret is kept.
CREATE TABLE desktop_links (
    secret_sha256 TEXT NOT NULL PRIMARY KEY,
    covenant_id   TEXT NOT NULL REFERENCES covenants (id),
    field         TEXT NOT NULL,            -- U05, or U05-dau for the unit's seal
    base_sha256   TEXT NOT NULL,            -- the revision the link hands out
    created_at    TEXT NOT NULL,
    seq           INTEGER NOT NULL          -- creation order, for keeping the newest per field
) STRICT;
CREATE INDEX desktop_links_by_field ON desktop_links (covenant_id, field, seq);
