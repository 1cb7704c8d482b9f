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
