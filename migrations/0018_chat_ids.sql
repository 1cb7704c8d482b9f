-- Issue 13, seed 000's `/v1/chat/*` routes.
--
-- External chat ids: any id an integration supplies when it saves a message
-- (`POST /v1/chat/save/{chat_id}`) names one conversation per account,
-- created by the first save into it (worker/src/db/chat.rs).
CREATE TABLE chat_external_ids (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  external_id TEXT NOT NULL,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (account_id, external_id)
);
CREATE INDEX chat_external_ids_conversation ON chat_external_ids (conversation_id);

-- When a message was read (seed 000 `readAt`, set by `POST /v1/chat/update`
-- with status `read`). `messages.status` (sent -> delivered -> read) is
-- migration 0003's.
ALTER TABLE messages ADD COLUMN read_at TEXT;

-- `GET /v1/chat/messages/by-user/{email}` pages messages by creation time.
CREATE INDEX messages_created ON messages (created_at, id);
