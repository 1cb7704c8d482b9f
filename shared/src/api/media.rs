//! `/v1/chat/media…` (seed 002, "Media"): operators' files. A client asks
//! for a short-lived, single-use upload URL, `PUT`s the bytes to it, then
//! confirms: the worker checks the stored bytes against the allow-list of
//! visitor uploads ([`crate::upload`]) and sends them as a message.

use serde::{Deserialize, Serialize};

use super::ChatMessage;
use crate::error::FieldError;

/// Default life of an upload URL, in seconds (10 minutes; `MEDIA_URL_SECONDS`).
pub const DEFAULT_MEDIA_URL_SECONDS: i64 = 10 * 60;

/// Longest file name, in characters.
pub const MAX_FILENAME_CHARS: usize = 255;

/// Body of `POST /v1/chat/media/upload-url`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadUrlRequest {
    /// The conversation the file is for (visible to the caller).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub conversation_id: i64,
    /// 1 to 255 characters, no `/`, `\` or control characters. Shown, never trusted.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub filename: String,
    /// One of the types visitors may upload (`image/jpeg`, `image/png`,
    /// `image/gif`, `image/webp`, `image/bmp`, `application/pdf`,
    /// `video/mp4`, `text/plain`); the stored bytes must be this type.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub content_type: String,
    /// Size in bytes: 1 to `MAX_FILE_MB` MiB. The `PUT` may carry at most this many.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub size: i64,
}

/// Checks a file name: 1 to [`MAX_FILENAME_CHARS`] characters, no path
/// separator (`/`, `\`) and no control character (422 otherwise).
pub fn validate_filename(name: &str) -> Result<(), FieldError> {
    let count = name.chars().count();
    if count == 0 || count > MAX_FILENAME_CHARS {
        return Err(FieldError::new("filename", format!("filename must be 1 to {MAX_FILENAME_CHARS} characters")));
    }
    if name.chars().any(|c| c == '/' || c == '\\' || c.is_control()) || name.trim().is_empty() || name == "." || name == ".." {
        return Err(FieldError::new("filename", "filename may not contain '/', '\\' or control characters"));
    }
    Ok(())
}

/// Answer of `POST /v1/chat/media/upload-url` (201).
///
/// # Format
/// `{"media_id":7,"upload_url":"/v1/chat/media/7/upload?token=…","expires_at":"2025-01-01T00:10:00.000Z"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadUrl {
    /// The media id, for `confirm` and `GET /v1/chat/media/{id}`.
    pub media_id: i64,
    /// Where to `PUT` the bytes once (relative to the worker); the `token`
    /// in it is the only credential (no bearer).
    pub upload_url: String,
    /// When the URL stops working (RFC 3339).
    pub expires_at: String,
}

/// Body of `POST /v1/chat/media/{id}/confirm` (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmMedia {
    /// Text sent with the file: at most 10,000 characters; none or empty for the file alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

impl ConfirmMedia {
    /// Checks `content` (422 when over the message cap).
    pub fn validate(&self) -> Result<(), FieldError> {
        match &self.content {
            Some(text) if text.chars().count() > crate::limits::MAX_MESSAGE_CHARS => {
                Err(FieldError::new("content", format!("content is too long (maximum {} characters)", crate::limits::MAX_MESSAGE_CHARS)))
            }
            _ => Ok(()),
        }
    }
}

/// A stored operator file: `GET /v1/chat/media/{id}`, `POST /v1/chat/media`.
///
/// # Format
/// `{"id":7,"upload_id":12,"conversation_id":3,"content_type":"image/png","size":1234,"filename":"cat.png","cdn_url":"/api/v1/chat/files/12?exp=…&t=…","thumbnail_url":"…","expires_at":"…"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaInfo {
    /// Media id.
    pub id: i64,
    /// The upload id: pass it in `attachments` of `POST /v1/chat/messages/send`.
    pub upload_id: i64,
    /// The conversation the file was uploaded for.
    pub conversation_id: i64,
    /// The type sniffed from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// The file name as given (shown, never trusted).
    pub filename: String,
    /// Signed URL (relative to the worker) serving the file until `expires_at`.
    pub cdn_url: String,
    /// A preview: the original file here (a deployment with Cloudflare Image
    /// Transformations may serve `/cdn-cgi/image/width=320/…` variants).
    pub thumbnail_url: String,
    /// When the signed URLs stop working (RFC 3339); fetch the media again for fresh ones.
    pub expires_at: String,
}

/// Answer of `POST /v1/chat/media/{id}/confirm` (201): the file and the
/// message that carries it. Confirming again answers the same message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmedMedia {
    /// The stored file.
    pub media: MediaInfo,
    /// The operator message with the file as its attachment.
    pub message: ChatMessage,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain_names() {
        assert!(validate_filename("cat.png").is_ok());
        assert!(validate_filename("Rapport été 2024.pdf").is_ok());
        assert!(validate_filename(&"a".repeat(255)).is_ok());
        for bad in ["", " ", "..", "../etc/passwd", "a/b.png", "a\\b.png", "a\nb.png", "a\u{0}.png", &"a".repeat(256)] {
            assert!(validate_filename(bad).is_err(), "{bad:?}");
        }
    }
}
