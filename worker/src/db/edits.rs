//! Changes to stored messages (seed 002): edits with their audit trail
//! (`message_edits`) and reactions (`reactions`). Writes run in the
//! conversation's Room (the single writer, ARCHITECTURE.md).

use edgechat_shared::api::messages::MessageEdit;
use edgechat_shared::api::{ChatMessage, Reaction};
use serde::Deserialize;
use worker::D1Database;

use super::messages::{MessageRow, MESSAGE_COLUMNS};
use super::{int, text};

/// Who reacts: `reactions.reactor_kind` and `reactor_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reactor {
    /// An operator, by user id.
    Operator(i64),
    /// A conversation's visitor, by visitor id.
    Visitor(i64),
}

impl Reactor {
    fn kind(self) -> &'static str {
        match self {
            Reactor::Operator(_) => "operator",
            Reactor::Visitor(_) => "visitor",
        }
    }

    fn id(self) -> i64 {
        match self {
            Reactor::Operator(id) | Reactor::Visitor(id) => id,
        }
    }
}

/// The message `id`, whichever conversation holds it.
pub async fn by_id(db: &D1Database, id: i64) -> worker::Result<Option<MessageRow>> {
    db.prepare(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1")).bind(&[int(id)])?.first(None).await
}

/// Replaces the content of operator `editor`'s message `id` with `content`,
/// keeping the previous text in `message_edits` and setting `edited_at`, in
/// one D1 batch (a transaction) with its `message.updated` event. Answers the row after the edit and whether
/// it changed: the same content is a no-op (no version, no new `edited_at`);
/// `None` when `editor` did not write message `id`. Call it in the Room.
pub async fn edit(db: &D1Database, id: i64, editor: i64, content: &str) -> worker::Result<Option<(MessageRow, bool)>> {
    let mine = "id = ?1 AND role = 'operator' AND author_id = ?3";
    let results = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO message_edits (message_id, content, edited_by) SELECT id, content, ?3 FROM messages WHERE {mine} AND content <> ?2"
            ))
            .bind(&[int(id), text(content), int(editor)])?,
            db.prepare(format!(
                "UPDATE messages SET content = ?2, edited_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE {mine} AND content <> ?2"
            ))
            .bind(&[int(id), text(content), int(editor)])?,
            // Its `message.updated` event, when the text changed.
            db.prepare(
                "INSERT INTO outbox (id, account_id, type, conversation_id, message_id) \
                 SELECT ?1, c.account_id, 'message.updated', c.id, m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.id = ?2 AND changes() > 0",
            )
            .bind(&[text(&crate::events::new_id()), int(id)])?,
            db.prepare(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {mine}")).bind(&[int(id), text(content), int(editor)])?,
        ])
        .await?;
    let changed = results.get(1).and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).unwrap_or(0) > 0;
    let row = results.get(3).map(|r| r.results::<MessageRow>()).transpose()?.and_then(|mut rows| rows.pop());
    Ok(row.map(|row| (row, changed)))
}

/// The earlier versions of message `id`, oldest first.
pub async fn edits(db: &D1Database, id: i64) -> worker::Result<Vec<MessageEdit>> {
    db.prepare("SELECT content, edited_at, edited_by FROM message_edits WHERE message_id = ?1 ORDER BY id")
        .bind(&[int(id)])?
        .all()
        .await?
        .results()
}

/// The SQL of a reaction's emoji without its presentation selectors
/// (U+FE0F): the variants of one emoji (`❤`, `❤️`) are one reaction, also
/// for rows stored before reactions were kept in their RGI form.
const BARE_EMOJI: &str = "replace(emoji, char(65039), '')";

/// Adds `reactor`'s `emoji` (its RGI form, `crate::emoji::check`) on
/// message `id`, or takes it back when it was there in any variant;
/// answers `true` when added. Call it in the Room.
pub async fn toggle_reaction(db: &D1Database, id: i64, reactor: Reactor, emoji: &str) -> worker::Result<bool> {
    let key = [int(id), text(reactor.kind()), int(reactor.id()), text(emoji)];
    let removed = db
        .prepare(format!(
            "DELETE FROM reactions WHERE message_id = ?1 AND reactor_kind = ?2 AND reactor_id = ?3 AND {BARE_EMOJI} = replace(?4, char(65039), '')"
        ))
        .bind(&key)?
        .run()
        .await?
        .meta()?
        .and_then(|m| m.changes)
        .unwrap_or(0);
    if removed > 0 {
        return Ok(false);
    }
    db.prepare("INSERT OR IGNORE INTO reactions (message_id, reactor_kind, reactor_id, emoji) VALUES (?1, ?2, ?3, ?4)")
        .bind(&key)?
        .run()
        .await?;
    Ok(true)
}

#[derive(Deserialize)]
struct ReactionRow {
    message_id: i64,
    emoji: String,
    count: i64,
    mine: i64,
}

/// Fills the `reactions` of `messages` (one entry per emoji, in the order
/// first given, `mine` for `viewer`) with one query for the whole page.
pub async fn fill_reactions(db: &D1Database, messages: &mut [ChatMessage], viewer: Reactor) -> worker::Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
    let rows = grouped(db, &ids, viewer).await?;
    for message in messages.iter_mut() {
        message.reactions = rows.iter().filter(|r| r.message_id == message.id).map(ReactionRow::reaction).collect();
    }
    Ok(())
}

/// The reactions of message `id` (`mine` for `viewer`).
pub async fn reactions_of(db: &D1Database, id: i64, viewer: Reactor) -> worker::Result<Vec<Reaction>> {
    Ok(grouped(db, &[id], viewer).await?.iter().map(ReactionRow::reaction).collect())
}

impl ReactionRow {
    /// The reaction as listed: its emoji in the RGI form (a row stored
    /// before reactions were kept so, `❤` or `👍️`, shows as `❤️` or `👍`,
    /// the key every client matches a live `reaction` event on).
    fn reaction(&self) -> Reaction {
        let emoji = crate::emoji::rgi_form(&self.emoji).unwrap_or_else(|| self.emoji.clone());
        Reaction { emoji, count: self.count, mine: self.mine != 0 }
    }
}

/// Reactions of messages `ids` per message and emoji (its variants with or
/// without U+FE0F as one, each reactor counted once), in the order first
/// given.
async fn grouped(db: &D1Database, ids: &[i64], viewer: Reactor) -> worker::Result<Vec<ReactionRow>> {
    db.prepare(format!(
        "SELECT message_id, MAX(emoji) AS emoji, COUNT(DISTINCT reactor_kind || ':' || reactor_id) AS count, MAX(reactor_kind = ?2 AND reactor_id = ?3) AS mine FROM reactions \
             WHERE message_id IN (SELECT value FROM json_each(?1)) GROUP BY message_id, {BARE_EMOJI} ORDER BY message_id, MIN(created_at), 2",
    ))
    .bind(&[super::id_array(ids), text(viewer.kind()), int(viewer.id())])?
    .all()
    .await?
    .results()
}
