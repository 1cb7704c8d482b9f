-- Tickets (issue 14, seed 003): a request that outlives a chat, with a
-- human reference, a status and a timeline of every change.

-- The last ticket number handed out per account. A ticket's insert batch
-- bumps it and reads it back in the same transaction (worker/src/db/tickets.rs),
-- so two tickets created at once never share a reference. Numbers start
-- at 1001 (`EC-1001`) and are never handed out twice, even after a delete.
CREATE TABLE ticket_counters (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  last_number INTEGER NOT NULL
);

-- `visitor_id` is the signed-in user the ticket belongs to (taken from the
-- conversation when made from one); `conversation_id` the linked chat (a
-- user's reply or clarification creates one when it is NULL). Both outlive
-- a deleted row as NULL: the ticket stays in the operators' list.
CREATE TABLE tickets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  visitor_id INTEGER REFERENCES visitors(id) ON DELETE SET NULL,
  conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
  reference TEXT NOT NULL COLLATE NOCASE,   -- EC-1042, unique per account
  subject TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'submitted'
    CHECK (status IN ('submitted', 'in_progress', 'waiting_on_customer', 'resolved', 'closed')),
  assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (account_id, reference)
);
CREATE INDEX tickets_account ON tickets (account_id, id);
CREATE INDEX tickets_account_status ON tickets (account_id, status, id);
CREATE INDEX tickets_visitor ON tickets (visitor_id, id);
CREATE INDEX tickets_conversation ON tickets (conversation_id);

-- The timeline: one row per change. `kind` says what changed: `created`,
-- `status` (from_status -> to_status), `assigned` (assignee_id, NULL when
-- unassigned), `note` (a note alone), `clarify` (the user asked for the
-- status). `to_status` is the ticket's status after the change, whatever
-- the kind. The actor is an operator (users.id) or the user (visitors.id);
-- `actor_name` is kept as it was then.
CREATE TABLE ticket_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  kind TEXT NOT NULL CHECK (kind IN ('created', 'status', 'assigned', 'note', 'clarify')),
  actor_kind TEXT NOT NULL CHECK (actor_kind IN ('operator', 'user')),
  actor_id INTEGER,
  actor_name TEXT,
  from_status TEXT
    CHECK (from_status IS NULL OR from_status IN ('submitted', 'in_progress', 'waiting_on_customer', 'resolved', 'closed')),
  to_status TEXT NOT NULL
    CHECK (to_status IN ('submitted', 'in_progress', 'waiting_on_customer', 'resolved', 'closed')),
  assignee_id INTEGER,                      -- not a foreign key: the timeline outlives the operator
  note TEXT
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

-- CSAT per ticket (`POST /api/v1/app/csat {ticket_id}`): one per (ticket, user).
-- The ticket routes read it for `rated`.
CREATE TABLE ticket_ratings (
  id INTEGER PRIMARY KEY,
  ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
  stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
  comment TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (ticket_id, visitor_id)
);
