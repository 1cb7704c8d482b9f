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
//! - `{a}|{b}`: the internal conversation whose `dm_key` is the pair.
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

// Until the routes of `routes/operator/chat.rs` land, parts are unused.
#![allow(dead_code)]

use edgechat_shared::api::team::dm_key;
use edgechat_shared::chat_id::ChatId;
use serde::Deserialize;
use worker::D1Database;

use super::{conversations, int, team, text};

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

/// The conversations operator `?1` of account `?2` may see (aliased `c`).
const VISIBLE: &str =
    "c.account_id = ?2 AND (c.kind = 'visitor' OR EXISTS (SELECT 1 FROM participants vp WHERE vp.conversation_id = c.id AND vp.user_id = ?1))";

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
        ChatId::StaffDm { a, b } => ("c.kind = 'internal' AND c.dm_key = ?3", vec![text(&dm_key(a, b))]),
        ChatId::External(id) => {
            ("c.id = (SELECT conversation_id FROM chat_external_ids WHERE account_id = ?2 AND external_id = ?3)", vec![text(id)])
        }
    };
    db.prepare(format!(
        "SELECT c.id AS conversation_id, c.site_id FROM conversations c WHERE {VISIBLE} AND {condition} ORDER BY c.id DESC LIMIT 1"
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
    let key = dm_key(a, b);
    let new = team::NewInternal { created_by: user_id, participants: &ids, name: None, description: None, dm_key: Some(&key) };
    Ok(Some(team::create_internal(db, account_id, &new).await?.0))
}
