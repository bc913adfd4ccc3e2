-- The year's documents (mid-year report, year-end minutes, score table) are signed and
-- archived like a covenant: each is a row of `covenants` of its own kind, issued (frozen)
-- from its covenant, with its revisions, signers, preparations and archive entry.
ALTER TABLE covenants ADD COLUMN kind TEXT NOT NULL DEFAULT 'covenant'
    CHECK (kind IN ('covenant', 'so-ket-6-thang', 'bien-ban-tong-ket', 'bang-tong-hop-diem'));
ALTER TABLE covenants ADD COLUMN parent_id TEXT REFERENCES covenants (id);
-- A covenant has its parent, a year's document its covenant; one document of each kind.
CREATE UNIQUE INDEX year_documents_once ON covenants (parent_id, kind) WHERE parent_id IS NOT NULL;
CREATE TRIGGER covenants_kind_has_parent BEFORE INSERT ON covenants
WHEN (NEW.kind = 'covenant') <> (NEW.parent_id IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'a year document needs its covenant, a covenant has none');
END;

-- The minutes' secretary signs beside the chair: a third seat, ('U02', 'secretary').
CREATE TABLE signers_new (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    unit_id     TEXT NOT NULL,
    seat        TEXT NOT NULL CHECK (seat IN ('leader', 'seal', 'secretary')),
    PRIMARY KEY (covenant_id, unit_id, seat)
) STRICT, WITHOUT ROWID;
INSERT INTO signers_new SELECT covenant_id, unit_id, seat FROM signers;
CREATE TABLE revisions_new (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    pdf_sha256  TEXT NOT NULL,
    unit_id     TEXT,                          -- the signer of a signature revision
    seat        TEXT CHECK (seat IN ('leader', 'seal', 'secretary')),
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
    SELECT covenant_id, idx, pdf_sha256, unit_id, seat, created_at, kind FROM revisions;
DROP TABLE revisions;
DROP TABLE signers;
ALTER TABLE signers_new RENAME TO signers;
ALTER TABLE revisions_new RENAME TO revisions;
