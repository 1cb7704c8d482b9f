//! Conversations operators start and share (seed 002): internal
//! conversations and staff DMs, outbound follow-ups to visitors,
//! participants, per-operator state (`conversation_prefs`), deletion, and
//! the user search. Every query is scoped by account.

use edgechat_shared::api::conversations::Visitor;
use edgechat_shared::api::team::{OperatorMatch, Participant, UserSearchPattern, ValidPatch, VisitorMatch, MAX_SEARCH_RESULTS};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

use super::{id_array, int, next_id, opt_int, opt_text, text};
use crate::auth::random_hex;

/// `now` as every EdgeChat timestamp is stored (RFC 3339 UTC, ms).
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// An operator of an account (its id).
#[derive(Debug, Clone, Deserialize)]
pub struct OperatorRef {
    pub id: i64,
}

/// The operators of `account_id` among `ids` (others are left out), by id.
pub async fn operators_among(db: &D1Database, account_id: i64, ids: &[i64]) -> worker::Result<Vec<OperatorRef>> {
    db.prepare("SELECT id FROM users WHERE account_id = ?1 AND id IN (SELECT value FROM json_each(?2)) ORDER BY id")
        .bind(&[int(account_id), id_array(ids)])?
        .all()
        .await?
        .results()
}

/// A new internal conversation of `account_id`.
pub struct NewInternal<'a> {
    /// The operator starting it; a participant.
    pub created_by: i64,
    /// Every participant, the creator included.
    pub participants: &'a [i64],
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    /// The staff DM key of a DM ([`edgechat_shared::api::team::dm_key`]).
    pub dm_key: Option<&'a str>,
}

/// Creates an internal conversation (mode `operator`: no AI answers there)
/// with its participants in one D1 batch (one transaction). A DM whose key
/// exists is not created again: its participants are added back (someone
/// who left a DM and starts it again rejoins it). Answers the conversation
/// id and whether it is new.
pub async fn create_internal(db: &D1Database, account_id: i64, new: &NewInternal<'_>) -> worker::Result<(i64, bool)> {
    // The new conversation, or the DM of the pair. `?1`, `?2`: the account and the DM key.
    let (conversation, key) = match new.dm_key {
        Some(key) => ("(SELECT id FROM conversations WHERE account_id = ?1 AND dm_key = ?2)", vec![int(account_id), text(key)]),
        None => ("(SELECT last_id FROM id_sequences WHERE name = 'conversations')", Vec::new()),
    };
    let results = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO conversations (id, account_id, kind, mode, name, description, created_by, dm_key) \
                 VALUES ({}, ?1, 'internal', 'operator', ?2, ?3, ?4, ?5) \
                 ON CONFLICT (account_id, dm_key) WHERE dm_key IS NOT NULL DO NOTHING RETURNING id",
                next_id("conversations")
            ))
            .bind(&[
                int(account_id),
                opt_text(new.name),
                opt_text(new.description),
                int(new.created_by),
                opt_text(new.dm_key),
            ])?,
            // Its `conversation.created` event (none when the DM existed).
            crate::events::created_statement(db)?.0,
            db.prepare(format!(
                "INSERT OR IGNORE INTO participants (conversation_id, user_id, added_by) \
                 SELECT {conversation}, value, ?{} FROM json_each(?{})",
                key.len() + 1,
                key.len() + 2
            ))
            .bind(&[key.clone(), vec![int(new.created_by), id_array(new.participants)]].concat())?,
            db.prepare(format!("SELECT {conversation} AS id")).bind(&key)?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Id {
        id: Option<i64>,
    }
    let created = results.first().map(|r| r.results::<Id>()).transpose()?.is_some_and(|rows| !rows.is_empty());
    let id = results.get(3).map(|r| r.results::<Id>()).transpose()?.and_then(|rows| rows.into_iter().next()).and_then(|r| r.id);
    let id = id.ok_or_else(|| worker::Error::RustError("internal conversation was not created".into()))?;
    Ok((id, created))
}

/// The visitor of `site_id` an outbound follow-up to `email` (and no
/// `user_id`) goes to: the visitor an earlier follow-up made for it, else a
/// new one, reachable by no widget session (`session_id` `outbound:` and 128
/// random bits: `:` is no session id character). No widget visitor is ever
/// chosen by email: an email typed into the widget proves nothing, and the
/// email a verified visitor's site passes is not under `user_hash` (only
/// `user_id` is), so a signed-in user could claim anyone's address. A
/// follow-up that must reach a signed-in user names their `user_id`.
pub async fn outbound_visitor(db: &D1Database, site_id: i64, email: &str, name: Option<&str>) -> worker::Result<i64> {
    let found = db
        .prepare(
            "SELECT id FROM visitors WHERE site_id = ?1 AND email IS NOT NULL AND lower(email) = lower(?2) \
             AND user_id IS NULL AND session_id LIKE 'outbound:%' ORDER BY id DESC LIMIT 1",
        )
        .bind(&[int(site_id), text(email)])?
        .first::<i64>(Some("id"))
        .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    db.prepare(format!(
        "INSERT INTO visitors (id, site_id, session_id, email, name) VALUES ({}, ?1, ?2, ?3, ?4) RETURNING id",
        next_id("visitors")
    ))
    .bind(&[int(site_id), text(&format!("outbound:{}", random_hex(16))), text(email), opt_text(name)])?
    .first::<i64>(Some("id"))
    .await?
    .ok_or_else(|| worker::Error::RustError("outbound visitor was not created".into()))
}

/// Creates an outbound visitor conversation of `account_id` with visitor
/// `visitor_id` of `site_id`: mode `operator`, assigned to `caller`, who
/// takes part; one D1 batch. Answers its id.
pub async fn create_outbound(
    db: &D1Database,
    account_id: i64,
    site_id: i64,
    visitor_id: i64,
    caller: i64,
    description: Option<&str>,
) -> worker::Result<i64> {
    let results = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO conversations (id, account_id, kind, site_id, visitor_id, mode, assignee_id, created_by, description) \
                 VALUES ({}, ?1, 'visitor', ?2, ?3, 'operator', ?4, ?4, ?5) RETURNING id",
                next_id("conversations")
            ))
            .bind(&[int(account_id), int(site_id), int(visitor_id), int(caller), opt_text(description)])?,
            crate::events::created_statement(db)?.0,
            db.prepare(
                "INSERT OR IGNORE INTO participants (conversation_id, user_id, added_by) \
                 SELECT last_id, ?1, ?1 FROM id_sequences WHERE name = 'conversations'",
            )
            .bind(&[int(caller)])?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    results
        .first()
        .map(|r| r.results::<Id>())
        .transpose()?
        .and_then(|rows| rows.into_iter().next())
        .map(|r| r.id)
        .ok_or_else(|| worker::Error::RustError("outbound conversation was not created".into()))
}

/// Sets the name and description of conversation `id` of `account_id`
/// (`None` keeps a field, `Some(None)` clears it); `false` when there is no such conversation.
pub async fn update_details(db: &D1Database, account_id: i64, id: i64, patch: &ValidPatch) -> worker::Result<bool> {
    let flag = |given: bool| JsValue::from_bool(given);
    Ok(db
        .prepare(
            "UPDATE conversations SET name = CASE WHEN ?1 THEN ?2 ELSE name END, \
             description = CASE WHEN ?3 THEN ?4 ELSE description END WHERE id = ?5 AND account_id = ?6 RETURNING id",
        )
        .bind(&[
            flag(patch.name.is_some()),
            opt_text(patch.name.clone().flatten().as_deref()),
            flag(patch.description.is_some()),
            opt_text(patch.description.clone().flatten().as_deref()),
            int(id),
            int(account_id),
        ])?
        .first::<i64>(Some("id"))
        .await?
        .is_some())
}

/// One operator's own state of a conversation (`conversation_prefs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pref {
    /// No notification; still listed.
    Muted,
    /// Out of the default list until the other side writes.
    Archived,
    /// Deleted `for_me`: out of the default list until the next message.
    Hidden,
}

impl Pref {
    fn column(self) -> &'static str {
        match self {
            Pref::Muted => "muted_at",
            Pref::Archived => "archived_at",
            Pref::Hidden => "hidden_at",
        }
    }
}

/// Sets (`on`) or clears `pref` of conversation `conversation_id` for
/// `user_id`; setting it again keeps its first time.
pub async fn set_pref(db: &D1Database, conversation_id: i64, user_id: i64, pref: Pref, on: bool) -> worker::Result<()> {
    let column = pref.column();
    db.prepare(format!(
        "INSERT INTO conversation_prefs (conversation_id, user_id, {column}) VALUES (?1, ?2, CASE WHEN ?3 THEN {NOW} END) \
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET {column} = CASE WHEN ?3 THEN COALESCE({column}, {NOW}) END"
    ))
    .bind(&[int(conversation_id), int(user_id), JsValue::from_bool(on)])?
    .run()
    .await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
struct ParticipantRow {
    user_id: i64,
    display_name: String,
    email: String,
    role: edgechat_shared::api::auth::OperatorRole,
    added_at: String,
    added_by: Option<i64>,
}

/// The participants of conversation `conversation_id`, oldest first.
pub async fn participants(db: &D1Database, conversation_id: i64) -> worker::Result<Vec<Participant>> {
    let rows: Vec<ParticipantRow> = db
        .prepare(
            "SELECT p.user_id, u.display_name, u.email, u.role, p.added_at, p.added_by FROM participants p \
             JOIN users u ON u.id = p.user_id WHERE p.conversation_id = ?1 ORDER BY p.added_at, p.user_id",
        )
        .bind(&[int(conversation_id)])?
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .map(|r| Participant {
            user_id: r.user_id,
            display_name: r.display_name,
            email: r.email,
            role: r.role,
            added_at: r.added_at,
            added_by: r.added_by,
        })
        .collect())
}

/// Adds operators `user_ids` (already checked to be of the conversation's
/// account) to conversation `conversation_id`; answers those not there before.
pub async fn add_participants(db: &D1Database, conversation_id: i64, added_by: i64, user_ids: &[i64]) -> worker::Result<Vec<i64>> {
    #[derive(Deserialize)]
    struct Row {
        user_id: i64,
    }
    let rows: Vec<Row> = db
        .prepare(
            "INSERT INTO participants (conversation_id, user_id, added_by) SELECT ?1, value, ?2 FROM json_each(?3) WHERE true \
             ON CONFLICT (conversation_id, user_id) DO NOTHING RETURNING user_id",
        )
        .bind(&[int(conversation_id), int(added_by), id_array(user_ids)])?
        .all()
        .await?
        .results()?;
    let mut added: Vec<i64> = rows.into_iter().map(|r| r.user_id).collect();
    added.sort_unstable();
    Ok(added)
}

/// Removes operator `user_id` from conversation `conversation_id`; `false` when they were not in it.
pub async fn remove_participant(db: &D1Database, conversation_id: i64, user_id: i64) -> worker::Result<bool> {
    Ok(db
        .prepare("DELETE FROM participants WHERE conversation_id = ?1 AND user_id = ?2 RETURNING user_id")
        .bind(&[int(conversation_id), int(user_id)])?
        .first::<i64>(Some("user_id"))
        .await?
        .is_some())
}

/// Who may receive a conversation's live events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every operator of the account (a visitor conversation).
    Everyone,
    /// Only these operators (an internal conversation's participants).
    Participants(Vec<i64>),
}

/// The audience of conversation `conversation_id` of `account_id`, read
/// when the event leaves (so a removed participant gets nothing more);
/// `None` when there is no such conversation.
pub async fn audience(db: &D1Database, account_id: i64, conversation_id: i64) -> worker::Result<Option<Audience>> {
    #[derive(Deserialize)]
    struct Row {
        kind: edgechat_shared::api::conversations::Kind,
        participants: String,
    }
    let row: Option<Row> = db
        .prepare(
            "SELECT c.kind, (SELECT json_group_array(p.user_id) FROM participants p WHERE p.conversation_id = c.id) AS participants \
             FROM conversations c WHERE c.id = ?1 AND c.account_id = ?2",
        )
        .bind(&[int(conversation_id), int(account_id)])?
        .first(None)
        .await?;
    Ok(match row {
        None => None,
        Some(Row { kind: edgechat_shared::api::conversations::Kind::Visitor, .. }) => Some(Audience::Everyone),
        Some(Row { participants, .. }) => Some(Audience::Participants(serde_json::from_str(&participants)?)),
    })
}

/// Deletes conversation `id` of `account_id` for everyone, in one D1 batch:
/// its uploads' rows, its messages (their search index, reactions and edits
/// follow by trigger and cascade), an internal conversation's outbox events
/// (so no webhook fan-out of a deleted staff conversation's message can
/// find it no longer internal), then the conversation (participants,
/// prefs, read marks and rating cascade). Answers the R2 keys of its files
/// (to delete from R2), `None` when there was no such conversation.
pub async fn delete(db: &D1Database, account_id: i64, id: i64) -> worker::Result<Option<Vec<String>>> {
    #[derive(Deserialize)]
    struct Id {
        #[allow(dead_code)]
        id: i64,
    }
    let owned = "(SELECT id FROM conversations WHERE id = ?1 AND account_id = ?2)";
    let attached = format!("(SELECT m.id FROM messages m WHERE m.conversation_id = {owned})");
    let results = db
        .batch(vec![
            db.prepare(format!("DELETE FROM uploads WHERE message_id IN {attached} RETURNING r2_key")).bind(&[int(id), int(account_id)])?,
            db.prepare(format!("DELETE FROM messages WHERE conversation_id = {owned}")).bind(&[int(id), int(account_id)])?,
            // An internal conversation's events never leave the team; once it
            // is gone nothing would tell the fan-out so (`outbox` keeps no
            // foreign key), so its events go with it, published or not.
            db.prepare("DELETE FROM outbox WHERE conversation_id IN (SELECT id FROM conversations WHERE id = ?1 AND account_id = ?2 AND kind = 'internal')")
                .bind(&[int(id), int(account_id)])?,
            db.prepare("DELETE FROM conversations WHERE id = ?1 AND account_id = ?2 RETURNING id").bind(&[int(id), int(account_id)])?,
        ])
        .await?;
    let deleted = results.get(3).map(|r| r.results::<Id>()).transpose()?.is_some_and(|rows| !rows.is_empty());
    if !deleted {
        return Ok(None);
    }
    let keys = results.first().map(|r| r.results::<super::uploads::R2Key>()).transpose()?.unwrap_or_default();
    Ok(Some(keys.into_iter().map(|k| k.r2_key).collect()))
}

#[derive(Debug, Deserialize)]
struct VisitorRow {
    id: i64,
    site_id: i64,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    blocked_at: Option<String>,
    verified: i64,
    created_at: String,
}

/// Operators and visitors of `account_id` matching `pattern`: names and
/// emails containing it, phones starting with its E.164 prefix; at most
/// [`MAX_SEARCH_RESULTS`] of each (operators by name, visitors newest first).
pub async fn search_users(
    db: &D1Database,
    account_id: i64,
    pattern: &UserSearchPattern,
) -> worker::Result<(Vec<OperatorMatch>, Vec<VisitorMatch>)> {
    let limit = int(i64::from(MAX_SEARCH_RESULTS));
    let results = db
        .batch(vec![
            db.prepare(
                "SELECT id, display_name, email, role FROM users WHERE account_id = ?1 \
                 AND (display_name LIKE ?2 ESCAPE '\\' OR email LIKE ?2 ESCAPE '\\') ORDER BY display_name, id LIMIT ?3",
            )
            .bind(&[int(account_id), text(&pattern.contains), limit.clone()])?,
            db.prepare(
                "SELECT v.id, v.site_id, v.name, v.email, v.phone, v.blocked_at, v.verified, v.created_at \
                 FROM visitors v JOIN sites s ON s.id = v.site_id WHERE s.account_id = ?1 \
                 AND (v.name LIKE ?2 ESCAPE '\\' OR v.email LIKE ?2 ESCAPE '\\' OR (?3 IS NOT NULL AND v.phone LIKE ?3)) \
                 ORDER BY v.id DESC LIMIT ?4",
            )
            .bind(&[int(account_id), text(&pattern.contains), opt_text(pattern.phone_prefix.as_deref()), limit])?,
        ])
        .await?;
    let operators = results.first().map(|r| r.results::<OperatorMatch>()).transpose()?.unwrap_or_default();
    let visitors: Vec<VisitorRow> = results.get(1).map(|r| r.results()).transpose()?.unwrap_or_default();
    let visitors = visitors
        .into_iter()
        .map(|v| VisitorMatch {
            visitor: Visitor {
                id: v.id,
                name: v.name,
                email: v.email,
                phone: v.phone,
                blocked: v.blocked_at.is_some(),
                verified: v.verified != 0,
                created_at: v.created_at,
            },
            site_id: v.site_id,
        })
        .collect();
    Ok((operators, visitors))
}

/// The operator who started conversation `id` of `account_id`; `None`
/// when no operator did (a visitor's) or they were removed since.
pub async fn created_by(db: &D1Database, account_id: i64, id: i64) -> worker::Result<Option<i64>> {
    db.prepare("SELECT created_by FROM conversations WHERE id = ?1 AND account_id = ?2")
        .bind(&[int(id), int(account_id)])?
        .first::<Option<i64>>(Some("created_by"))
        .await
        .map(Option::flatten)
}

/// The staff DM key of conversation `id` of `account_id`, when it is a DM.
pub async fn dm_key_of(db: &D1Database, account_id: i64, id: i64) -> worker::Result<Option<String>> {
    db.prepare("SELECT dm_key FROM conversations WHERE id = ?1 AND account_id = ?2")
        .bind(&[int(id), int(account_id)])?
        .first::<Option<String>>(Some("dm_key"))
        .await
        .map(Option::flatten)
}

/// Makes `user_id` a participant of conversation `id` (an assignee); answers whether they were not one before.
pub async fn ensure_participant(db: &D1Database, id: i64, user_id: i64, added_by: Option<i64>) -> worker::Result<bool> {
    Ok(db
        .prepare(
            "INSERT INTO participants (conversation_id, user_id, added_by) VALUES (?1, ?2, ?3) \
             ON CONFLICT (conversation_id, user_id) DO NOTHING RETURNING user_id",
        )
        .bind(&[int(id), int(user_id), opt_int(added_by)])?
        .first::<i64>(Some("user_id"))
        .await?
        .is_some())
}
