//! The integration layer (issue 13; seed 000 and the webhooks of seed 003):
//! account API keys, the event bus and its outgoing webhooks.
//!
//! Every change an integration can follow is one [`BusEvent`] with a unique
//! `id` (`evt_` + 32 hex digits). It is written to the `outbox` table in the
//! same D1 batch as the change it describes, then published on the `EVENTS`
//! queue; a webhook delivery carries it as its JSON body with `webhook-id`
//! set to the event id (Standard Webhooks), so a receiver dedupes by id.

use serde::{Deserialize, Serialize};

/// The kind of a bus event: its `type` on the wire (Standard Webhooks'
/// dotted `resource.action` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    /// A message was stored (live, saved by an integration, or an AI answer).
    #[serde(rename = "message.created")]
    MessageCreated,
    /// A message's delivery status moved forward, or its content was edited.
    #[serde(rename = "message.updated")]
    MessageUpdated,
    /// A conversation was started.
    #[serde(rename = "conversation.created")]
    ConversationCreated,
    /// A conversation's status, mode or assignee changed.
    #[serde(rename = "conversation.updated")]
    ConversationUpdated,
    /// A visitor rated a conversation (CSAT).
    #[serde(rename = "rating.created")]
    RatingCreated,
    /// A visitor's contact details (name, email, phone, …) changed.
    #[serde(rename = "contact.updated")]
    ContactUpdated,
}

impl EventType {
    /// Every event type, in documentation order.
    pub const ALL: [EventType; 6] = [
        EventType::MessageCreated,
        EventType::MessageUpdated,
        EventType::ConversationCreated,
        EventType::ConversationUpdated,
        EventType::RatingCreated,
        EventType::ContactUpdated,
    ];

    /// The wire and stored name, e.g. `message.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::MessageCreated => "message.created",
            EventType::MessageUpdated => "message.updated",
            EventType::ConversationCreated => "conversation.created",
            EventType::ConversationUpdated => "conversation.updated",
            EventType::RatingCreated => "rating.created",
            EventType::ContactUpdated => "contact.updated",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One event on the bus, as a webhook receiver gets it (the JSON body of
/// the delivery).
///
/// # Format
/// `{"id":"evt_…","type":"message.created","created_at":"2026-12-02T10:00:00.000Z",
///   "account_id":1,"data":{"conversation_id":7,"message":{…}}}`
///
/// `data` depends on `type`: `message.*` carry `conversation_id` and
/// `message` (a `ChatMessage`); `conversation.*` carry `conversation_id`,
/// `status`, `mode`, `assignee_id` and `changed` (the field names that
/// changed); `rating.created` carries `conversation_id`, `score`,
/// `comment`; `contact.updated` carries `conversation_id`, `visitor_id` and
/// the contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BusEvent {
    /// Unique event id, `evt_` + 32 lower-case hex digits; the `webhook-id`
    /// of its deliveries.
    pub id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When the change was stored, ISO 8601 UTC with milliseconds.
    pub created_at: String,
    /// The account the change belongs to.
    pub account_id: i64,
    /// The event's payload (see the type's documentation).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// What an API key may do (issue 13): `read` allows the `GET` routes of
/// `/v1`, `write` also the routes that change data. Neither manages people,
/// sites, keys or webhooks (those stay with signed-in owners and admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyScope {
    /// Read conversations, messages and history.
    Read,
    /// Also save, update and post messages, and change conversations.
    Write,
}
