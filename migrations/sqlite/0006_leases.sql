-- Leases for the service's periodic tasks (purging expired preparations and sessions, renewing
-- the archive): with several instances on one store, the instance holding a task's lease runs
-- it and the others skip it until the lease runs out.
CREATE TABLE leases (
    name   TEXT NOT NULL PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL
) STRICT;
