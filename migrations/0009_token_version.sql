-- Issue 10, hole 2: every access JWT carries the operator's token version
-- (claim `ver`), checked on every request together with the user id. A
-- password change, a logout from everywhere and a role change bump it, so
-- every token issued before is refused although not expired; a removed
-- operator has no row, so none of theirs is accepted either.
--
-- New operators start at a random version (set by the worker), so that a
-- token of a removed operator never matches a later one given the same id.
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
