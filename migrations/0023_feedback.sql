-- Complaints and the AI circuit breaker (issue 14, seed 003).

-- A signed-in user's complaint (`POST /api/v1/app/complaints`): a category
-- of seed 003's list, a description, and optionally the user's conversation
-- (seed `chatId`) and ticket (seed `dialogId`) it is about. Operators mark
-- it handled (`PATCH /v1/complaints/{id}`): who, when, with a note.
CREATE TABLE complaints (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  visitor_id INTEGER REFERENCES visitors(id) ON DELETE SET NULL,
  category TEXT NOT NULL CHECK (category IN ('funds', 'security', 'operator', 'technical', 'other')),
  description TEXT NOT NULL,
  conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
  ticket_id INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'handled')),
  note TEXT,
  handled_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  handled_by_name TEXT,                    -- kept as it was then
  handled_at TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX complaints_account ON complaints (account_id, id);
CREATE INDEX complaints_account_status ON complaints (account_id, status, id);
-- A retried POST (a lost answer, a double tap) finds the open complaint it
-- already stored instead of filing a second one.
CREATE UNIQUE INDEX complaints_open_once ON complaints
  (visitor_id, category, description, COALESCE(conversation_id, 0), COALESCE(ticket_id, 0))
  WHERE status = 'open';

-- Ratings reports read ratings by time.
CREATE INDEX ratings_created ON ratings (created_at);

-- The circuit breaker of each AI upstream (worker/src/responder/breaker.rs):
-- consecutive counted failures, and since when it is open (ms since the
-- Unix epoch; NULL: closed). `upstream` names the server, model and
-- credential, so one site's broken settings never open another's breaker.
CREATE TABLE ai_breakers (
  upstream TEXT PRIMARY KEY,
  failures INTEGER NOT NULL DEFAULT 0,
  opened_at INTEGER
);
