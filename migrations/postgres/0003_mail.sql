-- E-mail: where to reach people (given by the coordinator with the invitation, or by the
-- person), and a durable outbox written in the same transaction as the event that causes it.
ALTER TABLE invitations ADD COLUMN email TEXT;

CREATE TABLE contacts (
    account_id   TEXT PRIMARY KEY REFERENCES accounts(account_id),
    email        TEXT NOT NULL,
    preference   TEXT NOT NULL DEFAULT 'immediate',  -- immediate | daily | none
    last_digest_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,          -- stable: the Message-ID is built from it
    account_id   TEXT,                      -- the person it is for, once enrolled
    email        TEXT NOT NULL,
    kind         TEXT NOT NULL,             -- invitation | new_message | review_waiting | case_attention | digest
    case_id      TEXT,
    subject      TEXT NOT NULL,
    text_body    TEXT NOT NULL,
    html_body    TEXT NOT NULL,
    state        TEXT NOT NULL,             -- pending | sending | sent | failed | digest | folded
    attempts     BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    sent_at      BIGINT
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
