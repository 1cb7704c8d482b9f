//! The visitor's own details and feedback (seed 001): `POST /api/v1/chat/email`,
//! `/contact`, `/rate`, `/rate/comment`, `/handoff`, `GET /api/v1/chat/block-status`;
//! and identity verification of logged-in visitors.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::validate;

/// Body of `POST /api/v1/chat/email` (seed 001).
///
/// # Format
/// `{"site_key":"sk_…","session_id":"sess_…","email":"jane@example.com"}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EmailRequest {
    /// The site's public key.
    #[serde(default)]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    pub session_id: String,
    /// The visitor's email.
    #[serde(default)]
    pub email: String,
}

/// Body of `POST /api/v1/chat/contact` (seed 001): email and/or phone, optional name.
///
/// # Format
/// `{"site_key":"sk_…","session_id":"sess_…","email":"jane@example.com","phone":"+14155550123","name":"Jane"}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContactRequest {
    /// The site's public key.
    #[serde(default)]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    pub session_id: String,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number in E.164 (`+` and up to 15 digits, ITU-T E.164).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The visitor's name, 1 to 120 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ContactRequest {
    /// At least one of email or phone; each present field valid (422 otherwise).
    pub fn validate(&self) -> Result<(), FieldError> {
        let email = self.email.as_deref().filter(|e| !e.is_empty());
        let phone = self.phone.as_deref().filter(|p| !p.is_empty());
        if email.is_none() && phone.is_none() {
            return Err(FieldError::new("email", "email or phone is required"));
        }
        if let Some(email) = email {
            validate::email(email)?;
        }
        if let Some(phone) = phone {
            validate::e164_phone(phone)?;
        }
        if let Some(name) = &self.name {
            validate::display_name("name", name)?;
        }
        Ok(())
    }
}

/// The answer of the email and contact routes (seed 001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// Always `true`.
    pub success: bool,
    /// `"Email saved"` or `"Contact saved"`.
    pub message: String,
}

/// Body of `POST /api/v1/chat/rate` (seed 001): a CSAT score of the
/// visitor's conversation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RateRequest {
    /// The site's public key.
    #[serde(default)]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    pub session_id: String,
    /// 1 (very unhappy) to 5 (very happy).
    #[serde(default)]
    pub score: i64,
}

/// Answer of `POST /api/v1/chat/rate`: one rating per conversation; a
/// second answers `{"success":true,"id":null,"duplicate":true}` and changes
/// nothing (seed 003's CSAT rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateResponse {
    /// Always `true`.
    pub success: bool,
    /// The rating's id; `null` for a duplicate.
    pub id: Option<i64>,
    /// `true` when the conversation was already rated.
    pub duplicate: bool,
}

/// Body of `POST /api/v1/chat/rate/comment` (seed 001): a comment on the rating.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RateCommentRequest {
    /// The site's public key.
    #[serde(default)]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    pub session_id: String,
    /// 1 to 2,000 characters.
    #[serde(default)]
    pub comment: String,
}

/// Query of `GET /api/v1/chat/block-status` and other visitor GETs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VisitorQuery {
    /// The site's public key.
    #[serde(default)]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    pub session_id: String,
}

/// Answer of `GET /api/v1/chat/block-status` (seed 001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockStatus {
    /// Always `true`.
    pub success: bool,
    /// `true` when the site's operators blocked this visitor.
    pub blocked: bool,
}

/// Largest accepted rating comment, in characters.
pub const MAX_RATING_COMMENT_CHARS: usize = 2_000;

/// Identity of a logged-in visitor, verified with the site's secret
/// (`EdgeChat('identify', {user_id, email, name, user_hash})`): the scheme
/// Intercom, Crisp and Chatwoot use. Sent as query parameters on every
/// widget request; a mismatching `user_hash` answers 401.
///
/// # Format
/// `?user_id=42&user_hash=<hex HMAC-SHA256(site secret, "42")>&email=…&name=…`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentityQuery {
    /// The site's own id of the logged-in user, 1 to 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `HMAC-SHA256(site identity secret, user_id)` in lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
    /// The user's email, stored on the visitor once verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's name, stored on the visitor once verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Answer of `POST /api/v1/chat/handoff` (body: [`VisitorQuery`] as JSON):
/// the visitor accepted the offer of a person.
///
/// # Format
/// `{"success":true,"mode":"operator","message":"A person from our team will reply here as soon as possible."}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffResponse {
    /// Always `true`.
    pub success: bool,
    /// The conversation's mode now: always `operator`.
    pub mode: super::Mode,
    /// A notice to show the visitor.
    pub message: String,
}
