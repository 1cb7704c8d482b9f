-- Outgoing email and inbound webhooks (issue 13).

-- One row per email asked for (transcripts): the EMAIL queue carries only
-- its id; the consumer renders the conversation up to `up_to_seq` (so every
-- try sends the same email) and sends it with `Idempotency-Key: <id>`, so a
-- retry after a lost answer is not sent twice. `attempts` counts provider
-- tries; after the last one the row is `failed` (the dead letter).
CREATE TABLE emails (
    id TEXT PRIMARY KEY,                    -- eml_ + 32 hex digits
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('transcript')),
    requested_by TEXT NOT NULL CHECK (requested_by IN ('operator', 'visitor')),
    to_address TEXT NOT NULL,
    up_to_seq INTEGER NOT NULL,
    base_url TEXT NOT NULL,                 -- the worker's public origin, for attachment links
    links_issued_at INTEGER NOT NULL,       -- Unix seconds the attachment links are signed from
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    provider_id TEXT,                       -- the provider's id of the sent email
    last_error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    sent_at TEXT
);
CREATE INDEX emails_conversation ON emails (conversation_id, requested_by, created_at);
-- The daily numbers per address and per account (email::store::insert_transcript).
CREATE INDEX emails_to_address ON emails (to_address COLLATE NOCASE, created_at);
CREATE INDEX emails_account ON emails (account_id, created_at);

-- Inbound webhook endpoints: each has its own Standard Webhooks secret
-- (never an outgoing endpoint's), kept readable because verifying an HMAC
-- needs the key itself. Messages are written as `created_by` unless a
-- delivery names another operator of the account.
CREATE TABLE inbound_endpoints (
    id TEXT PRIMARY KEY,                    -- ibw_ + 32 hex digits
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret TEXT NOT NULL,                   -- whsec_ + base64 of 32 random bytes
    created_by INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX inbound_endpoints_account ON inbound_endpoints (account_id, created_at);

-- The `webhook-id`s an endpoint has stored: a replay is answered from here
-- and stores nothing.
CREATE TABLE inbound_deliveries (
    endpoint_id TEXT NOT NULL REFERENCES inbound_endpoints(id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (endpoint_id, webhook_id)
);
