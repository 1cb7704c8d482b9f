//! `GET /api/v1/chat/history?site_key=&session_id=` (seed 001).

use serde::{Deserialize, Serialize};

use super::ChatMessage;
use crate::error::FieldError;

/// Messages one `GET /api/v1/chat/history` answers at most: the newest
/// ones; older ones page back with `?before_seq=`. Bounds the D1 read and
/// the answer of a long conversation (issue 16, bounded resources).
pub const HISTORY_PAGE: u32 = 100;

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
    /// Only messages before this `seq` (1 or more): the previous answer's
    /// first `seq`, to page back when it had `has_more`.
    #[serde(default)]
    pub before_seq: Option<i64>,
}

impl HistoryQuery {
    /// Errors: 422 on `before_seq` below 1.
    pub fn validate(&self) -> Result<(), FieldError> {
        before_seq(self.before_seq)
    }
}

/// A `before_seq` cursor of a page read back from the newest (this route's
/// and `GET /api/v1/app/conversations/{id}`'s): absent, or a `seq` of 1 or
/// more. Errors: 422 on `before_seq` otherwise.
pub fn before_seq(value: Option<i64>) -> Result<(), FieldError> {
    match value {
        Some(seq) if seq < 1 => Err(FieldError::new("before_seq", "before_seq must be 1 or more")),
        _ => Ok(()),
    }
}

/// The visitor's conversation, oldest message first: its newest
/// [`HISTORY_PAGE`] messages (before `before_seq` when given). A session
/// with no conversation yet answers an empty list.
///
/// # Format
/// `{"success":true,"messages":[{"id":1,"seq":1,"role":"visitor","content":"…","created_at":"…"}],"has_more":false}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryResponse {
    /// Always `true` on success (seed 001's shape).
    pub success: bool,
    /// The conversation id, when the session has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<i64>,
    /// Messages ordered by `seq`, at most [`HISTORY_PAGE`].
    pub messages: Vec<ChatMessage>,
    /// `true` when older messages precede these: ask again with
    /// `before_seq` set to the first message's `seq`.
    #[serde(default)]
    pub has_more: bool,
}
