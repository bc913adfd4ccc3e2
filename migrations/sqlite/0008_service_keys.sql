-- The private keys the service holds (bloc CAs, the TSA), sealed under the master key, kept
-- in the database when several instances share it (PostgreSQL; `giaouoc store copy` fills it).
-- A SQLite deployment keeps them in its data directory, and this table stays empty.
CREATE TABLE service_keys (
    path       TEXT NOT NULL PRIMARY KEY,   -- e.g. ca/KTD-VHXH-QN/key.pem
    content    BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
