//! Signed-in users (seed 003): a site's own app signs its user in with a
//! short-lived identity JWT minted by its backend, and gets an EdgeChat
//! session token for the `/api/v1/app/*` routes.
//!
//! The identity JWT is what Intercom's "identity JWT" is: HS256 (RFC 7518
//! §3.2) with the site's identity secret, claims [`IdentityClaims`]. The
//! session token answered for it is opaque (`ecs_` + 160 random bits),
//! stored only as a hash, valid [`SESSION_SECONDS`].

use serde::{Deserialize, Serialize};

use super::conversations::Status;
use super::ChatMessage;
use crate::api::list_cap;
use crate::error::FieldError;
use crate::validate;

/// Longest an identity JWT may live: its `exp` at most this many seconds
/// after the worker's clock (the JWT is minted per page load, Intercom-style).
pub const MAX_IDENTITY_SECONDS: i64 = 3600;

/// Clock skew allowed on `exp` and `iat`, in seconds.
pub const CLOCK_LEEWAY_SECONDS: i64 = 5;

/// How long an app session token is valid, in seconds (12 hours); the app
/// signs in again with a fresh identity JWT after that.
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// Longest user id (`sub`), in characters: the widget's `user_id` limit.
pub const MAX_USER_ID_CHARS: usize = 128;

/// Claims of the identity JWT a site's backend mints (HS256, the site's
/// identity secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityClaims {
    /// The site's own id of the user (1 to 128 characters): the same user
    /// as the widget's `user_id` with a matching `user_hash`.
    pub sub: String,
    /// The user's email, shown to operators when valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's name, shown to operators when valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Expiry, Unix seconds: in the future, at most [`MAX_IDENTITY_SECONDS`] ahead.
    pub exp: i64,
    /// Issued at, Unix seconds: not in the future.
    pub iat: i64,
}

/// Whether `value` has the shape of a JWT's signing input
/// (`<base64url JSON object>.<base64url>`). Such a string is refused as a
/// user id, both in the identity JWT's `sub` and as the widget's `user_id`:
/// `user_hash` and the identity JWT's signature are both HMAC-SHA256 with
/// the site's identity secret, so a `user_hash` computed for a user id of
/// this shape would be a valid JWT signature (and the reverse).
pub fn looks_like_jwt_input(value: &str) -> bool {
    use base64::Engine;
    let Some((header, _)) = value.split_once('.') else { return false };
    // A JWT's header is a JSON object in base64url (RFC 7515 §7.1), padded or not.
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(header.trim_end_matches('=')));
    decoded.is_ok_and(|bytes| serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes).is_ok())
}

/// Checks a user id: 1 to [`MAX_USER_ID_CHARS`] characters, no control
/// characters, not shaped like a JWT signing input.
pub fn user_id(value: &str) -> Result<(), FieldError> {
    if value.is_empty() || value.chars().count() > MAX_USER_ID_CHARS || value.chars().any(char::is_control) {
        return Err(FieldError::new("sub", format!("the user id must be 1 to {MAX_USER_ID_CHARS} characters")));
    }
    if looks_like_jwt_input(value) {
        return Err(FieldError::new("sub", "the user id must not have the shape of a JWT"));
    }
    Ok(())
}

/// Body of `POST /api/v1/app/session`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionRequest {
    /// The site's public key.
    #[serde(default, alias = "siteKey")]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The identity JWT the site's backend minted for its signed-in user.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub token: String,
}

impl SessionRequest {
    /// 422 for a malformed site key or an empty or oversized token (8 KiB).
    pub fn validate(&self) -> Result<(), FieldError> {
        validate::site_key(&self.site_key)?;
        if self.token.is_empty() || self.token.len() > 8192 {
            return Err(FieldError::new("token", "token must be an identity JWT of at most 8192 bytes"));
        }
        Ok(())
    }
}

/// The signed-in user, as the app session knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppUserInfo {
    /// The site's own id of the user (the identity JWT's `sub`).
    pub user_id: String,
    /// The user's name, when known.
    pub name: Option<String>,
    /// The user's email, when known.
    pub email: Option<String>,
}

/// Answer of `POST /api/v1/app/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppSession {
    /// The session token: `Authorization: Bearer <token>` on `/api/v1/app/*`.
    pub token: String,
    /// When the token stops working (RFC 3339 UTC).
    pub expires_at: String,
    /// Who signed in.
    pub user: AppUserInfo,
}

/// Longest topic (`reason.main`, `reason.sub`), in characters.
pub const MAX_REASON_CHARS: usize = 100;

/// Longest value of a `meta` field, in characters.
pub const MAX_META_CHARS: usize = 200;

/// Most conversations `GET /api/v1/app/conversations` lists (the newest).
pub const MAX_LISTED: usize = 100;

/// Most uploads one reply attaches (seed 003: `MAX_FILES_PER_MSG`, 10).
pub const MAX_ATTACHMENTS: usize = 10;

/// The topic a user picked to start a request (seed 003's `reason`): shown
/// to operators on the conversation, never as a user message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// The topic, 1 to 100 characters (e.g. `Payments`).
    pub main: String,
    /// The sub-topic, at most 100 characters (e.g. `Refund`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

impl Reason {
    /// 422 for an empty `main` or a topic over [`MAX_REASON_CHARS`].
    pub fn validate(&self) -> Result<(), FieldError> {
        let main = self.main.trim();
        if main.is_empty() || main.chars().count() > MAX_REASON_CHARS {
            return Err(FieldError::new("reason.main", format!("reason.main must be 1 to {MAX_REASON_CHARS} characters")));
        }
        if self.sub.as_deref().is_some_and(|s| s.chars().count() > MAX_REASON_CHARS || s.chars().any(char::is_control)) {
            return Err(FieldError::new("reason.sub", format!("reason.sub must be at most {MAX_REASON_CHARS} characters")));
        }
        Ok(())
    }
}

/// The app's context of a request (seed 003's `meta`), shown to operators
/// on the contact; each field at most 200 characters. `ip` is set by the
/// worker (`CF-Connecting-IP`), never taken from the body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestMeta {
    /// Browser and version, e.g. `Firefox 133`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// Operating system, e.g. `Android 15`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// The app's version, e.g. `4.2.1`.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "appVersion")]
    pub app_version: Option<String>,
    /// The user's locale, e.g. `fr-FR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The device, e.g. `Pixel 9`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The client IP the worker saw (ignored in requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

impl RequestMeta {
    /// 422 for a field over [`MAX_META_CHARS`] or with control characters.
    pub fn validate(&self) -> Result<(), FieldError> {
        let fields = [
            ("browser", &self.browser),
            ("os", &self.os),
            ("app_version", &self.app_version),
            ("locale", &self.locale),
            ("device", &self.device),
        ];
        for (name, value) in fields {
            if value.as_deref().is_some_and(|v| v.chars().count() > MAX_META_CHARS || v.chars().any(char::is_control)) {
                return Err(FieldError::new("meta", format!("meta.{name} must be at most {MAX_META_CHARS} characters of text")));
            }
        }
        Ok(())
    }
}

/// Body of `POST /api/v1/app/conversations` (seed 003, "Starting a
/// request"): at least one of `body` and `reason`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartRequest {
    /// The user's first message, 1 to 10,000 characters.
    #[serde(default)]
    pub body: Option<String>,
    /// The topic picked; without `body` the conversation opens from it alone.
    #[serde(default)]
    pub reason: Option<Reason>,
    /// The app's context, shown to operators.
    #[serde(default)]
    pub meta: Option<RequestMeta>,
    /// Client id of the first message (`body`), 1 to 64 letters, digits,
    /// `_`, `-`, `.` or `:`, unique among this user's requests (a UUID): a
    /// retry with the same id starts nothing new and answers the
    /// conversation it started, whatever its body. Ignored without `body`.
    #[serde(default, alias = "messageId")]
    pub message_id: Option<String>,
}

impl StartRequest {
    /// 422 without `body` and `reason`, or with an invalid one of them, or
    /// a malformed `message_id`.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.body.is_none() && self.reason.is_none() {
            return Err(FieldError::new("body", "body or reason is required"));
        }
        if let Some(id) = &self.message_id {
            validate::message_id(id)?;
        }
        if let Some(body) = &self.body {
            validate::message(body).map_err(|e| FieldError::new("body", e.message))?;
        }
        if let Some(reason) = &self.reason {
            reason.validate()?;
        }
        if let Some(meta) = &self.meta {
            meta.validate()?;
        }
        Ok(())
    }
}

/// One of the user's conversations (summary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppConversation {
    /// Conversation id.
    pub id: i64,
    /// `open`, `closed` or `snoozed`.
    pub state: Status,
    /// When a snoozed conversation reopens by itself (RFC 3339 UTC); `null` unless snoozed.
    pub snoozed_until: Option<String>,
    /// The topic it was started with.
    pub reason: Option<Reason>,
    /// Its newest message (attachments not listed).
    pub last_message: Option<ChatMessage>,
    /// Messages of the AI and operators the user has not read (`read` clears it).
    pub unread: i64,
    /// Whether the user rated it (CSAT; in the app or the widget).
    pub rated: bool,
    /// When it started, RFC 3339 UTC.
    pub created_at: String,
    /// Its newest activity, RFC 3339 UTC.
    pub updated_at: String,
}

/// Answer of `GET /api/v1/app/conversations`: newest activity first, at most [`MAX_LISTED`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppConversationList {
    pub conversations: Vec<AppConversation>,
}

/// The user's CSAT rating of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppRating {
    /// 1 to 5.
    pub stars: i64,
    /// The comment, when given.
    pub comment: Option<String>,
}

/// Messages one `GET /api/v1/app/conversations/{id}` answers at most: the
/// newest ones; older ones page back with `?before_seq=` (issue 16,
/// bounded reads; as the widget's history, `api::history::HISTORY_PAGE`).
pub const DETAIL_MESSAGES: u32 = 100;

/// Query of `GET /api/v1/app/conversations/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct DetailQuery {
    /// Only messages before this `seq` (1 or more): the previous answer's
    /// first `seq`, to page back when it had `has_more`.
    #[serde(default)]
    pub before_seq: Option<i64>,
}

impl DetailQuery {
    /// Errors: 422 on `before_seq` below 1 ([`super::history::before_seq`]).
    pub fn validate(&self) -> Result<(), FieldError> {
        super::history::before_seq(self.before_seq)
    }
}

/// Answer of `GET /api/v1/app/conversations/{id}` and of starting one:
/// the summary, the newest [`DETAIL_MESSAGES`] messages in `seq` order,
/// and the rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppConversationDetail {
    #[serde(flatten)]
    pub conversation: AppConversation,
    /// The newest messages (before `before_seq` when given), by `seq`, at
    /// most [`DETAIL_MESSAGES`].
    pub messages: Vec<ChatMessage>,
    /// `true` when older messages precede these: ask again with
    /// `before_seq` set to the first message's `seq`.
    #[serde(default)]
    pub has_more: bool,
    /// The user's rating, `null` until rated.
    pub rating: Option<AppRating>,
}

/// Query of `GET /api/v1/app/conversations/{id}/poll`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct PollQuery {
    /// Unix milliseconds: only messages created after it (the previous
    /// answer's `latest_timestamp`; absent or 0: all).
    #[serde(default)]
    pub since: Option<i64>,
}

/// Answer of `GET /api/v1/app/conversations/{id}/poll` (seed 003, "Poll
/// response"): new messages and the live state, so an operator's close or
/// snooze shows within one poll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Poll {
    /// Messages created after `since`, by `seq` (at most 500).
    pub messages: Vec<ChatMessage>,
    /// Unix milliseconds of the newest message answered (else `since`): the next poll's `since`.
    pub latest_timestamp: i64,
    /// `open`, `closed` or `snoozed`.
    pub state: Status,
    /// When a snoozed conversation reopens, RFC 3339 UTC; `null` unless snoozed.
    pub snoozed_until: Option<String>,
    /// Whether the user rated it.
    pub rated: bool,
}

/// Body of `POST /api/v1/app/conversations/{id}/reply`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AppReplyRequest))]
pub struct ReplyRequest {
    /// The message, 1 to 10,000 characters (may be empty with attachments).
    #[serde(default)]
    pub body: String,
    /// Uploads of this user to attach (`POST /api/v1/chat/upload/*` with the
    /// user's identity), at most 10.
    #[serde(default, alias = "attachmentIds", deserialize_with = "list_cap::at_most::<10, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub attachment_ids: Vec<i64>,
    /// Client id of the message, 1 to 64 letters, digits, `_`, `-`, `.` or
    /// `:`, unique in its conversation, as the widget's `message_id`: a
    /// retry with the same id (a lost answer) stores nothing new, attaches
    /// nothing more, reopens and wakes nothing, and answers the stored
    /// message and its answer.
    #[serde(default, alias = "messageId")]
    pub message_id: Option<String>,
}

impl ReplyRequest {
    /// 422 for an empty message without attachments, an oversized one, too
    /// many attachments, or a malformed `message_id`.
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(id) = &self.message_id {
            validate::message_id(id)?;
        }
        if self.attachment_ids.len() > MAX_ATTACHMENTS {
            return Err(FieldError::new("attachment_ids", format!("at most {MAX_ATTACHMENTS} attachments")));
        }
        if self.body.trim().is_empty() && !self.attachment_ids.is_empty() {
            return Ok(());
        }
        validate::message(&self.body).map_err(|e| FieldError::new("body", e.message))
    }
}

/// Answer of `POST /api/v1/app/conversations/{id}/reply`: the stored
/// message and the AI's answer to it when the AI is answering (`null`
/// once an operator took over or when the answer failed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Replied {
    pub message: ChatMessage,
    pub answer: Option<ChatMessage>,
}

/// Answer of `POST /api/v1/app/conversations/{id}/close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Closed {
    /// `closed`.
    pub state: Status,
    /// `true` when the app should ask for CSAT now (not rated yet).
    pub csat_due: bool,
}

/// Body of `POST /v1/chat/conversations/{id}/snooze` (operators).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnoozeRequest {
    /// When it reopens by itself: ISO 8601 with a zone, in the future, at most 365 days ahead.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub until: String,
}

/// Longest snooze, in days.
pub const MAX_SNOOZE_DAYS: i64 = 365;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_shaped_user_ids_are_refused() {
        assert!(looks_like_jwt_input("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0"));
        assert!(user_id("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0").is_err());
        assert!(user_id("e30.abc").is_err(), "{{}} as the header");
        assert!(user_id("ewogICJhbGciOiJIUzI1NiJ9.e30").is_err(), "a header with a newline after the brace");
        for fine in ["42", "user@example.com", "a.b.c", "ey", "eyJ", "e.mail", "ewan.smith", "eyJhbGci.x"] {
            assert!(user_id(fine).is_ok(), "{fine}");
        }
        assert!(user_id("").is_err());
        assert!(user_id(&"x".repeat(129)).is_err());
        assert!(user_id("a\nb").is_err());
    }
}
