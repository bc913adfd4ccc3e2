-- giaouoc store, schema 1 (SQLite).
-- Times are RFC 3339 text in UTC; hashes are lowercase hex SHA-256; JSON columns hold compact JSON.

CREATE TABLE blocs (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    ca_cert_pem TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE units (
    bloc_id TEXT NOT NULL REFERENCES blocs (id),
    id      TEXT NOT NULL,
    name    TEXT NOT NULL,
    role    TEXT NOT NULL CHECK (role IN ('leader', 'deputy', 'member')),
    PRIMARY KEY (bloc_id, id)
) STRICT;

-- API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE tokens (
    id          TEXT NOT NULL PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'leader')),
    bloc_id     TEXT,
    unit_id     TEXT,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    CHECK ((role = 'admin') = (unit_id IS NULL) AND (bloc_id IS NULL) = (unit_id IS NULL)),
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
) STRICT;

CREATE TABLE covenants (
    id          TEXT NOT NULL PRIMARY KEY,
    bloc_id     TEXT NOT NULL REFERENCES blocs (id),
    year        INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('draft', 'registration', 'frozen', 'signing', 'completed', 'archived')),
    input_json  TEXT NOT NULL,
    docx_sha256 TEXT,                          -- set by freeze
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX covenants_by_bloc ON covenants (bloc_id, year);

-- The covenant life cycle; the trigger refuses any other change of state, whoever writes.
CREATE TABLE covenant_transitions (
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    PRIMARY KEY (from_state, to_state)
) STRICT, WITHOUT ROWID;
INSERT INTO covenant_transitions (from_state, to_state) VALUES
    ('draft', 'registration'),
    ('registration', 'frozen'),
    ('frozen', 'signing'),
    ('signing', 'completed'),
    ('completed', 'archived');

CREATE TRIGGER covenants_state_graph BEFORE UPDATE OF state ON covenants
WHEN NEW.state <> OLD.state AND NOT EXISTS (
    SELECT 1 FROM covenant_transitions WHERE from_state = OLD.state AND to_state = NEW.state)
BEGIN
    SELECT RAISE(ABORT, 'covenant state transition not allowed');
END;

CREATE TABLE registrations (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    unit_id     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'accepted', 'returned')),
    data_json   TEXT NOT NULL,
    comment     TEXT,                          -- the reviewer's last comment
    version     INTEGER NOT NULL,              -- 1 on the first save, +1 on each save
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (covenant_id, unit_id)
) STRICT;

-- Units expected to sign, fixed at freeze.
CREATE TABLE signers (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    unit_id     TEXT NOT NULL,
    PRIMARY KEY (covenant_id, unit_id)
) STRICT, WITHOUT ROWID;

-- PDF revisions: 0 = as rendered at freeze, n = after the n-th signature.
CREATE TABLE revisions (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    pdf_sha256  TEXT NOT NULL,
    unit_id     TEXT,                          -- the signer; NULL for revision 0
    created_at  TEXT NOT NULL,
    PRIMARY KEY (covenant_id, idx),
    UNIQUE (covenant_id, unit_id),             -- one signature per unit
    CHECK ((idx = 0) = (unit_id IS NULL)),
    FOREIGN KEY (covenant_id, unit_id) REFERENCES signers (covenant_id, unit_id)
) STRICT;

-- Signatures in progress (between prepare and complete); short-lived, not audited.
CREATE TABLE prepares (
    id              TEXT NOT NULL PRIMARY KEY,
    covenant_id     TEXT NOT NULL REFERENCES covenants (id),
    unit_id         TEXT NOT NULL,
    base_sha256     TEXT NOT NULL,
    prepared_sha256 TEXT NOT NULL,
    created_at      TEXT NOT NULL
) STRICT;

CREATE TABLE enrolments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    bloc_id      TEXT NOT NULL,
    unit_id      TEXT NOT NULL,
    key_kind     TEXT NOT NULL CHECK (key_kind IN ('public_key', 'csr')),
    key_pem      TEXT NOT NULL,
    subject_json TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'approved')),
    created_at   TEXT NOT NULL,
    decided_at   TEXT,
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
) STRICT;
CREATE INDEX enrolments_by_bloc ON enrolments (bloc_id, status);

CREATE TABLE certificates (
    bloc_id      TEXT NOT NULL,
    serial       TEXT NOT NULL,                -- lowercase hex
    unit_id      TEXT NOT NULL,
    cert_pem     TEXT NOT NULL,
    enrolment_id INTEGER REFERENCES enrolments (id),
    issued_at    TEXT NOT NULL,
    revoked_at   TEXT,
    PRIMARY KEY (bloc_id, serial),
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
) STRICT;
CREATE INDEX certificates_by_unit ON certificates (bloc_id, unit_id);

CREATE TABLE archive (
    pdf_sha256  TEXT NOT NULL PRIMARY KEY,
    covenant_id TEXT NOT NULL UNIQUE REFERENCES covenants (id),
    report_json TEXT NOT NULL,
    archived_at TEXT NOT NULL
) STRICT;

-- Hash-chained audit trail: one chain per covenant plus one for events without a covenant
-- (covenant_id NULL). See store/audit.rs for the canonical encoding the hash covers.
CREATE TABLE audit_events (
    seq          INTEGER NOT NULL PRIMARY KEY,  -- 1, 2, 3, ... over all chains
    covenant_id  TEXT,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    details_json TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE
) STRICT;
CREATE INDEX audit_by_covenant ON audit_events (covenant_id, seq);

-- Append-only against mistakes (not against someone with the file: the chain is for that).
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
