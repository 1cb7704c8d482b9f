-- Issue 12, seed 002: per-operator state follows activity, whatever the code path.
--
-- An archived conversation comes back to the operator's default list on a
-- new message from the other side: the visitor's, or, in an internal
-- conversation, another operator's (their own replies keep it archived).
-- A conversation deleted `for_me` (`hidden_at`) comes back on any new
-- message, as chat apps bring back a deleted chat when someone writes in it.
CREATE TRIGGER conversation_prefs_on_message AFTER INSERT ON messages BEGIN
  UPDATE conversation_prefs SET archived_at = NULL
  WHERE conversation_id = new.conversation_id AND archived_at IS NOT NULL
    AND (new.role = 'visitor'
      OR (new.role = 'operator' AND user_id <> COALESCE(new.author_id, 0)
          AND (SELECT kind FROM conversations WHERE id = new.conversation_id) = 'internal'));
  UPDATE conversation_prefs SET hidden_at = NULL
  WHERE conversation_id = new.conversation_id AND hidden_at IS NOT NULL;
END;

-- Outbound follow-ups find a site's visitor by email.
CREATE INDEX visitors_site_email ON visitors (site_id, lower(email)) WHERE email IS NOT NULL;

-- A staff DM is keyed by its pair's emails (seed 000). An operator's email
-- is free again once they are removed, so their DMs stop being DMs then: a
-- new operator invited with the same address starts a new DM and never
-- joins (and reads) the old one. Exact string comparison: `_` and `%` are
-- common in emails and would be wildcards to LIKE.
CREATE TRIGGER users_removed_end_their_dms AFTER DELETE ON users BEGIN
  UPDATE conversations SET dm_key = NULL
  WHERE account_id = old.account_id AND dm_key IS NOT NULL
    AND (substr(dm_key, 1, length(old.email) + 1) = lower(old.email) || '|'
      OR substr(dm_key, -(length(old.email) + 1)) = '|' || lower(old.email));
END;
