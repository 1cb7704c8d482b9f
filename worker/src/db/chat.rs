//! Seed 000's chat ids ([`ChatId`]) resolved to conversations, and the
//! messages of seed 000's `/v1/chat/*` routes that are not the Room's:
//! imports (`save`), status updates (`update`) and reads by person.
//!
//! How each form resolves, for operator `user_id` of `account_id` (a
//! conversation they may not see resolves to nothing, as for any route):
//!
//! - `customer:{email}`: the newest conversation of the account's visitor
//!   whose **verified** `user_id` is `email`, else of the outbound visitor
//!   EdgeChat made for `email` (seed 002 outbound follow-ups, and saves into
//!   this form). A widget visitor who merely typed `email` is never chosen:
//!   typing an address proves nothing (see `team::outbound_visitor`), so a
//!   stranger cannot receive what an integration posts to that customer.
//! - `customer:{session_id}:{email}`: the visitor of that widget session
//!   who gave that email (both must match), their newest conversation.
//! - `{a}|{b}`: the staff DM of the account's two operators of those emails
//!   (its `dm_key` is their ids: [`dm_key`]).
//! - anything else: the conversation `chat_external_ids` maps it to.
//!
//! What a save ([`Create::Yes`]) starts when nothing resolves:
//!
//! - `customer:{email}`: an outbound visitor for `email` on the account's
//!   first site and a visitor conversation with it (mode `operator`, so no AI
//!   answers an import; assigned to the caller), as seed 002's outbound
//!   follow-up does. No site: nothing (404).
//! - `customer:{session_id}:{email}`: a first conversation for that session's
//!   visitor when the visitor exists; an unknown session is 404 (a session
//!   id is the widget's secret, not something a save invents).
//! - `{a}|{b}`: the DM when both are operators of the account and the caller
//!   is one of them (the caller cannot open DMs of others).
//! - external: the customer's conversation as for `customer:{email}` when
//!   the message names a customer email (`from` of a `customer` message,
//!   else `to`), on the account's first site; otherwise an internal
//!   conversation named after the id, with the caller as its participant.
//!   Then the mapping is stored; two first saves racing both create a
//!   conversation and the first mapping wins (the other conversation stays
//!   empty and unmapped).

use edgechat_shared::api::chat::{status_rank, MessageKey};
use edgechat_shared::api::team::dm_key;
use edgechat_shared::api::{MessageStatus, Role};
use edgechat_shared::chat_id::ChatId;
use serde::Deserialize;
use worker::D1Database;

use super::messages::{MessageRow, MESSAGE_COLUMNS};
use super::search::LocatedRow;
use super::{conversations, int, opt_int, opt_text, team, text, visible};
use crate::events::{MessageRef, Record};
use edgechat_shared::api::integrations::EventType;

/// A resolved chat: its conversation and site (`None`: internal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Chat {
    pub conversation_id: i64,
    pub site_id: Option<i64>,
}

/// Whether resolving may start a conversation (a save), and for whom.
#[derive(Debug, Clone, Copy)]
pub enum Create<'a> {
    /// Only find (reads, updates, live posts).
    No,
    /// Start one if none resolves (see the module docs).
    Yes {
        /// The customer's email the saved message names, if any (external ids).
        customer_email: Option<&'a str>,
    },
}

/// The conversation chat id `chat` names for operator `user_id` of
/// `account_id`, started when `create` allows it; `None` when there is none
/// the operator may see.
pub async fn resolve(db: &D1Database, user_id: i64, account_id: i64, chat: &ChatId, create: Create<'_>) -> worker::Result<Option<Chat>> {
    if let Some(found) = find(db, user_id, account_id, chat).await? {
        return Ok(Some(found));
    }
    let Create::Yes { customer_email } = create else { return Ok(None) };
    let created = match chat {
        ChatId::Customer { email } => start_customer(db, user_id, account_id, email).await?,
        ChatId::Guest { session_id, email } => start_guest(db, account_id, session_id, email).await?,
        ChatId::StaffDm { a, b } => start_dm(db, user_id, account_id, a, b).await?,
        ChatId::External(id) => {
            let conversation_id = match customer_email {
                Some(email) => start_customer(db, user_id, account_id, email).await?,
                None => None,
            };
            let conversation_id = match conversation_id {
                Some(id) => id,
                None => {
                    let name: String = id.chars().take(100).collect();
                    let participants = [user_id];
                    let new = team::NewInternal {
                        created_by: user_id,
                        participants: &participants,
                        name: Some(&name),
                        description: None,
                        dm_key: None,
                    };
                    team::create_internal(db, account_id, &new).await?.0
                }
            };
            db.prepare(
                "INSERT INTO chat_external_ids (account_id, external_id, conversation_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )
            .bind(&[int(account_id), text(id), int(conversation_id)])?
            .run()
            .await?;
            None
        }
    };
    if created.is_none() && !matches!(chat, ChatId::External(_)) {
        return Ok(None);
    }
    find(db, user_id, account_id, chat).await
}

/// [`resolve`] without creating.
async fn find(db: &D1Database, user_id: i64, account_id: i64, chat: &ChatId) -> worker::Result<Option<Chat>> {
    let (condition, params) = match chat {
        ChatId::Customer { email } => (
            "c.kind = 'visitor' AND c.visitor_id IN (SELECT v.id FROM visitors v JOIN sites s ON s.id = v.site_id WHERE s.account_id = ?2 \
             AND ((v.verified = 1 AND lower(v.user_id) = lower(?3)) \
             OR (v.user_id IS NULL AND v.session_id LIKE 'outbound:%' AND lower(v.email) = lower(?3))))",
            vec![text(email)],
        ),
        ChatId::Guest { session_id, email } => (
            "c.kind = 'visitor' AND c.visitor_id IN (SELECT v.id FROM visitors v JOIN sites s ON s.id = v.site_id WHERE s.account_id = ?2 \
             AND v.session_id = ?3 AND lower(v.email) = lower(?4))",
            vec![text(session_id), text(email)],
        ),
        ChatId::StaffDm { a, b } => (
            "c.kind = 'internal' AND c.dm_key = (SELECT CASE WHEN COUNT(*) = 2 THEN MIN(id) || '|' || MAX(id) END FROM users \
             WHERE account_id = ?2 AND (lower(email) = lower(?3) OR lower(email) = lower(?4)))",
            vec![text(a), text(b)],
        ),
        ChatId::External(id) => {
            ("c.id = (SELECT conversation_id FROM chat_external_ids WHERE account_id = ?2 AND external_id = ?3)", vec![text(id)])
        }
    };
    db.prepare(format!(
        "SELECT c.id AS conversation_id, c.site_id FROM conversations c WHERE {} AND {condition} ORDER BY c.id DESC LIMIT 1",
        visible(1, 2)
    ))
    .bind(&[vec![int(user_id), int(account_id)], params].concat())?
    .first::<Chat>(None)
    .await
}

/// The account's first site (by id), if it has one.
async fn first_site(db: &D1Database, account_id: i64) -> worker::Result<Option<i64>> {
    db.prepare("SELECT id FROM sites WHERE account_id = ?1 ORDER BY id LIMIT 1").bind(&[int(account_id)])?.first::<i64>(Some("id")).await
}

/// A new outbound conversation with the customer `email` on the account's first site.
async fn start_customer(db: &D1Database, user_id: i64, account_id: i64, email: &str) -> worker::Result<Option<i64>> {
    let Some(site_id) = first_site(db, account_id).await? else { return Ok(None) };
    let visitor_id = team::outbound_visitor(db, site_id, email, None).await?;
    Ok(Some(team::create_outbound(db, account_id, site_id, visitor_id, user_id, None).await?))
}

/// A first conversation for the existing visitor of session `session_id` with `email`.
async fn start_guest(db: &D1Database, account_id: i64, session_id: &str, email: &str) -> worker::Result<Option<i64>> {
    #[derive(Deserialize)]
    struct Visitor {
        id: i64,
        site_id: i64,
    }
    let visitor = db
        .prepare(
            "SELECT v.id, v.site_id FROM visitors v JOIN sites s ON s.id = v.site_id \
             WHERE s.account_id = ?1 AND v.session_id = ?2 AND lower(v.email) = lower(?3) LIMIT 1",
        )
        .bind(&[int(account_id), text(session_id), text(email)])?
        .first::<Visitor>(None)
        .await?;
    match visitor {
        Some(v) => Ok(Some(conversations::create_for_visitor(db, v.site_id, v.id).await?)),
        None => Ok(None),
    }
}

/// The DM of operators `a` and `b` of the account, when the caller is one of them.
async fn start_dm(db: &D1Database, user_id: i64, account_id: i64, a: &str, b: &str) -> worker::Result<Option<i64>> {
    #[derive(Deserialize)]
    struct Operator {
        id: i64,
    }
    let operators = db
        .prepare("SELECT id FROM users WHERE account_id = ?1 AND (lower(email) = lower(?2) OR lower(email) = lower(?3))")
        .bind(&[int(account_id), text(a), text(b)])?
        .all()
        .await?
        .results::<Operator>()?;
    let ids: Vec<i64> = operators.iter().map(|o| o.id).collect();
    if ids.len() != 2 || !ids.contains(&user_id) {
        return Ok(None);
    }
    let key = dm_key(ids[0], ids[1]);
    let new = team::NewInternal { created_by: user_id, participants: &ids, name: None, description: None, dm_key: Some(&key) };
    Ok(Some(team::create_internal(db, account_id, &new).await?.0))
}

/// A message to import into a conversation (`POST /v1/chat/save`).
#[derive(Debug, Clone, Copy)]
pub struct Import<'a> {
    pub role: Role,
    /// The operator who signs it (an `agent` whose `from` is an operator of the account).
    pub author_id: Option<i64>,
    pub author_name: Option<&'a str>,
    pub content: &'a str,
    pub client_id: Option<&'a str>,
    /// `created_at` (RFC 3339 UTC, ms); `None`: now.
    pub created_at: Option<&'a str>,
}

/// The operator of `account_id` whose login email is `email`: id and display name.
pub async fn operator_by_email(db: &D1Database, account_id: i64, email: &str) -> worker::Result<Option<(i64, String)>> {
    #[derive(Deserialize)]
    struct Operator {
        id: i64,
        display_name: String,
    }
    Ok(db
        .prepare("SELECT id, display_name FROM users WHERE account_id = ?1 AND lower(email) = lower(?2)")
        .bind(&[int(account_id), text(email)])?
        .first::<Operator>(None)
        .await?
        .map(|o| (o.id, o.display_name)))
}

/// The display name of operator `id` of `account_id`.
pub async fn operator_name(db: &D1Database, account_id: i64, id: i64) -> worker::Result<Option<String>> {
    db.prepare("SELECT display_name FROM users WHERE account_id = ?1 AND id = ?2")
        .bind(&[int(account_id), int(id)])?
        .first::<String>(Some("display_name"))
        .await
}

/// Stores an imported message with the conversation's next `seq` (whatever
/// its `created_at`: `seq` is the order messages were stored in, so an
/// import in chronological order reads back in that order) and its
/// `message.created` event in one D1 batch, without the Room (no live
/// broadcast: seed 000's "persist without the socket"). The conversation's
/// activity time moves to the message's time when that is later. A second
/// import with the same author and client id stores nothing: answers the
/// stored row, `duplicate`, and no event id.
pub async fn import(db: &D1Database, conversation_id: i64, message: Import<'_>) -> worker::Result<(MessageRow, bool, Option<String>)> {
    let event = Record::new(EventType::MessageCreated, conversation_id).message(MessageRef::Newest).only_if_changed();
    let results = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO messages (conversation_id, seq, role, author_id, content, author_name, client_message_id, created_at) \
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?1), ?2, ?3, ?4, ?5, ?6, \
                 COALESCE(?7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) ON CONFLICT DO NOTHING RETURNING {MESSAGE_COLUMNS}"
            ))
            .bind(&[
                int(conversation_id),
                text(message.role.as_str()),
                opt_int(message.author_id),
                text(message.content),
                opt_text(message.author_name),
                opt_text(message.client_id),
                opt_text(message.created_at),
            ])?,
            event.statement(db)?,
            db.prepare(
                "UPDATE conversations SET last_activity_at = MAX(last_activity_at, \
                 (SELECT created_at FROM messages WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT 1)) WHERE id = ?1",
            )
            .bind(&[int(conversation_id)])?,
        ])
        .await?;
    if let Some(row) = results.first().map(|r| r.results::<MessageRow>()).transpose()?.and_then(|mut rows| rows.pop()) {
        return Ok((row, false, Some(event.id)));
    }
    let row = db
        .prepare(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND role = ?2 \
             AND COALESCE(author_id, 0) = COALESCE(?3, 0) AND client_message_id = ?4"
        ))
        .bind(&[int(conversation_id), text(message.role.as_str()), opt_int(message.author_id), opt_text(message.client_id)])?
        .first::<MessageRow>(None)
        .await?
        .ok_or_else(|| worker::Error::RustError("imported message was neither stored nor found".into()))?;
    Ok((row, true, None))
}

/// The message of conversation `conversation_id` named by `key` (EdgeChat's
/// id, or a client id: the newest message with it), with its `read_at`.
pub async fn message_in(db: &D1Database, conversation_id: i64, key: &MessageKey) -> worker::Result<Option<(MessageRow, Option<String>)>> {
    #[derive(Deserialize)]
    struct ReadAt {
        read_at: Option<String>,
    }
    let (condition, value) = match key {
        MessageKey::Id(id) => ("id = ?2", int(*id)),
        MessageKey::Client(id) => ("client_message_id = ?2", text(id)),
    };
    let result = db
        .prepare(format!(
            "SELECT {MESSAGE_COLUMNS}, read_at FROM messages WHERE conversation_id = ?1 AND {condition} ORDER BY seq DESC LIMIT 1"
        ))
        .bind(&[int(conversation_id), value])?
        .all()
        .await?;
    let rows = result.results::<MessageRow>()?;
    let read_at = result.results::<ReadAt>()?;
    Ok(rows.into_iter().zip(read_at).next().map(|(row, r)| (row, r.read_at)))
}

/// Moves message `id` of `conversation_id` forward to `status` (seed 000:
/// sent → delivered → read; never back), stamping `read_at` (default now)
/// when it becomes `read`, with its `message.updated` event in the same D1
/// batch, written only when the status changed. Answers the event id when
/// it changed.
pub async fn advance_status(
    db: &D1Database,
    conversation_id: i64,
    id: i64,
    status: MessageStatus,
    read_at: Option<&str>,
) -> worker::Result<Option<String>> {
    let status_name = match status {
        MessageStatus::Sent => "sent",
        MessageStatus::Delivered => "delivered",
        MessageStatus::Read => "read",
    };
    let event = Record::new(EventType::MessageUpdated, conversation_id)
        .message(MessageRef::Id(id))
        .data(serde_json::json!({ "status": status_name }))
        .only_if_changed();
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE messages SET status = ?3, \
                 read_at = CASE WHEN ?3 = 'read' THEN COALESCE(?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ELSE read_at END \
                 WHERE id = ?1 AND conversation_id = ?2 \
                 AND (CASE status WHEN 'sent' THEN 0 WHEN 'delivered' THEN 1 ELSE 2 END) < ?5 RETURNING id",
            )
            .bind(&[int(id), int(conversation_id), text(status_name), opt_text(read_at), int(status_rank(status))])?,
            event.statement(db)?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Id {
        #[allow(dead_code)]
        id: i64,
    }
    let changed = results.first().map(|r| r.results::<Id>()).transpose()?.is_some_and(|rows| !rows.is_empty());
    Ok(changed.then_some(event.id))
}

/// The messages where `email` is the sender or the recipient, that operator
/// `user_id` of `account_id` may see, created after `since` and after the
/// cursor (`created_at`, id), oldest first; at most `limit` + 1 (the extra
/// one tells that more follow). A person is:
/// - a customer: every message of the conversations of the account's
///   visitors whose email or `user_id` is `email` (their messages and the
///   answers to them);
/// - an operator of the account: the messages they wrote anywhere, and
///   every message of the internal conversations they take part in.
pub async fn by_user(
    db: &D1Database,
    user_id: i64,
    account_id: i64,
    email: &str,
    since: Option<&str>,
    cursor: Option<(&str, i64)>,
    limit: u32,
) -> worker::Result<Vec<LocatedRow>> {
    let columns = MESSAGE_COLUMNS.split(',').map(|c| format!("m.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let result = db
        .prepare(format!(
            "SELECT {columns}, m.conversation_id AS conversation_id, c.site_id AS site_id FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE {visible} \
             AND (?4 IS NULL OR m.created_at > ?4) \
             AND (?5 IS NULL OR m.created_at > ?5 OR (m.created_at = ?5 AND m.id > ?6)) \
             AND ( \
               (c.kind = 'visitor' AND c.visitor_id IN (SELECT v.id FROM visitors v JOIN sites s ON s.id = v.site_id \
                 WHERE s.account_id = ?2 AND (lower(v.email) = lower(?3) OR lower(v.user_id) = lower(?3)))) \
               OR m.author_id = (SELECT u.id FROM users u WHERE u.account_id = ?2 AND lower(u.email) = lower(?3)) \
               OR (c.kind = 'internal' AND EXISTS (SELECT 1 FROM participants p JOIN users u ON u.id = p.user_id \
                 WHERE p.conversation_id = c.id AND u.account_id = ?2 AND lower(u.email) = lower(?3))) \
             ) ORDER BY m.created_at, m.id LIMIT ?7",
            visible = visible(1, 2)
        ))
        .bind(&[
            int(user_id),
            int(account_id),
            text(email),
            opt_text(since),
            opt_text(cursor.map(|c| c.0)),
            int(cursor.map(|c| c.1).unwrap_or(0)),
            int(i64::from(limit) + 1),
        ])?
        .all()
        .await?;
    #[derive(Deserialize)]
    struct Extra {
        conversation_id: i64,
        site_id: Option<i64>,
    }
    let rows = result.results::<MessageRow>()?;
    let extras = result.results::<Extra>()?;
    Ok(rows.into_iter().zip(extras).map(|(row, e)| LocatedRow { row, conversation_id: e.conversation_id, site_id: e.site_id }).collect())
}
