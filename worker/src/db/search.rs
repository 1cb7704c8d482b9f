//! Reading messages across conversations for one operator (seed 002):
//! which messages they may see, full-text search over `messages_fts`
//! (FTS5, kept in step by the triggers of migration 0013) and sync.
//!
//! Visibility is the conversation list's (db::conversations): every
//! `visitor` conversation of the caller's account, and the `internal` ones
//! they take part in.

use serde::Deserialize;
use worker::D1Database;

use super::messages::{MessageRow, MESSAGE_COLUMNS};
use super::{int, opt_int, text, visible};

/// [`MESSAGE_COLUMNS`] of the messages aliased `m`.
fn m_columns() -> String {
    MESSAGE_COLUMNS.split(',').map(|c| format!("m.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

/// Where a message lives.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Located {
    pub conversation_id: i64,
    pub site_id: Option<i64>,
}

/// A message with its conversation, as search and sync read it.
#[derive(Debug)]
pub struct LocatedRow {
    pub row: MessageRow,
    pub conversation_id: i64,
    pub site_id: Option<i64>,
}

/// The columns a row adds to [`MessageRow`]'s (read apart: no `flatten`
/// through D1's JavaScript values).
#[derive(Debug, Deserialize)]
struct Extra {
    conversation_id: i64,
    site_id: Option<i64>,
    #[serde(default)]
    snippet: String,
}

/// Reads a result of [`MessageRow`] columns plus [`Extra`]'s.
fn located(result: &worker::D1Result) -> worker::Result<Vec<(LocatedRow, String)>> {
    let rows = result.results::<MessageRow>()?;
    let extras = result.results::<Extra>()?;
    Ok(rows
        .into_iter()
        .zip(extras)
        .map(|(row, e)| (LocatedRow { row, conversation_id: e.conversation_id, site_id: e.site_id }, e.snippet))
        .collect())
}

/// The conversation of message `id` when operator `user_id` of `account_id` may see it.
pub async fn locate(db: &D1Database, user_id: i64, account_id: i64, id: i64) -> worker::Result<Option<Located>> {
    db.prepare(format!(
        "SELECT m.conversation_id, c.site_id FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?3 AND {}",
        visible(1, 2)
    ))
    .bind(&[int(user_id), int(account_id), int(id)])?
    .first(None)
    .await
}

/// Messages `ids` that operator `user_id` of `account_id` may see (any order).
pub async fn visible_messages(db: &D1Database, user_id: i64, account_id: i64, ids: &[i64]) -> worker::Result<Vec<LocatedRow>> {
    let result = db
        .prepare(format!(
            "SELECT {}, m.conversation_id AS conversation_id, c.site_id AS site_id FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id WHERE m.id IN (SELECT value FROM json_each(?3)) AND {}",
            m_columns(),
            visible(1, 2)
        ))
        .bind(&[int(user_id), int(account_id), super::id_array(ids)])?
        .all()
        .await?;
    Ok(located(&result)?.into_iter().map(|(row, _)| row).collect())
}

/// Of conversations `ids`, those operator `user_id` of `account_id` may see.
pub async fn visible_conversations(db: &D1Database, user_id: i64, account_id: i64, ids: &[i64]) -> worker::Result<Vec<i64>> {
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let rows: Vec<Id> = db
        .prepare(format!("SELECT c.id FROM conversations c WHERE c.id IN (SELECT value FROM json_each(?3)) AND {}", visible(1, 2)))
        .bind(&[int(user_id), int(account_id), super::id_array(ids)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// A search hit: the message, its conversation, and its FTS5 snippet
/// marked with U+0002 / U+0003 around each match.
#[derive(Debug)]
pub struct HitRow {
    pub located: LocatedRow,
    pub snippet: String,
}

/// What to search: the FTS5 expression (built by
/// `edgechat_shared::api::messages::search_terms`, never raw input) and the filters.
pub struct Search<'a> {
    pub user_id: i64,
    pub account_id: i64,
    pub expression: &'a str,
    pub conversation_id: Option<i64>,
    pub site_id: Option<i64>,
    /// Only messages with a smaller id (the cursor).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// Messages matching the search that the caller may see, newest first (id
/// descending): at most `limit` and whether more follow.
pub async fn search(db: &D1Database, search: &Search<'_>) -> worker::Result<(Vec<HitRow>, bool)> {
    let result = db
        .prepare(format!(
            "SELECT {}, m.conversation_id AS conversation_id, c.site_id AS site_id, \
             snippet(messages_fts, 0, char(2), char(3), '…', 16) AS snippet \
             FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid JOIN conversations c ON c.id = m.conversation_id \
             WHERE messages_fts MATCH ?3 AND {} AND (?4 IS NULL OR m.conversation_id = ?4) AND (?5 IS NULL OR c.site_id = ?5) \
             AND m.id < ?6 ORDER BY m.id DESC LIMIT ?7",
            m_columns(),
            visible(1, 2)
        ))
        .bind(&[
            int(search.user_id),
            int(search.account_id),
            text(search.expression),
            opt_int(search.conversation_id),
            opt_int(search.site_id),
            int(search.before_id.unwrap_or(i64::from(i32::MAX) * 1024)),
            int(i64::from(search.limit) + 1),
        ])?
        .all()
        .await?;
    let rows: Vec<HitRow> = located(&result)?.into_iter().map(|(located, snippet)| HitRow { located, snippet }).collect();
    Ok(super::page_of(rows, search.limit))
}

/// For each `(conversation id, last_seq)` (conversations the caller may
/// see, checked before), the messages after `last_seq` by `seq`, at most
/// `per_conversation + 1` each (the extra one tells that more follow), in
/// one query.
pub async fn after_each(db: &D1Database, cursors: &[(i64, i64)], per_conversation: u32) -> worker::Result<Vec<LocatedRow>> {
    let cursors: Vec<serde_json::Value> = cursors.iter().map(|(id, seq)| serde_json::json!({"id": id, "seq": seq})).collect();
    let result = db
        .prepare(format!(
            "SELECT {}, m.conversation_id AS conversation_id, c.site_id AS site_id FROM \
         (SELECT m.*, ROW_NUMBER() OVER (PARTITION BY m.conversation_id ORDER BY m.seq) AS rn FROM messages m \
          JOIN json_each(?1) j ON m.conversation_id = json_extract(j.value, '$.id') AND m.seq > json_extract(j.value, '$.seq')) m \
         JOIN conversations c ON c.id = m.conversation_id WHERE m.rn <= ?2 ORDER BY m.conversation_id, m.seq",
            m_columns()
        ))
        .bind(&[text(&serde_json::to_string(&cursors)?), int(i64::from(per_conversation) + 1)])?
        .all()
        .await?;
    Ok(located(&result)?.into_iter().map(|(row, _)| row).collect())
}

/// Conversations operator `user_id` of `account_id` may see, other than
/// `named`, with activity after `since` (stored form), newest activity first, at most `limit`.
pub async fn active_since(
    db: &D1Database,
    user_id: i64,
    account_id: i64,
    named: &[i64],
    since: &str,
    limit: u32,
) -> worker::Result<Vec<i64>> {
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let rows: Vec<Id> = db
        .prepare(format!(
            "SELECT c.id FROM conversations c WHERE {} AND c.last_activity_at > ?3 AND c.id NOT IN (SELECT value FROM json_each(?4)) \
             ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?5",
            visible(1, 2)
        ))
        .bind(&[int(user_id), int(account_id), text(since), text(&serde_json::to_string(named)?), int(i64::from(limit))])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
