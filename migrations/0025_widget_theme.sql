-- Widget theming and languages (issue 15).

-- A site's panel header and launcher: `title` ('' = the site's name),
-- `avatar_url` ('' = none, else an https URL), the launcher's side and its
-- offsets in px from that side and from the bottom, the custom CSS applied
-- inside the widget's shadow root ('' = none; checked by the worker's
-- `custom_css` module before it is stored), and the greeting per language
-- (a JSON object, lower-cased language tag -> greeting; `greeting` stays the
-- default).
ALTER TABLE sites ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN avatar_url TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN launcher_position TEXT NOT NULL DEFAULT 'right' CHECK (launcher_position IN ('right', 'left'));
ALTER TABLE sites ADD COLUMN launcher_offset_x INTEGER NOT NULL DEFAULT 20 CHECK (launcher_offset_x BETWEEN 0 AND 200);
ALTER TABLE sites ADD COLUMN launcher_offset_y INTEGER NOT NULL DEFAULT 20 CHECK (launcher_offset_y BETWEEN 0 AND 200);
ALTER TABLE sites ADD COLUMN custom_css TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN greetings TEXT NOT NULL DEFAULT '{}';

-- The visitor's language (BCP 47 tag of their newest message that named
-- one; NULL until then): the server texts of routes that carry no `lang`
-- (handoff, auto replies) use it.
ALTER TABLE conversations ADD COLUMN lang TEXT;
