//! `POST /api/v1/chat/stream` (seed 001): send a visitor message and stream
//! the answer as Server-Sent Events.

use serde::{Deserialize, Serialize};

use super::Mode;
pub use super::Source;
use crate::api::list_cap;
use crate::error::FieldError;
use crate::validate;

/// Body of `POST /api/v1/chat/stream`.
///
/// # Format
/// `{"site_key":"sk_…","session_id":"sess_…","message":"Do you ship to Canada?","lang":"en","message_id":"m_abc",
///   "page_url":"https://shop.example.com/shipping"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamRequest {
    /// The site's public key. Missing fields read as empty and fail validation (422).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The visitor's session id, a client-held secret (≥ 128 random bits).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session_id: String,
    /// The visitor's message: 1 to 10,000 characters, not only white space.
    #[serde(default)]
    pub message: String,
    /// The visitor's language, a BCP 47 tag such as `en` or `pt-BR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Client id of the message: sending the same id again stores nothing new
    /// and replays the stored answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Upload ids to attach (from the upload routes), at most 10; with
    /// attachments the text may be empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "list_cap::at_most::<10, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub attachments: Vec<i64>,
    /// The page the visitor writes from (the widget sends the host page's
    /// `location.href`): an absolute http(s) URL of at most 2,048 characters.
    /// It becomes the conversation's `page_url`, shown to operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
}

impl StreamRequest {
    /// Checks every field; the first failure becomes a 422 `validation_error`.
    pub fn validate(&self) -> Result<(), FieldError> {
        validate::site_key(&self.site_key)?;
        validate::session_id(&self.session_id)?;
        // With attachments the text may be empty, but never too long.
        if self.attachments.is_empty() || self.message.chars().count() > crate::limits::MAX_MESSAGE_CHARS {
            validate::message(&self.message)?;
        }
        if self.attachments.len() > crate::upload::DEFAULT_MAX_FILES_PER_MSG {
            return Err(FieldError::new("attachments", "at most 10 attachments per message"));
        }
        if let Some(lang) = &self.lang {
            validate::lang(lang)?;
        }
        if let Some(id) = &self.message_id {
            validate::message_id(id)?;
        }
        if let Some(url) = &self.page_url {
            validate::page_url(url)?;
        }
        Ok(())
    }
}

/// One SSE event of the stream, sent as `data: <json>\n\n`.
///
/// # Format
/// `{"type":"chunk","content":"Yes, "}` … `{"type":"done","meta":{…}}`, or
/// `{"type":"error","message":"…","handoff_offered":true}` when the answer could not be produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The next piece of the answer; the answer is the concatenation of all chunks.
    Chunk {
        /// Text to append.
        content: String,
    },
    /// The answer is complete and stored.
    Done {
        /// What was stored and where the answer came from.
        meta: DoneMeta,
    },
    /// The answer failed (responder timeout, upstream HTTP error, malformed
    /// or truncated upstream stream); the visitor's message is kept and a
    /// retry with the same `message_id` answers it again.
    Error {
        /// A short message to show the visitor.
        message: String,
        /// `true` when the visitor is offered a person
        /// (`POST /api/v1/chat/handoff`).
        #[serde(default)]
        handoff_offered: bool,
    },
}

/// The `meta` of the final `done` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoneMeta {
    /// The conversation the message went into.
    pub conversation_id: i64,
    /// Id of the stored visitor message.
    pub message_id: i64,
    /// `seq` of the stored visitor message.
    pub seq: i64,
    /// Id of the stored answer, absent when nobody answered (operator mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<i64>,
    /// `seq` of the stored answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_seq: Option<i64>,
    /// Who answers this conversation now.
    pub mode: Mode,
    /// Knowledge-base articles the answer came from, best first.
    pub sources: Vec<Source>,
    /// `true` when a person is offered (`POST /api/v1/chat/handoff`): the
    /// visitor asked for one, or no knowledge-base passage answered with
    /// confidence.
    #[serde(default)]
    pub handoff_offered: bool,
    /// `true` when this `message_id` was already stored and the stored answer was replayed.
    #[serde(default)]
    pub replayed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_MESSAGE_CHARS;

    fn request(message: &str, attachments: Vec<i64>) -> StreamRequest {
        StreamRequest {
            site_key: "sk_demo_edgechat".into(),
            session_id: "sess_0123456789abcdefghijkl".into(),
            message: message.into(),
            lang: None,
            message_id: None,
            attachments,
            page_url: None,
        }
    }

    #[test]
    fn text_is_required_without_attachments_and_optional_with_them() {
        assert_eq!(request("  ", vec![]).validate().unwrap_err().field, "message");
        assert!(request("", vec![7]).validate().is_ok());
        assert!(request("Here is the photo", vec![7]).validate().is_ok());
    }

    #[test]
    fn page_url_is_optional_and_checked_when_given() {
        let on = |url: &str| StreamRequest { page_url: Some(url.into()), ..request("Hello", vec![]) };
        assert!(request("Hello", vec![]).validate().is_ok());
        assert!(on("https://shop.example.com/cart").validate().is_ok());
        assert_eq!(on("not a url").validate().unwrap_err().field, "page_url");
    }

    #[test]
    fn text_over_the_limit_is_refused_with_or_without_attachments() {
        let long = "a".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(request(&long, vec![]).validate().unwrap_err().field, "message");
        assert_eq!(request(&long, vec![7]).validate().unwrap_err().field, "message");
        assert!(request(&"a".repeat(MAX_MESSAGE_CHARS), vec![7]).validate().is_ok());
    }
}
