//! The conversation routes of seed 004 ("Chat" API with a site key):
//! `POST /api/v1/chat/conversations`, `GET|POST
//! /api/v1/chat/conversations/{visitor_token}/messages`, and
//! `GET /api/v1/chat/conversations/{visitor_token}/files/{activity_id}/{id}`.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::limits::MAX_MESSAGE_CHARS;
use crate::validate;

/// Body of `POST /api/v1/chat/conversations` (seed 004, "Create Conversation").
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateConversation {
    /// Contact name.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub name: String,
    /// Valid email address.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub email: String,
    /// Initial message, at most 10,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub message: String,
    /// Unique visitor identifier (22 to 128 letters, digits, `_` or `-`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub visitor_token: String,
    /// The page the visitor writes from: an absolute http(s) URL of at most
    /// 2,048 characters, shown to operators as the conversation's `page_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// The visitor's language (BCP 47, e.g. `fr` or `pt-BR`, at most 35
    /// characters): the language of `auto_reply` and of the conversation's
    /// later server texts ([`crate::texts::Lang::from_tag`]; English by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl CreateConversation {
    /// Seed 004's checks, with its exact messages (422).
    pub fn validate(&self) -> Result<(), FieldError> {
        let blank = [&self.name, &self.email, &self.message, &self.visitor_token].iter().any(|f| f.trim().is_empty());
        if blank {
            return Err(FieldError::new("message", "Name, email, message, and visitor_token are required"));
        }
        validate::email(&self.email).map_err(|_| FieldError::new("email", "Invalid email address"))?;
        if self.message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(FieldError::new("message", "Message is too long (maximum 10000 characters)"));
        }
        validate::session_id(&self.visitor_token)
            .map_err(|_| FieldError::new("visitor_token", "visitor_token must be 22 to 128 letters, digits, '_' or '-'"))?;
        validate::display_name("name", &self.name)?;
        self.lang.as_deref().map_or(Ok(()), validate::lang)?;
        self.page_url.as_deref().map_or(Ok(()), validate::page_url)
    }
}

/// Answer of `POST /api/v1/chat/conversations` (201).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedConversation {
    /// Opaque token of the conversation.
    pub conversation_token: String,
    /// The automatic reply, in the visitor's `lang` ([`crate::texts::Texts::auto_reply`]).
    pub auto_reply: String,
}

/// One message of `GET …/messages` (seed 004's shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenMessage {
    /// `inbound` (from the visitor) or `outbound` (AI or operator).
    pub direction: String,
    /// The text.
    pub body: String,
    /// RFC 3339 UTC.
    pub timestamp: String,
    /// The visitor's name, the operator's name, or the site's name for AI answers.
    pub author: String,
}

/// Query of `GET …/messages`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct TokenQuery {
    /// The site's public key.
    #[serde(default)]
    pub site_key: String,
    /// ISO 8601 time: only messages after it.
    #[serde(default)]
    pub since: Option<String>,
    /// `inline` or `attachment` (files route; default `attachment`).
    #[serde(default)]
    pub disposition: Option<String>,
}

/// Body of `POST …/messages` (seed 004, "Send Reply").
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyRequest {
    /// Reply text, 1 to 10,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub message: String,
    /// The page the visitor writes from: an absolute http(s) URL of at most
    /// 2,048 characters, shown to operators as the conversation's `page_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
}

impl ReplyRequest {
    /// Checks every field (422 on the first failure).
    pub fn validate(&self) -> Result<(), FieldError> {
        validate::message(&self.message)?;
        self.page_url.as_deref().map_or(Ok(()), validate::page_url)
    }
}
