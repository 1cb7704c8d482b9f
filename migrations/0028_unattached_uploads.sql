-- Issue 16 (an attacker review): uploads no message holds are deleted after
-- a day by the bus sweep (worker/src/routes/widget/uploads.rs,
-- `sweep_unattached`): files uploaded through the public widget API and
-- never sent, and files of messages deleted since. This index finds them.
CREATE INDEX uploads_unattached ON uploads (created_at) WHERE message_id IS NULL;
