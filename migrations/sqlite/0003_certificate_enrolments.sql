-- A leader may enrol a certificate they already hold (from a licensed CA, on a token or in a
-- remote signing service) instead of asking the bloc CA for one: key_kind 'certificate', with
-- key_pem the leaf followed by its intermediates. An enrolment may also be rejected.
-- SQLite cannot change a CHECK constraint, so enrolments is rebuilt, and certificates (which
-- refers to it) with it, inside the migration's transaction with foreign keys on: the new
-- tables are filled first, the child dropped before its parent, and the renames carry the
-- reference over (https://sqlite.org/lang_altertable.html).
CREATE TABLE enrolments_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    bloc_id      TEXT NOT NULL,
    unit_id      TEXT NOT NULL,
    key_kind     TEXT NOT NULL CHECK (key_kind IN ('public_key', 'csr', 'certificate')),
    key_pem      TEXT NOT NULL,
    subject_json TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at   TEXT NOT NULL,
    decided_at   TEXT,
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
) STRICT;
INSERT INTO enrolments_new SELECT * FROM enrolments;

CREATE TABLE certificates_new (
    bloc_id      TEXT NOT NULL,
    serial       TEXT NOT NULL,                -- lowercase hex
    unit_id      TEXT NOT NULL,
    cert_pem     TEXT NOT NULL,                -- the leaf, then (enrolled ones) intermediates
    enrolment_id INTEGER REFERENCES enrolments_new (id),
    issued_at    TEXT NOT NULL,
    revoked_at   TEXT,
    PRIMARY KEY (bloc_id, serial),
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
) STRICT;
INSERT INTO certificates_new SELECT * FROM certificates;

DROP TABLE certificates;
DROP TABLE enrolments;
ALTER TABLE enrolments_new RENAME TO enrolments;
ALTER TABLE certificates_new RENAME TO certificates;
CREATE INDEX enrolments_by_bloc ON enrolments (bloc_id, status);
CREATE INDEX certificates_by_unit ON certificates (bloc_id, unit_id);
