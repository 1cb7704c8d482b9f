//! A signed-in user's conversations in D1 (seed 003, issue 14): the
//! `/api/v1/app/conversations` views, always scoped to the user's visitor.

use edgechat_shared::api::app::{AppConversation, AppRating, Reason, RequestMeta, MAX_LISTED};
use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::{ChatMessage, Role};
use serde::Deserialize;
use worker::D1Database;

use super::messages::{MessageRow, MESSAGE_COLUMNS};
use super::{int, next_id, opt_text, text};

/// Most messages one poll answers.
pub const MAX_POLLED: i64 = 500;

#[derive(Debug, Deserialize)]
struct Row {
    id: i64,
    status: Status,
    snoozed_until: Option<String>,
    reason_main: Option<String>,
    reason_sub: Option<String>,
    created_at: String,
    last_activity_at: String,
    unread: i64,
    rated: i64,
    lm_id: Option<i64>,
    lm_seq: Option<i64>,
    lm_role: Option<Role>,
    lm_content: Option<String>,
    lm_author_name: Option<String>,
    lm_created_at: Option<String>,
}

impl Row {
    fn into_conversation(self) -> AppConversation {
        let last_message = match (self.lm_id, self.lm_seq, self.lm_role, self.lm_content, self.lm_created_at) {
            (Some(id), Some(seq), Some(role), Some(content), Some(created_at)) => Some(ChatMessage {
                id,
                seq,
                role,
                content,
                created_at,
                author_name: self.lm_author_name,
                sources: Vec::new(),
                status: None,
                attachments: Vec::new(),
                author_id: None,
                edited_at: None,
                reactions: Vec::new(),
                forwarded_from: None,
            }),
            _ => None,
        };
        AppConversation {
            id: self.id,
            state: self.status,
            snoozed_until: self.snoozed_until,
            reason: self.reason_main.map(|main| Reason { main, sub: self.reason_sub }),
            last_message,
            unread: self.unread,
            rated: self.rated != 0,
            created_at: self.created_at,
            updated_at: self.last_activity_at,
        }
    }
}

/// The user's view of a conversation; `?1` is the user's visitor id. Unread
/// are the operators' messages after the user's read mark.
const USER_SELECT: &str = "SELECT c.id, c.status, c.snoozed_until, c.reason_main, c.reason_sub, c.created_at, c.last_activity_at, \
    (SELECT COUNT(*) FROM messages um WHERE um.conversation_id = c.id AND um.role = 'operator' AND um.seq > c.visitor_read_seq) AS unread, \
    EXISTS (SELECT 1 FROM ratings r WHERE r.conversation_id = c.id) AS rated, \
    lm.id AS lm_id, lm.seq AS lm_seq, lm.role AS lm_role, lm.content AS lm_content, lm.author_name AS lm_author_name, \
    lm.created_at AS lm_created_at \
    FROM conversations c LEFT JOIN messages lm ON lm.conversation_id = c.id \
      AND lm.seq = (SELECT MAX(seq) FROM messages WHERE conversation_id = c.id) \
    WHERE c.visitor_id = ?1 AND c.kind = 'visitor'";

/// The user's conversations, newest activity first, at most [`MAX_LISTED`].
pub async fn list(db: &D1Database, visitor_id: i64) -> worker::Result<Vec<AppConversation>> {
    let rows: Vec<Row> = db
        .prepare(format!("{USER_SELECT} ORDER BY c.last_activity_at DESC, c.id DESC LIMIT {MAX_LISTED}"))
        .bind(&[int(visitor_id)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(Row::into_conversation).collect())
}

/// The user's conversation `id`, `None` when it is not theirs.
pub async fn one(db: &D1Database, visitor_id: i64, id: i64) -> worker::Result<Option<AppConversation>> {
    let row: Option<Row> = db.prepare(format!("{USER_SELECT} AND c.id = ?2")).bind(&[int(visitor_id), int(id)])?.first(None).await?;
    Ok(row.map(Row::into_conversation))
}

/// The user's rating of conversation `id`.
pub async fn rating(db: &D1Database, id: i64) -> worker::Result<Option<AppRating>> {
    db.prepare("SELECT score AS stars, comment FROM ratings WHERE conversation_id = ?1").bind(&[int(id)])?.first(None).await
}

/// Starts a conversation of visitor `visitor_id` on `site_id` from a topic
/// and the app's context, with its `conversation.created` event; answers its
/// id. With `client_id` (the first message's client id) that this visitor
/// started a conversation with before, starts nothing and answers that
/// conversation: a retry lands once (migration 0032's unique index makes
/// the insert do nothing, and with it the event, even for two at once).
pub async fn start(
    db: &D1Database,
    site_id: i64,
    visitor_id: i64,
    reason: Option<&Reason>,
    meta: &RequestMeta,
    client_id: Option<&str>,
) -> worker::Result<i64> {
    let meta = serde_json::to_string(meta)?;
    let results = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO conversations (id, account_id, site_id, visitor_id, reason_main, reason_sub, client_meta, start_client_id) \
                 SELECT {}, s.account_id, ?1, ?2, ?3, ?4, ?5, ?6 FROM sites s WHERE s.id = ?1 ON CONFLICT DO NOTHING RETURNING id",
                next_id("conversations")
            ))
            .bind(&[
                int(site_id),
                int(visitor_id),
                opt_text(reason.map(|r| r.main.trim())),
                opt_text(reason.and_then(|r| r.sub.as_deref()).map(str::trim).filter(|s| !s.is_empty())),
                text(&meta),
                opt_text(client_id),
            ])?,
            crate::events::created_statement(db)?.0,
            db.prepare("SELECT id FROM conversations WHERE visitor_id = ?1 AND start_client_id = ?2")
                .bind(&[int(visitor_id), opt_text(client_id)])?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    // The new conversation (the insert's row), else the one started before
    // (the outbox statement between answers no rows).
    for result in &results {
        if let Some(row) = result.results::<Id>()?.pop() {
            return Ok(row.id);
        }
    }
    Err(worker::Error::RustError("conversation was not created".into()))
}

/// Messages of conversation `id` created after `since` (RFC 3339 UTC), by
/// `seq`, at most [`MAX_POLLED`].
pub async fn messages_since(db: &D1Database, id: i64, since: &str) -> worker::Result<Vec<MessageRow>> {
    db.prepare(format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND created_at > ?2 ORDER BY seq LIMIT {MAX_POLLED}"
    ))
    .bind(&[int(id), text(since)])?
    .all()
    .await?
    .results()
}

/// Moves the user's read mark of conversation `id` to its newest message;
/// answers that `seq` (0 for an empty conversation).
pub async fn mark_read(db: &D1Database, id: i64) -> worker::Result<i64> {
    Ok(db
        .prepare(
            "UPDATE conversations SET visitor_read_seq = MAX(visitor_read_seq, \
             COALESCE((SELECT MAX(seq) FROM messages WHERE conversation_id = ?1), 0)) WHERE id = ?1 RETURNING visitor_read_seq",
        )
        .bind(&[int(id)])?
        .first::<i64>(Some("visitor_read_seq"))
        .await?
        .unwrap_or(0))
}
