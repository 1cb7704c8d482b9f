-- Issue 12, team messaging (seed 002).
--
-- Conversations are no longer only a visitor's: an operator may start one
-- between operators (an internal conversation, a staff DM), which has no
-- site and no visitor. SQLite cannot drop a NOT NULL constraint, so the
-- conversation table is rebuilt, and with it every table whose rows a
-- DROP TABLE of their parent would delete (D1 always enforces foreign keys,
-- and the implicit DELETE of a DROP TABLE runs ON DELETE CASCADE / SET NULL):
-- messages, read_marks, ratings, uploads. Children are copied first and
-- dropped before their parents, so no cascade ever touches a row. The new
-- tables reference each other (`conversations_new`, `messages_new`), never an
-- old table, and RENAME rewrites those references to the final names.
--
-- While rebuilt, tables gain what issue 12 needs:
-- - conversations: account_id (every query scopes by it, whatever the kind),
--   kind, name, description, created_by, dm_key (a staff DM is unique per
--   pair of operators: seed 000's sorted `{emailA}|{emailB}`);
-- - messages: AUTOINCREMENT (a message id is never reused after a delete, so
--   a permalink, forward origin or reaction never names another message),
--   edited_at, forwarded_from_* (the origin of a forwarded copy);
-- - uploads: operator files (no visitor), owned by account.
PRAGMA defer_foreign_keys = on;

CREATE TABLE conversations_new (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  kind TEXT NOT NULL DEFAULT 'visitor' CHECK (kind IN ('visitor', 'internal')),
  site_id INTEGER REFERENCES sites(id) ON DELETE CASCADE,
  visitor_id INTEGER REFERENCES visitors(id) ON DELETE CASCADE,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'snoozed')),
  mode TEXT NOT NULL DEFAULT 'ai' CHECK (mode IN ('ai', 'operator')),
  last_seq INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  last_activity_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  token TEXT,
  page_url TEXT,
  name TEXT,
  description TEXT,
  created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  dm_key TEXT,
  CHECK ((kind = 'visitor' AND site_id IS NOT NULL AND visitor_id IS NOT NULL)
      OR (kind = 'internal' AND site_id IS NULL AND visitor_id IS NULL))
);
INSERT INTO conversations_new (id, account_id, kind, site_id, visitor_id, status, mode, last_seq, created_at,
                               last_activity_at, assignee_id, token, page_url)
  SELECT c.id, s.account_id, 'visitor', c.site_id, c.visitor_id, c.status, c.mode, c.last_seq, c.created_at,
         c.last_activity_at, c.assignee_id, c.token, c.page_url
  FROM conversations c JOIN sites s ON s.id = c.site_id;

CREATE TABLE messages_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id INTEGER NOT NULL REFERENCES conversations_new(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('visitor', 'ai', 'operator')),
  content TEXT NOT NULL,
  author_name TEXT,
  client_message_id TEXT,
  reply_to INTEGER REFERENCES messages_new(id),
  sources TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  status TEXT NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'delivered', 'read')),
  attachments TEXT NOT NULL DEFAULT '[]',
  author_id INTEGER,
  edited_at TEXT,
  forwarded_from_message_id INTEGER,
  forwarded_from_conversation_id INTEGER,
  UNIQUE (conversation_id, seq)
);
INSERT INTO messages_new (id, conversation_id, seq, role, content, author_name, client_message_id, reply_to, sources,
                          created_at, status, attachments, author_id)
  SELECT id, conversation_id, seq, role, content, author_name, client_message_id, reply_to, sources,
         created_at, status, attachments, author_id
  FROM messages;

CREATE TABLE read_marks_new (
  conversation_id INTEGER NOT NULL REFERENCES conversations_new(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  last_read_seq INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, user_id)
);
INSERT INTO read_marks_new SELECT conversation_id, user_id, last_read_seq FROM read_marks;

CREATE TABLE ratings_new (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL UNIQUE REFERENCES conversations_new(id) ON DELETE CASCADE,
  score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO ratings_new SELECT id, conversation_id, score, comment, created_at FROM ratings;

CREATE TABLE uploads_new (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  site_id INTEGER REFERENCES sites(id) ON DELETE CASCADE,
  -- The visitor who uploaded it, or the operator (exactly one of the two).
  visitor_id INTEGER REFERENCES visitors(id) ON DELETE CASCADE,
  operator_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  -- <account>/<site>/<visitor>/<random> (visitors), <account>/ops/<random> (operators).
  r2_key TEXT NOT NULL UNIQUE,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  name TEXT NOT NULL,
  message_id INTEGER REFERENCES messages_new(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO uploads_new (id, account_id, site_id, visitor_id, r2_key, content_type, size, name, message_id, created_at)
  SELECT u.id, s.account_id, u.site_id, u.visitor_id, u.r2_key, u.content_type, u.size, u.name, u.message_id, u.created_at
  FROM uploads u JOIN sites s ON s.id = u.site_id;

-- Children before parents: no row is left for a cascade to reach.
DROP TABLE uploads;
DROP TABLE ratings;
DROP TABLE read_marks;
DROP TABLE messages;
DROP TABLE conversations;

ALTER TABLE conversations_new RENAME TO conversations;
ALTER TABLE messages_new RENAME TO messages;
ALTER TABLE read_marks_new RENAME TO read_marks;
ALTER TABLE ratings_new RENAME TO ratings;
ALTER TABLE uploads_new RENAME TO uploads;

CREATE INDEX conversations_visitor ON conversations (visitor_id, id);
CREATE INDEX conversations_site_activity ON conversations (site_id, last_activity_at);
CREATE INDEX conversations_account_activity ON conversations (account_id, last_activity_at, id);
CREATE UNIQUE INDEX conversations_token ON conversations (token) WHERE token IS NOT NULL;
CREATE UNIQUE INDEX conversations_dm ON conversations (account_id, dm_key) WHERE dm_key IS NOT NULL;
CREATE TRIGGER conversations_id_never_reused AFTER INSERT ON conversations BEGIN
  SELECT RAISE(ABORT, 'conversations: id reused') WHERE new.id <= (SELECT last_id FROM id_sequences WHERE name = 'conversations');
  UPDATE id_sequences SET last_id = new.id WHERE name = 'conversations';
END;

CREATE INDEX messages_conversation_seq ON messages (conversation_id, seq);
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, role, COALESCE(author_id, 0), client_message_id)
  WHERE client_message_id IS NOT NULL;
CREATE UNIQUE INDEX messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;

CREATE INDEX uploads_visitor ON uploads (visitor_id);
CREATE INDEX uploads_message ON uploads (message_id);
CREATE TRIGGER uploads_id_never_reused AFTER INSERT ON uploads BEGIN
  SELECT RAISE(ABORT, 'uploads: id reused') WHERE new.id <= (SELECT last_id FROM id_sequences WHERE name = 'uploads');
  UPDATE id_sequences SET last_id = new.id WHERE name = 'uploads';
END;

-- Operators who take part in a conversation (seed 002 participants): they
-- get its live events and unread counts. Internal conversations are seen by
-- their participants only; visitor conversations by every operator of the
-- account, as before, and assignment makes the assignee a participant.
CREATE TABLE participants (
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  added_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX participants_user ON participants (user_id, conversation_id);
INSERT INTO participants (conversation_id, user_id)
  SELECT id, assignee_id FROM conversations WHERE assignee_id IS NOT NULL;

-- Per-operator state of a conversation (seed 002 mute / archive, and
-- `DELETE …?scope=for_me`): only the caller's view changes.
CREATE TABLE conversation_prefs (
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  muted_at TEXT,
  archived_at TEXT,
  hidden_at TEXT,
  PRIMARY KEY (conversation_id, user_id)
);

-- Earlier versions of edited messages, for the audit trail (oldest first).
CREATE TABLE message_edits (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  content TEXT NOT NULL,
  edited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  edited_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX message_edits_message ON message_edits (message_id, id);

-- One reaction per emoji per person: an operator (`operator`, user id) or
-- the conversation's visitor (`visitor`, visitor id).
CREATE TABLE reactions (
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  reactor_kind TEXT NOT NULL CHECK (reactor_kind IN ('operator', 'visitor')),
  reactor_id INTEGER NOT NULL,
  emoji TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (message_id, reactor_kind, reactor_id, emoji)
);

-- Full-text search over message bodies (seed 002, GET /v1/chat/messages/search),
-- kept in step by triggers whatever the code path, backfilled here. Only an
-- edit of `content` touches the index (status updates are frequent).
CREATE VIRTUAL TABLE messages_fts USING fts5(
  content,
  content = 'messages', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
  INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
