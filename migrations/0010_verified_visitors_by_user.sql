-- A verified visitor is reached by its verified user_id only, never by a
-- browser session (issue 10, hole 4): detach every verified visitor from the
-- session it was created or upgraded on. 'verified:<id>' contains ':', which
-- no client session_id may (edgechat_shared::validate::session_id), so no
-- request's session can name it; new ones get 'verified:<random hex>'.
UPDATE visitors SET session_id = 'verified:' || id WHERE user_id IS NOT NULL;
