-- EdgeChat initial schema: accounts, sites, visitors, conversations, messages
-- and the knowledge base with its FTS5 index.
-- Times are RFC 3339 UTC text with milliseconds (strftime('%Y-%m-%dT%H:%M:%fZ')).

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE sites (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  site_key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  greeting TEXT NOT NULL DEFAULT 'Hi there! How can we help?',
  theme_color TEXT NOT NULL DEFAULT '#4f46e5',
  allowed_origins TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE visitors (
  id INTEGER PRIMARY KEY,
  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  email TEXT,
  name TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (site_id, session_id)
);

CREATE TABLE conversations (
  id INTEGER PRIMARY KEY,
  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'snoozed')),
  mode TEXT NOT NULL DEFAULT 'ai' CHECK (mode IN ('ai', 'operator')),
  last_seq INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  last_activity_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX conversations_visitor ON conversations (visitor_id, id);
CREATE INDEX conversations_site_activity ON conversations (site_id, last_activity_at);

-- Every message of a conversation, numbered by seq (1, 2, 3… with no gaps).
-- client_message_id dedupes a visitor's retries; reply_to ties an AI answer
-- to the visitor message it answers, at most one answer each.
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('visitor', 'ai', 'operator')),
  content TEXT NOT NULL,
  author_name TEXT,
  client_message_id TEXT,
  reply_to INTEGER REFERENCES messages(id),
  sources TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, client_message_id)
  WHERE client_message_id IS NOT NULL;
CREATE UNIQUE INDEX messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;

-- Knowledge-base articles; external_id is the id given at import.
CREATE TABLE kb_articles (
  id INTEGER PRIMARY KEY,
  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  external_id TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  url TEXT,
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (site_id, external_id)
);

-- Full-text index over title and body, kept in step by triggers.
CREATE VIRTUAL TABLE kb_fts USING fts5(
  title, body,
  content = 'kb_articles', content_rowid = 'id',
  tokenize = 'porter unicode61'
);
CREATE TRIGGER kb_articles_ai AFTER INSERT ON kb_articles BEGIN
  INSERT INTO kb_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER kb_articles_ad AFTER DELETE ON kb_articles BEGIN
  INSERT INTO kb_fts (kb_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER kb_articles_au AFTER UPDATE ON kb_articles BEGIN
  INSERT INTO kb_fts (kb_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
  INSERT INTO kb_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
