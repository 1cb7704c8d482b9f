//! `POST /api/v1/chat/upload-image`, `POST /api/v1/chat/upload-file` and
//! `GET /api/v1/chat/files/{id}` (seeds 001, 003): files in R2, served
//! through the worker by signed, expiring URLs.

use serde::{Deserialize, Serialize};

/// Life of a signed file URL, in seconds (30 days: links in a transcript keep working).
pub const FILE_URL_SECONDS: i64 = 30 * 24 * 60 * 60;

/// Answer of the upload routes.
///
/// # Format
/// `{"success":true,"id":7,"url":"/api/v1/chat/files/7?exp=…&t=…","content_type":"image/png","size":1234,"name":"cat.png"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadResponse {
    /// Always `true`.
    pub success: bool,
    /// Upload id: pass it in `attachments` of the next `POST /api/v1/chat/stream`.
    pub id: i64,
    /// Signed URL (relative to the worker) serving the file, valid [`FILE_URL_SECONDS`].
    pub url: String,
    /// The type sniffed from the file's bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// The file name as uploaded (shown, never trusted).
    pub name: String,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// Upload id.
    pub id: i64,
    /// File name as uploaded.
    pub name: String,
    /// Sniffed type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Signed URL serving the file.
    pub url: String,
}

/// Query of `GET /api/v1/chat/files/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct FileQuery {
    /// Expiry, Unix seconds.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub exp: i64,
    /// Hex `HMAC-SHA256(file-link key, "<id>:<exp>")`, the file-link key
    /// being 32 bytes of HKDF-SHA256 (RFC 5869) with salt `"edgechat
    /// site-secret v1"`, the site's identity secret as input and info
    /// `"edgechat file-link v1"`: never the secret itself, so that no
    /// `user_hash` is a file link's signature, nor the reverse.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub t: String,
    /// `inline` (default) or `attachment`.
    #[serde(default)]
    pub disposition: Option<String>,
}
