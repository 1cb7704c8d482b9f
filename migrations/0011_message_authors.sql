-- Issue 10: a client's message_id dedupes retries of one author, not of the
-- whole conversation: an operator reply whose id equals the visitor's was
-- dropped as a duplicate. Messages keep their operator's user id, and the
-- dedupe key is (conversation, role, operator, message_id).
ALTER TABLE messages ADD COLUMN author_id INTEGER;

DROP INDEX messages_client_id;
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, role, COALESCE(author_id, 0), client_message_id)
  WHERE client_message_id IS NOT NULL;
