//! Live events: `GET /api/v1/chat/events` (SSE, visitors) and the operator
//! WebSocket `/v1/chat/live` (seed 002, "Messaging token"). Every change of
//! a conversation is one [`LiveEvent`]; only `message` events carry an SSE
//! `id:` (the message `seq`), so `Last-Event-ID` names the last message seen.

use serde::{Deserialize, Serialize};

use super::conversations::Status;
use super::{ChatMessage, Mode, Role};

/// SSE `retry:` hint sent first on every visitor stream, in ms.
pub const SSE_RETRY_MS: u32 = 3_000;
/// Interval of SSE comment heartbeats and WebSocket pings, in seconds (< 25 s).
pub const HEARTBEAT_SECONDS: u64 = 20;
/// Life of a WebSocket token from `GET /v1/messaging/token`, in seconds.
pub const WS_TOKEN_SECONDS: i64 = 60;

/// One live event.
///
/// # Format
/// `{"type":"message","conversation_id":7,"message":{…}}`,
/// `{"type":"typing","conversation_id":7,"role":"operator","typing":true,"author_name":"Ann"}`,
/// `{"type":"mode","conversation_id":7,"mode":"operator","author_name":"Ann"}`,
/// `{"type":"read","conversation_id":7,"role":"operator","seq":12}`,
/// `{"type":"status","conversation_id":7,"status":"closed"}`,
/// `{"type":"conversation","conversation_id":7,"site_id":1}` (operators only: a new conversation),
/// `{"type":"handoff","conversation_id":7,"site_id":1}` (operators only: the visitor accepted the
/// offer of a person and waits for one),
/// `{"type":"assignment","conversation_id":7,"assignee_id":3,"author_name":"Ann"}` (operators only),
/// `{"type":"visitor_blocked","conversation_id":7,"visitor_id":9,"blocked":true}` (operators only),
/// `{"type":"message_updated","conversation_id":7,"message":{…,"edited_at":"…"}}`,
/// `{"type":"reaction","conversation_id":7,"message_id":120,"emoji":"👍","role":"operator","user_id":3,"added":true,"count":1}`,
/// `{"type":"conversation_updated","conversation_id":7,"name":"Refunds","description":"…"}` (operators only),
/// `{"type":"conversation_deleted","conversation_id":7}` (operators only),
/// `{"type":"participants","conversation_id":7,"added":[3],"removed":[]}` (operators only),
/// `{"type":"ticket","ticket":{"id":12,"reference":"EC-1042",…}}` (operators only: a ticket was made or changed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A message was stored (visitor, AI or operator).
    Message {
        /// The conversation.
        conversation_id: i64,
        /// The stored message; `message.seq` is the SSE `id`.
        message: ChatMessage,
    },
    /// Someone started or stopped typing.
    Typing {
        /// The conversation.
        conversation_id: i64,
        /// Who types: `visitor` (sent to operators) or `operator` (sent to the visitor and operators).
        role: Role,
        /// `true` while typing.
        typing: bool,
        /// The operator's display name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author_name: Option<String>,
    },
    /// The conversation changed hands: an operator took over, or handed back to the AI.
    Mode {
        /// The conversation.
        conversation_id: i64,
        /// The new mode.
        mode: Mode,
        /// The operator who changed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author_name: Option<String>,
    },
    /// The visitor accepted the offer of a person (issue 6): the conversation
    /// is now in `operator` mode and waits for an operator to reply.
    Handoff {
        /// The conversation.
        conversation_id: i64,
        /// Its site.
        site_id: i64,
    },
    /// One side has read the other side's messages up to `seq`.
    Read {
        /// The conversation.
        conversation_id: i64,
        /// Who read: `operator` (the visitor's messages) or `visitor` (the operators').
        role: Role,
        /// Read up to and including this `seq`.
        seq: i64,
    },
    /// The conversation was closed or reopened.
    Status {
        /// The conversation.
        conversation_id: i64,
        /// The new status.
        status: Status,
    },
    /// A new conversation started (operators only).
    Conversation {
        /// The conversation.
        conversation_id: i64,
        /// Its site; absent for an internal conversation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site_id: Option<i64>,
    },
    /// The conversation was assigned to an operator, or unassigned (operators only).
    Assignment {
        /// The conversation.
        conversation_id: i64,
        /// The operator it is now assigned to; `null` for nobody.
        assignee_id: Option<i64>,
        /// The operator who assigned it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author_name: Option<String>,
    },
    /// The conversation's visitor was blocked or unblocked (operators only;
    /// one event per conversation of the visitor).
    VisitorBlocked {
        /// The conversation.
        conversation_id: i64,
        /// The visitor.
        visitor_id: i64,
        /// `true` once blocked, `false` once unblocked.
        blocked: bool,
    },
    /// A message was edited (seed 002, `PATCH /v1/chat/messages/{id}`): the
    /// message as it is now, with `edited_at`. Carries no SSE `id`.
    MessageUpdated {
        /// The conversation.
        conversation_id: i64,
        /// The message after the edit (same `id` and `seq`).
        message: ChatMessage,
    },
    /// Someone added or took back a reaction (seed 002, `POST /v1/chat/messages/{id}/reactions`).
    Reaction {
        /// The conversation.
        conversation_id: i64,
        /// The message reacted to.
        message_id: i64,
        /// The emoji.
        emoji: String,
        /// Who reacted: `operator` or `visitor`.
        role: Role,
        /// The operator's user id (operator reactions).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<i64>,
        /// `true` when added, `false` when taken back.
        added: bool,
        /// How many people now react with this emoji.
        count: i64,
    },
    /// The conversation's name or description changed (operators only).
    ConversationUpdated {
        /// The conversation.
        conversation_id: i64,
        /// Its name now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Its description now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// The conversation was deleted for everyone, messages included (operators only;
    /// the visitor's streams end).
    ConversationDeleted {
        /// The conversation.
        conversation_id: i64,
    },
    /// Operators joined or left the conversation (operators only).
    Participants {
        /// The conversation.
        conversation_id: i64,
        /// User ids added.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        added: Vec<i64>,
        /// User ids removed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<i64>,
    },
    /// A ticket was made or changed (operators only; issue 14). Not about
    /// one conversation: every operator of the account gets it.
    Ticket {
        /// The ticket after the change.
        ticket: super::tickets::Ticket,
    },
}

impl LiveEvent {
    /// The SSE `event:` name: the `type` field.
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::Message { .. } => "message",
            LiveEvent::Typing { .. } => "typing",
            LiveEvent::Mode { .. } => "mode",
            LiveEvent::Read { .. } => "read",
            LiveEvent::Status { .. } => "status",
            LiveEvent::Conversation { .. } => "conversation",
            LiveEvent::Handoff { .. } => "handoff",
            LiveEvent::Assignment { .. } => "assignment",
            LiveEvent::VisitorBlocked { .. } => "visitor_blocked",
            LiveEvent::MessageUpdated { .. } => "message_updated",
            LiveEvent::Reaction { .. } => "reaction",
            LiveEvent::ConversationUpdated { .. } => "conversation_updated",
            LiveEvent::ConversationDeleted { .. } => "conversation_deleted",
            LiveEvent::Participants { .. } => "participants",
            LiveEvent::Ticket { .. } => "ticket",
        }
    }

    /// The conversation the event is about; `None` for a `ticket` event
    /// (about the account, not one conversation).
    pub fn conversation_id(&self) -> Option<i64> {
        match self {
            LiveEvent::Message { conversation_id, .. }
            | LiveEvent::Typing { conversation_id, .. }
            | LiveEvent::Mode { conversation_id, .. }
            | LiveEvent::Handoff { conversation_id, .. }
            | LiveEvent::Read { conversation_id, .. }
            | LiveEvent::Status { conversation_id, .. }
            | LiveEvent::Conversation { conversation_id, .. }
            | LiveEvent::Assignment { conversation_id, .. }
            | LiveEvent::VisitorBlocked { conversation_id, .. }
            | LiveEvent::MessageUpdated { conversation_id, .. }
            | LiveEvent::Reaction { conversation_id, .. }
            | LiveEvent::ConversationUpdated { conversation_id, .. }
            | LiveEvent::ConversationDeleted { conversation_id }
            | LiveEvent::Participants { conversation_id, .. } => Some(*conversation_id),
            LiveEvent::Ticket { .. } => None,
        }
    }

    /// The message `seq` of a `message` event (its SSE `id`); `None` for the others.
    pub fn seq(&self) -> Option<i64> {
        match self {
            LiveEvent::Message { message, .. } => Some(message.seq),
            _ => None,
        }
    }

    /// `true` for events the visitor's stream carries (everything but the
    /// visitor's own typing and the operators' notices: new conversation,
    /// handoff, assignment, block).
    pub fn for_visitor(&self) -> bool {
        !matches!(
            self,
            LiveEvent::Conversation { .. }
                | LiveEvent::Handoff { .. }
                | LiveEvent::Assignment { .. }
                | LiveEvent::VisitorBlocked { .. }
                | LiveEvent::ConversationUpdated { .. }
                | LiveEvent::ConversationDeleted { .. }
                | LiveEvent::Participants { .. }
                | LiveEvent::Ticket { .. }
                | LiveEvent::Typing { role: Role::Visitor, .. }
        )
    }

    /// The SSE frame of this event: `event:` its name, `id:` its seq (messages only).
    pub fn to_frame(&self) -> crate::sse::Frame {
        live_frame(self.seq(), self.name(), serde_json::to_string(self).expect("live events serialize"))
    }
}

/// The SSE frame of a live event whose JSON is `data`, named `name` (its
/// `type`), with `id:` its `seq` when it is a message: what
/// [`LiveEvent::to_frame`] writes, also for an event encoded already.
pub fn live_frame(seq: Option<i64>, name: &str, data: String) -> crate::sse::Frame {
    crate::sse::Frame { id: seq.map(|s| s.to_string()), event: Some(name.to_string()), data, retry: None }
}

/// Query of `GET /api/v1/chat/events`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct EventsQuery {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub session_id: String,
    /// Replay messages after this seq (the `Last-Event-ID` header wins when both are given).
    #[serde(default)]
    pub after_seq: Option<i64>,
}

/// Operator messages one `GET /api/v1/chat/operator-messages` answers at
/// most, oldest first; the poller asks again with `since` = the last `seq`
/// (issue 16, bounded reads).
pub const OPERATOR_MESSAGES_PAGE: u32 = 100;

/// Query of `GET /api/v1/chat/operator-messages` (seed 001).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct OperatorMessagesQuery {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub session_id: String,
    /// Only operator messages with a greater `seq` (default 0: all).
    #[serde(default)]
    pub since: Option<i64>,
}

/// Answer of `GET /api/v1/chat/operator-messages` (seed 001's shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorMessages {
    /// Always `true`.
    pub success: bool,
    /// Operator messages after `since`, in `seq` order, at most
    /// [`OPERATOR_MESSAGES_PAGE`].
    pub messages: Vec<ChatMessage>,
    /// Who answers now.
    pub mode: Mode,
    /// `true` when more operator messages follow these: ask again with
    /// `since` set to the last message's `seq`.
    #[serde(default)]
    pub has_more: bool,
}

/// Body of `POST /api/v1/chat/typing` (visitor) and `POST /v1/chat/conversations/{id}/typing` (operator).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TypingRequest {
    /// The site's public key (visitor route only).
    #[serde(default)]
    pub site_key: String,
    /// The visitor's session id (visitor route only).
    #[serde(default)]
    pub session_id: String,
    /// `true` while typing; default `true`.
    #[serde(default = "yes")]
    pub typing: bool,
}

fn yes() -> bool {
    true
}

/// Body of `POST /api/v1/chat/read` (visitor): the visitor has seen the
/// operators' messages up to `seq`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitorRead {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session_id: String,
    /// Read up to this `seq`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub seq: i64,
}

/// Answer of `GET /v1/messaging/token` (seed 002): a single-use token for
/// the operator WebSocket, so the JWT never appears in a URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagingToken {
    /// Pass as `?token=` to `/v1/chat/live`; valid once, for `expires_in` seconds.
    pub token: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// The WebSocket path with the token, e.g. `/v1/chat/live?token=…`.
    pub url: String,
}

/// Per-conversation unread counts of `GET /v1/chat/conversations/unread`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadCounts {
    /// Conversations with unread visitor messages for the caller.
    pub conversations: Vec<UnreadCount>,
    /// Sum of all counts.
    pub total: i64,
}

/// One conversation's unread count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadCount {
    /// The conversation.
    pub conversation_id: i64,
    /// Visitor messages after the caller's read mark.
    pub unread_count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: i64) -> ChatMessage {
        ChatMessage {
            id: seq,
            seq,
            role: Role::Operator,
            content: "hi".into(),
            created_at: "2026-11-21T10:00:00.000Z".into(),
            author_name: Some("Ann".into()),
            sources: Vec::new(),
            status: None,
            attachments: Vec::new(),
            author_id: Some(3),
            edited_at: None,
            reactions: Vec::new(),
            forwarded_from: None,
        }
    }

    #[test]
    fn only_message_events_carry_an_sse_id() {
        let frame = LiveEvent::Message { conversation_id: 1, message: message(7) }.to_frame();
        assert_eq!((frame.id.as_deref(), frame.event.as_deref()), (Some("7"), Some("message")));
        let typing = LiveEvent::Typing { conversation_id: 1, role: Role::Operator, typing: true, author_name: None };
        assert_eq!(typing.to_frame().id, None);
        assert!(typing.for_visitor());
        let visitor_typing = LiveEvent::Typing { conversation_id: 1, role: Role::Visitor, typing: true, author_name: None };
        assert!(!visitor_typing.for_visitor(), "visitors do not see their own typing");
    }

    #[test]
    fn events_round_trip_through_json() {
        let event = LiveEvent::Read { conversation_id: 3, role: Role::Operator, seq: 9 };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(json, r#"{"type":"read","conversation_id":3,"role":"operator","seq":9}"#);
        assert_eq!(serde_json::from_str::<LiveEvent>(&json).unwrap(), event);
    }
}
