-- Devices, notification settings, push deliveries and diagnostics of
-- signed-in app users (issue 14, seed 003 "Devices & settings",
-- "Diagnostics"). A user is their `visitors` row (site, user id).

-- Where a user's push notifications go: `web` (a Web Push subscription,
-- RFC 8030, its JSON in `token`), `mobile` (an FCM registration token) or
-- `tma` (a Telegram chat id). Registering the same token again is an upsert.
CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused
    visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    platform TEXT NOT NULL CHECK (platform IN ('web', 'mobile', 'tma')),
    token TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (visitor_id, platform, token)
);

-- A user's notification preferences; no row means every kind is on.
CREATE TABLE notification_settings (
    visitor_id INTEGER PRIMARY KEY REFERENCES visitors(id) ON DELETE CASCADE,
    chat_messages INTEGER NOT NULL DEFAULT 1,
    ticket_updates INTEGER NOT NULL DEFAULT 1,
    system_notices INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- One push per (bus event, device): the EVENTS consumer writes it (a
-- re-published event adds nothing) and enqueues it on PUSH, whose
-- consumer claims it (`claimed_until`, a lease against duplicate queue
-- messages), sends it and stamps `sent_at`. A device the push service
-- says is gone (404/410) is deleted with its deliveries.
CREATE TABLE push_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    data TEXT NOT NULL,                     -- JSON object of strings: what the app needs to open the right screen
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_until TEXT,
    sent_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (event_id, device_id)
);
CREATE INDEX push_deliveries_pending ON push_deliveries (created_at) WHERE sent_at IS NULL;
CREATE INDEX push_deliveries_device ON push_deliveries (device_id);

-- Device telemetry (`POST /api/v1/app/diagnostics`), PII fields dropped
-- before storing; rows older than 30 days are deleted by the cron sweep.
CREATE TABLE diagnostics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX diagnostics_created ON diagnostics (created_at);
CREATE INDEX diagnostics_visitor ON diagnostics (visitor_id, created_at);
