-- inbound: every SMS and email reply received, stored once per provider message id (duplicate webhook deliveries are ignored)
CREATE TABLE inbound (
    provider            TEXT    NOT NULL,
    provider_message_id TEXT    NOT NULL,
    channel             INTEGER NOT NULL,
    sender              TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    received_at         INTEGER  NOT NULL,
    reference           TEXT    NULL,
    outcome             TEXT    NOT NULL,
    reply               TEXT    NULL,
    CONSTRAINT pk_inbound PRIMARY KEY (provider, provider_message_id)
);
-- serves the instance page: replies received about one instance
CREATE INDEX ix_inbound_reference ON inbound (reference);
