-- Issue 6: the knowledge base is ranked by EdgeChat's own retrieval
-- (edgechat_shared::retrieval: stemming, synonyms, typo tolerance, best
-- passage) over an index each isolate builds per knowledge-base version, so
-- the FTS5 table and the triggers that kept it in step are no longer used.
DROP TRIGGER IF EXISTS kb_articles_ai;
DROP TRIGGER IF EXISTS kb_articles_ad;
DROP TRIGGER IF EXISTS kb_articles_au;
DROP TABLE IF EXISTS kb_fts;
-- The version of a site's knowledge base is read on every question.
CREATE INDEX IF NOT EXISTS kb_articles_site_updated ON kb_articles (site_id, updated_at);
