-- Issue 6: the knowledge base is ranked by EdgeChat's own retrieval
-- (edgechat_shared::retrieval: stemming, synonyms, typo tolerance, best
-- passage) over an index each isolate builds per knowledge-base revision, so
-- the FTS5 table and the triggers that kept it in step are no longer used.
DROP TRIGGER IF EXISTS kb_articles_ai;
DROP TRIGGER IF EXISTS kb_articles_ad;
DROP TRIGGER IF EXISTS kb_articles_au;
DROP TABLE IF EXISTS kb_fts;

-- The revision of a site's knowledge base: any insert, update or delete of
-- one of its articles bumps it, whatever the code path, so a cached index
-- is rebuilt exactly when it is stale.
ALTER TABLE sites ADD COLUMN kb_revision INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER kb_articles_revision_ai AFTER INSERT ON kb_articles BEGIN
  UPDATE sites SET kb_revision = kb_revision + 1 WHERE id = new.site_id;
END;
CREATE TRIGGER kb_articles_revision_au AFTER UPDATE ON kb_articles BEGIN
  UPDATE sites SET kb_revision = kb_revision + 1 WHERE id = new.site_id;
END;
CREATE TRIGGER kb_articles_revision_ad AFTER DELETE ON kb_articles BEGIN
  UPDATE sites SET kb_revision = kb_revision + 1 WHERE id = old.site_id;
END;
