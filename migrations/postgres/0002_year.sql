-- The year after the signing: evidence files, results per period, scores, the year-end
-- conference, and the link to next year's covenant.
CREATE TABLE evidence (
    covenant_id  TEXT NOT NULL REFERENCES covenants (id),
    unit_id      TEXT NOT NULL,
    sha256       TEXT NOT NULL,             -- the blob
    content_type TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    size         BIGINT NOT NULL CHECK (size > 0),
    file_name    TEXT,
    uploaded_at  TEXT NOT NULL,
    PRIMARY KEY (covenant_id, unit_id, sha256)
);

CREATE TABLE results (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    period      TEXT NOT NULL CHECK (period IN ('mid_year', 'year_end')),
    unit_id     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'accepted', 'returned')),
    data_json   TEXT NOT NULL,
    comment     TEXT,
    version     BIGINT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (covenant_id, period, unit_id)
);

CREATE TABLE scores (
    covenant_id TEXT NOT NULL REFERENCES covenants (id),
    unit_id     TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('self', 'agreed')),
    data_json   TEXT NOT NULL,
    total       DOUBLE PRECISION NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (covenant_id, unit_id, kind)
);

CREATE TABLE conferences (
    covenant_id TEXT NOT NULL PRIMARY KEY REFERENCES covenants (id),
    data_json   TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE successors (
    covenant_id      TEXT NOT NULL PRIMARY KEY REFERENCES covenants (id),
    next_covenant_id TEXT NOT NULL UNIQUE REFERENCES covenants (id),
    created_at       TEXT NOT NULL
);
