//! Request and answer types of every route, one module per resource: the
//! widget API (`/api/v1/chat/*`, seeds 001 and 004), auth (`/auth/*`) and the
//! operator API (`/v1/*`, seeds 002, 000, 003).

pub mod app;
pub mod auth;
pub mod chat;
pub mod complaints;
pub mod config;
pub mod contact;
pub mod conversations;
pub mod devices;
pub mod diagnostics;
pub mod events;
pub mod handoff;
pub mod health;
pub mod history;
pub mod inbound;
pub mod integrations;
pub mod list_cap;
pub mod media;
pub mod messages;
pub mod proactive;
pub mod rating;
pub mod sites;
pub mod stream;
pub mod team;
pub mod tickets;
pub mod token_conversations;
pub mod transcripts;
pub mod uploads;
pub mod users;
pub mod visitor;

use serde::{Deserialize, Serialize};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person chatting through the widget.
    Visitor,
    /// The AI responder (knowledge base or language model).
    Ai,
    /// A human operator of the site.
    Operator,
}

impl Role {
    /// The name stored in D1 (`messages.role`) and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Visitor => "visitor",
            Role::Ai => "ai",
            Role::Operator => "operator",
        }
    }

    /// Parses a stored role; `None` for anything else.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "visitor" => Some(Role::Visitor),
            "ai" => Some(Role::Ai),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }
}

/// Who answers a conversation: the AI responder or a human operator
/// (seed 001, `operator-messages`: `"mode": "ai" | "operator"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The AI responder answers each visitor message.
    Ai,
    /// A human operator has taken over; the AI stays silent.
    Operator,
}

impl Mode {
    /// The name stored in D1 (`conversations.mode`) and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Ai => "ai",
            Mode::Operator => "operator",
        }
    }

    /// Parses a stored mode; `None` for anything else.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "ai" => Some(Mode::Ai),
            "operator" => Some(Mode::Operator),
            _ => None,
        }
    }
}

/// One message of a conversation as the widget shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    /// Message id (D1 primary key).
    pub id: i64,
    /// Position in the conversation: 1, 2, 3… with no gaps.
    pub seq: i64,
    /// Who wrote it.
    pub role: Role,
    /// The text, to be rendered as text, never as HTML.
    pub content: String,
    /// Creation time, RFC 3339 in UTC (`2026-11-21T10:30:00.000Z`).
    pub created_at: String,
    /// The operator's display name for operator messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// Knowledge-base articles an AI answer cites, best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    /// Delivery status (seed 000: sent → delivered → read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MessageStatus>,
    /// Files attached to the message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<uploads::Attachment>,
    /// The operator (user id) who wrote an operator message; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<i64>,
    /// When its author last edited it, RFC 3339 UTC (`PATCH /v1/chat/messages/{id}`,
    /// seed 002); absent when never edited. Clients show "edited".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// Reactions, one entry per emoji with at least one reaction, in the
    /// order they were first given (seed 002, `POST /v1/chat/messages/{id}/reactions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// Where a forwarded copy came from (seed 002, `POST /v1/chat/messages/forward`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_from: Option<ForwardedFrom>,
}

/// The reactions of one emoji on a message.
///
/// # Format
/// `{"emoji":"👍","count":2,"mine":true}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reaction {
    /// The emoji: one emoji grapheme.
    pub emoji: String,
    /// How many people reacted with it (at least 1).
    pub count: i64,
    /// `true` when the caller is one of them.
    #[serde(default)]
    pub mine: bool,
}

/// The origin of a forwarded message.
///
/// # Format
/// `{"conversation_id":7,"message_id":120}`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForwardedFrom {
    /// The conversation it was forwarded from.
    pub conversation_id: i64,
    /// The original message (message ids are never reused).
    pub message_id: i64,
}

/// Delivery status of a message (seed 000, "Update a message": sent → delivered → read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Stored.
    Sent,
    /// Reached the other side's live channel.
    Delivered,
    /// The other side has read it.
    Read,
}

impl MessageStatus {
    /// Parses a stored status; `None` for anything else.
    pub fn parse(s: &str) -> Option<MessageStatus> {
        match s {
            "sent" => Some(MessageStatus::Sent),
            "delivered" => Some(MessageStatus::Delivered),
            "read" => Some(MessageStatus::Read),
            _ => None,
        }
    }
}

/// A knowledge-base article an answer cites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Source {
    /// The article's id exactly as imported (e.g. `stackfaq-001`).
    pub id: String,
    /// The article's title.
    pub title: String,
    /// Public URL of the article, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}
