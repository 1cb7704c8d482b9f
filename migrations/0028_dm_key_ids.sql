-- Issue 16 (an attacker review): a staff DM is keyed by its two operators'
-- ids, `{lower}|{higher}` (edgechat_shared::api::team::dm_key), no longer
-- by their lower-cased emails. An email key could be reached by an address
-- SQLite's ASCII-only NOCASE keeps apart but Rust's Unicode lower-casing
-- folds together (`\u{212A}im@…` and `kim@…`: an admin could add such a
-- twin and join someone's DM), or loosened by a `|` inside an address. Ids
-- are never reused (0008), so the trigger of 0014 that ended a removed
-- operator's DMs (their address could be given to someone new) is not needed.
DROP TRIGGER users_removed_end_their_dms;

-- Each DM's key from the account's two operators of its emails (the
-- trigger above has already cleared the keys of removed operators). A pair
-- that no longer resolves, or that would collide, keeps no key: the
-- conversation and its participants stay, and the pair's next DM is new.
UPDATE OR IGNORE conversations SET dm_key = (
  SELECT CASE WHEN COUNT(*) = 2 THEN MIN(u.id) || '|' || MAX(u.id) END FROM users u
  WHERE u.account_id = conversations.account_id
    AND lower(u.email) IN (substr(conversations.dm_key, 1, instr(conversations.dm_key, '|') - 1),
                           substr(conversations.dm_key, instr(conversations.dm_key, '|') + 1)))
WHERE dm_key IS NOT NULL;
UPDATE conversations SET dm_key = NULL WHERE dm_key IS NOT NULL AND dm_key GLOB '*[^0-9|]*';
