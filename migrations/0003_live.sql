-- Delivery status of messages (seed 000: sent -> delivered -> read).
ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'delivered', 'read'));
