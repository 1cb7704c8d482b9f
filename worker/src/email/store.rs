//! The `emails` table (migration 0020): one row per email asked for.

use edgechat_shared::api::transcripts::{
    TRANSCRIPTS_PER_ACCOUNT_PER_DAY, TRANSCRIPTS_PER_ADDRESS_PER_DAY, VISITOR_TRANSCRIPTS_PER_ACCOUNT_PER_DAY,
};
use edgechat_shared::validate::mailbox;
use serde::Deserialize;
use worker::D1Database;

use crate::db::messages::MESSAGE_COLUMNS;
use crate::db::{int, opt_int, text, MessageRow};

/// Who asked for an email (`emails.requested_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedBy {
    Operator,
    /// The visitor, through the widget: at most `per_day` a conversation.
    Visitor {
        per_day: i64,
    },
}

/// A transcript to queue.
#[derive(Debug, Clone)]
pub struct NewTranscript<'a> {
    pub id: &'a str,
    pub conversation_id: i64,
    pub to: &'a str,
    pub requested_by: RequestedBy,
    /// The worker's public origin, for attachment links.
    pub base_url: &'a str,
    /// Now, in Unix seconds.
    pub now: i64,
}

/// Stores the email with the conversation's current last `seq` (what the
/// transcript will hold). `false` when the conversation does not exist or a
/// daily number is reached: a visitor's `per_day` per conversation,
/// [`TRANSCRIPTS_PER_ADDRESS_PER_DAY`] to the address's mailbox (its `+tag`
/// spellings together, [`mailbox`]), [`TRANSCRIPTS_PER_ACCOUNT_PER_DAY`]
/// per account, and of those at most
/// [`VISITOR_TRANSCRIPTS_PER_ACCOUNT_PER_DAY`] asked for by visitors, so
/// strangers cannot spend the operators' budget (all counted in the same
/// statement, so concurrent requests cannot pass them together).
pub async fn insert_transcript(db: &D1Database, email: &NewTranscript<'_>) -> worker::Result<bool> {
    let (requested_by, cap) = match email.requested_by {
        RequestedBy::Operator => ("operator", None),
        RequestedBy::Visitor { per_day } => ("visitor", Some(per_day)),
    };
    let day_ago = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(((email.now - 86_400) * 1000) as f64)).to_iso_string();
    let changes = db
        .prepare(
            "INSERT INTO emails (id, account_id, conversation_id, kind, requested_by, to_address, mailbox, up_to_seq, base_url, links_issued_at) \
             SELECT ?1, c.account_id, c.id, 'transcript', ?3, ?4, ?11, \
                    COALESCE((SELECT MAX(seq) FROM messages WHERE conversation_id = c.id), 0), ?5, ?6 \
             FROM conversations c WHERE c.id = ?2 AND (?7 IS NULL OR \
                (SELECT COUNT(*) FROM emails WHERE conversation_id = c.id AND requested_by = 'visitor' AND created_at > ?8) < ?7) \
               AND (SELECT COUNT(*) FROM emails WHERE (mailbox = ?11 OR (mailbox IS NULL AND to_address = ?4 COLLATE NOCASE)) \
                    AND created_at > ?8) < ?9 \
               AND (SELECT COUNT(*) FROM emails WHERE account_id = c.account_id AND created_at > ?8) < ?10 \
               AND (?3 = 'operator' OR (SELECT COUNT(*) FROM emails WHERE account_id = c.account_id AND requested_by = 'visitor' \
                    AND created_at > ?8) < ?12)",
        )
        .bind(&[
            text(email.id),
            int(email.conversation_id),
            text(requested_by),
            text(email.to),
            text(email.base_url),
            int(email.now),
            opt_int(cap),
            text(&String::from(day_ago)),
            int(TRANSCRIPTS_PER_ADDRESS_PER_DAY),
            int(TRANSCRIPTS_PER_ACCOUNT_PER_DAY),
            text(&mailbox(email.to)),
            int(VISITOR_TRANSCRIPTS_PER_ACCOUNT_PER_DAY),
        ])?
        .run()
        .await?
        .meta()?
        .and_then(|m| m.changes)
        .unwrap_or(0);
    Ok(changes > 0)
}

/// Whether `to` may receive conversation `conversation_id`'s transcript
/// from an operator: the conversation's customer (its visitor's contact
/// email) or a member of the account's team, never an arbitrary address.
pub async fn operator_may_send_to(db: &D1Database, conversation_id: i64, to: &str) -> worker::Result<bool> {
    let found: Option<i64> = db
        .prepare(
            "SELECT 1 AS ok FROM conversations c WHERE c.id = ?1 AND ( \
                EXISTS (SELECT 1 FROM visitors v WHERE v.id = c.visitor_id AND lower(v.email) = lower(?2)) \
                OR EXISTS (SELECT 1 FROM users u WHERE u.account_id = c.account_id AND u.email = ?2))",
        )
        .bind(&[int(conversation_id), text(to)])?
        .first(Some("ok"))
        .await?;
    Ok(found.is_some())
}

/// A queued email with what rendering it needs.
#[derive(Debug, Clone, Deserialize)]
pub struct EmailRow {
    pub conversation_id: i64,
    pub to_address: String,
    pub up_to_seq: i64,
    pub base_url: String,
    pub links_issued_at: i64,
    /// `queued`, `sent` or `failed`.
    pub status: String,
    pub site_id: Option<i64>,
    pub site_name: Option<String>,
    pub visitor_name: Option<String>,
}

/// The email `id` with its conversation's site and visitor names.
pub async fn email(db: &D1Database, id: &str) -> worker::Result<Option<EmailRow>> {
    db.prepare(
        "SELECT e.conversation_id, e.to_address, e.up_to_seq, e.base_url, e.links_issued_at, e.status, \
                c.site_id, s.name AS site_name, v.name AS visitor_name \
         FROM emails e JOIN conversations c ON c.id = e.conversation_id \
         LEFT JOIN sites s ON s.id = c.site_id LEFT JOIN visitors v ON v.id = c.visitor_id WHERE e.id = ?1",
    )
    .bind(&[text(id)])?
    .first(None)
    .await
}

/// The newest `limit` messages up to `up_to_seq`, oldest first, and how
/// many messages there are up to it in all.
pub async fn transcript_messages(
    db: &D1Database,
    conversation_id: i64,
    up_to_seq: i64,
    limit: usize,
) -> worker::Result<(Vec<MessageRow>, usize)> {
    let bind = [int(conversation_id), int(up_to_seq), int(limit as i64)];
    let rows: Vec<MessageRow> = db
        .prepare(format!(
            "SELECT {MESSAGE_COLUMNS} FROM (SELECT * FROM messages WHERE conversation_id = ?1 AND seq <= ?2 ORDER BY seq DESC LIMIT ?3) ORDER BY seq"
        ))
        .bind(&bind)?
        .all()
        .await?
        .results()?;
    let total: Option<i64> = db
        .prepare("SELECT COUNT(*) AS n FROM messages WHERE conversation_id = ?1 AND seq <= ?2")
        .bind(&bind[..2])?
        .first(Some("n"))
        .await?;
    Ok((rows, total.unwrap_or(0) as usize))
}

/// Counts a try; answers the number of tries so far.
pub async fn count_attempt(db: &D1Database, id: &str) -> worker::Result<i64> {
    let n: Option<i64> = db
        .prepare("UPDATE emails SET attempts = attempts + 1 WHERE id = ?1 RETURNING attempts")
        .bind(&[text(id)])?
        .first(Some("attempts"))
        .await?;
    Ok(n.unwrap_or(0))
}

/// Emails still `queued` `stale_seconds` after they were asked for (their
/// queue message lost, e.g. with a local queue across a restart, or dropped
/// after the queue's own retries), at most 100: those younger than a day
/// are answered to be queued again (the provider still knows their
/// `Idempotency-Key`, so one sent but not recorded is not sent twice);
/// older ones are marked `failed` here.
pub async fn stale(db: &D1Database, stale_seconds: i64) -> worker::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE emails SET status = 'failed', last_error = 'never sent: its queue message was lost' \
                 WHERE status = 'queued' AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-23 hours')",
            ),
            db.prepare(
                "SELECT id FROM emails WHERE status = 'queued' \
                 AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ?1 || ' seconds') ORDER BY created_at LIMIT 100",
            )
            .bind(&[int(stale_seconds)])?,
        ])
        .await?;
    let rows: Vec<Row> = results.get(1).map(|r| r.results()).transpose()?.unwrap_or_default();
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Records the outcome: `sent` with the provider's id, `failed` (the dead
/// letter), or still `queued` after a failure that will be tried again.
pub async fn record(db: &D1Database, id: &str, status: &str, provider_id: Option<&str>, error: Option<&str>) -> worker::Result<()> {
    db.prepare(
        "UPDATE emails SET status = ?2, provider_id = COALESCE(?3, provider_id), last_error = ?4, \
         sent_at = CASE WHEN ?2 = 'sent' THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ELSE sent_at END WHERE id = ?1",
    )
    .bind(&[text(id), text(status), crate::db::opt_text(provider_id), crate::db::opt_text(error)])?
    .run()
    .await?;
    Ok(())
}

/// The contact email visitor `visitor_id` left (`visitors.email`), if any.
pub async fn visitor_email(db: &D1Database, visitor_id: i64) -> worker::Result<Option<String>> {
    let email: Option<Option<String>> =
        db.prepare("SELECT email FROM visitors WHERE id = ?1").bind(&[int(visitor_id)])?.first(Some("email")).await?;
    Ok(email.flatten().filter(|e| !e.is_empty()))
}
