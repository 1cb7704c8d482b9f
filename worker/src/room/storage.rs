//! The ordered write: every message of the conversation is stored here,
//! under the Room's write lock, before it is acknowledged or broadcast.

use edgechat_shared::api::conversations::SentMessage;
use edgechat_shared::api::uploads::Attachment;
use serde::{Deserialize, Serialize};
use worker::{D1Database, Env, Response};

use super::{RoomContext, RoomCore, RoomRequest};
use crate::db::messages::{self, Author, FileLinks, NewMessage};
use crate::db::{self};
use crate::error::ApiResult;

pub(super) use crate::db::messages::Inserted;

impl RoomCore {
    /// Stores a message (once per author and client id) and broadcasts it;
    /// answers the row and whether it was already stored. Holds the write
    /// lock throughout, so messages are broadcast in `seq` order.
    pub(super) async fn write_message(&self, db: &D1Database, context: &RoomContext, message: NewMessage<'_>) -> worker::Result<Inserted> {
        let _write = self.writes.lock().await;
        let inserted = messages::insert(db, context.conversation_id, message).await?;
        if !inserted.duplicate {
            self.announce(context, &inserted.row);
        }
        Ok(inserted)
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
        RoomRequest::OperatorMessage(self).call_json(env).await
    }

    pub(super) async fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let db = db::database(&core.env)?;
        let message = NewMessage {
            author: Author::Operator { id: self.author_id, name: &self.author_name },
            content: &self.content,
            client_id: self.client_message_id.as_deref(),
            attachments: &self.attachments,
            page_url: None,
        };
        let inserted = core.write_message(&db, &self.context, message).await?;
        Response::from_json(&SentMessage { message: inserted.row.to_chat_message(&self.links), duplicate: inserted.duplicate })
    }
}
