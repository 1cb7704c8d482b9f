//! `/v1/chat/conversations…`, `/v1/chat/messages/send`, `/v1/chat/ai-active`,
//! `/v1/chat/blocks` (seeds 002, 000, 003): conversations as operators see them.

use serde::{Deserialize, Serialize};

use super::{ChatMessage, Mode};
use crate::api::list_cap;
use crate::error::FieldError;
use crate::validate;

/// Default page size of lists, and the largest accepted `limit`.
pub const DEFAULT_PAGE: u32 = 25;
/// Largest accepted `limit` of a list.
pub const MAX_PAGE: u32 = 100;

/// A conversation's status (seed 003: `"open" | "closed" | "snoozed"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for or in conversation.
    Open,
    /// Finished; a new visitor message reopens it.
    Closed,
    /// Put aside by an operator.
    Snoozed,
}

impl Status {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Closed => "closed",
            Status::Snoozed => "snoozed",
        }
    }

    /// Parses a stored status; `None` for anything else.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "open" => Some(Status::Open),
            "closed" => Some(Status::Closed),
            "snoozed" => Some(Status::Snoozed),
            _ => None,
        }
    }
}

/// The visitor of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Visitor {
    /// Visitor id (the `{id}` of `/v1/chat/users/{id}/block`).
    pub id: i64,
    /// Name, when the visitor gave one.
    #[serde(default)]
    pub name: Option<String>,
    /// Email, when the visitor gave one.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone (E.164), when the visitor gave one.
    #[serde(default)]
    pub phone: Option<String>,
    /// `true` while blocked.
    pub blocked: bool,
    /// `true` when the site verified who the visitor is (identity verification).
    #[serde(default)]
    pub verified: bool,
    /// First seen, RFC 3339 UTC.
    pub created_at: String,
}

/// What a conversation is between (seed 002, `POST /v1/chat/conversations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A visitor of a site and the account's operators (the widget's chats,
    /// and operators' outbound follow-ups).
    #[default]
    Visitor,
    /// Operators only, no visitor and no site: seen by its participants only.
    Internal,
}

impl Kind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Visitor => "visitor",
            Kind::Internal => "internal",
        }
    }
}

/// One conversation in an operator's list.
///
/// # Format
/// `{"id":7,"kind":"visitor","site_id":1,"status":"open","mode":"ai","assignee_id":null,"visitor":{…},
///   "last_message":{…},"unread_count":2,"muted":false,"archived":false,"last_activity_at":"…","created_at":"…"}`;
/// an internal one has `"kind":"internal"`, no `site_id` and no `visitor`, and usually a `name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSummary {
    /// Conversation id.
    pub id: i64,
    /// `visitor` or `internal`.
    #[serde(default)]
    pub kind: Kind,
    /// Its name (`PATCH /v1/chat/conversations/{id}`), 1 to 100 characters; absent when unnamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its description, at most 1,000 characters; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The site it came in on; absent for an internal conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i64>,
    /// Open, closed or snoozed.
    pub status: Status,
    /// When a snoozed conversation reopens by itself (RFC 3339 UTC;
    /// `POST /v1/chat/conversations/{id}/snooze`); absent unless snoozed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<String>,
    /// Who answers: the AI or an operator.
    pub mode: Mode,
    /// The operator it is assigned to.
    #[serde(default)]
    pub assignee_id: Option<i64>,
    /// The visitor; absent for an internal conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<Visitor>,
    /// The newest message.
    #[serde(default)]
    pub last_message: Option<ChatMessage>,
    /// Messages of others the caller has not read (visitor messages; in an
    /// internal conversation, other operators' messages).
    pub unread_count: i64,
    /// `true` when the caller muted it (no notification, still listed).
    #[serde(default)]
    pub muted: bool,
    /// `true` when the caller archived it (hidden from the default list until the next visitor message).
    #[serde(default)]
    pub archived: bool,
    /// Time of the newest message, RFC 3339 UTC.
    pub last_activity_at: String,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
}

/// Answer of `GET /v1/chat/conversations/{id}`: the conversation as listed,
/// plus what the console's side panel shows (issue 11).
///
/// # Format
/// `{"id":7,"site_id":1,…every field of ConversationSummary…,
///   "page_url":"https://shop.example.com/cart","rating":{"stars":4,"comment":"Quick answer","created_at":"…"}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationDetail {
    /// Every field of the conversation's summary.
    #[serde(flatten)]
    pub summary: ConversationSummary,
    /// The page the visitor sent their latest message from (`page_url` of
    /// their messages); `null` when no message named one.
    #[serde(default)]
    pub page_url: Option<String>,
    /// The visitor's CSAT rating of the conversation (seed 001,
    /// `POST /api/v1/chat/rate`); `null` until they rate it.
    #[serde(default)]
    pub rating: Option<ConversationRating>,
    /// The topic a signed-in user started the request with (seed 003's
    /// `reason`: an internal note, not a message); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<super::app::Reason>,
    /// The app's context of the request (browser, OS, app version, locale,
    /// and the IP the worker saw); absent for widget conversations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<super::app::RequestMeta>,
}

/// A visitor's CSAT rating of a conversation: one per conversation, the first stays (seed 003).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationRating {
    /// 1 (very unhappy) to 5 (very happy).
    pub stars: i64,
    /// The visitor's comment (`POST /api/v1/chat/rate/comment`), 1 to 2,000 characters.
    #[serde(default)]
    pub comment: Option<String>,
    /// When the visitor rated, RFC 3339 UTC.
    pub created_at: String,
}

/// Query of `GET /v1/chat/conversations`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ConversationFilter {
    /// Only this site's conversations.
    #[serde(default)]
    pub site_id: Option<i64>,
    /// `open`, `closed` or `snoozed`.
    #[serde(default)]
    pub status: Option<Status>,
    /// `ai` or `operator`.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// An operator id, `me`, or `none` (unassigned).
    #[serde(default)]
    pub assignee: Option<String>,
    /// `visitor` or `internal` conversations only.
    #[serde(default)]
    pub kind: Option<Kind>,
    /// `true`: only the conversations the caller archived. Without it (or
    /// `false`) the list leaves out the caller's archived conversations, and
    /// those they deleted `for_me` with no message since (seed 002).
    #[serde(default)]
    pub archived: Option<bool>,
    /// `me`: only the conversations the caller takes part in (`participants`).
    #[serde(default)]
    pub participant: Option<String>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

/// Answer of `GET /v1/chat/conversations` and `GET /v1/chat/ai-active`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationList {
    /// Newest activity first.
    pub conversations: Vec<ConversationSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Query of `GET /v1/chat/conversations/{id}/messages`: `after_seq` pages
/// forward (oldest first), `before_seq` backward; neither gives the newest page.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct MessagePage {
    /// Only messages with a smaller `seq`.
    #[serde(default)]
    pub before_seq: Option<i64>,
    /// Only messages with a greater `seq`.
    #[serde(default)]
    pub after_seq: Option<i64>,
    /// Page size, 1 to 100 (default 25).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

/// Answer of `GET /v1/chat/conversations/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageList {
    /// Messages in `seq` order.
    pub messages: Vec<ChatMessage>,
    /// `true` when more messages lie beyond this page in its direction.
    pub has_more: bool,
}

/// Body of `POST /v1/chat/messages/send`: an operator reply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorSend {
    /// The conversation to answer.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub conversation_id: i64,
    /// 1 to 10,000 characters; may be empty when `attachments` has files.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub content: String,
    /// Client id: sending it again stores nothing new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Upload ids of the caller's account's operator files
    /// (`POST /v1/chat/media`, or a confirmed upload URL's `upload_id`), not
    /// attached to a message yet; at most `MAX_FILES_PER_MSG` (default 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "list_cap::at_most::<10, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub attachments: Vec<i64>,
}

impl OperatorSend {
    /// Checks every field (422 on the first failure).
    pub fn validate(&self) -> Result<(), FieldError> {
        // With attachments the text may be empty, but never too long (as visitors').
        if self.attachments.is_empty() || self.content.chars().count() > crate::limits::MAX_MESSAGE_CHARS {
            validate::message(&self.content).map_err(|e| FieldError::new("content", e.message.replace("message", "content")))?;
        }
        if self.attachments.len() > crate::upload::DEFAULT_MAX_FILES_PER_MSG {
            return Err(FieldError::new("attachments", "at most 10 attachments per message"));
        }
        if let Some(id) = &self.message_id {
            validate::message_id(id)?;
        }
        Ok(())
    }
}

/// Answer of `POST /v1/chat/messages/send` (201).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SentMessage {
    /// The stored message.
    pub message: ChatMessage,
    /// `true` when this `message_id` was already stored.
    pub duplicate: bool,
}

/// Body of `POST /v1/chat/conversations/{id}/assign`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    /// The operator to assign, or `null` to unassign.
    #[serde(default)]
    pub assignee_id: Option<i64>,
}

/// Body of `POST /v1/chat/users/{id}/block` (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockRequest {
    /// Why, for other operators; at most 500 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A blocked visitor in `GET /v1/chat/blocks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Block {
    /// The visitor.
    pub visitor: Visitor,
    /// The site the visitor belongs to.
    pub site_id: i64,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// When, RFC 3339 UTC.
    pub blocked_at: String,
}

/// Answer of `GET /v1/chat/blocks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockList {
    /// Newest first.
    pub blocks: Vec<Block>,
}
