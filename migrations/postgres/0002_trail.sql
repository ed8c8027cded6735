-- The Merkle log: stored interior hashes (RFC 6962, as in Go's sumdb/tlog: every complete
-- subtree's hash, at the stored index tlog assigns), so that any proof needs O(log n) reads.
CREATE TABLE tlog_hashes (
    idx          BIGINT PRIMARY KEY,
    hash         BYTEA NOT NULL
);

-- Signed checkpoints (c2sp.org/tlog-checkpoint as a c2sp.org/signed-note), one per size.
CREATE TABLE checkpoints (
    size         BIGINT PRIMARY KEY,
    root         BYTEA NOT NULL,
    note         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);
