-- Long-term validation adds revisions that are not signatures: validation data (/DSS) and
-- document time-stamps (ETSI EN 319 142-1 B-LT, B-LTA), at completion and at each renewal of an
-- archived covenant. Each revision gets its kind; only signature revisions name a unit.
-- SQLite cannot change a CHECK constraint, so the table is rebuilt (no other table refers to it).
CREATE TABLE revisions_new (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    pdf_sha256  TEXT NOT NULL,
    unit_id     TEXT,                          -- the signer of a signature revision
    created_at  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN
                    ('rendered', 'signature', 'validation_data', 'document_timestamp')),
    PRIMARY KEY (covenant_id, idx),
    UNIQUE (covenant_id, unit_id),             -- one signature per unit
    CHECK ((idx = 0) = (kind = 'rendered')),
    CHECK ((kind = 'signature') = (unit_id IS NOT NULL)),
    FOREIGN KEY (covenant_id, unit_id) REFERENCES signers (covenant_id, unit_id)
) STRICT;
INSERT INTO revisions_new (covenant_id, idx, pdf_sha256, unit_id, created_at, kind)
    SELECT covenant_id, idx, pdf_sha256, unit_id, created_at,
           CASE WHEN idx = 0 THEN 'rendered' ELSE 'signature' END
    FROM revisions;
DROP TABLE revisions;
ALTER TABLE revisions_new RENAME TO revisions;
