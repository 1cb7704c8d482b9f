-- Signed-in users (seed 003, issue 14).
--
-- An app session: the token a site's app got for its user's identity JWT
-- (POST /api/v1/app/session), stored only as its SHA-256. The user is the
-- site's verified visitor of that user id (visitors.user_id), the one the
-- widget's user_hash identity reaches too. Sessions die with the visitor
-- and the site, and when the site rotates its identity secret.
CREATE TABLE app_sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  token_hash TEXT NOT NULL UNIQUE,
  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  expires_at TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX app_sessions_visitor ON app_sessions (visitor_id);
CREATE INDEX app_sessions_site ON app_sessions (site_id);
CREATE INDEX app_sessions_expiry ON app_sessions (expires_at);

-- A user's request: the topic picked to start it (seed 003's `reason`,
-- shown to operators, never as a user message), the app's context (`meta`:
-- browser, OS, app version, locale, and the IP the worker saw; JSON), when
-- a snooze ends, and how far the user has read (their unread badge).
ALTER TABLE conversations ADD COLUMN reason_main TEXT;
ALTER TABLE conversations ADD COLUMN reason_sub TEXT;
ALTER TABLE conversations ADD COLUMN client_meta TEXT;
ALTER TABLE conversations ADD COLUMN snoozed_until TEXT;
ALTER TABLE conversations ADD COLUMN visitor_read_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE snoozed_until IS NOT NULL;

-- The topics a site offers when a user starts a request (JSON array of
-- {"main": "...", "subs": ["..."]}), set by the site's admins.
ALTER TABLE sites ADD COLUMN request_reasons TEXT NOT NULL DEFAULT '[]';
