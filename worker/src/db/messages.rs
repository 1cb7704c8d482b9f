//! Messages: the rows a conversation's Room writes (the single writer,
//! ARCHITECTURE.md) and everyone reads, numbered by `seq` (1, 2, 3… with no
//! gaps). A client's `message_id` dedupes retries per author: the same id
//! from the visitor and from an operator are two messages.

use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::stream::Source;
use edgechat_shared::api::uploads::Attachment;
use edgechat_shared::api::{ChatMessage, ForwardedFrom, MessageStatus, Mode, Role};
use serde::{Deserialize, Serialize};
use worker::D1Database;

use super::sites::SiteRow;
use super::users::SessionClaims;
use super::visitors::VisitorClaims;
use super::{int, opt_int, opt_text, text};
use crate::auth::now_secs;
use crate::auth::signing::{self, Purpose};
use crate::events::{MessageRef, Record};
use crate::responder::prompt::Turn;
use edgechat_shared::api::integrations::EventType;

/// A message row as stored; `role` and `status` deserialize straight from
/// their columns.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageRow {
    pub id: i64,
    pub seq: i64,
    pub role: Role,
    pub content: String,
    pub author_name: Option<String>,
    /// JSON array of [`Source`].
    pub sources: String,
    pub status: MessageStatus,
    /// JSON array of [`Attachment`].
    pub attachments: String,
    pub created_at: String,
    /// The operator who wrote it (operator messages).
    #[serde(default)]
    pub author_id: Option<i64>,
    /// When last edited.
    #[serde(default)]
    pub edited_at: Option<String>,
    /// The origin of a forwarded copy.
    #[serde(default)]
    pub forwarded_from_message_id: Option<i64>,
    #[serde(default)]
    pub forwarded_from_conversation_id: Option<i64>,
}

/// The columns of [`MessageRow`], for `SELECT`s and `RETURNING`.
pub const MESSAGE_COLUMNS: &str = "id, seq, role, content, author_name, sources, status, attachments, created_at, author_id, edited_at, \
    forwarded_from_message_id, forwarded_from_conversation_id";

/// How attachment links are made when messages are read: each is signed
/// afresh ([`signing::file_url`]), so no stored message holds a link that
/// dies after [`edgechat_shared::api::uploads::FILE_URL_SECONDS`] or when the
/// key is rotated. A site's files are signed with the site's identity secret
/// ([`Purpose::FileLink`]); files of a conversation without a site (internal)
/// with `JWT_SECRET` under its own label ([`Purpose::InternalFileLink`]).
/// Carries a secret: internal only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileLinks {
    site_secret: String,
    /// `true` when `site_secret` is `JWT_SECRET` (internal conversations).
    #[serde(default)]
    internal: bool,
}

impl FileLinks {
    /// The links of `site`'s files.
    pub fn of(site: &SiteRow) -> Self {
        FileLinks { site_secret: site.identity_secret.clone(), internal: false }
    }

    /// The links of files of conversations without a site, keyed by
    /// `jwt_secret` (`JWT_SECRET`) for [`Purpose::InternalFileLink`].
    pub fn internal(jwt_secret: &str) -> Self {
        FileLinks { site_secret: jwt_secret.to_string(), internal: true }
    }

    /// No links: for messages that cannot have attachments (AI answers).
    pub fn none() -> Self {
        FileLinks { site_secret: String::new(), internal: false }
    }

    /// The URL of upload `upload_id`, valid from now.
    pub fn url(&self, upload_id: i64) -> String {
        self.url_at(upload_id, now_secs())
    }

    /// The URL of upload `upload_id`, valid from `issued_at` (Unix seconds):
    /// the same link each time, for an email sent again.
    pub fn url_at(&self, upload_id: i64, issued_at: i64) -> String {
        let purpose = if self.internal { Purpose::InternalFileLink } else { Purpose::FileLink };
        signing::signed_file_url(purpose, &self.site_secret, upload_id, issued_at)
    }
}

impl MessageRow {
    /// The wire form of the message, its attachments' links signed by `links`.
    pub fn to_chat_message(&self, links: &FileLinks) -> ChatMessage {
        ChatMessage {
            id: self.id,
            seq: self.seq,
            role: self.role,
            content: self.content.clone(),
            created_at: self.created_at.clone(),
            author_name: self.author_name.clone(),
            sources: self.sources(),
            status: Some(self.status),
            attachments: self.attachments().into_iter().map(|a| Attachment { url: links.url(a.id), ..a }).collect(),
            author_id: self.author_id,
            edited_at: self.edited_at.clone(),
            reactions: Vec::new(),
            forwarded_from: self
                .forwarded_from_message_id
                .zip(self.forwarded_from_conversation_id)
                .map(|(message_id, conversation_id)| ForwardedFrom { conversation_id, message_id }),
        }
    }

    /// The knowledge-base sources stored with an AI answer.
    pub fn sources(&self) -> Vec<Source> {
        serde_json::from_str(&self.sources).unwrap_or_default()
    }

    /// The files attached to the message.
    pub fn attachments(&self) -> Vec<Attachment> {
        serde_json::from_str(&self.attachments).unwrap_or_default()
    }
}

/// Who writes a message, and so which `message_id`s are theirs to dedupe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author<'a> {
    /// The conversation's visitor.
    Visitor,
    /// Operator `id`, signing with `name`.
    Operator { id: i64, name: &'a str },
}

impl Author<'_> {
    fn role(self) -> Role {
        match self {
            Author::Visitor => Role::Visitor,
            Author::Operator { .. } => Role::Operator,
        }
    }

    fn id(self) -> Option<i64> {
        match self {
            Author::Visitor => None,
            Author::Operator { id, .. } => Some(id),
        }
    }
}

/// A conversation's mode and status, as a write leaves them.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ConversationState {
    pub mode: Mode,
    pub status: Status,
}

/// A message write: the row, whether it was stored before (same author and
/// `message_id`), and the conversation's state right after.
#[derive(Debug)]
pub struct Inserted {
    pub row: MessageRow,
    pub duplicate: bool,
    pub state: ConversationState,
    /// The message woke the conversation from a snooze (issue 14).
    pub woke: bool,
    /// Its `message.created` outbox row (`None` for a duplicate).
    pub event: Option<crate::events::Written>,
    /// The conversation's language (BCP 47) after the write: the
    /// message's `lang` when it named one, else the one stored before.
    pub lang: Option<String>,
}

#[derive(Deserialize)]
struct StatusRow {
    status: Status,
}

/// The conversation as the write's `UPDATE … RETURNING` leaves it.
#[derive(Deserialize)]
struct StateRow {
    mode: Mode,
    status: Status,
    lang: Option<String>,
}

/// A message to store: who writes it, what, the author's client id, the
/// checked uploads to attach and, for a visitor message, the page it was
/// written from.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub author: Author<'a>,
    pub content: &'a str,
    /// The author's `message_id`: a second message with it is a duplicate.
    pub client_id: Option<&'a str>,
    pub attachments: &'a [Attachment],
    /// The visitor's page (`page_url`): becomes the conversation's, unless `None`.
    pub page_url: Option<&'a str>,
    /// The visitor's language (BCP 47): becomes the conversation's `lang`, unless `None`.
    pub lang: Option<&'a str>,
    /// For a message whose sender nothing has checked against D1 yet: what
    /// they claim, checked by the write itself (its insert and its
    /// conversation update run only when the claims hold). `None`: the
    /// caller checked the author.
    pub claims: Option<Claims<'a>>,
}

/// Who the sender of a message claims to be (issue 16: a message in one D1
/// round trip).
#[derive(Debug, Clone, Copy)]
pub enum Claims<'a> {
    /// An operator's access token; the author is then `user_id`, signing
    /// with their stored display name.
    Operator(SessionClaims),
    /// The anonymous visitor an earlier checked request found; the author
    /// is the visitor.
    Visitor(VisitorClaims<'a>),
}

impl Claims<'_> {
    /// The SQL condition true when the claims hold for conversation
    /// `?{conversation}`, its parameters numbered from `?{first}`.
    fn condition(&self, conversation: usize, first: usize) -> String {
        match self {
            Claims::Operator(_) => SessionClaims::condition(conversation, first),
            Claims::Visitor(_) => VisitorClaims::condition(conversation, first),
        }
    }

    /// The values of [`Claims::condition`]'s parameters, in order.
    fn params(&self) -> Vec<wasm_bindgen::JsValue> {
        match self {
            Claims::Operator(claims) => claims.params().to_vec(),
            Claims::Visitor(claims) => claims.params().to_vec(),
        }
    }
}

/// Inserts a visitor or operator message with the next `seq`, ties the
/// uploads of its attachments to it, bumps the conversation's activity time
/// (and its `page_url` and `lang` when the message names them) and reads its state and language, in
/// one D1 batch (a transaction) with its `message.created` event. Only uploads no message has yet are listed
/// and tied; call it under the Room's write lock, so that two messages never
/// list one upload. When the author already stored the message's client id
/// in the conversation, nothing is inserted or tied and the stored row is
/// answered as a duplicate. `delivered`: the message is stored `delivered`
/// (seed 000), for an operator's message the Room broadcasts to the
/// visitor's open streams right after (no second write to mark it).
/// `None`: the message's `claims` no longer hold (nothing was written).
pub async fn insert(db: &D1Database, conversation_id: i64, message: NewMessage<'_>, delivered: bool) -> worker::Result<Option<Inserted>> {
    let NewMessage { author, content, client_id, attachments, page_url, lang, claims } = message;
    let author = match claims {
        Some(Claims::Operator(claims)) => Author::Operator { id: claims.user_id, name: "" },
        Some(Claims::Visitor(_)) => Author::Visitor,
        None => author,
    };
    // A checked operator signs with the name their caller read (`?5`); a
    // claimed one with the name stored beside the claims the write checks.
    let author_name = match (author, claims) {
        (Author::Operator { name, .. }, None) => Some(name),
        _ => None,
    };
    let name = match claims {
        Some(Claims::Operator(_)) => "(SELECT display_name FROM users WHERE id = ?3)",
        _ => "?5",
    };
    let (checked, claimed) = match claims {
        Some(claims) => (claims.condition(1, 9), claims.params()),
        None => ("1".to_string(), Vec::new()),
    };
    let attachments = unattached(db, attachments).await?;
    let insert = [
        int(conversation_id),
        text(author.role().as_str()),
        opt_int(author.id()),
        text(content),
        opt_text(author_name),
        opt_text(client_id),
        // Links are made when the message is read, never stored.
        text(&serde_json::to_string(&attachments.iter().map(|a| Attachment { url: String::new(), ..a.clone() }).collect::<Vec<_>>())?),
        text(if delivered { "delivered" } else { "sent" }),
    ];
    let mut statements = vec![
        db.prepare(format!(
            "INSERT INTO messages (conversation_id, seq, role, author_id, content, author_name, client_message_id, attachments, status) \
                 SELECT ?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?1), ?2, ?3, ?4, {name}, ?6, ?7, ?8 \
                 WHERE {checked} ON CONFLICT DO NOTHING RETURNING {MESSAGE_COLUMNS}"
        ))
        .bind(&[&insert[..], &claimed].concat())?,
        // Its `message.created` event (nothing for a duplicate).
        Record::new(EventType::MessageCreated, conversation_id).message(MessageRef::Newest).only_if_changed().statement(db)?,
        // The status before, to tell a woken snooze.
        db.prepare("SELECT status FROM conversations WHERE id = ?1").bind(&[int(conversation_id)])?,
        // A visitor's message wakes a snoozed conversation at once (issue 14);
        // the state after (no row: no such conversation). A duplicate (a
        // retry: the event statement before inserted nothing, `changes()`
        // is 0) is no activity and wakes nothing.
        db.prepare(format!(
            "UPDATE conversations SET \
                 last_activity_at = CASE WHEN changes() > 0 THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ELSE last_activity_at END, \
                 page_url = COALESCE(?2, page_url), lang = COALESCE(?4, lang), \
                 status = CASE WHEN ?3 = 'visitor' AND status = 'snoozed' AND changes() > 0 THEN 'open' ELSE status END, \
                 snoozed_until = CASE WHEN ?3 = 'visitor' AND status = 'snoozed' AND changes() > 0 THEN NULL ELSE snoozed_until END \
                 WHERE id = ?1 AND {} RETURNING mode, status, lang",
            match claims {
                Some(claims) => claims.condition(1, 5),
                None => "1".to_string(),
            }
        ))
        .bind(&[&[int(conversation_id), opt_text(page_url), text(author.role().as_str()), opt_text(lang)][..], &claimed].concat())?,
    ];
    if !attachments.is_empty() {
        // The newest message takes the uploads its own `attachments` list:
        // the message just inserted, or (after a duplicate) the newest one
        // again, whose uploads are its own already. Without attachments
        // there is nothing to tie, and the statement is left out.
        statements.push(
            db.prepare(
                "UPDATE uploads SET message_id = (SELECT id FROM messages WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT 1) \
                 WHERE message_id IS NULL AND id IN (SELECT json_extract(j.value, '$.id') FROM messages m, json_each(m.attachments) j \
                 WHERE m.id = (SELECT id FROM messages WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT 1))",
            )
            .bind(&[int(conversation_id)])?,
        );
    }
    let inserted = db.batch(statements).await?;
    let before = inserted.get(2).map(|r| r.results::<StatusRow>()).transpose()?.and_then(|mut rows| rows.pop());
    let Some(StateRow { mode, status, lang }) =
        inserted.get(3).map(|r| r.results::<StateRow>()).transpose()?.and_then(|mut rows| rows.pop())
    else {
        // Claims that no longer hold wrote nothing; a checked author's
        // conversation is gone.
        return match claims {
            Some(_) => Ok(None),
            None => Err(worker::Error::RustError("no such conversation".into())),
        };
    };
    let state = ConversationState { mode, status };
    let woke = before.is_some_and(|b| b.status == Status::Snoozed) && state.status != Status::Snoozed;
    if let Some(row) = inserted.first().map(|r| r.results::<MessageRow>()).transpose()?.and_then(|mut rows| rows.pop()) {
        let event = written(&inserted, 1);
        return Ok(Some(Inserted { row, duplicate: false, state, woke, event, lang }));
    }
    let row = by_client_id(db, conversation_id, author, client_id.unwrap_or_default())
        .await?
        .ok_or_else(|| worker::Error::RustError("message was neither stored nor found".into()))?;
    Ok(Some(Inserted { row, duplicate: true, state, woke, event: None, lang }))
}

/// The outbox row statement `index` of a batch wrote
/// ([`crate::events::Record::statement`]). The batch is stored: a row that
/// cannot be read back is logged and `None` (its event is then published
/// by the conversation-wide publisher, or the sweep), never an error.
fn written(results: &[worker::D1Result], index: usize) -> Option<crate::events::Written> {
    match results.get(index).map(|r| r.results::<serde_json::Value>()).transpose() {
        Ok(rows) => rows.and_then(|rows| rows.first().and_then(crate::events::Written::from_row)),
        Err(e) => {
            worker::console_error!("reading back an outbox row failed: {e}");
            None
        }
    }
}

/// Marks message `id` as a copy of `origin` (seed 002 forward); answers the row.
pub async fn mark_forwarded(db: &D1Database, id: i64, origin: ForwardedFrom) -> worker::Result<MessageRow> {
    db.prepare(format!(
        "UPDATE messages SET forwarded_from_message_id = ?2, forwarded_from_conversation_id = ?3 WHERE id = ?1 RETURNING {MESSAGE_COLUMNS}"
    ))
    .bind(&[int(id), int(origin.message_id), int(origin.conversation_id)])?
    .first(None)
    .await?
    .ok_or_else(|| worker::Error::RustError(format!("message {id} vanished")))
}

/// The attachments whose uploads no message has yet.
async fn unattached(db: &D1Database, attachments: &[Attachment]) -> worker::Result<Vec<Attachment>> {
    if attachments.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(Deserialize)]
    struct Free {
        id: i64,
    }
    let ids: Vec<i64> = attachments.iter().map(|a| a.id).collect();
    let free = db
        .prepare("SELECT id FROM uploads WHERE message_id IS NULL AND id IN (SELECT value FROM json_each(?1))")
        .bind(&[super::id_array(&ids)])?
        .all()
        .await?
        .results::<Free>()?;
    Ok(attachments.iter().filter(|a| free.iter().any(|f| f.id == a.id)).cloned().collect())
}

/// Whether a visitor message with attachments and `client_id` is a retry
/// of one stored in the conversation: its uploads are attached by now, so
/// they are neither checked nor attached again. Without attachments or a
/// client id there is nothing to check: no D1 read.
pub async fn is_retry_with_attachments(
    db: &D1Database,
    conversation_id: Option<i64>,
    client_id: Option<&str>,
    attachment_ids: &[i64],
) -> worker::Result<bool> {
    match (conversation_id, client_id) {
        _ if attachment_ids.is_empty() => Ok(false),
        (Some(conversation_id), Some(client_id)) => Ok(by_client_id(db, conversation_id, Author::Visitor, client_id).await?.is_some()),
        _ => Ok(false),
    }
}

/// The message `author` stored with `client_id` in the conversation, if any.
pub async fn by_client_id(
    db: &D1Database,
    conversation_id: i64,
    author: Author<'_>,
    client_id: &str,
) -> worker::Result<Option<MessageRow>> {
    db.prepare(format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages \
         WHERE conversation_id = ?1 AND role = ?2 AND COALESCE(author_id, 0) = COALESCE(?3, 0) AND client_message_id = ?4"
    ))
    .bind(&[int(conversation_id), text(author.role().as_str()), opt_int(author.id()), text(client_id)])?
    .first::<MessageRow>(None)
    .await
}

/// Inserts the AI answer to visitor message `reply_to` with the next `seq`,
/// once per visitor message, while the conversation is in `ai` mode (a
/// condition of the insert, so an operator's takeover that lands while the
/// answer is written wins); answers the row, `true` when it is new (a
/// concurrent retry may have stored it first) and the new row's
/// `message.created` outbox row, or `None` when nothing was stored: no
/// answer is, and the conversation is no longer the AI's (or is gone).
pub async fn insert_answer(
    db: &D1Database,
    conversation_id: i64,
    reply_to: i64,
    content: &str,
    sources: &[Source],
) -> worker::Result<Option<(MessageRow, bool, Option<crate::events::Written>)>> {
    const AI_MODE: &str = "EXISTS (SELECT 1 FROM conversations WHERE id = ?1 AND mode = 'ai')";
    let inserted = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO messages (conversation_id, seq, role, content, reply_to, sources) \
                 SELECT ?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?1), 'ai', ?2, ?3, ?4 \
                 WHERE {AI_MODE} ON CONFLICT DO NOTHING RETURNING {MESSAGE_COLUMNS}"
            ))
            .bind(&[int(conversation_id), text(content), int(reply_to), text(&serde_json::to_string(sources)?)])?,
            Record::new(EventType::MessageCreated, conversation_id).message(MessageRef::Newest).only_if_changed().statement(db)?,
            db.prepare(format!(
                "UPDATE conversations SET last_activity_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1 AND {AI_MODE}"
            ))
            .bind(&[int(conversation_id)])?,
        ])
        .await?;
    if let Some(row) = inserted.first().map(|r| r.results::<MessageRow>()).transpose()?.and_then(|mut rows| rows.pop()) {
        let event = written(&inserted, 1);
        return Ok(Some((row, true, event)));
    }
    Ok(answer_to(db, reply_to).await?.map(|row| (row, false, None)))
}

/// The stored AI answer to visitor message `visitor_message_id`, if any.
pub async fn answer_to(db: &D1Database, visitor_message_id: i64) -> worker::Result<Option<MessageRow>> {
    db.prepare(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE reply_to = ?1"))
        .bind(&[int(visitor_message_id)])?
        .first::<MessageRow>(None)
        .await
}

/// Every message of a conversation after `after_seq` (0: all), by `seq`.
pub async fn after(db: &D1Database, conversation_id: i64, after_seq: i64) -> worker::Result<Vec<MessageRow>> {
    db.prepare(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq"))
        .bind(&[int(conversation_id), int(after_seq)])?
        .all()
        .await?
        .results()
}

/// The operators' messages of a conversation after `after_seq`, by `seq`,
/// at most `limit`, and whether more follow (seed 001's
/// `operator-messages` polling).
pub async fn operator_messages_after(
    db: &D1Database,
    conversation_id: i64,
    after_seq: i64,
    limit: u32,
) -> worker::Result<(Vec<MessageRow>, bool)> {
    let rows = db
        .prepare(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND role = 'operator' AND seq > ?2 ORDER BY seq LIMIT ?3"
        ))
        .bind(&[int(conversation_id), int(after_seq), int(i64::from(limit) + 1)])?
        .all()
        .await?
        .results()?;
    Ok(super::page_of(rows, limit))
}

/// Messages of a conversation by `seq`: after `after_seq` (ascending),
/// before `before_seq` (the newest ones below it), or the newest page.
/// Answers at most `limit` messages in `seq` order and whether more follow.
pub async fn page(
    db: &D1Database,
    conversation_id: i64,
    before_seq: Option<i64>,
    after_seq: Option<i64>,
    limit: u32,
) -> worker::Result<(Vec<MessageRow>, bool)> {
    let ascending = after_seq.is_some();
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND seq > ?2 AND seq < ?3 ORDER BY seq {} LIMIT ?4",
        if ascending { "ASC" } else { "DESC" }
    );
    let rows = db
        .prepare(sql)
        .bind(&[
            int(conversation_id),
            int(after_seq.unwrap_or(0)),
            int(before_seq.unwrap_or(i64::from(i32::MAX))),
            int(i64::from(limit) + 1),
        ])?
        .all()
        .await?
        .results()?;
    let (mut rows, more) = super::page_of(rows, limit);
    if !ascending {
        rows.reverse();
    }
    Ok((rows, more))
}

/// The messages before `seq` that a model sees as the conversation so far,
/// oldest first: the newest `limit`.
pub async fn turns_before(db: &D1Database, conversation_id: i64, seq: i64, limit: usize) -> worker::Result<Vec<Turn>> {
    let mut turns = db
        .prepare("SELECT role, content FROM messages WHERE conversation_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")
        .bind(&[int(conversation_id), int(seq), int(limit as i64)])?
        .all()
        .await?
        .results::<Turn>()?;
    turns.reverse();
    Ok(turns)
}

/// Marks message `message_id` `delivered` unless it is `read` already (seed 000).
pub async fn mark_delivered(db: &D1Database, message_id: i64) -> worker::Result<()> {
    db.prepare("UPDATE messages SET status = 'delivered' WHERE id = ?1 AND status = 'sent'").bind(&[int(message_id)])?.run().await?;
    Ok(())
}

/// `reader` has read the conversation up to `seq`: the other side's
/// messages up to it become `read` (seed 000).
pub async fn mark_read(db: &D1Database, conversation_id: i64, reader: Role, seq: i64) -> worker::Result<()> {
    let other = if reader == Role::Operator { "role = 'visitor'" } else { "role IN ('ai', 'operator')" };
    db.prepare(format!("UPDATE messages SET status = 'read' WHERE conversation_id = ?1 AND seq <= ?2 AND {other}"))
        .bind(&[int(conversation_id), int(seq)])?
        .run()
        .await?;
    Ok(())
}

/// A message with the name of its conversation's visitor (seed 004's
/// message list names each author).
#[derive(Debug, Deserialize)]
pub struct NamedRow {
    pub role: Role,
    pub content: String,
    pub author_name: Option<String>,
    pub created_at: String,
    pub visitor_name: Option<String>,
}

/// The messages of a conversation created after `since` (RFC 3339; all when
/// `None`), by `seq`, each with its visitor's name.
pub async fn since_with_visitor_name(db: &D1Database, conversation_id: i64, since: Option<&str>) -> worker::Result<Vec<NamedRow>> {
    db.prepare(
        "SELECT m.role, m.content, m.author_name, m.created_at, v.name AS visitor_name FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id JOIN visitors v ON v.id = c.visitor_id \
         WHERE m.conversation_id = ?1 AND (?2 IS NULL OR m.created_at > ?2) ORDER BY m.seq",
    )
    .bind(&[int(conversation_id), opt_text(since)])?
    .all()
    .await?
    .results()
}
