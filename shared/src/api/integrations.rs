//! The integration layer (issue 13; seed 000 and the webhooks of seed 003):
//! account API keys, the event bus and its outgoing webhooks.
//!
//! Every change an integration can follow is one [`BusEvent`] with a unique
//! `id` (`evt_` + 32 hex digits). It is written to the `outbox` table in the
//! same D1 batch as the change it describes, then published on the `EVENTS`
//! queue; a webhook delivery carries it as its JSON body with `webhook-id`
//! set to the event id (Standard Webhooks), so a receiver dedupes by id.

use serde::{Deserialize, Serialize};

use crate::api::list_cap;

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
    /// A ticket was made (issue 14).
    #[serde(rename = "ticket.created")]
    TicketCreated,
    /// A ticket's status, assignee or timeline changed (issue 14).
    #[serde(rename = "ticket.updated")]
    TicketUpdated,
}

impl EventType {
    /// Every event type, in documentation order.
    pub const ALL: [EventType; 8] = [
        EventType::MessageCreated,
        EventType::MessageUpdated,
        EventType::ConversationCreated,
        EventType::ConversationUpdated,
        EventType::RatingCreated,
        EventType::ContactUpdated,
        EventType::TicketCreated,
        EventType::TicketUpdated,
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
            EventType::TicketCreated => "ticket.created",
            EventType::TicketUpdated => "ticket.updated",
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
/// the contact; `ticket.*` carry `conversation_id` (the linked one, or
/// null) and `ticket` (a `Ticket` as it was after the change: `id`,
/// `reference`, `subject`, `status`, `site_id`, `visitor_id`, …), and
/// `ticket.updated` also `changed` (`status`, `assignee_id`, `note`).
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

/// `POST /v1/webhooks`: a new outgoing webhook endpoint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewWebhookEndpoint {
    /// Where deliveries are `POST`ed: `https`, not a private, loopback or
    /// link-local address (unless the deployment allows local endpoints).
    pub url: String,
    /// The event types to deliver; empty: all of them.
    #[serde(default, deserialize_with = "list_cap::at_most::<32, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 32))]
    pub events: Vec<EventType>,
    /// What the endpoint is for, shown in the console.
    #[serde(default)]
    pub description: Option<String>,
}

/// `PATCH /v1/webhooks/{id}`: the fields to change (absent: unchanged).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpointChange {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "list_cap::at_most_or_none::<32, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 32))]
    pub events: Option<Vec<EventType>>,
    #[serde(default)]
    pub description: Option<String>,
    /// `true` pauses deliveries (events meanwhile are not delivered later).
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// An outgoing webhook endpoint of the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    /// Delivered event types; empty: all.
    pub events: Vec<EventType>,
    pub description: Option<String>,
    pub disabled: bool,
    /// ISO 8601 UTC.
    pub created_at: String,
    /// The signing secret (`whsec_` + base64 of 32 random bytes, Standard
    /// Webhooks): present only in the answer that created the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The endpoint answered 2xx.
    Succeeded,
    /// A non-2xx answer, a timeout or a network error; tried again later.
    Failed,
    /// Failed on the last try: dead-lettered, not tried again (unless sent again by hand).
    Dead,
}

/// One line of an endpoint's delivery log (`GET /v1/webhooks/{id}/deliveries`):
/// one attempt to deliver one event, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub event_id: String,
    pub event_type: EventType,
    /// 1 for the first try.
    pub attempt: u32,
    pub outcome: DeliveryOutcome,
    /// The endpoint's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// From the request's start to the answer's headers, in ms.
    pub latency_ms: Option<u32>,
    /// A timeout or network error, if any.
    pub error: Option<String>,
    /// When the attempt was made, ISO 8601 UTC.
    pub attempted_at: String,
}

/// `POST /v1/api-keys`: a new API key.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApiKey {
    /// What the key is for (1 to 100 characters).
    pub name: String,
    /// At least one scope.
    #[serde(deserialize_with = "list_cap::at_most::<8, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 8))]
    pub scopes: Vec<ApiKeyScope>,
}

/// An API key of the account (its secret only in the answer that created it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<ApiKeyScope>,
    /// The key's first characters, to tell keys apart (e.g. `eck_3f9a…`).
    pub prefix: String,
    /// The user who created it: the key acts as them, with role at most agent.
    pub created_by: i64,
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// The secret, `Authorization: Bearer <key>`: only in the create answer;
    /// stored only as a SHA-256 hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Answer of `GET /v1/webhooks`: the account's endpoints, oldest first (no secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpointList {
    pub endpoints: Vec<WebhookEndpoint>,
}

/// Query of `GET /v1/webhooks/{id}/deliveries`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DeliveryPage {
    /// Only log lines with a smaller `id` (the last `id` of the previous page).
    #[serde(default)]
    pub before: Option<i64>,
    /// Page size, 1 to 100 (default 25).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

/// Answer of `GET /v1/webhooks/{id}/deliveries`: the delivery log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDeliveryList {
    pub deliveries: Vec<WebhookDelivery>,
    /// Whether older lines follow (`before` = the last `id`).
    pub has_more: bool,
}

/// Caps of webhook endpoints (issue 13): per account, URL and description length.
pub const MAX_WEBHOOK_ENDPOINTS: usize = 10;
/// Longest endpoint URL, in characters.
pub const MAX_WEBHOOK_URL: usize = 2000;
/// Longest endpoint description, in characters.
pub const MAX_WEBHOOK_DESCRIPTION: usize = 200;
