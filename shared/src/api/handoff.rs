//! `POST /api/v1/chat/handoff` (issue 6): the visitor accepts the offer of a person.

use serde::{Deserialize, Serialize};

/// Answer of `POST /api/v1/chat/handoff` (body: [`VisitorQuery`] as JSON):
/// the visitor accepted the offer of a person.
///
/// # Format
/// `{"success":true,"mode":"operator","message":"A person from our team will reply here as soon as possible."}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoffResponse {
    /// Always `true`.
    pub success: bool,
    /// The conversation's mode now: always `operator`.
    pub mode: super::Mode,
    /// A notice to show the visitor.
    pub message: String,
}
