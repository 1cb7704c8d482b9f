//! CSAT (seed 001, seed 003): `POST /api/v1/chat/rate` and `POST /api/v1/chat/rate/comment`.

use serde::{Deserialize, Serialize};

/// Body of `POST /api/v1/chat/rate` (seed 001): a CSAT score of the
/// visitor's conversation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateRequest {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session_id: String,
    /// 1 (very unhappy) to 5 (very happy).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub score: i64,
}

/// Answer of `POST /api/v1/chat/rate`: one rating per conversation; a
/// second answers `{"success":true,"id":null,"duplicate":true}` and changes
/// nothing (seed 003's CSAT rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateCommentRequest {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session_id: String,
    /// 1 to 2,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub comment: String,
}

/// Largest accepted rating comment, in characters.
pub const MAX_RATING_COMMENT_CHARS: usize = 2_000;
