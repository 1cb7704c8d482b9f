//! Conversations as operators see them, scoped to an account, and visitor blocks.

use edgechat_shared::api::app::{Reason, RequestMeta};
use edgechat_shared::api::conversations::{
    Block, ConversationDetail, ConversationFilter, ConversationRating, ConversationSummary, Kind, Status, Visitor,
};
use edgechat_shared::api::events::UnreadCount;
use edgechat_shared::api::{ChatMessage, Mode, Role};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

pub use super::messages::ConversationState;
use super::sites::SiteRow;
use super::{int, next_id, opt_int, opt_text, text};

#[derive(Debug, Deserialize)]
struct SummaryRow {
    id: i64,
    kind: Kind,
    name: Option<String>,
    description: Option<String>,
    site_id: Option<i64>,
    status: Status,
    #[serde(default)]
    snoozed_until: Option<String>,
    mode: Mode,
    assignee_id: Option<i64>,
    last_activity_at: String,
    created_at: String,
    visitor_id: Option<i64>,
    visitor_name: Option<String>,
    visitor_email: Option<String>,
    visitor_phone: Option<String>,
    visitor_blocked_at: Option<String>,
    visitor_verified: Option<i64>,
    visitor_created_at: Option<String>,
    unread_count: i64,
    muted: i64,
    archived: i64,
    lm_id: Option<i64>,
    lm_seq: Option<i64>,
    lm_role: Option<Role>,
    lm_content: Option<String>,
    lm_author_name: Option<String>,
    lm_author_id: Option<i64>,
    lm_edited_at: Option<String>,
    lm_created_at: Option<String>,
}

impl SummaryRow {
    fn into_summary(self) -> ConversationSummary {
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
                author_id: self.lm_author_id,
                edited_at: self.lm_edited_at,
                reactions: Vec::new(),
                forwarded_from: None,
            }),
            _ => None,
        };
        let visitor = match (self.visitor_id, self.visitor_created_at) {
            (Some(id), Some(created_at)) => Some(Visitor {
                id,
                name: self.visitor_name,
                email: self.visitor_email,
                phone: self.visitor_phone,
                blocked: self.visitor_blocked_at.is_some(),
                verified: self.visitor_verified.unwrap_or(0) != 0,
                created_at,
            }),
            _ => None,
        };
        ConversationSummary {
            id: self.id,
            kind: self.kind,
            name: self.name,
            description: self.description,
            site_id: self.site_id,
            status: self.status,
            snoozed_until: self.snoozed_until,
            mode: self.mode,
            assignee_id: self.assignee_id,
            visitor,
            last_message,
            unread_count: self.unread_count,
            muted: self.muted != 0,
            archived: self.archived != 0,
            last_activity_at: self.last_activity_at,
            created_at: self.created_at,
        }
    }
}

/// Summary columns; `?1` is the caller's user id (for the unread count and
/// their own mute/archive state), `?2` the caller's account id. The caller
/// sees every visitor conversation of the account and the internal ones they
/// take part in (`participants`). Unread are
/// the messages of others after the caller's read mark: the visitor's, and
/// in an internal conversation the other operators'.
const SUMMARY_SELECT: &str = "SELECT c.id, c.kind, c.name, c.description, c.site_id, c.status, c.snoozed_until, c.mode, c.assignee_id, \
    c.last_activity_at, c.created_at, \
    v.id AS visitor_id, v.name AS visitor_name, v.email AS visitor_email, v.phone AS visitor_phone, v.blocked_at AS visitor_blocked_at, v.verified AS visitor_verified, \
    v.created_at AS visitor_created_at, \
    (SELECT COUNT(*) FROM messages um WHERE um.conversation_id = c.id \
      AND (um.role = 'visitor' OR (c.kind = 'internal' AND um.role = 'operator' AND COALESCE(um.author_id, 0) <> ?1)) AND um.seq > \
      COALESCE((SELECT r.last_read_seq FROM read_marks r WHERE r.conversation_id = c.id AND r.user_id = ?1), 0)) AS unread_count, \
    (pf.muted_at IS NOT NULL) AS muted, (pf.archived_at IS NOT NULL) AS archived, \
    lm.id AS lm_id, lm.seq AS lm_seq, lm.role AS lm_role, lm.content AS lm_content, lm.author_name AS lm_author_name, \
    lm.author_id AS lm_author_id, lm.edited_at AS lm_edited_at, lm.created_at AS lm_created_at \
    FROM conversations c LEFT JOIN visitors v ON v.id = c.visitor_id \
    LEFT JOIN conversation_prefs pf ON pf.conversation_id = c.id AND pf.user_id = ?1 \
    LEFT JOIN messages lm ON lm.conversation_id = c.id \
      AND lm.seq = (SELECT MAX(seq) FROM messages WHERE conversation_id = c.id) \
    WHERE c.account_id = ?2 AND (c.kind = 'visitor' \
      OR EXISTS (SELECT 1 FROM participants vp WHERE vp.conversation_id = c.id AND vp.user_id = ?1))";

/// A position in the conversation list: `last_activity_at` and id of the
/// last item of a page, encoded as `<time>~<id>`.
pub fn encode_cursor(summary: &ConversationSummary) -> String {
    format!("{}~{}", summary.last_activity_at, summary.id)
}

/// Parses a cursor of [`encode_cursor`]; `None` when malformed.
pub fn decode_cursor(cursor: &str) -> Option<(String, i64)> {
    let (time, id) = cursor.rsplit_once('~')?;
    let id = id.parse().ok()?;
    (time.len() <= 40 && time.ends_with('Z')).then(|| (time.to_string(), id))
}

/// The condition, on the caller's prefs `pf`, that a conversation is in
/// their default list: not archived, and not deleted `for_me` (a new
/// message clears both as migration 0014 says).
const LISTED: &str = "pf.archived_at IS NULL AND pf.hidden_at IS NULL";

/// A page of the caller's conversations matching `filter`, newest activity
/// first: at most `limit` items and whether more follow. `assignee` is
/// already resolved (`Some(None)` = unassigned); `participant_only` keeps
/// those the caller takes part in. Archived conversations are listed only
/// with `archived=true` (and then only those); those deleted `for_me` never.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    db: &D1Database,
    user_id: i64,
    account_id: i64,
    filter: &ConversationFilter,
    assignee: Option<Option<i64>>,
    participant_only: bool,
    after: Option<(String, i64)>,
    limit: u32,
) -> worker::Result<(Vec<ConversationSummary>, bool)> {
    let mut sql = String::from(SUMMARY_SELECT);
    let mut binds: Vec<JsValue> = vec![int(user_id), int(account_id)];
    let mut param = |sql: &mut String, clause: &str, value: JsValue| {
        binds.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", binds.len())));
    };
    if let Some(site_id) = filter.site_id {
        param(&mut sql, " AND c.site_id = ?", int(site_id));
    }
    if let Some(status) = filter.status {
        param(&mut sql, " AND c.status = ?", text(status.as_str()));
    }
    if let Some(mode) = filter.mode {
        param(&mut sql, " AND c.mode = ?", text(mode.as_str()));
    }
    if let Some(kind) = filter.kind {
        param(&mut sql, " AND c.kind = ?", text(kind.as_str()));
    }
    if participant_only {
        sql.push_str(" AND EXISTS (SELECT 1 FROM participants mp WHERE mp.conversation_id = c.id AND mp.user_id = ?1)");
    }
    if filter.archived == Some(true) {
        sql.push_str(" AND pf.archived_at IS NOT NULL");
    } else {
        sql.push_str(&format!(" AND {LISTED}"));
    }
    match assignee {
        Some(Some(id)) => param(&mut sql, " AND c.assignee_id = ?", int(id)),
        Some(None) => sql.push_str(" AND c.assignee_id IS NULL"),
        None => {}
    }
    if let Some((time, id)) = after {
        param(&mut sql, " AND (c.last_activity_at < ?", text(&time));
        binds.push(text(&time));
        let t = binds.len();
        binds.push(int(id));
        sql.push_str(&format!(" OR (c.last_activity_at = ?{t} AND c.id < ?{}))", binds.len()));
    }
    binds.push(int(i64::from(limit) + 1));
    sql.push_str(&format!(" ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?{}", binds.len()));
    let rows: Vec<SummaryRow> = db.prepare(sql).bind(&binds)?.all().await?.results()?;
    let (rows, more) = super::page_of(rows, limit);
    Ok((rows.into_iter().map(SummaryRow::into_summary).collect(), more))
}

/// The reads of where an operator's message to conversation `id` goes
/// (for a batch, [`send_target`] reads their results): the conversation,
/// when visible to user `user_id` of `account_id` as [`summary`] sees it (a
/// visitor conversation of the account, or an internal one the user takes
/// part in), and its site. Lighter than the summary, which counts unread
/// messages and reads the newest: the send path's lookup (issue 16).
pub fn send_target_statements(db: &D1Database, user_id: i64, account_id: i64, id: i64) -> worker::Result<Vec<D1PreparedStatement>> {
    Ok(vec![
        db.prepare(format!("SELECT c.site_id FROM conversations c WHERE c.id = ?3 AND {}", super::visible(1, 2))).bind(&[
            int(user_id),
            int(account_id),
            int(id),
        ])?,
        super::sites::of_conversation_statement(db, account_id, id)?,
    ])
}

/// The results of [`send_target_statements`]: the conversation's site id
/// (`None` for an internal conversation) and the site's row; `None` when
/// the caller cannot see the conversation.
pub fn send_target(results: &[D1Result]) -> worker::Result<Option<(Option<i64>, Option<SiteRow>)>> {
    #[derive(Deserialize)]
    struct Target {
        site_id: Option<i64>,
    }
    let Some(target) = results.first().map(|r| r.results::<Target>()).transpose()?.and_then(|mut rows| rows.pop()) else {
        return Ok(None);
    };
    let site = results.get(1).map(|r| r.results::<SiteRow>()).transpose()?.and_then(|mut rows| rows.pop());
    Ok(Some((target.site_id, site)))
}

/// One conversation of the caller's account.
pub async fn summary(db: &D1Database, user_id: i64, account_id: i64, id: i64) -> worker::Result<Option<ConversationSummary>> {
    let row: Option<SummaryRow> =
        db.prepare(format!("{SUMMARY_SELECT} AND c.id = ?3")).bind(&[int(user_id), int(account_id), int(id)])?.first(None).await?;
    Ok(row.map(SummaryRow::into_summary))
}

/// What a conversation's detail adds to its summary: the visitor's page and
/// CSAT rating (`ratings.score` is the rating's `stars`).
#[derive(Debug, Deserialize)]
struct DetailRow {
    page_url: Option<String>,
    stars: Option<i64>,
    comment: Option<String>,
    rated_at: Option<String>,
    reason_main: Option<String>,
    reason_sub: Option<String>,
    /// JSON of [`RequestMeta`].
    client_meta: Option<String>,
}

/// One conversation of the caller's account with the visitor's page and
/// CSAT rating, read in one D1 batch.
pub async fn detail(db: &D1Database, user_id: i64, account_id: i64, id: i64) -> worker::Result<Option<ConversationDetail>> {
    let results = db
        .batch(vec![
            db.prepare(format!("{SUMMARY_SELECT} AND c.id = ?3")).bind(&[int(user_id), int(account_id), int(id)])?,
            db.prepare(
                "SELECT c.page_url, r.score AS stars, r.comment, r.created_at AS rated_at, c.reason_main, c.reason_sub, c.client_meta \
                 FROM conversations c LEFT JOIN ratings r ON r.conversation_id = c.id WHERE c.id = ?1",
            )
            .bind(&[int(id)])?,
        ])
        .await?;
    let summary = results.first().map(|r| r.results::<SummaryRow>()).transpose()?.and_then(|mut rows| rows.pop());
    let detail = results.get(1).map(|r| r.results::<DetailRow>()).transpose()?.and_then(|mut rows| rows.pop());
    let (Some(summary), Some(detail)) = (summary, detail) else { return Ok(None) };
    let DetailRow { page_url, stars, comment, rated_at, reason_main, reason_sub, client_meta } = detail;
    let rating = stars.zip(rated_at).map(|(stars, created_at)| ConversationRating { stars, comment, created_at });
    let reason = reason_main.map(|main| Reason { main, sub: reason_sub });
    let meta = client_meta.and_then(|json| serde_json::from_str::<RequestMeta>(&json).ok());
    Ok(Some(ConversationDetail { summary: summary.into_summary(), page_url, rating, reason, meta }))
}

/// A change of a conversation's mode, status or assignee; [`change`] is the
/// one function that applies it.
#[derive(Debug, Clone, Copy, Default)]
pub struct StateChange {
    /// The new mode (`operator`: the AI stops answering).
    pub mode: Option<Mode>,
    /// The new status.
    pub status: Option<Status>,
    /// Assign to this operator unless someone is assigned already.
    pub assign_if_unassigned: Option<i64>,
}

/// Applies `change` to conversation `id`, of `account_id` when given (the
/// operator API), or whoever's (the conversation's own Room and visitor):
/// answers the state after, `None` when there is no such conversation.
pub async fn change(db: &D1Database, id: i64, account_id: Option<i64>, change: StateChange) -> worker::Result<Option<ConversationState>> {
    let values = [
        opt_text(change.mode.map(Mode::as_str)),
        opt_text(change.status.map(Status::as_str)),
        opt_int(change.assign_if_unassigned),
        int(id),
        opt_int(account_id),
    ];
    let mine = "id = ?4 AND (?5 IS NULL OR account_id = ?5)";
    let results = db
        .batch(vec![
            // Its `conversation.updated` event, before the change so that
            // `changed` compares the values before and after (none for a no-op).
            db.prepare(format!(
                "INSERT INTO outbox (id, account_id, type, conversation_id, data) \
                 SELECT ?6, account_id, 'conversation.updated', id, json_object('changed', json((SELECT json_group_array(value) FROM json_each(json_array({CHANGED})) WHERE value IS NOT NULL))) FROM ( \
                 SELECT account_id, id, mode IS NOT COALESCE(?1, mode) AS m, status IS NOT COALESCE(?2, status) AS s, \
                 assignee_id IS NOT COALESCE(assignee_id, ?3) AS a FROM conversations WHERE {mine}) WHERE m OR s OR a",
                CHANGED = "CASE WHEN m THEN 'mode' END, CASE WHEN s THEN 'status' END, CASE WHEN a THEN 'assignee_id' END"
            ))
            .bind(&[values.to_vec(), vec![text(&crate::events::new_id())]].concat())?,
            db.prepare(format!(
                "UPDATE conversations SET mode = COALESCE(?1, mode), status = COALESCE(?2, status), \
                 assignee_id = COALESCE(assignee_id, ?3), \
                 snoozed_until = CASE WHEN COALESCE(?2, status) = 'snoozed' THEN snoozed_until END \
                 WHERE {mine} RETURNING mode, status"
            ))
            .bind(&values)?,
        ])
        .await?;
    Ok(results.get(1).map(|r| r.results::<ConversationState>()).transpose()?.and_then(|mut rows| rows.pop()))
}

/// The visitor's language of conversation `id` (BCP 47 tag of their newest
/// message that named one), `None` when unknown or no such conversation.
pub async fn lang(db: &D1Database, id: i64) -> worker::Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        lang: Option<String>,
    }
    let row = db.prepare("SELECT lang FROM conversations WHERE id = ?1").bind(&[int(id)])?.first::<Row>(None).await?;
    Ok(row.and_then(|r| r.lang))
}

/// Whether conversation `id`'s visitor is blocked (`false` for a
/// conversation without a visitor), `None` when the conversation does not
/// exist: what a Room's heartbeat checks of its open streams.
pub async fn visitor_blocked(db: &D1Database, id: i64) -> worker::Result<Option<bool>> {
    let blocked = db
        .prepare(
            "SELECT EXISTS (SELECT 1 FROM visitors v WHERE v.id = c.visitor_id AND v.blocked_at IS NOT NULL) AS blocked \
             FROM conversations c WHERE c.id = ?1",
        )
        .bind(&[int(id)])?
        .first::<i64>(Some("blocked"))
        .await?;
    Ok(blocked.map(|b| b != 0))
}

/// The mode and status of conversation `id`, `None` when it does not exist.
pub async fn state(db: &D1Database, id: i64) -> worker::Result<Option<ConversationState>> {
    db.prepare("SELECT mode, status FROM conversations WHERE id = ?1").bind(&[int(id)])?.first::<ConversationState>(None).await
}

/// Creates a first conversation for visitor `visitor_id` of `site_id`
/// unless they have one, and answers the visitor's newest conversation id.
/// Each statement is atomic, so two concurrent first messages still share
/// one conversation; the id is never one a deleted conversation had.
pub async fn create_for_visitor(db: &D1Database, site_id: i64, visitor_id: i64) -> worker::Result<i64> {
    db.batch(vec![
        db.prepare(format!(
            "INSERT INTO conversations (id, account_id, site_id, visitor_id) SELECT {}, s.account_id, ?1, ?2 FROM sites s \
             WHERE s.id = ?1 AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = ?2)",
            next_id("conversations")
        ))
        .bind(&[int(site_id), int(visitor_id)])?,
        // Its `conversation.created` event (published with its first message).
        crate::events::created_statement(db)?.0,
    ])
    .await?;
    db.prepare("SELECT id FROM conversations WHERE visitor_id = ?1 ORDER BY id DESC LIMIT 1")
        .bind(&[int(visitor_id)])?
        .first::<i64>(Some("id"))
        .await?
        .ok_or_else(|| worker::Error::RustError("conversation was not created".into()))
}

/// Gives conversation `id` its visitor token (seed 004's `conversation_token`).
pub async fn set_token(db: &D1Database, id: i64, token: &str) -> worker::Result<()> {
    db.prepare("UPDATE conversations SET token = ?1 WHERE id = ?2").bind(&[text(token), int(id)])?.run().await?;
    Ok(())
}

/// Assigns a conversation of `account_id` to `assignee` (or nobody); the
/// assignee must be an operator of the same account. Answers whether it changed.
pub async fn assign(db: &D1Database, account_id: i64, id: i64, assignee: Option<i64>) -> worker::Result<bool> {
    let results = db
        .batch(vec![
            // Its `conversation.updated` event, when the assignee changes.
            db.prepare(
                "INSERT INTO outbox (id, account_id, type, conversation_id, data) \
                 SELECT ?4, account_id, 'conversation.updated', id, json_object('changed', json_array('assignee_id')) \
                 FROM conversations WHERE id = ?2 AND account_id = ?3 AND assignee_id IS NOT ?1",
            )
            .bind(&[opt_int(assignee), int(id), int(account_id), text(&crate::events::new_id())])?,
            db.prepare("UPDATE conversations SET assignee_id = ?1 WHERE id = ?2 AND account_id = ?3 RETURNING id").bind(&[
                opt_int(assignee),
                int(id),
                int(account_id),
            ])?,
        ])
        .await?;
    Ok(results.get(1).map(|r| r.results::<serde_json::Value>()).transpose()?.is_some_and(|rows| !rows.is_empty()))
}

/// Marks a conversation read by `user_id` up to `seq` (the newest message
/// when `None`); a mark never moves back. Answers the mark now stored.
pub async fn mark_read(db: &D1Database, conversation_id: i64, user_id: i64, seq: Option<i64>) -> worker::Result<i64> {
    Ok(db
        .prepare(
            "INSERT INTO read_marks (conversation_id, user_id, last_read_seq) \
             VALUES (?1, ?2, COALESCE(?3, (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = ?1))) \
             ON CONFLICT (conversation_id, user_id) DO UPDATE SET last_read_seq = MAX(last_read_seq, excluded.last_read_seq) \
             RETURNING last_read_seq",
        )
        .bind(&[int(conversation_id), int(user_id), opt_int(seq)])?
        .first::<i64>(Some("last_read_seq"))
        .await?
        .unwrap_or(0))
}

/// Conversations of `account_id` with messages of others `user_id` has
/// not read (as [`SUMMARY_SELECT`] counts them), leaving out those the
/// caller muted, archived or deleted `for_me` (seed 002: unread honours mute and archive).
pub async fn unread_counts(db: &D1Database, user_id: i64, account_id: i64) -> worker::Result<Vec<UnreadCount>> {
    db.prepare(
        "SELECT m.conversation_id, COUNT(*) AS unread_count FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id \
         LEFT JOIN read_marks r ON r.conversation_id = m.conversation_id AND r.user_id = ?1 \
         LEFT JOIN conversation_prefs pf ON pf.conversation_id = c.id AND pf.user_id = ?1 \
         WHERE c.account_id = ?2 AND pf.muted_at IS NULL AND pf.archived_at IS NULL AND pf.hidden_at IS NULL \
         AND (c.kind = 'visitor' \
           OR EXISTS (SELECT 1 FROM participants vp WHERE vp.conversation_id = c.id AND vp.user_id = ?1)) \
         AND (m.role = 'visitor' OR (c.kind = 'internal' AND m.role = 'operator' AND COALESCE(m.author_id, 0) <> ?1)) \
         AND m.seq > COALESCE(r.last_read_seq, 0) \
         GROUP BY m.conversation_id ORDER BY m.conversation_id",
    )
    .bind(&[int(user_id), int(account_id)])?
    .all()
    .await?
    .results()
}

#[derive(Debug, Deserialize)]
struct BlockRow {
    id: i64,
    site_id: i64,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    blocked_at: Option<String>,
    block_reason: Option<String>,
    verified: i64,
    created_at: String,
}

impl BlockRow {
    fn into_block(self) -> Block {
        Block {
            visitor: Visitor {
                id: self.id,
                name: self.name,
                email: self.email,
                phone: self.phone,
                blocked: self.blocked_at.is_some(),
                verified: self.verified != 0,
                created_at: self.created_at,
            },
            site_id: self.site_id,
            reason: self.block_reason,
            blocked_at: self.blocked_at.unwrap_or_default(),
        }
    }
}

const BLOCK_COLUMNS: &str = "v.id, v.site_id, v.name, v.email, v.phone, v.blocked_at, v.block_reason, v.verified, v.created_at";

/// Blocks (or, with `blocked == false`, unblocks) visitor `visitor_id` of
/// `account_id`; `None` when no such visitor is in the account.
pub async fn set_blocked(
    db: &D1Database,
    account_id: i64,
    visitor_id: i64,
    blocked: bool,
    reason: Option<&str>,
) -> worker::Result<Option<Block>> {
    let sql = if blocked {
        "UPDATE visitors SET blocked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), block_reason = ?1 WHERE id = ?2 \
         AND site_id IN (SELECT id FROM sites WHERE account_id = ?3) RETURNING id"
    } else {
        "UPDATE visitors SET blocked_at = NULL, block_reason = NULL WHERE id = ?2 AND ?1 IS NULL \
         AND site_id IN (SELECT id FROM sites WHERE account_id = ?3) RETURNING id"
    };
    let reason = if blocked { reason.map(text).unwrap_or(JsValue::NULL) } else { JsValue::NULL };
    if db.prepare(sql).bind(&[reason, int(visitor_id), int(account_id)])?.first::<i64>(Some("id")).await?.is_none() {
        return Ok(None);
    }
    let row: Option<BlockRow> =
        db.prepare(format!("SELECT {BLOCK_COLUMNS} FROM visitors v WHERE v.id = ?1")).bind(&[int(visitor_id)])?.first(None).await?;
    Ok(row.map(BlockRow::into_block))
}

/// Most conversations of one visitor [`ids_of_visitor`] answers.
const MAX_VISITOR_CONVERSATIONS: i64 = 100;

/// The ids and sites of visitor `visitor_id`'s conversations in `account_id`, newest first (at most 100).
pub async fn ids_of_visitor(db: &D1Database, account_id: i64, visitor_id: i64) -> worker::Result<Vec<(i64, Option<i64>)>> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        site_id: Option<i64>,
    }
    let rows: Vec<Row> = db
        .prepare("SELECT c.id, c.site_id FROM conversations c WHERE c.visitor_id = ?1 AND c.account_id = ?2 ORDER BY c.id DESC LIMIT ?3")
        .bind(&[int(visitor_id), int(account_id), int(MAX_VISITOR_CONVERSATIONS)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| (r.id, r.site_id)).collect())
}

/// The blocked visitors of `account_id`, newest block first.
pub async fn blocks(db: &D1Database, account_id: i64) -> worker::Result<Vec<Block>> {
    let rows: Vec<BlockRow> = db
        .prepare(format!(
            "SELECT {BLOCK_COLUMNS} FROM visitors v JOIN sites s ON s.id = v.site_id \
             WHERE s.account_id = ?1 AND v.blocked_at IS NOT NULL ORDER BY v.blocked_at DESC, v.id DESC"
        ))
        .bind(&[int(account_id)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(BlockRow::into_block).collect())
}

/// Conversations `ids` as operator `user_id` of `account_id` sees them
/// (the ones they may see), newest activity first, in one query.
pub async fn summaries(db: &D1Database, user_id: i64, account_id: i64, ids: &[i64]) -> worker::Result<Vec<ConversationSummary>> {
    let rows: Vec<SummaryRow> = db
        .prepare(format!("{SUMMARY_SELECT} AND c.id IN (SELECT value FROM json_each(?3)) ORDER BY c.last_activity_at DESC, c.id DESC"))
        .bind(&[int(user_id), int(account_id), super::id_array(ids)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(SummaryRow::into_summary).collect())
}

/// Snoozes conversation `id` of `account_id` until `until` (RFC 3339 UTC),
/// with its `conversation.updated` event in the same batch; answers the
/// state after, `None` when there is no such visitor conversation.
pub async fn snooze(db: &D1Database, id: i64, account_id: i64, until: &str) -> worker::Result<Option<ConversationState>> {
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE conversations SET status = 'snoozed', snoozed_until = ?1 \
                 WHERE id = ?2 AND account_id = ?3 AND kind = 'visitor' RETURNING mode, status",
            )
            .bind(&[text(until), int(id), int(account_id)])?,
            crate::events::Record::new(edgechat_shared::api::integrations::EventType::ConversationUpdated, id)
                .data(serde_json::json!({"changed": ["status"], "snoozed_until": until}))
                .only_if_changed()
                .statement(db)?,
        ])
        .await?;
    Ok(results.first().map(|r| r.results::<ConversationState>()).transpose()?.and_then(|mut rows| rows.pop()))
}

/// A snooze the Room's alarm found: woken now, or still due later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// The snooze was due: the conversation is open again.
    Woke,
    /// Still snoozed (the snooze was moved later): wake at this time (RFC 3339 UTC).
    Later(String),
    /// Not snoozed any more (reopened, closed or deleted meanwhile).
    Nothing,
}

/// Reopens conversation `id` when its snooze is due, with its
/// `conversation.updated` event in the same batch.
pub async fn wake_if_due(db: &D1Database, id: i64) -> worker::Result<Wake> {
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE conversations SET status = 'open', snoozed_until = NULL WHERE id = ?1 AND status = 'snoozed' \
                 AND (snoozed_until IS NULL OR snoozed_until <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) RETURNING id",
            )
            .bind(&[int(id)])?,
            crate::events::Record::new(edgechat_shared::api::integrations::EventType::ConversationUpdated, id)
                .data(serde_json::json!({"changed": ["status"], "woke": true}))
                .only_if_changed()
                .statement(db)?,
            db.prepare("SELECT snoozed_until FROM conversations WHERE id = ?1 AND status = 'snoozed'").bind(&[int(id)])?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Until {
        snoozed_until: Option<String>,
    }
    let woke = results.first().map(|r| r.results::<serde_json::Value>()).transpose()?.is_some_and(|rows| !rows.is_empty());
    if woke {
        return Ok(Wake::Woke);
    }
    let later = results.get(2).map(|r| r.results::<Until>()).transpose()?.and_then(|mut rows| rows.pop()).and_then(|u| u.snoozed_until);
    Ok(later.map(Wake::Later).unwrap_or(Wake::Nothing))
}
