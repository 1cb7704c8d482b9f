-- Outgoing webhooks (issue 13, seed 003): endpoints per account, one
-- delivery per (endpoint, event) and the log of its attempts.

-- The event's JSON body, rendered once when first published, so every
-- delivery and every retry of it sends the same bytes.
ALTER TABLE outbox ADD COLUMN body TEXT;

CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    events TEXT NOT NULL DEFAULT '[]',      -- JSON array of event types; empty: all
    description TEXT,
    secret TEXT NOT NULL,                   -- whsec_ + base64 of 32 random bytes
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id);

-- One per (endpoint, event): a re-published event is not delivered twice.
-- `state` is pending until delivered (succeeded), dead-lettered (dead) or
-- dropped (its endpoint was disabled);
-- `next_at` is when the next attempt is due, so the sweep finds deliveries
-- whose queue message was lost (e.g. a local queue across a restart).
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    next_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE state = 'pending';

-- The delivery log: one row per attempt.
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    outcome TEXT NOT NULL,                  -- succeeded, failed, dead
    status_code INTEGER,
    latency_ms INTEGER,
    error TEXT,
    attempted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
