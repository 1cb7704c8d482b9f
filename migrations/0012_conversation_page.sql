-- Issue 11: the page a visitor last wrote from (`page_url` of their
-- messages), shown in the operator console's side panel.
ALTER TABLE conversations ADD COLUMN page_url TEXT;
