//! Seed 000's `/v1/chat/*` routes for integrations: history by chat id
//! ([`crate::chat_id::ChatId`]), messages by person, save (import), status
//! update, live post, public upload, and one message by id.

use serde::{Deserialize, Serialize};

use super::{ChatMessage, MessageStatus, Role};
use crate::error::FieldError;
use crate::limits::MAX_MESSAGE_CHARS;
use crate::validate;

/// Most messages one `GET /v1/chat/history/{chat_id}` answers; more are
/// paged with `?after_seq=` (the answer's `next_after_seq`).
pub const MAX_HISTORY_MESSAGES: u32 = 1000;
/// Default page size of `GET /v1/chat/messages/by-user/{email}`.
pub const DEFAULT_BY_USER_LIMIT: u32 = 100;
/// Largest page size of `GET /v1/chat/messages/by-user/{email}`.
pub const MAX_BY_USER_LIMIT: u32 = 200;
/// Longest `from`, `to` (an email is at most 254) and `type`, in characters.
pub const MAX_ADDRESS_CHARS: usize = 254;
/// Longest `type`, in characters.
pub const MAX_TYPE_CHARS: usize = 32;
/// Earliest `sent_time` a save takes: 2000-01-01T00:00:00Z, in ms since the epoch.
pub const MIN_SENT_TIME_MS: i64 = 946_684_800_000;
/// How far ahead of the worker's clock a `sent_time` may be, in ms (clock skew).
pub const MAX_SENT_TIME_SKEW_MS: i64 = 5 * 60 * 1000;

/// Query of `GET /v1/chat/history/{chat_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct HistoryQuery {
    /// Only messages after this `seq` (the previous page's `next_after_seq`).
    #[serde(default)]
    pub after_seq: Option<i64>,
}

/// Answer of `GET /v1/chat/history/{chat_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatHistory {
    /// The chat id as given.
    pub chat_id: String,
    /// The conversation it names.
    pub conversation_id: i64,
    /// Its messages by `seq` (chronological), at most [`MAX_HISTORY_MESSAGES`].
    pub messages: Vec<ChatMessage>,
    /// Set when more messages follow: ask again with `?after_seq=` this.
    pub next_after_seq: Option<i64>,
}

/// Query of `GET /v1/chat/messages/by-user/{email}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ByUserQuery {
    /// Only messages created after this ISO 8601 time (`2026-04-25T12:34:56Z`).
    #[serde(default)]
    pub created_after: Option<String>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// 1 to [`MAX_BY_USER_LIMIT`] (default [`DEFAULT_BY_USER_LIMIT`]).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
}

/// A message with the conversation it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationMessage {
    pub conversation_id: i64,
    pub message: ChatMessage,
}

/// Answer of `GET /v1/chat/messages/by-user/{email}`: oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserMessages {
    pub messages: Vec<ConversationMessage>,
    /// Set when more messages follow: pass it as `cursor`.
    pub next_cursor: Option<String>,
}

/// The page size of a by-user query: 1 to [`MAX_BY_USER_LIMIT`].
pub fn by_user_limit(limit: Option<u32>) -> Result<u32, FieldError> {
    match limit.unwrap_or(DEFAULT_BY_USER_LIMIT) {
        n @ 1..=MAX_BY_USER_LIMIT => Ok(n),
        _ => Err(FieldError::new("limit", format!("limit must be 1 to {MAX_BY_USER_LIMIT}"))),
    }
}

/// The cursor of a by-user page: the last message's `created_at` and id,
/// as `{created_at}~{id}` (URL-safe).
pub fn encode_cursor(created_at: &str, id: i64) -> String {
    format!("{created_at}~{id}")
}

/// Reads a cursor of [`encode_cursor`]. Errors: 422 on `cursor`.
pub fn decode_cursor(cursor: &str) -> Result<(String, i64), FieldError> {
    let bad = || FieldError::new("cursor", "cursor is not one this route answered");
    let (at, id) = cursor.rsplit_once('~').ok_or_else(bad)?;
    let at = validate::iso8601_utc(at).map_err(|_| bad())?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

/// A message's `content`: not blank, at most [`MAX_MESSAGE_CHARS`] characters.
fn content(text: &str) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new("content", "content is required"));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(FieldError::new("content", format!("content is too long (maximum {MAX_MESSAGE_CHARS} characters)")));
    }
    Ok(())
}

/// Seed 000's `senderRole`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SenderRole {
    /// The customer: stored as a `visitor` message.
    Customer,
    /// A person of the team: an `operator` message.
    Agent,
    /// An AI: an `ai` message.
    Ai,
    /// The system: an `operator` message without an operator, signed `System`
    /// (EdgeChat's messages have the roles visitor, ai and operator).
    System,
}

impl SenderRole {
    /// The stored role.
    pub fn role(self) -> Role {
        match self {
            SenderRole::Customer => Role::Visitor,
            SenderRole::Agent | SenderRole::System => Role::Operator,
            SenderRole::Ai => Role::Ai,
        }
    }

    fn parse(s: &str) -> Option<SenderRole> {
        match s {
            "customer" => Some(SenderRole::Customer),
            "agent" => Some(SenderRole::Agent),
            "ai" => Some(SenderRole::Ai),
            "system" => Some(SenderRole::System),
            _ => None,
        }
    }
}

/// Body of `POST /v1/chat/save/{chat_id}` (seed 000 "Save a message", snake_case).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaveMessage {
    /// Who wrote it (an email or a name; at most 254 characters). For an
    /// `agent`, an operator of the account with this email signs the message.
    #[serde(default)]
    pub from: Option<String>,
    /// Who it was for (at most 254 characters).
    #[serde(default)]
    pub to: Option<String>,
    /// 1 to 10,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub content: String,
    /// Seed 000's message type (e.g. `user`), at most 32 characters; EdgeChat stores text messages only and does not keep it.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// `customer`, `agent`, `ai` or `system`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub sender_role: String,
    /// When it was sent, ms since the epoch (becomes `created_at`); default now.
    /// From 2000-01-01 to 5 minutes ahead of the worker's clock.
    #[serde(default)]
    pub sent_time: Option<i64>,
    /// Client id: saving it again (same chat, same sender role) stores nothing new.
    #[serde(default)]
    pub message_id: Option<String>,
}

/// A checked [`SaveMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSave {
    pub role: SenderRole,
    /// `created_at` (RFC 3339 UTC, ms), or `None` for now.
    pub created_at: Option<String>,
}

impl SaveMessage {
    /// Checks every field against the clock `now_ms` (422 on the first failure).
    pub fn validate(&self, now_ms: i64) -> Result<ValidSave, FieldError> {
        content(&self.content)?;
        for (field, value) in [("from", &self.from), ("to", &self.to)] {
            if let Some(value) = value {
                if value.trim().is_empty() || value.chars().count() > MAX_ADDRESS_CHARS || value.chars().any(char::is_control) {
                    return Err(FieldError::new(
                        field,
                        format!("{field} must be 1 to {MAX_ADDRESS_CHARS} characters without control characters"),
                    ));
                }
            }
        }
        if let Some(kind) = &self.kind {
            if kind.is_empty()
                || kind.chars().count() > MAX_TYPE_CHARS
                || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(FieldError::new("type", format!("type must be 1 to {MAX_TYPE_CHARS} letters, digits, '_' or '-'")));
            }
        }
        let role = SenderRole::parse(&self.sender_role)
            .ok_or_else(|| FieldError::new("sender_role", "sender_role must be customer, agent, ai or system"))?;
        if let Some(id) = &self.message_id {
            validate::message_id(id)?;
        }
        let created_at = match self.sent_time {
            None => None,
            Some(ms) if (MIN_SENT_TIME_MS..=now_ms + MAX_SENT_TIME_SKEW_MS).contains(&ms) => Some(
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                    .ok()
                    .and_then(crate::validate::stored_time)
                    .ok_or_else(|| FieldError::new("sent_time", "sent_time is out of range"))?,
            ),
            Some(_) => return Err(FieldError::new("sent_time", "sent_time must be ms since the epoch, from 2000-01-01 to now")),
        };
        Ok(ValidSave { role, created_at })
    }

    /// The customer's email the message names: `from` of a customer's
    /// message, else `to` (when it is an email).
    pub fn customer_email(&self) -> Option<&str> {
        let candidate = if self.sender_role == "customer" { self.from.as_deref() } else { self.to.as_deref() };
        candidate.filter(|e| validate::email(e).is_ok())
    }
}

/// Answer of `POST /v1/chat/save/{chat_id}` (201) and `POST /v1/chat/live/{chat_id}/{user_id}` (201).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedMessage {
    pub conversation_id: i64,
    pub message: ChatMessage,
    /// `true` when this `message_id` was stored before: nothing new was stored.
    pub duplicate: bool,
}

/// A message named by EdgeChat's id or by the client id given when it was saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum MessageKey {
    /// EdgeChat's message id (a JSON number).
    Id(i64),
    /// The `message_id` given to `save` or `live` (a JSON string).
    Client(String),
}

/// Body of `POST /v1/chat/update/{chat_id}` (seed 000 "Update a message").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateMessage {
    /// The message: EdgeChat's id (number) or the client id given at save (string).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub message_id: Option<MessageKey>,
    /// `sent`, `delivered` or `read`; moves only forward.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub status: String,
    /// With status `read`: when it was read (ISO 8601; default now).
    #[serde(default)]
    pub read_at: Option<String>,
}

/// A checked [`UpdateMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidUpdate {
    pub key: MessageKey,
    pub status: MessageStatus,
    /// Stored form of `read_at`.
    pub read_at: Option<String>,
}

/// The rank of a status in seed 000's order sent → delivered → read.
pub fn status_rank(status: MessageStatus) -> i64 {
    match status {
        MessageStatus::Sent => 0,
        MessageStatus::Delivered => 1,
        MessageStatus::Read => 2,
    }
}

impl UpdateMessage {
    /// Checks every field (422 on the first failure).
    pub fn validate(&self) -> Result<ValidUpdate, FieldError> {
        let key = match &self.message_id {
            None => return Err(FieldError::new("message_id", "message_id is required")),
            Some(MessageKey::Client(id)) => {
                validate::message_id(id)?;
                MessageKey::Client(id.clone())
            }
            Some(key) => key.clone(),
        };
        let status =
            MessageStatus::parse(&self.status).ok_or_else(|| FieldError::new("status", "status must be sent, delivered or read"))?;
        let read_at = match &self.read_at {
            None => None,
            Some(_) if status != MessageStatus::Read => return Err(FieldError::new("read_at", "read_at goes with status read")),
            Some(at) => Some(validate::iso8601_utc(at).map_err(|_| FieldError::new("read_at", "read_at must be an ISO 8601 time"))?),
        };
        Ok(ValidUpdate { key, status, read_at })
    }
}

/// Answer of `POST /v1/chat/update/{chat_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatedMessage {
    pub conversation_id: i64,
    /// The message after the update (its `status`).
    pub message: ChatMessage,
    /// When it was read (status `read`).
    pub read_at: Option<String>,
    /// `false` when the message already had this status (nothing changed, no event).
    pub changed: bool,
}

/// Body of `POST /v1/chat/live/{chat_id}/{user_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LivePost {
    /// 1 to 10,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub content: String,
    /// Client id: posting it again stores nothing new.
    #[serde(default)]
    pub message_id: Option<String>,
}

impl LivePost {
    /// Checks every field (422 on the first failure).
    pub fn validate(&self) -> Result<(), FieldError> {
        content(&self.content)?;
        if let Some(id) = &self.message_id {
            validate::message_id(id)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    fn save(json: &str) -> SaveMessage {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_save_keeps_sent_time_as_created_at() {
        let valid = save(r#"{"content":"hi","sender_role":"customer","sent_time":1714000000000}"#).validate(NOW).unwrap();
        assert_eq!(valid, ValidSave { role: SenderRole::Customer, created_at: Some("2024-04-24T23:06:40.000Z".into()) });
    }

    #[test]
    fn a_save_refuses_each_bad_field() {
        let field = |json: &str| save(json).validate(NOW).unwrap_err().field;
        assert_eq!(field(r#"{"content":"","sender_role":"customer"}"#), "content");
        assert_eq!(field(&format!(r#"{{"content":"{}","sender_role":"customer"}}"#, "x".repeat(10_001))), "content");
        assert_eq!(field(r#"{"content":"hi","sender_role":"robot"}"#), "sender_role");
        assert_eq!(field(r#"{"content":"hi"}"#), "sender_role");
        assert_eq!(field(r#"{"content":"hi","sender_role":"ai","sent_time":5}"#), "sent_time");
        assert_eq!(field(&format!(r#"{{"content":"hi","sender_role":"ai","sent_time":{}}}"#, NOW + 3_600_000)), "sent_time");
        assert_eq!(field(r#"{"content":"hi","sender_role":"ai","from":""}"#), "from");
        assert_eq!(field(&format!(r#"{{"content":"hi","sender_role":"ai","to":"{}"}}"#, "x".repeat(255))), "to");
        assert_eq!(field(r#"{"content":"hi","sender_role":"ai","type":"a b"}"#), "type");
        assert_eq!(field(r#"{"content":"hi","sender_role":"ai","message_id":"a b"}"#), "message_id");
    }

    #[test]
    fn an_update_names_a_message_by_id_or_client_id() {
        let update: UpdateMessage = serde_json::from_str(r#"{"message_id":42,"status":"read","read_at":"2026-04-25T12:34:56Z"}"#).unwrap();
        let valid = update.validate().unwrap();
        assert_eq!(valid.key, MessageKey::Id(42));
        assert_eq!(valid.read_at.as_deref(), Some("2026-04-25T12:34:56.000Z"));
        let update: UpdateMessage = serde_json::from_str(r#"{"message_id":"sk-abc","status":"delivered"}"#).unwrap();
        assert_eq!(update.validate().unwrap().key, MessageKey::Client("sk-abc".into()));
        let bad = |json: &str| serde_json::from_str::<UpdateMessage>(json).unwrap().validate().unwrap_err().field;
        assert_eq!(bad(r#"{"status":"read"}"#), "message_id");
        assert_eq!(bad(r#"{"message_id":1,"status":"seen"}"#), "status");
        assert_eq!(bad(r#"{"message_id":1,"status":"delivered","read_at":"2026-04-25T12:34:56Z"}"#), "read_at");
        assert_eq!(bad(r#"{"message_id":1,"status":"read","read_at":"yesterday"}"#), "read_at");
    }

    #[test]
    fn cursors_round_trip() {
        let cursor = encode_cursor("2026-04-25T12:34:56.000Z", 7);
        assert_eq!(decode_cursor(&cursor).unwrap(), ("2026-04-25T12:34:56.000Z".to_string(), 7));
        assert_eq!(decode_cursor("nonsense").unwrap_err().field, "cursor");
    }
}
