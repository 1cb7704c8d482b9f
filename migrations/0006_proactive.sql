-- Proactive messages (seed 001, "pending-proactive"): nudges a site shows
-- on matching pages after a delay.
CREATE TABLE proactive_rules (
  id INTEGER PRIMARY KEY,
  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  message TEXT NOT NULL,
  url_match TEXT NOT NULL DEFAULT '',
  delay_seconds INTEGER NOT NULL DEFAULT 0 CHECK (delay_seconds BETWEEN 0 AND 86400),
  once_per_visitor INTEGER NOT NULL DEFAULT 1,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX proactive_rules_site ON proactive_rules (site_id);

-- Which visitor sessions were shown a once-per-visitor rule.
CREATE TABLE proactive_shown (
  rule_id INTEGER NOT NULL REFERENCES proactive_rules(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  shown_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (rule_id, session_id)
);
