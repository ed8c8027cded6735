-- Taking part on paper. A person on paper has an account without a key card (an empty
-- key_card) and is a member with on_paper = 1; the case's facilitators act for them.
ALTER TABLE members ADD COLUMN on_paper INTEGER NOT NULL DEFAULT 0;

-- A message a facilitator entered for a person on paper: that facilitator's account.
ALTER TABLE messages ADD COLUMN entered_by TEXT;

-- The sealed scans of paper consent and withdrawal forms (facilitators only), named by the
-- SHA-256 of their ciphertext, as the signed paper-consent statement names them.
CREATE TABLE paper_scans (
    case_id      TEXT NOT NULL REFERENCES cases(case_id),
    sha256       TEXT NOT NULL,
    participant  TEXT NOT NULL REFERENCES accounts(account_id),
    ciphertext   BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (case_id, sha256)
);

-- Printed letters, by the hash of their verification code: what /verify can say of them.
CREATE TABLE printings (
    code_hash    TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(case_id),
    message_id   TEXT NOT NULL,
    event_idx    BIGINT NOT NULL,
    text_sha256  TEXT NOT NULL,
    printed_at   BIGINT NOT NULL
);
