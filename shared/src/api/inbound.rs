//! Inbound webhooks (seed 003's HMAC-verified endpoint; issue 13): an
//! external helpdesk or automation posts Standard-Webhooks-signed
//! `message.created` events into a chat.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Longest endpoint name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Inbound endpoints an account may have.
pub const MAX_ENDPOINTS: i64 = 20;
/// Largest accepted delivery body, in bytes (64 KiB; larger is 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest accepted `webhook-id` header, in characters.
pub const MAX_WEBHOOK_ID_CHARS: usize = 200;
/// Longest `from` display name, in characters.
pub const MAX_FROM_CHARS: usize = 100;

/// Body of `POST /v1/inbound-webhooks`.
///
/// # Format
/// `{"name":"Helpdesk"}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewInboundEndpoint {
    /// A name for people: 1 to 100 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub name: String,
}

impl NewInboundEndpoint {
    /// 422 for a blank name or one over [`MAX_NAME_CHARS`].
    pub fn validate(&self) -> Result<(), FieldError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(FieldError::new("name", format!("name must be 1 to {MAX_NAME_CHARS} characters")));
        }
        Ok(())
    }
}

/// An inbound endpoint. `secret` (`whsec_` + base64 of 32 random bytes, the
/// Standard Webhooks form) is answered only when the endpoint is created.
///
/// # Format
/// `{"id":"ibw_…","name":"Helpdesk","url":"https://chat.example.com/webhooks/inbound/ibw_…",
///   "created_at":"2026-12-02T10:00:00.000Z","secret":"whsec_…"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundEndpoint {
    pub id: String,
    pub name: String,
    /// Where to send deliveries.
    pub url: String,
    pub created_at: String,
    /// The signing secret, shown once (creation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// A delivery's body: `{"type":"message.created","data":{…}}` (other fields,
/// such as a sender's own `timestamp`, are ignored).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundEvent {
    /// Only `message.created` is accepted.
    #[serde(rename = "type")]
    pub kind: String,
    pub data: InboundMessage,
}

/// The message of an inbound `message.created`.
///
/// # Format
/// `{"chat_id":"customer:jane@example.com","content":"Your ticket is solved","from":"Helpdesk","user_id":12}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundMessage {
    /// The chat to post into (seed 000 chat id forms), in the endpoint's account.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub chat_id: String,
    /// The message text (1 to 10,000 characters, the message cap).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub content: String,
    /// The author name shown on the message (at most 100 characters);
    /// defaults to the author's display name.
    #[serde(default)]
    pub from: Option<String>,
    /// The operator (user id of the endpoint's account) the message is
    /// written as; defaults to the user who created the endpoint.
    #[serde(default)]
    pub user_id: Option<i64>,
}

impl InboundEvent {
    /// 422 for another `type`, a missing `chat_id`, a blank or over-long
    /// `content`, or a `from` over [`MAX_FROM_CHARS`].
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.kind != "message.created" {
            return Err(FieldError::new("type", "type must be message.created"));
        }
        if self.data.chat_id.is_empty() {
            return Err(FieldError::new("chat_id", "data.chat_id is required"));
        }
        crate::validate::message(&self.data.content).map_err(|e| FieldError::new("content", e.message))?;
        if let Some(from) = &self.data.from {
            if from.trim().is_empty() || from.chars().count() > MAX_FROM_CHARS || from.chars().any(char::is_control) {
                return Err(FieldError::new("from", format!("data.from must be 1 to {MAX_FROM_CHARS} characters")));
            }
        }
        Ok(())
    }
}

/// Answer of `POST /webhooks/inbound/{endpoint_id}`: the stored message's
/// id, and `duplicate` when this `webhook-id` was delivered before (nothing
/// new stored).
///
/// # Format
/// `{"message_id":41,"duplicate":false}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundReceipt {
    pub message_id: i64,
    pub duplicate: bool,
}
