-- CareWorkflows schema 1 (SQLite). Shipped migrations are never edited: changes go in a new numbered file.
-- Times are Unix ticks (100 ns) in UTC, so both stores share one representation and comparisons are exact.

-- instances: one row per workflow instance; state is the latest folded state (JSON); version guards every write
CREATE TABLE instances (
    reference   TEXT    NOT NULL PRIMARY KEY,
    type        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    completed   INTEGER NOT NULL DEFAULT 0,
    summary     TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    next_due_at INTEGER NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
-- serves GET /api/instances?type=&status= and the dashboards
CREATE INDEX ix_instances_type_status ON instances (type, status);

-- events: the append-only timeline; two writers of one instance collide on this key
CREATE TABLE events (
    reference  TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    actor_id   TEXT    NOT NULL,
    actor_role TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    CONSTRAINT pk_events PRIMARY KEY (reference, seq)
);

-- timers: one row per pending wake-up, deleted in the transaction that fires it
CREATE TABLE timers (
    id          TEXT    NOT NULL PRIMARY KEY,
    reference   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    due_at      INTEGER NOT NULL,
    lease_owner TEXT    NULL,
    lease_until INTEGER NULL,
    CONSTRAINT ux_timers_reference_name UNIQUE (reference, name)
);
-- serves the timer pump: due rows in due order
CREATE INDEX ix_timers_due_at ON timers (due_at);

-- outbox: messages decided in a transition; the dispatcher claims, sends and records them
CREATE TABLE outbox (
    id                  TEXT    NOT NULL PRIMARY KEY,
    reference           TEXT    NOT NULL,
    channel             INTEGER NOT NULL,
    recipient           TEXT    NOT NULL,
    recipient_id        TEXT    NULL,
    purpose             TEXT    NOT NULL,
    subject             TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    html_body           TEXT    NULL,
    links               TEXT    NOT NULL,
    status              INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    lease_owner         TEXT    NULL,
    lease_until         INTEGER NULL,
    provider            TEXT    NULL,
    provider_message_id TEXT    NULL,
    sent_at             INTEGER NULL,
    last_error          TEXT    NULL,
    delivery_status     TEXT    NULL,
    created_at          INTEGER NOT NULL
);
-- serves the dispatcher: claimable rows by next attempt
CREATE INDEX ix_outbox_status_next ON outbox (status, next_attempt_at);
-- serves the instance page and the dev outbox
CREATE INDEX ix_outbox_reference ON outbox (reference);
-- serves delivery-status webhooks
CREATE INDEX ix_outbox_provider_message ON outbox (provider, provider_message_id);

-- asks: what each open instance awaits from whom; serves SMS/email replies (by mobile/email) and link pages
CREATE TABLE asks (
    reference      TEXT    NOT NULL,
    recipient_id   TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    recipient_role TEXT    NOT NULL,
    prompt         TEXT    NOT NULL,
    deadline_at    INTEGER NULL,
    email          TEXT    NULL,
    mobile         TEXT    NULL,
    fields         TEXT    NOT NULL,
    CONSTRAINT pk_asks PRIMARY KEY (reference, recipient_id, action)
);
-- serves SMS replies: open asks of a sender
CREATE INDEX ix_asks_mobile ON asks (mobile);
-- serves email replies: open asks of a sender
CREATE INDEX ix_asks_email ON asks (email);

-- commands: idempotency keys with the first result, so a replay changes nothing
CREATE TABLE commands (
    idempotency_key TEXT    NOT NULL PRIMARY KEY,
    reference       TEXT    NOT NULL,
    result          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);

-- documents: small operator-loaded data (bank holidays)
CREATE TABLE documents (
    key        TEXT    NOT NULL PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
