//! `GET /api/v1/chat/history?site_key=&session_id=` (seed 001).

use serde::{Deserialize, Serialize};

use super::ChatMessage;

/// Query of `GET /api/v1/chat/history`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct HistoryQuery {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub site_key: String,
    /// The visitor's session id (see [`crate::validate::session_id`]).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub session_id: String,
}

/// The visitor's conversation, oldest message first. A session with no
/// conversation yet answers an empty list.
///
/// # Format
/// `{"success":true,"messages":[{"id":1,"seq":1,"role":"visitor","content":"…","created_at":"…"}]}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryResponse {
    /// Always `true` on success (seed 001's shape).
    pub success: bool,
    /// The conversation id, when the session has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<i64>,
    /// Messages ordered by `seq`.
    pub messages: Vec<ChatMessage>,
}
