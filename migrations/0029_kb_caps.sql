-- Issue 16 (an attacker review): a site's knowledge base is capped, at
-- 1,000 articles and 4 MiB (4,194,304 characters) of titles and bodies
-- (edgechat_shared::limits::MAX_ARTICLES_PER_SITE, MAX_KB_CHARS_PER_SITE).
-- Every visitor question ranks the whole knowledge base, built into one
-- index in the answering isolate (128 MB); without a cap, imports of 2 MiB
-- at a time could grow it past any index cache, rebuilt on every question.
--
-- The counts are kept on the site by the triggers that already bump its
-- `kb_revision` (so the site's `revision` trigger of 0026 stays quiet), and
-- checked before each write, whatever the route: a write past either cap
-- aborts with 'kb_articles: over the site cap' and its whole batch (an
-- import) writes nothing.
ALTER TABLE sites ADD COLUMN kb_article_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN kb_chars INTEGER NOT NULL DEFAULT 0;
UPDATE sites SET
  kb_revision = kb_revision + 1,
  kb_article_count = (SELECT COUNT(*) FROM kb_articles a WHERE a.site_id = sites.id),
  kb_chars = (SELECT COALESCE(SUM(length(a.title) + length(a.body)), 0) FROM kb_articles a WHERE a.site_id = sites.id);

DROP TRIGGER kb_articles_revision_ai;
DROP TRIGGER kb_articles_revision_au;
DROP TRIGGER kb_articles_revision_ad;
CREATE TRIGGER kb_articles_revision_ai AFTER INSERT ON kb_articles BEGIN
  UPDATE sites SET kb_revision = kb_revision + 1, kb_article_count = kb_article_count + 1,
    kb_chars = kb_chars + length(new.title) + length(new.body)
  WHERE id = new.site_id;
END;
CREATE TRIGGER kb_articles_revision_au AFTER UPDATE ON kb_articles BEGIN
  UPDATE sites SET kb_revision = kb_revision + 1,
    kb_chars = kb_chars - length(old.title) - length(old.body) + length(new.title) + length(new.body)
  WHERE id = new.site_id;
END;
CREATE TRIGGER kb_articles_revision_ad AFTER DELETE ON kb_articles BEGIN
  UPDATE sites SET kb_revision = kb_revision + 1, kb_article_count = kb_article_count - 1,
    kb_chars = kb_chars - length(old.title) - length(old.body)
  WHERE id = old.site_id;
END;

-- An upsert runs the insert's check (the article it replaces, if any, is
-- taken out of the sums) and then the update's. A write that does not grow
-- an article passes (a site over the cap, e.g. by an earlier limit, can
-- still shorten its articles). Titles and bodies hold no NUL (the API
-- refuses control characters), which would end SQLite's length().
CREATE TRIGGER kb_articles_cap_bi BEFORE INSERT ON kb_articles BEGIN
  SELECT RAISE(ABORT, 'kb_articles: over the site cap') FROM sites s
  WHERE s.id = new.site_id AND (
    (s.kb_article_count >= 1000
      AND NOT EXISTS (SELECT 1 FROM kb_articles WHERE site_id = new.site_id AND external_id = new.external_id))
    OR (s.kb_chars + length(new.title) + length(new.body)
          - COALESCE((SELECT length(title) + length(body) FROM kb_articles WHERE site_id = new.site_id AND external_id = new.external_id), 0)
          > 4194304
        AND length(new.title) + length(new.body)
          > COALESCE((SELECT length(title) + length(body) FROM kb_articles WHERE site_id = new.site_id AND external_id = new.external_id), 0)));
END;
CREATE TRIGGER kb_articles_cap_bu BEFORE UPDATE ON kb_articles BEGIN
  SELECT RAISE(ABORT, 'kb_articles: over the site cap') FROM sites s
  WHERE s.id = new.site_id
    AND s.kb_chars - length(old.title) - length(old.body) + length(new.title) + length(new.body) > 4194304
    AND length(new.title) + length(new.body) > length(old.title) + length(old.body);
END;
