//! The visitor of a widget request (seed 001): the `site_key` + `session_id`
//! query, `GET /api/v1/chat/block-status`, and identity verification of
//! logged-in visitors.

use serde::{Deserialize, Serialize};

/// Query of `GET /api/v1/chat/block-status` and other visitor GETs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct VisitorQuery {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required), schema(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required), schema(required))]
    pub session_id: String,
}

/// Answer of `GET /api/v1/chat/block-status` (seed 001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockStatus {
    /// Always `true`.
    pub success: bool,
    /// `true` when the site's operators blocked this visitor.
    pub blocked: bool,
}

/// Identity of a logged-in visitor, verified with the site's secret
/// (`EdgeChat('identify', {user_id, email, name, user_hash})`): the scheme
/// Intercom, Crisp and Chatwoot use. Sent as query parameters on every
/// widget request; a mismatching `user_hash` answers 401.
///
/// # Format
/// `?user_id=42&user_hash=<hex HMAC-SHA256(site secret, "42")>&email=…&name=…`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
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
