//! Changes to stored messages, made by the Room so that their events are
//! ordered with the conversation's other events (seed 002): an edit
//! ([`EditMessage`], `message_updated`) and a reaction toggle
//! ([`ToggleReaction`], `reaction`).

use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::messages::{self, ReactionState};
use edgechat_shared::api::{ChatMessage, Role};
use serde::{Deserialize, Serialize};
use worker::Response;

use super::live::Delivery;
use super::{RoomContext, RoomCore, RoomRequest};
use crate::db::edits::{self, Reactor};
use crate::db::messages::FileLinks;
use crate::db::{self};
use crate::error::{ApiError, ApiResult};

/// Nobody's reactions are "mine" in a broadcast (user and visitor ids start at 1).
const NOBODY: Reactor = Reactor::Operator(0);

/// Request: operator `editor_id` replaces the text of their message
/// `message_id`. The Room answers JSON [`Edited`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EditMessage {
    pub context: RoomContext,
    pub message_id: i64,
    pub editor_id: i64,
    pub content: String,
    /// How the site signs file links.
    pub links: FileLinks,
}

/// What an edit did: the message after it (`None` when the editor did not
/// write it) and whether its text changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Edited {
    pub message: Option<ChatMessage>,
    pub changed: bool,
}

impl EditMessage {
    /// Sends the edit to the conversation's Room. Errors: 404 when the
    /// conversation was deleted, or the message is not the editor's.
    pub async fn call(self, env: &worker::Env) -> ApiResult<Edited> {
        let edited: Edited = RoomRequest::EditMessage(self).call_json(env).await?;
        if edited.message.is_none() {
            return Err(ApiError::not_found("message"));
        }
        Ok(edited)
    }

    /// Stores the edit (the previous text joins `message_edits`) and, when
    /// the text changed, broadcasts `message_updated` to visitor streams and operators.
    pub(super) async fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let _write = core.writes.lock().await;
        let db = db::database(&core.env)?;
        let Some((row, changed)) = edits::edit(&db, self.message_id, self.editor_id, &self.content).await? else {
            return Response::from_json(&Edited { message: None, changed: false });
        };
        let mut message = row.to_chat_message(&self.links);
        edits::fill_reactions(&db, std::slice::from_mut(&mut message), NOBODY).await?;
        if changed {
            crate::events::spawn_publish(&core.env, self.context.conversation_id);
            let event = LiveEvent::MessageUpdated { conversation_id: self.context.conversation_id, message: message.clone() };
            core.broadcast(&self.context, &event, |_| Delivery::Never);
        }
        Response::from_json(&Edited { message: Some(message), changed })
    }
}

/// Request: operator `user_id` adds or takes back `emoji` on message
/// `message_id`. The Room answers JSON [`ReactionState`] (`mine` for them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToggleReaction {
    pub context: RoomContext,
    pub message_id: i64,
    pub user_id: i64,
    /// One emoji (checked by the route).
    pub emoji: String,
}

impl ToggleReaction {
    /// Sends the toggle to the conversation's Room. Errors: 404 when the conversation was deleted.
    pub async fn call(self, env: &worker::Env) -> ApiResult<ReactionState> {
        RoomRequest::ToggleReaction(self).call_json(env).await
    }

    /// Toggles the reaction and broadcasts `reaction` with the emoji's new count.
    pub(super) async fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let _write = core.writes.lock().await;
        let db = db::database(&core.env)?;
        let reactor = Reactor::Operator(self.user_id);
        let added = edits::toggle_reaction(&db, self.message_id, reactor, &self.emoji).await?;
        let reactions = edits::reactions_of(&db, self.message_id, reactor).await?;
        // Listed in the RGI form, which `self.emoji` is (checked by the route).
        let listed = reactions.iter().find(|r| messages::same_emoji(&r.emoji, &self.emoji));
        let event = LiveEvent::Reaction {
            conversation_id: self.context.conversation_id,
            message_id: self.message_id,
            emoji: self.emoji.clone(),
            role: Role::Operator,
            user_id: Some(self.user_id),
            added,
            count: listed.map_or(0, |r| r.count),
        };
        core.broadcast(&self.context, &event, |_| Delivery::Never);
        Response::from_json(&ReactionState { message_id: self.message_id, reactions })
    }
}
