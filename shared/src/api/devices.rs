//! Devices and notification settings of a signed-in app user (seed 003,
//! "Devices & settings"): `POST /api/v1/app/devices/register`,
//! `DELETE /api/v1/app/devices/{id}`, `GET`/`PUT /api/v1/app/settings/notifications`.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Where a device's push notifications go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// A mobile app: `token` is its Firebase Cloud Messaging registration token.
    Mobile,
    /// A Telegram Mini App: `token` is its `Telegram.WebApp.initData`, which
    /// proves the Telegram user (their chat with the bot gets the pushes).
    Tma,
    /// A browser: `token` is its Web Push subscription (RFC 8030) as JSON,
    /// `{"endpoint": "https://…", "keys": {"p256dh": "<base64url>", "auth": "<base64url>"}}`
    /// (`PushSubscription.toJSON()`).
    Web,
}

impl Platform {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Mobile => "mobile",
            Platform::Tma => "tma",
            Platform::Web => "web",
        }
    }

    /// Parses a stored or wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Platform> {
        match s {
            "mobile" => Some(Platform::Mobile),
            "tma" => Some(Platform::Tma),
            "web" => Some(Platform::Web),
            _ => None,
        }
    }
}

/// Body of `POST /api/v1/app/devices/register` (seed 003: `{platform, token}`, an upsert).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterDeviceRequest {
    /// `mobile`, `tma` or `web` ([`Platform`]).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub platform: String,
    /// The push address: an FCM registration token (`mobile`, at most
    /// [`MAX_FCM_TOKEN_CHARS`] of `A–Z a–z 0–9 - _ : .`), a Telegram Mini App's
    /// `initData` (`tma`, at most [`MAX_INIT_DATA_BYTES`]) or a Web Push subscription's JSON (`web`, at most
    /// [`MAX_WEB_SUBSCRIPTION_BYTES`]; also accepted as a JSON object).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required, value_type = Object))]
    pub token: serde_json::Value,
}

/// Longest accepted FCM registration token, in characters.
pub const MAX_FCM_TOKEN_CHARS: usize = 4_096;
/// Largest accepted Telegram Mini App `initData`, in bytes.
pub const MAX_INIT_DATA_BYTES: usize = 4_096;
/// Largest accepted Web Push subscription JSON, in bytes.
pub const MAX_WEB_SUBSCRIPTION_BYTES: usize = 4_096;
/// Devices a user may have; registering one more forgets the least recently registered.
pub const MAX_DEVICES_PER_USER: usize = 10;

impl RegisterDeviceRequest {
    /// The platform and its token as a string (a `web` subscription given
    /// as an object is serialized). The `web` subscription's own checks
    /// (https endpoint, key sizes) are the worker's, which can decode it.
    ///
    /// Errors (422): an unknown platform; an empty or oversized token; a
    /// `mobile` token with other characters. A `tma` token's signature is
    /// the worker's to check (it holds the bot token).
    pub fn validate(&self) -> Result<(Platform, String), FieldError> {
        let platform =
            Platform::parse(self.platform.trim()).ok_or_else(|| FieldError::new("platform", "platform must be mobile, tma or web"))?;
        let token = match (&self.token, platform) {
            (serde_json::Value::String(s), _) => s.trim().to_string(),
            (serde_json::Value::Object(_), Platform::Web) => self.token.to_string(),
            (serde_json::Value::Number(_), Platform::Tma) => {
                return Err(FieldError::new("token", "token must be the Mini App's initData (a string), not a chat id"))
            }
            _ => return Err(FieldError::new("token", "token is required")),
        };
        if token.is_empty() {
            return Err(FieldError::new("token", "token is required"));
        }
        match platform {
            Platform::Mobile => {
                if token.chars().count() > MAX_FCM_TOKEN_CHARS
                    || !token.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
                {
                    return Err(FieldError::new("token", "token must be an FCM registration token"));
                }
            }
            Platform::Tma => {
                if token.len() > MAX_INIT_DATA_BYTES {
                    return Err(FieldError::new("token", "token must be the Mini App's initData, at most 4096 bytes"));
                }
            }
            Platform::Web => {
                if token.len() > MAX_WEB_SUBSCRIPTION_BYTES {
                    return Err(FieldError::new("token", "token must be a Web Push subscription of at most 4096 bytes"));
                }
            }
        }
        Ok((platform, token))
    }
}

/// Answer of `POST /api/v1/app/devices/register`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceRegistered {
    /// The device's id (the same for the same user, platform and token), for `DELETE /api/v1/app/devices/{id}`.
    pub id: i64,
    /// Its platform.
    pub platform: Platform,
}

/// A user's notification preferences (seed 003: defaults all on). Answer
/// of `GET` and `PUT /api/v1/app/settings/notifications`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationSettings {
    /// Push an operator's reply to one of the user's conversations.
    pub chat_messages: bool,
    /// Push a change of one of the user's tickets.
    pub ticket_updates: bool,
    /// Notices from the site (not pushed by EdgeChat yet; kept for the app).
    pub system_notices: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings { chat_messages: true, ticket_updates: true, system_notices: true }
    }
}

/// Body of `PUT /api/v1/app/settings/notifications`: the fields to change;
/// seed 003's camelCase names (`chatMessages`, …) are accepted too.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateNotificationSettings {
    #[serde(default, alias = "chatMessages")]
    pub chat_messages: Option<bool>,
    #[serde(default, alias = "ticketUpdates")]
    pub ticket_updates: Option<bool>,
    #[serde(default, alias = "systemNotices")]
    pub system_notices: Option<bool>,
}

impl UpdateNotificationSettings {
    /// `current` with this update's fields applied.
    pub fn apply(&self, current: NotificationSettings) -> NotificationSettings {
        NotificationSettings {
            chat_messages: self.chat_messages.unwrap_or(current.chat_messages),
            ticket_updates: self.ticket_updates.unwrap_or(current.ticket_updates),
            system_notices: self.system_notices.unwrap_or(current.system_notices),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(platform: &str, token: serde_json::Value) -> RegisterDeviceRequest {
        RegisterDeviceRequest { platform: platform.into(), token }
    }

    #[test]
    fn tokens_are_checked_per_platform() {
        let init_data = "user=%7B%22id%22%3A42%7D&auth_date=1&hash=00";
        assert_eq!(request("tma", json!(init_data)).validate().unwrap(), (Platform::Tma, init_data.into()));
        assert!(request("tma", json!(42)).validate().is_err(), "a bare chat id proves nothing");
        assert!(request("tma", json!("a".repeat(MAX_INIT_DATA_BYTES + 1))).validate().is_err());
        assert!(request("mobile", json!("abc:DEF-123_x.y")).validate().is_ok());
        assert!(request("mobile", json!("has space")).validate().is_err());
        assert!(request("mobile", json!("")).validate().is_err());
        assert!(request("desktop", json!("x")).validate().is_err());
        let sub = json!({"endpoint": "https://push.example/x", "keys": {"p256dh": "a", "auth": "b"}});
        assert_eq!(request("web", sub.clone()).validate().unwrap().1, sub.to_string());
        assert!(request("web", json!("x".repeat(5000))).validate().is_err());
        assert!(request("mobile", sub).validate().is_err());
    }

    #[test]
    fn settings_accept_camel_case_and_keep_unnamed_fields() {
        let update: UpdateNotificationSettings = serde_json::from_value(json!({"chatMessages": false})).unwrap();
        let next = update.apply(NotificationSettings::default());
        assert_eq!(next, NotificationSettings { chat_messages: false, ticket_updates: true, system_notices: true });
        let update: UpdateNotificationSettings = serde_json::from_value(json!({"ticket_updates": false})).unwrap();
        assert!(!update.apply(next).ticket_updates && !update.apply(next).chat_messages);
    }
}

/// Answer of `GET /api/v1/app/devices/web-push-key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebPushKey {
    /// The server's VAPID public key (RFC 8292): base64url of the 65-byte
    /// P-256 point, the `applicationServerKey` of `pushManager.subscribe`;
    /// `null` when Web Push is not configured.
    pub vapid_public_key: Option<String>,
}
