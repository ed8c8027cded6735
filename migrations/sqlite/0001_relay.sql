-- Ferry relay core (SQLite). Times are Unix seconds (UTC); ids are text; signed statements and
-- ciphertexts are stored as the exact bytes that were received.

CREATE TABLE accounts (
    account_id   TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    key_card     BLOB NOT NULL,            -- the self-signed key card statement (JSON bytes)
    staff_role   TEXT,                     -- coordinator | facilitator | auditor, or NULL
    accreditations TEXT NOT NULL DEFAULT '', -- comma-separated, facilitators only
    last_seq     INTEGER NOT NULL DEFAULT 0, -- per-author sequence number of signed actions
    created_at   INTEGER NOT NULL
);

CREATE TABLE invitations (
    code_hash    TEXT PRIMARY KEY,         -- SHA-256 of the code; the code itself is never stored
    case_id      TEXT,                     -- NULL for service-wide roles
    role         TEXT NOT NULL,
    accreditations TEXT NOT NULL DEFAULT '',
    created_by   TEXT,                     -- NULL for the bootstrap coordinator invitation
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    used_by      TEXT
);

CREATE TABLE challenges (
    challenge    TEXT PRIMARY KEY,
    expires_at   INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,         -- SHA-256 of the bearer token
    account_id   TEXT NOT NULL REFERENCES accounts(account_id),
    expires_at   INTEGER NOT NULL
);

CREATE TABLE cases (
    case_id      TEXT PRIMARY KEY,
    reference    TEXT NOT NULL,
    category     TEXT NOT NULL,
    sensitivity  TEXT NOT NULL,            -- standard | sexual_harm | domestic_abuse | ...
    state        TEXT NOT NULL,            -- referred | preparing | active | paused | closed
    risk_outcome TEXT,                     -- proceed | do_not_proceed, once recorded
    opened_by    TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE members (
    case_id      TEXT NOT NULL REFERENCES cases(case_id),
    account_id   TEXT NOT NULL REFERENCES accounts(account_id),
    role         TEXT NOT NULL,            -- facilitator | harmed | responsible | supporter | auditor
    consent      TEXT NOT NULL DEFAULT 'none', -- none | given | withdrawn (participants)
    joined_at    INTEGER NOT NULL,
    PRIMARY KEY (case_id, account_id)
);

CREATE TABLE messages (
    message_id   TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(case_id),
    author       TEXT NOT NULL REFERENCES accounts(account_id),
    kind         TEXT NOT NULL,
    recipient_role TEXT NOT NULL,
    in_reply_to  TEXT,
    state        TEXT NOT NULL,            -- uploading | in_review | forwarded | returned | withheld | escalated
    envelope     BLOB NOT NULL,            -- the author's signed envelope statement
    decision_note BLOB,                    -- sealed note on a withheld message (facilitators only)
    ciphertext   BLOB NOT NULL,
    attachments_pending INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX messages_by_case ON messages(case_id, state);

CREATE TABLE deliveries (
    delivery_id  TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(case_id),
    message_id   TEXT NOT NULL,
    recipient    TEXT NOT NULL REFERENCES accounts(account_id),
    kind         TEXT NOT NULL,            -- forward | return
    statement    BLOB NOT NULL,            -- the facilitator's signed forward or return
    ciphertext   BLOB NOT NULL,            -- forwarded payload, or the note to the author
    state        TEXT NOT NULL,            -- held | uploading | released | read | cancelled
    attachments_pending INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    released_at  INTEGER,
    read_at      INTEGER
);
CREATE INDEX deliveries_by_recipient ON deliveries(recipient, state);

CREATE TABLE blobs (
    owner_id     TEXT NOT NULL,            -- message or delivery id
    idx          INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    stored       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner_id, idx)
);

-- Every signed action, in order. `leaf` is the exact bytes the trail hashes.
CREATE TABLE events (
    idx          INTEGER PRIMARY KEY,      -- position in the global log, from 0
    case_id      TEXT,
    seq_in_case  INTEGER,
    prev_hash    TEXT,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    statement    BLOB NOT NULL,            -- the signed statement as received
    leaf         BLOB NOT NULL,
    leaf_hash    TEXT NOT NULL,
    server_time  INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_chain ON events(case_id, seq_in_case);

-- One row: the head of the log, locked by every append so appends are strictly ordered.
CREATE TABLE log_head (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    size         INTEGER NOT NULL
);
INSERT INTO log_head (id, size) VALUES (1, 0);
