-- Account API keys (issue 13): `Authorization: Bearer eck_…` on the `/v1`
-- routes, acting as the operator who created the key with role at most
-- agent. The secret is stored only as its SHA-256 hash (hex); `prefix` is
-- its first characters, shown to tell keys apart. A revoked key keeps its
-- row (`revoked_at`) so its hash is never accepted again; a key goes with
-- the operator who created it.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_by INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL CHECK (json_valid(scopes)),  -- JSON array: ["read"], ["read","write"], ...
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_keys_account ON api_keys (account_id, id) WHERE revoked_at IS NULL;
