-- Issue 16 (an attacker review): uploads no message holds are deleted after
-- a day by the bus sweep (worker/src/routes/widget/uploads.rs,
-- `sweep_unattached`): files uploaded through the public widget API (or an
-- operator's attach button) and never sent, and files of messages deleted
-- since. Anyone may upload through the widget API; such files must not stay
-- in R2 for good at the site owner's cost. This index finds them.
CREATE INDEX uploads_unattached ON uploads (created_at) WHERE message_id IS NULL;
