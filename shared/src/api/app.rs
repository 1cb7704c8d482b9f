//! Signed-in users (seed 003): a site's own app signs its user in with a
//! short-lived identity JWT minted by its backend, and gets an EdgeChat
//! session token for the `/api/v1/app/*` routes.
//!
//! The identity JWT is what Intercom's "identity JWT" is: HS256 (RFC 7518
//! §3.2) with the site's identity secret, claims [`IdentityClaims`]. The
//! session token answered for it is opaque (`ecs_` + 160 random bits),
//! stored only as a hash, valid [`SESSION_SECONDS`].

use serde::{Deserialize, Serialize};

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
    let mut parts = value.split('.');
    let (Some(header), Some(_)) = (parts.next(), parts.next()) else { return false };
    // Base64url of `{"` is `eyJ`, of `{` followed by whitespace `ew`/`e3`.
    header.starts_with("ey") || header.starts_with("e3")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_shaped_user_ids_are_refused() {
        assert!(looks_like_jwt_input("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0"));
        assert!(user_id("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0").is_err());
        assert!(user_id("e3sK.abc").is_err());
        for fine in ["42", "user@example.com", "a.b.c", "ey", "eyJ"] {
            assert!(user_id(fine).is_ok(), "{fine}");
        }
        assert!(user_id("").is_err());
        assert!(user_id(&"x".repeat(129)).is_err());
        assert!(user_id("a\nb").is_err());
    }
}
