//! `POST /api/v1/chat/handoff` (issue 6): the visitor accepts the offer of a person.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::validate;

/// Body of `POST /api/v1/chat/handoff`.
///
/// # Format
/// `{"site_key":"sk_…","session_id":"sess_…","lang":"fr"}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoffRequest {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session_id: String,
    /// The visitor's language (BCP 47, e.g. `fr-CA`): the language of
    /// `message`. Without it, the language of the visitor's last message that
    /// named one, else English ([`crate::texts::Lang::from_tag`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl HandoffRequest {
    /// Checks `lang` when given (422 `validation_error`); the site key and
    /// session are checked when the visitor is loaded.
    pub fn validate(&self) -> Result<(), FieldError> {
        self.lang.as_deref().map_or(Ok(()), validate::lang)
    }
}

/// Answer of `POST /api/v1/chat/handoff` (body: [`HandoffRequest`]):
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
    /// A notice to show the visitor, in their language ([`crate::texts::Texts::handoff_accepted`]).
    pub message: String,
}
