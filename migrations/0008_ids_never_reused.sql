-- Issue 10: ids are never reused. SQLite gives an `INTEGER PRIMARY KEY`
-- without AUTOINCREMENT the largest id + 1, so deleting the newest row
-- hands its id to the next insert; a Durable Object named by that id (a
-- conversation's Room, an account's Inbox) would meet a new owner.
--
-- D1 cannot rebuild these tables with AUTOINCREMENT: it enforces foreign
-- keys in every migration, and dropping the old table would cascade-delete
-- every message, visitor and upload. So each table gets its own high-water
-- mark instead, the same thing AUTOINCREMENT keeps in `sqlite_sequence`:
-- inserts take `last_id + 1` (worker/src/db/mod.rs, `next_id`), and a
-- trigger refuses any insert at or below the mark, whatever the code path.

CREATE TABLE id_sequences (
  name TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL
);

INSERT INTO id_sequences (name, last_id) SELECT 'accounts', COALESCE(MAX(id), 0) FROM accounts;
INSERT INTO id_sequences (name, last_id) SELECT 'sites', COALESCE(MAX(id), 0) FROM sites;
INSERT INTO id_sequences (name, last_id) SELECT 'users', COALESCE(MAX(id), 0) FROM users;
INSERT INTO id_sequences (name, last_id) SELECT 'visitors', COALESCE(MAX(id), 0) FROM visitors;
INSERT INTO id_sequences (name, last_id) SELECT 'conversations', COALESCE(MAX(id), 0) FROM conversations;
INSERT INTO id_sequences (name, last_id) SELECT 'uploads', COALESCE(MAX(id), 0) FROM uploads;

CREATE TRIGGER accounts_id_never_reused AFTER INSERT ON accounts BEGIN
  SELECT RAISE(ABORT, 'accounts: id reused') WHERE new.id <= (SELECT last_id FROM id_sequences WHERE name = 'accounts');
  UPDATE id_sequences SET last_id = new.id WHERE name = 'accounts';
END;
CREATE TRIGGER sites_id_never_reused AFTER INSERT ON sites BEGIN
  SELECT RAISE(ABORT, 'sites: id reused') WHERE new.id <= (SELECT last_id FROM id_sequences WHERE name = 'sites');
  UPDATE id_sequences SET last_id = new.id WHERE name = 'sites';
END;
CREATE TRIGGER users_id_never_reused AFTER INSERT ON users BEGIN
  SELECT RAISE(ABORT, 'users: id reused') WHERE new.id <= (SELECT last_id FROM id_sequences WHERE name = 'users');
  UPDATE id_sequences SET last_id = new.id WHERE name = 'users';
END;
CREATE TRIGGER visitors_id_never_reused AFTER INSERT ON visitors BEGIN
  SELECT RAISE(ABORT, 'visitors: id reused') WHERE new.id <= (SELECT last_id FROM id_sequences WHERE name = 'visitors');
  UPDATE id_sequences SET last_id = new.id WHERE name = 'visitors';
END;
CREATE TRIGGER conversations_id_never_reused AFTER INSERT ON conversations BEGIN
  SELECT RAISE(ABORT, 'conversations: id reused') WHERE new.id <= (SELECT last_id FROM id_sequences WHERE name = 'conversations');
  UPDATE id_sequences SET last_id = new.id WHERE name = 'conversations';
END;
CREATE TRIGGER uploads_id_never_reused AFTER INSERT ON uploads BEGIN
  SELECT RAISE(ABORT, 'uploads: id reused') WHERE new.id <= (SELECT last_id FROM id_sequences WHERE name = 'uploads');
  UPDATE id_sequences SET last_id = new.id WHERE name = 'uploads';
END;
