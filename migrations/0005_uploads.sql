-- Uploaded files (R2 objects) and message attachments (seeds 001, 003, 004).
CREATE TABLE uploads (
  id INTEGER PRIMARY KEY,
  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  -- <account>/<site>/<visitor>/<random>: random and owner-tagged.
  r2_key TEXT NOT NULL UNIQUE,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  name TEXT NOT NULL,
  message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX uploads_visitor ON uploads (visitor_id);

-- JSON array of {id, name, content_type, size, url}.
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';

-- Seed 004's opaque conversation token.
ALTER TABLE conversations ADD COLUMN token TEXT;
CREATE UNIQUE INDEX conversations_token ON conversations (token) WHERE token IS NOT NULL;
