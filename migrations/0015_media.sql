-- Issue 12 (seed 002, "Media"): operators' presigned uploads. A row is one
-- upload URL: issued by `POST /v1/chat/media/upload-url` with the hash of its
-- single-use token (never the token), used once by `PUT
-- /v1/chat/media/{id}/upload` (`used_at`), then confirmed by `POST
-- /v1/chat/media/{id}/confirm`, which checks the bytes and records the
-- `uploads` row it became (`upload_id`, `confirmed_at`). Files an operator
-- posts whole (`POST /v1/chat/media`) get a row too, used and confirmed at
-- once, so `GET /v1/chat/media/{id}` serves both.
--
-- AUTOINCREMENT: a media id is never reused after a delete (a refused file's
-- row is deleted), so an old id never names another operator's file.
-- Times are RFC 3339 UTC with seconds ('YYYY-MM-DDTHH:MM:SSZ'): compared as text.
CREATE TABLE media_uploads (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  operator_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  declared_size INTEGER NOT NULL,
  r2_key TEXT NOT NULL UNIQUE,
  -- Lower-case hex SHA-256 of the upload token.
  token_hash TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT,
  confirmed_at TEXT,
  upload_id INTEGER REFERENCES uploads(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX media_uploads_account ON media_uploads (account_id, id);
CREATE INDEX media_uploads_conversation ON media_uploads (conversation_id);
