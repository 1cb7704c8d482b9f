-- The event bus (issue 13): every change an integration can follow is
-- written here in the same D1 batch as the change itself, then published
-- on the EVENTS queue. `published_at` is set once the queue accepted it;
-- `processed_at` once its consumer fanned it out (webhook deliveries); a
-- row left unprocessed is published again by the sweep, and consumers
-- dedupe by `id`.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,                    -- evt_ + 32 hex digits
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type TEXT NOT NULL,                     -- message.created, ...
    conversation_id INTEGER,                -- not a foreign key: the event outlives a deleted conversation
    message_id INTEGER,
    data TEXT,                              -- JSON extras known at write time (e.g. changed fields)
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    published_at TEXT,
    processed_at TEXT
);
CREATE INDEX outbox_pending ON outbox (processed_at, created_at) WHERE processed_at IS NULL;
CREATE INDEX outbox_account ON outbox (account_id, created_at);
