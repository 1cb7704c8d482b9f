//! Transcripts by email (seed 000 `POST /chat/transcript/send`; issue 13):
//! the operator route and the widget's "email me a copy".

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::validate;

/// Messages a transcript holds at most: the conversation's newest ones; the
/// email says when earlier ones were left out.
pub const TRANSCRIPT_MAX_MESSAGES: usize = 1000;

/// Transcripts a visitor may ask for per conversation in 24 hours (the
/// widget route), on top of the widget's write limit per IP.
pub const VISITOR_TRANSCRIPTS_PER_DAY: i64 = 3;

/// Transcripts one address may receive in 24 hours, whoever asks: the
/// widget route is public and its contact email unverified, so a new
/// session must not make EdgeChat a relay that mails a stranger again and
/// again. Counted per mailbox (`validate::mailbox`: case and `+tag`
/// spellings of one address together).
pub const TRANSCRIPTS_PER_ADDRESS_PER_DAY: i64 = 5;

/// Transcripts one account may send in 24 hours, operators' and visitors'
/// together (an account's own sending budget, whatever its sites).
pub const TRANSCRIPTS_PER_ACCOUNT_PER_DAY: i64 = 500;

/// Of [`TRANSCRIPTS_PER_ACCOUNT_PER_DAY`], how many visitors may ask for
/// in 24 hours: the rest stays the operators', whatever strangers on the
/// public widget route do.
pub const VISITOR_TRANSCRIPTS_PER_ACCOUNT_PER_DAY: i64 = 200;

/// Body of `POST /v1/chat/transcript/send` (seed 000).
///
/// # Format
/// `{"chat_id":"customer:jane@example.com","email":"jane@example.com"}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranscriptRequest {
    /// The conversation's chat id (seed 000 forms: `customer:{email}`,
    /// `customer:{session_id}:{email}`, `{emailA}|{emailB}`, an external id).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub chat_id: String,
    /// Where to send it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub email: String,
}

impl TranscriptRequest {
    /// 422 for a missing or malformed `email` (the chat id is checked when resolved).
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.chat_id.is_empty() {
            return Err(FieldError::new("chat_id", "chat_id is required"));
        }
        validate::email(&self.email)
    }
}

/// Body of the widget's `POST /api/v1/chat/transcript` ("email me a copy").
///
/// # Format
/// `{"site_key":"sk_…","session_id":"sess_…","email":"jane@example.com"}`;
/// `email` defaults to the visitor's contact email and, when given, must be
/// that address (a stranger cannot make EdgeChat mail arbitrary addresses).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitorTranscriptRequest {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session_id: String,
    /// The visitor's contact email (optional: it is the default).
    #[serde(default)]
    pub email: Option<String>,
}

/// Answer of both transcript routes: 202 with the queued email's id
/// (`eml_` + 32 hex digits; also the provider's idempotency key).
///
/// # Format
/// `{"id":"eml_…"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuedEmail {
    pub id: String,
}
