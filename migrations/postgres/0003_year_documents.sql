-- The year's documents (mid-year report, year-end minutes, score table) are signed and
-- archived like a covenant: each is a row of `covenants` of its own kind, issued (frozen)
-- from its covenant, with its revisions, signers, preparations and archive entry.
ALTER TABLE covenants ADD COLUMN kind TEXT NOT NULL DEFAULT 'covenant'
    CHECK (kind IN ('covenant', 'so-ket-6-thang', 'bien-ban-tong-ket', 'bang-tong-hop-diem'));
ALTER TABLE covenants ADD COLUMN parent_id TEXT REFERENCES covenants (id);
ALTER TABLE covenants ADD CONSTRAINT covenants_kind_has_parent
    CHECK ((kind = 'covenant') = (parent_id IS NULL));
-- One document of each kind per covenant.
CREATE UNIQUE INDEX year_documents_once ON covenants (parent_id, kind) WHERE parent_id IS NOT NULL;

-- The minutes' secretary signs beside the chair: a third seat, ('U02', 'secretary').
ALTER TABLE signers DROP CONSTRAINT signers_seat_check;
ALTER TABLE signers ADD CONSTRAINT signers_seat_check
    CHECK (seat IN ('leader', 'seal', 'secretary'));
ALTER TABLE revisions DROP CONSTRAINT revisions_seat_check;
ALTER TABLE revisions ADD CONSTRAINT revisions_seat_check
    CHECK (seat IN ('leader', 'seal', 'secretary'));
