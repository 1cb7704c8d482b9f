//! The ordered write: every message of the conversation is stored here,
//! under the Room's write lock, before it is acknowledged or broadcast.

use edgechat_shared::api::conversations::SentMessage;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::uploads::Attachment;
use edgechat_shared::api::{ChatMessage, ForwardedFrom};
use serde::{Deserialize, Serialize};
use worker::{D1Database, Env, Response};

use super::{RoomContext, RoomCore, RoomRequest};
use crate::db::messages::{self, Author, Claims, FileLinks, NewMessage};
use crate::db::users::SessionClaims;
use crate::db::{self};
use crate::error::ApiResult;
use crate::events;

pub(super) use crate::db::messages::Inserted;

impl RoomCore {
    /// Stores a message (once per author and client id) and broadcasts it
    /// (again, for a retry of a stored one); answers the row and whether it
    /// was already stored, `None` when the
    /// message's claims no longer hold (nothing written). Marks a new row as
    /// a copy of `forwarded_from` (seed 002 forward) before it is broadcast.
    /// Holds the write lock throughout, so messages are broadcast in `seq`
    /// order.
    pub(super) async fn write_copy(
        &self,
        db: &D1Database,
        context: &RoomContext,
        message: NewMessage<'_>,
        forwarded_from: Option<ForwardedFrom>,
    ) -> worker::Result<Option<Inserted>> {
        let _write = self.writes.lock().await;
        // An operator's message goes to the visitor's open streams right
        // after it is stored: it is stored `delivered` when one will take it.
        let delivered = matches!(message.author, Author::Operator { .. }) && self.visitor_stream_takes_more();
        let Some(mut inserted) = messages::insert(db, context.conversation_id, message, delivered).await? else {
            return Ok(None);
        };
        self.mode_hint.set(Some(inserted.state.mode));
        if let (Some(origin), false) = (forwarded_from, inserted.duplicate) {
            inserted.row = messages::mark_forwarded(db, inserted.row.id, origin).await?;
        }
        // A retry of a stored message is broadcast again, in case the first
        // attempt's Room stopped between its write and its broadcast
        // (visitor streams drop a `seq` they have; the console merges by
        // id), and publishes what the conversation left unpublished.
        self.announce(context, &inserted.row, inserted.event.take());
        if inserted.woke {
            let event = LiveEvent::Status { conversation_id: context.conversation_id, status: inserted.state.status };
            self.broadcast(context, &event, |_| super::live::Delivery::Never);
        }
        Ok(Some(inserted))
    }

    /// Publishes the `message.created` event of `message` (`seq`), just
    /// stored with outbox row `event` and broadcast, off the live path. The
    /// Room renders the body from the message it holds
    /// ([`events::spawn_publish_rendered`]: one D1 write and a queue send).
    /// A conversation's first message, or a write whose outbox row did not
    /// come back, publishes every unpublished event of the conversation
    /// instead ([`events::spawn_publish`]): the `conversation.created` of a
    /// visitor conversation is published with its first message.
    pub(super) fn publish_created(&self, context: &RoomContext, event: Option<events::Written>, seq: i64, message: &ChatMessage) {
        let rendered = event.filter(|_| seq > 1).and_then(|written| {
            let body = events::message_created(&written, context.conversation_id, message);
            body.map_err(|e| worker::console_error!("rendering event {} failed: {e}", written.id)).ok().map(|body| (written, body))
        });
        match rendered {
            Some((written, body)) => events::spawn_publish_rendered(&self.env, written, body),
            None => events::spawn_publish(&self.env, context.conversation_id),
        }
    }
}

/// Request: an operator reply. The Room answers JSON [`SentMessage`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendOperatorMessage {
    pub context: RoomContext,
    pub content: String,
    /// The operator's user id: their `message_id`s are deduped apart from
    /// the visitor's and other operators'.
    pub author_id: i64,
    pub author_name: String,
    pub client_message_id: Option<String>,
    /// How the site signs file links.
    pub links: FileLinks,
    /// The operator's files, checked by the caller (their account's operator
    /// uploads): tied to the message when no message has them yet.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

impl SendOperatorMessage {
    /// Forwards the reply to its conversation's Room; answers the stored
    /// message. Errors: 404 when the conversation was deleted.
    pub async fn call(self, env: &Env) -> ApiResult<SentMessage> {
        // Read as the claimed reply's answer is (one decoder for both).
        let sent: Option<SentMessage> = RoomRequest::OperatorMessage(self).call_json(env).await?;
        Ok(sent.ok_or_else(refused)?)
    }

    pub(super) async fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let message = NewMessage {
            author: Author::Operator { id: self.author_id, name: &self.author_name },
            content: &self.content,
            client_id: self.client_message_id.as_deref(),
            attachments: &self.attachments,
            page_url: None,
            lang: None,
            claims: None,
        };
        core.write_reply(&self.context, &self.links, message).await
    }
}

impl RoomCore {
    /// Writes an operator's reply to conversation `context` and answers JSON
    /// `Option<SentMessage>` (attachment links signed by `links`), `null`
    /// when its claims no longer hold and nothing was written. One body for
    /// both kinds of reply.
    async fn write_reply(&self, context: &RoomContext, links: &FileLinks, message: NewMessage<'_>) -> worker::Result<Response> {
        let db = db::database(&self.env)?;
        let inserted = self.write_copy(&db, context, message, None).await?;
        let sent = inserted.map(|inserted| SentMessage { message: inserted.row.to_chat_message(links), duplicate: inserted.duplicate });
        Response::from_json(&sent)
    }
}

/// Request: an operator reply whose sender nothing has checked against D1
/// yet (issue 16: an operator's send in one D1 round trip, where the
/// checked [`SendOperatorMessage`] takes two). The Room takes it only when
/// it already serves the conversation for the claimed account (bound by a
/// checked request, never by this one) and knows its file links; its write
/// then checks the claims and the conversation's visibility in the same D1
/// transaction ([`crate::db::users::SessionClaims::condition`]). Answers
/// JSON `Option<SentMessage>`: `null` when the Room did not take it or the
/// claims no longer hold, with nothing stored; the caller then checks the
/// operator in full and sends a [`SendOperatorMessage`] (401 and 404 are
/// told apart there). No attachments: their uploads are checked first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendClaimedMessage {
    pub conversation_id: i64,
    /// The claims' operator ([`SessionClaims::user_id`]).
    pub user_id: i64,
    /// The claims' account ([`SessionClaims::account_id`]).
    pub account_id: i64,
    /// The claims' token version ([`SessionClaims::token_version`]).
    pub token_version: i64,
    pub content: String,
    pub client_message_id: Option<String>,
}

impl SendClaimedMessage {
    /// Forwards the reply to its conversation's Room; answers the stored
    /// message, or `None` (see the type).
    pub async fn call(self, env: &Env) -> ApiResult<Option<SentMessage>> {
        RoomRequest::ClaimedMessage(self).call_json(env).await
    }

    /// A claimed reply of `claims` (the fields of this request).
    pub fn new(conversation_id: i64, claims: SessionClaims, content: String, client_message_id: Option<String>) -> Self {
        let SessionClaims { user_id, account_id, token_version } = claims;
        SendClaimedMessage { conversation_id, user_id, account_id, token_version, content, client_message_id }
    }

    pub(super) async fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let claims = SessionClaims { user_id: self.user_id, account_id: self.account_id, token_version: self.token_version };
        let links = core.links.borrow().clone();
        let (context, links) = match (core.bound_context().await?, links) {
            (Some(context), Some(links)) if context.conversation_id == self.conversation_id && context.account_id == claims.account_id => {
                (context, links)
            }
            _ => return Response::from_json(&None::<SentMessage>),
        };
        let message = NewMessage {
            author: Author::Operator { id: claims.user_id, name: "" },
            content: &self.content,
            client_id: self.client_message_id.as_deref(),
            attachments: &[],
            page_url: None,
            lang: None,
            claims: Some(Claims::Operator(claims)),
        };
        core.write_reply(&context, &links, message).await
    }
}

/// The error of a write that checked its author before and was refused all the same.
fn refused() -> worker::Error {
    worker::Error::RustError("a write without claims was refused".into())
}

/// One copy of a forwarded message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForwardCopy {
    pub content: String,
    /// Deterministic per origin and target (`fwd-<message id>`), so that a
    /// retried forward is deduped like a retried send.
    pub client_message_id: String,
    pub forwarded_from: ForwardedFrom,
}

/// Request: operator messages copied from other messages (seed 002
/// `POST /v1/chat/messages/forward`), written in order in one Room call
/// (a request may make only so many subrequests). Answers the stored
/// copies as JSON `[ChatMessage]`; a copy stored before (a retry) comes
/// back as it was, not twice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForwardMessages {
    pub context: RoomContext,
    pub author_id: i64,
    pub author_name: String,
    pub copies: Vec<ForwardCopy>,
    /// How the site signs file links.
    pub links: FileLinks,
}

impl ForwardMessages {
    /// Writes the copies in the conversation's Room. Errors: 404 when the conversation was deleted.
    pub async fn call(self, env: &Env) -> ApiResult<Vec<ChatMessage>> {
        RoomRequest::ForwardMessages(self).call_json(env).await
    }

    pub(super) async fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let db = db::database(&core.env)?;
        let mut stored = Vec::with_capacity(self.copies.len());
        for copy in &self.copies {
            let message = NewMessage {
                author: Author::Operator { id: self.author_id, name: &self.author_name },
                content: &copy.content,
                client_id: Some(&copy.client_message_id),
                attachments: &[],
                page_url: None,
                lang: None,
                claims: None,
            };
            let inserted = core.write_copy(&db, &self.context, message, Some(copy.forwarded_from)).await?.ok_or_else(refused)?;
            stored.push(inserted.row.to_chat_message(&self.links));
        }
        Response::from_json(&stored)
    }
}
