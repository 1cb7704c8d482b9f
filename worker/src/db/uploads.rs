//! Uploaded files in D1 (`uploads`): the row of each R2 object, its owner
//! (site and visitor) and the message it is attached to.

use serde::Deserialize;
use worker::D1Database;

use super::{int, next_id, text};

/// An upload row.
#[derive(Debug, Clone, Deserialize)]
pub struct UploadRow {
    /// Upload id.
    pub id: i64,
    /// The site it was uploaded to.
    pub site_id: i64,
    /// The visitor who uploaded it.
    pub visitor_id: i64,
    /// R2 key, `<account>/<site>/<visitor>/<random hex>`.
    pub r2_key: String,
    /// The sniffed `Content-Type`.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// File name as uploaded (shown, never trusted).
    pub name: String,
    /// The message it is attached to, once sent.
    pub message_id: Option<i64>,
}

const UPLOAD_COLUMNS: &str = "id, site_id, visitor_id, r2_key, content_type, size, name, message_id";

/// A new upload, stored in R2 under `r2_key`.
pub struct NewUpload<'a> {
    pub site_id: i64,
    pub visitor_id: i64,
    pub r2_key: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub name: &'a str,
}

/// Upload `id`, any site.
pub async fn upload(db: &D1Database, id: i64) -> worker::Result<Option<UploadRow>> {
    db.prepare(format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = ?1")).bind(&[int(id)])?.first(None).await
}

/// Records a stored file; answers its id.
pub async fn insert_upload(db: &D1Database, upload: &NewUpload<'_>) -> worker::Result<i64> {
    db.prepare(format!(
        "INSERT INTO uploads (id, account_id, site_id, visitor_id, r2_key, content_type, size, name) \
         SELECT {}, s.account_id, ?1, ?2, ?3, ?4, ?5, ?6 FROM sites s WHERE s.id = ?1 RETURNING id",
        next_id("uploads")
    ))
    .bind(&[
        int(upload.site_id),
        int(upload.visitor_id),
        text(upload.r2_key),
        text(upload.content_type),
        int(upload.size),
        text(upload.name),
    ])?
    .first::<i64>(Some("id"))
    .await?
    .ok_or_else(|| worker::Error::RustError("upload was not recorded".into()))
}

/// `true` when upload `id` is attached to message `message_id` of conversation `conversation_id`.
pub async fn is_attached(db: &D1Database, id: i64, message_id: i64, conversation_id: i64) -> worker::Result<bool> {
    Ok(db
        .prepare(
            "SELECT u.id FROM uploads u JOIN messages m ON m.id = u.message_id WHERE u.id = ?1 AND m.id = ?2 AND m.conversation_id = ?3",
        )
        .bind(&[int(id), int(message_id), int(conversation_id)])?
        .first::<i64>(Some("id"))
        .await?
        .is_some())
}
