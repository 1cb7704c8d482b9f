-- Issue 16 (an attacker review): the daily number of emails to one address
-- counts its mailbox, not its spelling. A visitor's contact email is not
-- verified, so `jane+1@x.com`, `jane+2@x.com`, … would each have had their
-- own five transcripts a day to the same inbox. `mailbox` is the address
-- lower-cased with any `+tag` of its local part removed
-- (edgechat_shared::validate::mailbox); rows from before have none and
-- count by their lower-cased address.
ALTER TABLE emails ADD COLUMN mailbox TEXT;
CREATE INDEX emails_mailbox_created ON emails (mailbox, created_at);
