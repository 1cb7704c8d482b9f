//! `/auth/*` (seed 002, "Auth"): accounts, login, rotating refresh tokens.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::validate;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password, in characters (bounds the PBKDF2 input).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Life of an access JWT, in seconds (15 minutes).
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
/// Life of a refresh token, in seconds (30 days).
pub const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 60 * 60;

/// Name of the cookie that holds the refresh token of a client that asked for
/// one (`"refresh_cookie": true`, the operator console: issue 11, "Sign-in").
///
/// # Format
/// Set as `ec_refresh=<token>; HttpOnly; Secure; SameSite=Strict; Path=/auth;
/// Max-Age=2592000` ([`REFRESH_TOKEN_SECONDS`]), cleared with the same
/// attributes and `Max-Age=0`. Only `/auth/*` ever receives it, and a request
/// that uses it must come from the worker's own origin (`Origin`, or
/// `Sec-Fetch-Site: same-origin`): otherwise 403 `forbidden` (CSRF).
pub const REFRESH_COOKIE: &str = "ec_refresh";

/// An operator's role in an account: owners and admins manage sites and
/// operators; agents answer conversations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OperatorRole {
    /// Answers conversations.
    #[default]
    Agent,
    /// Also manages sites, knowledge base and operators.
    Admin,
    /// Also manages admins; every account has at least one.
    Owner,
}

impl OperatorRole {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRole::Agent => "agent",
            OperatorRole::Admin => "admin",
            OperatorRole::Owner => "owner",
        }
    }

    /// Parses a stored role; `None` for anything else.
    pub fn parse(s: &str) -> Option<OperatorRole> {
        match s {
            "agent" => Some(OperatorRole::Agent),
            "admin" => Some(OperatorRole::Admin),
            "owner" => Some(OperatorRole::Owner),
            _ => None,
        }
    }
}

/// Body of `POST /auth/signup`: a new account (tenant), its owner and a first site.
///
/// # Format
/// `{"email":"ann@example.com","password":"…","name":"Ann","account_name":"Acme","site_name":"acme.com"}`,
/// plus `"refresh_cookie":true` for the refresh token in the `ec_refresh` cookie ([`REFRESH_COOKIE`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupRequest {
    /// The owner's email (login name), unique across EdgeChat.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub email: String,
    /// At least 8 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub password: String,
    /// The owner's display name.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub name: String,
    /// The account's name; defaults to the owner's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// The first site's name; defaults to "My website".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    /// `true`: the refresh token is set in the `ec_refresh` cookie ([`REFRESH_COOKIE`]), not
    /// answered in the body (the request must come from the worker's own origin).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh_cookie: bool,
}

impl SignupRequest {
    /// Checks every field (422 on the first failure).
    pub fn validate(&self) -> Result<(), FieldError> {
        validate::email(&self.email)?;
        validate::password(&self.password)?;
        validate::display_name("name", &self.name)?;
        if let Some(name) = &self.account_name {
            validate::display_name("account_name", name)?;
        }
        if let Some(name) = &self.site_name {
            validate::display_name("site_name", name)?;
        }
        Ok(())
    }
}

/// Body of `POST /auth/login`.
///
/// # Format
/// `{"email":"ann@example.com","password":"…"}`, plus `"refresh_cookie":true`
/// for the refresh token in the `ec_refresh` cookie ([`REFRESH_COOKIE`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// The operator's email.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub email: String,
    /// The operator's password.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub password: String,
    /// `true`: the refresh token is set in the `ec_refresh` cookie ([`REFRESH_COOKIE`]), not
    /// answered in the body (the request must come from the worker's own origin).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh_cookie: bool,
}

/// Body of `POST /auth/refresh`; may be empty (`{}` or no body at all) when the
/// refresh token is in the `ec_refresh` cookie ([`REFRESH_COOKIE`]).
///
/// # Format
/// `{"refresh_token":"…"}` answers the new refresh token in the body;
/// `{"refresh_token":"…","refresh_cookie":true}` moves it into the cookie; `{}`
/// with the cookie rotates the cookie (the new token is only ever in the cookie).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    /// The refresh token last issued; without it, the `ec_refresh` cookie's ([`REFRESH_COOKIE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `true`: the new refresh token is set in the `ec_refresh` cookie ([`REFRESH_COOKIE`]),
    /// not answered in the body (always so when the cookie held the old one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh_cookie: bool,
}

/// Body of `POST /auth/logout` (seed 002: "Revoke the current refresh token");
/// may be empty (`{}` or no body at all) when the refresh token is in the
/// `ec_refresh` cookie ([`REFRESH_COOKIE`]), which the answer then clears.
///
/// # Format
/// `{"refresh_token":"…"}` ends this session; `{"refresh_token":"…","all":true}` ends every
/// session of its operator: all their refresh tokens and access tokens, and their live sockets
/// (closed with [`SessionEnd::LoggedOutEverywhere`]). `{}` and `{"all":true}` do the same
/// for the cookie's token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogoutRequest {
    /// The refresh token last issued; without it, the `ec_refresh` cookie's ([`REFRESH_COOKIE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `true` to end every session of the token's operator, on every device.
    #[serde(default)]
    pub all: bool,
}

/// Answer of signup, login and refresh: a new access JWT and a new refresh token.
///
/// # Format
/// `{"access_token":"eyJ…","token_type":"Bearer","expires_in":900,"refresh_token":"…","user":{…},"account":{…}}`;
/// without `refresh_token` when the refresh token went into the `ec_refresh` cookie ([`REFRESH_COOKIE`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// HS256 JWT for `Authorization: Bearer`, valid [`ACCESS_TOKEN_SECONDS`].
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque single-use refresh token, valid [`REFRESH_TOKEN_SECONDS`]. Always
    /// present for clients that hold it themselves; absent when it was set in
    /// the `ec_refresh` cookie ([`REFRESH_COOKIE`]) instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The logged-in operator.
    pub user: Operator,
    /// The operator's account.
    pub account: Account,
}

/// Answer of `POST /auth/signup` (201): the tokens, and the first site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupResponse {
    /// Tokens, user and account, as for login.
    #[serde(flatten)]
    pub tokens: TokenResponse,
    /// The account's first site.
    pub site: crate::api::sites::Site,
}

/// Claims of the access JWT (HS256, RFC 7519).
///
/// # Format
/// `{"sub":"42","acc":7,"role":"admin","ver":3141592,"iat":1700000000,"exp":1700000900}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The operator's user id, as a string (RFC 7519 `sub`).
    pub sub: String,
    /// The operator's account id.
    pub acc: i64,
    /// The operator's role when the token was issued.
    pub role: OperatorRole,
    /// The operator's token version when the token was issued (`users.token_version`). A
    /// password change, a logout from everywhere and a role change bump it, so every token
    /// issued before is refused although not expired (issue 10, hole 2).
    pub ver: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

/// An operator (a user of the admin API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Operator {
    /// User id.
    pub id: i64,
    /// Login email.
    pub email: String,
    /// Name shown to visitors on operator messages.
    pub display_name: String,
    /// Role in the account.
    pub role: OperatorRole,
    /// Avatar image URL (https).
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// IANA time zone, e.g. `Europe/Paris`.
    pub timezone: String,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
}

/// An account (tenant): owns sites, operators and conversations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    /// Account id.
    pub id: i64,
    /// Account name.
    pub name: String,
}

/// Answer of `GET /auth/me`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeResponse {
    /// The caller.
    pub user: Operator,
    /// The caller's account.
    pub account: Account,
}

/// Body of `PATCH /auth/profile`; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileUpdate {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New avatar URL (https), or `""` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// New IANA time zone, e.g. `America/New_York`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl ProfileUpdate {
    /// Checks every present field (422 on the first failure).
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(name) = &self.display_name {
            validate::display_name("display_name", name)?;
        }
        if let Some(url) = self.avatar_url.as_deref().filter(|u| !u.is_empty()) {
            validate::https_url("avatar_url", url)?;
        }
        if let Some(tz) = &self.timezone {
            validate::timezone(tz)?;
        }
        Ok(())
    }
}

/// Body of `POST /auth/change-password`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    /// The password in use now.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub current_password: String,
    /// The new password, at least 8 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub new_password: String,
    /// The caller's current refresh token, kept alive; every other one of
    /// the user's refresh tokens is revoked. Without it, the `ec_refresh`
    /// cookie's token ([`REFRESH_COOKIE`]) is kept, when the request carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The close code of an operator WebSocket whose access token (the one its
/// live token was issued for) has expired: the socket lives no longer than
/// the credential that opened it, and the client reconnects with a fresh
/// token (`GET /v1/messaging/token`, refreshing its session first if need be).
pub const SESSION_EXPIRED_CLOSE: u16 = 4002;

/// Why an operator's sessions ended before their tokens expired: every access token issued
/// before is refused, and each of their operator WebSockets (`/v1/chat/live`) is closed at once
/// with [`SessionEnd::close_code`] and [`SessionEnd::reason`].
///
/// Close codes 4000–4999 are for applications (RFC 6455 §7.4.2); EdgeChat's mirror the HTTP
/// statuses: 4001 the credentials ended (log in again), 4003 the permission ended; and
/// [`SESSION_EXPIRED_CLOSE`] (4002) the access token the socket was opened with expired
/// (reconnect with a fresh one: nothing ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEnd {
    /// The operator was removed from the account (`DELETE /v1/users/{id}`).
    Removed,
    /// The operator's role changed (`PATCH /v1/users/{id}`).
    RoleChanged,
    /// The operator's password changed (`POST /auth/change-password`).
    PasswordChanged,
    /// The operator logged out everywhere (`POST /auth/logout` with `"all": true`).
    LoggedOutEverywhere,
}

impl SessionEnd {
    /// The WebSocket close code: 4001 when the credentials ended, 4003 when the permission did.
    pub fn close_code(self) -> u16 {
        match self {
            SessionEnd::PasswordChanged | SessionEnd::LoggedOutEverywhere => 4001,
            SessionEnd::Removed | SessionEnd::RoleChanged => 4003,
        }
    }

    /// The WebSocket close reason (at most 123 bytes, RFC 6455 §5.5).
    pub fn reason(self) -> &'static str {
        match self {
            SessionEnd::Removed => "operator removed",
            SessionEnd::RoleChanged => "role changed",
            SessionEnd::PasswordChanged => "password changed",
            SessionEnd::LoggedOutEverywhere => "logged out everywhere",
        }
    }
}
