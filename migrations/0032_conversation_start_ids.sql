-- Issue 16 (a retry that lands twice): a signed-in user's request
-- (`POST /api/v1/app/conversations`) may carry the client id of its first
-- message (`message_id`), as the widget's messages do. A retry with the same
-- id (the answer was lost) answers the conversation the first one started
-- instead of starting another: the id is kept on the conversation, unique
-- per visitor, and the start's insert does nothing when it is taken
-- (worker/src/db/app_conversations.rs, `start`).
ALTER TABLE conversations ADD COLUMN start_client_id TEXT;
CREATE UNIQUE INDEX conversations_start_client_id ON conversations (visitor_id, start_client_id)
  WHERE start_client_id IS NOT NULL;
