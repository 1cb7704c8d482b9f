-- Visitor contact details and identity, and CSAT ratings (seeds 001, 003).
ALTER TABLE visitors ADD COLUMN phone TEXT;
-- The site's own user id of a verified visitor (identity verification).
ALTER TABLE visitors ADD COLUMN user_id TEXT;
ALTER TABLE visitors ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX visitors_user ON visitors (site_id, user_id) WHERE user_id IS NOT NULL;

-- One CSAT rating per conversation (seed 003: idempotent, a duplicate is refused).
CREATE TABLE ratings (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL UNIQUE REFERENCES conversations(id) ON DELETE CASCADE,
  score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
