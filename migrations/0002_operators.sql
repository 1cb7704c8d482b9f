-- Operators, their refresh tokens and read marks; site settings for the
-- operator API; conversation assignment; visitor blocks.

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  email TEXT NOT NULL COLLATE NOCASE UNIQUE,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
  -- pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>
  password_hash TEXT NOT NULL,
  avatar_url TEXT,
  timezone TEXT NOT NULL DEFAULT 'UTC',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX users_account ON users (account_id, id);

-- Refresh tokens are stored only as SHA-256 hashes. A family is one login's
-- chain of rotations: reusing a rotated token revokes the whole family.
CREATE TABLE refresh_tokens (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  family TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  expires_at INTEGER NOT NULL,            -- Unix seconds
  rotated_at INTEGER,                     -- set when exchanged for a new token
  revoked_at INTEGER,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- How far each operator has read each conversation (seed 002, "read up to a seq").
CREATE TABLE read_marks (
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  last_read_seq INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, user_id)
);

ALTER TABLE sites ADD COLUMN identity_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN responder TEXT NOT NULL DEFAULT '{"kind":"kb"}';

ALTER TABLE conversations ADD COLUMN assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL;

ALTER TABLE visitors ADD COLUMN blocked_at TEXT;
ALTER TABLE visitors ADD COLUMN block_reason TEXT;

CREATE INDEX messages_conversation_seq ON messages (conversation_id, seq);
