-- giaouoc on PostgreSQL: the schema SQLite reaches after its migrations 0001-0007, in one
-- step (a PostgreSQL deployment starts here; later changes get a migration in each folder).
-- Same tables, columns, constraints and triggers as SQLite, with these translations:
-- INTEGER -> BIGINT, REAL -> DOUBLE PRECISION, AUTOINCREMENT -> identity, SQLite's implicit
-- rowid -> an explicit identity column `rowid` on the tables whose insertion order is read,
-- RAISE(ABORT) triggers -> PL/pgSQL, json_extract(doc, '$.a.b') -> a SQL function.
-- Times stay RFC 3339 text in UTC, so ordering and comparisons are those of SQLite.

CREATE FUNCTION json_extract(doc TEXT, path TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT
    RETURN (doc::jsonb) #>> string_to_array(substr(path, 3), '.');

CREATE TABLE blocs (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    ca_cert_pem TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE units (
    bloc_id TEXT NOT NULL REFERENCES blocs (id),
    id      TEXT NOT NULL,
    name    TEXT NOT NULL,
    role    TEXT NOT NULL CHECK (role IN ('leader', 'deputy', 'member')),
    PRIMARY KEY (bloc_id, id)
);

CREATE TABLE tokens (
    id          TEXT NOT NULL PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'leader', 'clerk')),
    bloc_id     TEXT,
    unit_id     TEXT,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    CHECK ((role = 'admin') = (unit_id IS NULL) AND (bloc_id IS NULL) = (unit_id IS NULL)),
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
);

CREATE TABLE sessions (
    secret_hash TEXT NOT NULL PRIMARY KEY,
    token_id    TEXT NOT NULL REFERENCES tokens (id),
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE covenants (
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY,
    id          TEXT NOT NULL PRIMARY KEY,
    bloc_id     TEXT NOT NULL REFERENCES blocs (id),
    year        BIGINT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('draft', 'registration', 'frozen', 'signing', 'completed', 'archived')),
    input_json  TEXT NOT NULL,
    docx_sha256 TEXT,                          -- set by freeze
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX covenants_by_bloc ON covenants (bloc_id, year);

CREATE TABLE covenant_transitions (
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
INSERT INTO covenant_transitions (from_state, to_state) VALUES
    ('draft', 'registration'),
    ('registration', 'frozen'),
    ('frozen', 'signing'),
    ('signing', 'completed'),
    ('completed', 'archived');

CREATE FUNCTION covenants_state_graph() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state <> OLD.state AND NOT EXISTS (
        SELECT 1 FROM covenant_transitions WHERE from_state = OLD.state AND to_state = NEW.state)
    THEN
        RAISE EXCEPTION 'covenant state transition not allowed';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER covenants_state_graph BEFORE UPDATE OF state ON covenants
    FOR EACH ROW EXECUTE FUNCTION covenants_state_graph();

CREATE TABLE registrations (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    unit_id     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'accepted', 'returned')),
    data_json   TEXT NOT NULL,
    comment     TEXT,                          -- the reviewer's last comment
    version     BIGINT NOT NULL,               -- 1 on the first save, +1 on each save
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (covenant_id, unit_id)
);

CREATE TABLE signers (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    unit_id     TEXT NOT NULL,
    seat        TEXT NOT NULL CHECK (seat IN ('leader', 'seal')),
    PRIMARY KEY (covenant_id, unit_id, seat)
);

CREATE TABLE revisions (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    idx         BIGINT NOT NULL CHECK (idx >= 0),
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
    FOREIGN KEY (covenant_id, unit_id, seat) REFERENCES signers (covenant_id, unit_id, seat)
);

CREATE TABLE prepares (
    rowid           BIGINT GENERATED ALWAYS AS IDENTITY,
    id              TEXT NOT NULL PRIMARY KEY,
    covenant_id     TEXT NOT NULL REFERENCES covenants (id),
    unit_id         TEXT NOT NULL,
    base_sha256     TEXT NOT NULL,
    prepared_sha256 TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE enrolments (
    id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    bloc_id      TEXT NOT NULL,
    unit_id      TEXT NOT NULL,
    key_kind     TEXT NOT NULL CHECK (key_kind IN ('public_key', 'csr', 'certificate')),
    key_pem      TEXT NOT NULL,
    subject_json TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at   TEXT NOT NULL,
    decided_at   TEXT,
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
);
CREATE INDEX enrolments_by_bloc ON enrolments (bloc_id, status);

CREATE TABLE certificates (
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY,
    bloc_id      TEXT NOT NULL,
    serial       TEXT NOT NULL,                -- lowercase hex
    unit_id      TEXT NOT NULL,
    cert_pem     TEXT NOT NULL,                -- the leaf, then (enrolled ones) intermediates
    enrolment_id BIGINT REFERENCES enrolments (id),
    issued_at    TEXT NOT NULL,
    revoked_at   TEXT,
    PRIMARY KEY (bloc_id, serial),
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
);
CREATE INDEX certificates_by_unit ON certificates (bloc_id, unit_id);

CREATE TABLE unit_seals (
    bloc_id     TEXT NOT NULL,
    unit_id     TEXT NOT NULL,
    png_sha256  TEXT NOT NULL,
    diameter_mm DOUBLE PRECISION NOT NULL CHECK (diameter_mm > 0),
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (bloc_id, unit_id),
    FOREIGN KEY (bloc_id, unit_id) REFERENCES units (bloc_id, id)
);

CREATE TABLE archive (
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY,
    pdf_sha256  TEXT NOT NULL PRIMARY KEY,
    covenant_id TEXT NOT NULL UNIQUE REFERENCES covenants (id),
    report_json TEXT NOT NULL,
    archived_at TEXT NOT NULL
);

CREATE TABLE audit_events (
    seq          BIGINT NOT NULL PRIMARY KEY,  -- 1, 2, 3, ... over all chains
    covenant_id  TEXT,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    details_json TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_by_covenant ON audit_events (covenant_id, seq);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TABLE leases (
    name   TEXT NOT NULL PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL
);

CREATE TABLE desktop_links (
    secret_sha256 TEXT NOT NULL PRIMARY KEY,
    covenant_id   TEXT NOT NULL REFERENCES covenants (id),
    field         TEXT NOT NULL,            -- U05, or U05-dau for the unit's seal
    base_sha256   TEXT NOT NULL,            -- the revision the link hands out
    created_at    TEXT NOT NULL,
    seq           BIGINT NOT NULL           -- creation order, for keeping the newest per field
);
CREATE INDEX desktop_links_by_field ON desktop_links (covenant_id, field, seq);

-- The private keys the service holds (bloc CAs, the TSA), sealed under the master key, so
-- that every instance finds them (SQLite deployments keep them in the data directory).
CREATE TABLE service_keys (
    path       TEXT NOT NULL PRIMARY KEY,   -- e.g. ca/KTD-VHXH-QN/key.pem
    content    BYTEA NOT NULL,
    created_at TEXT NOT NULL
);
