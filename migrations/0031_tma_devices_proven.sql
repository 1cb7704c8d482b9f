-- Issue 16 (an attacker review): a Telegram Mini App device is now
-- registered with the Mini App's signed initData, and the Telegram user it
-- proves is its chat (worker/src/push/telegram.rs, `user_of`). Devices
-- registered before named a bare chat id, which proved nothing: anyone could
-- have named another's. They are forgotten; a Mini App registers again
-- (with its initData) the next time it opens.
DELETE FROM devices WHERE platform = 'tma';
