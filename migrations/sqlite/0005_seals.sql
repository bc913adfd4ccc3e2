-- The organisation's seal (Decree 30/2020 Appendix I, ô 8): when a covenant asks for seals,
-- each unit has two signing seats, its leader's and its organisation's, the latter taken by
-- the unit's clerk (văn thư) after the leader signed. Tokens get the clerk's role, signers and
-- signature revisions a seat, and each unit may keep its seal image.
-- SQLite cannot change a CHECK or a key in place: the tables are rebuilt. A table another one
-- refers to is replaced together with the referring one, so no reference is ever dangling
-- (renaming the new table rewrites the references to it).

CREATE TABLE tokens_new (
    id          TEXT NOT NULL PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'leader', 'clerk')),
    bloc_id     TEXT,
    unit_id     TEXT,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    CHECK ((role = 'admin') = (unit_id IS NULL) AND (bloc_id IS NULL) = (unit_id IS NULL)),
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
) STRICT;
INSERT INTO tokens_new SELECT id, secret_hash, role, bloc_id, unit_id, created_at, revoked_at
    FROM tokens;
CREATE TABLE sessions_new (
    secret_hash TEXT NOT NULL PRIMARY KEY,
    token_id    TEXT NOT NULL REFERENCES tokens_new (id),
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) STRICT;
INSERT INTO sessions_new SELECT secret_hash, token_id, csrf, created_at, expires_at FROM sessions;
DROP TABLE sessions;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Seats expected to sign, fixed at freeze: ('U05', 'leader') and, with seals, ('U05', 'seal').
CREATE TABLE signers_new (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    unit_id     TEXT NOT NULL,
    seat        TEXT NOT NULL CHECK (seat IN ('leader', 'seal')),
    PRIMARY KEY (covenant_id, unit_id, seat)
) STRICT, WITHOUT ROWID;
INSERT INTO signers_new SELECT covenant_id, unit_id, 'leader' FROM signers;
CREATE TABLE revisions_new (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    pdf_sha256  TEXT NOT NULL,
    unit_id     TEXT,                          -- the signer of a signature revision
    seat        TEXT CHECK (seat IN ('leader', 'seal')),
    created_at  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN
                    ('rendered', 'signature', 'validation_data', 'document_timestamp')),
    PRIMARY KEY (covenant_id, idx),
    UNIQUE (covenant_id, unit_id, seat),       -- one signature per seat
    CHECK ((idx = 0) = (kind = 'rendered')),
    CHECK ((kind = 'signature') = (unit_id IS NOT NULL)),
    CHECK ((unit_id IS NULL) = (seat IS NULL)),
    FOREIGN KEY (covenant_id, unit_id, seat) REFERENCES signers_new (covenant_id, unit_id, seat)
) STRICT;
INSERT INTO revisions_new (covenant_id, idx, pdf_sha256, unit_id, seat, created_at, kind)
    SELECT covenant_id, idx, pdf_sha256, unit_id,
           CASE WHEN unit_id IS NULL THEN NULL ELSE 'leader' END, created_at, kind
    FROM revisions;
DROP TABLE revisions;
DROP TABLE signers;
ALTER TABLE signers_new RENAME TO signers;
ALTER TABLE revisions_new RENAME TO revisions;

-- A unit's seal image (PNG in the blob store), drawn at real size in its seal field.
CREATE TABLE unit_seals (
    bloc_id     TEXT NOT NULL,
    unit_id     TEXT NOT NULL,
    png_sha256  TEXT NOT NULL,
    diameter_mm REAL NOT NULL CHECK (diameter_mm > 0),
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (bloc_id, unit_id),
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
) STRICT;
