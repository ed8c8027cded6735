-- The Merkle log: stored interior hashes (RFC 6962, as in Go's sumdb/tlog: every complete
-- subtree's hash, at the stored index tlog assigns), so that any proof needs O(log n) reads.
CREATE TABLE tlog_hashes (
    idx          INTEGER PRIMARY KEY,
    hash         BLOB NOT NULL
);

-- Signed checkpoints (c2sp.org/tlog-checkpoint as a c2sp.org/signed-note), one per size.
CREATE TABLE checkpoints (
    size         INTEGER PRIMARY KEY,
    root         BLOB NOT NULL,
    note         BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
