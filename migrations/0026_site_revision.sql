-- Issue 16: a visitor's message in one D1 round trip. The stream route keeps,
-- per isolate, the site and the visitor its last checked request read, and
-- the Room's write checks that they still hold: the site's `revision` is one
-- of those checks. Any update of the site's own settings (name, greetings,
-- allowed origins, identity secret, responder, ...) bumps it, whatever the
-- code path; a knowledge-base revision bump alone does not (the write does
-- not depend on the articles). A revision is never handed out twice, even
-- after the database is restored to an earlier point (D1 Time Travel): it
-- is at least the update's time in milliseconds since 1970.
-- The WHEN also skips an UPDATE that sets `kb_revision` or `revision` with
-- other columns: none does (worker/src/db/sites.rs updates neither), and
-- one that ever must bumps `revision` itself.
ALTER TABLE sites ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER sites_revision_au AFTER UPDATE ON sites
WHEN old.revision = new.revision AND old.kb_revision = new.kb_revision BEGIN
  UPDATE sites SET revision = MAX(revision + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) WHERE id = new.id;
END;
