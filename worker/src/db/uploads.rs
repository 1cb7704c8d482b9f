//! Uploaded files in D1 (`uploads`): the row of each R2 object, its owner
//! (a site's visitor, or an operator of the account) and the message it is
//! attached to.

use serde::Deserialize;
use worker::D1Database;

use super::{int, next_id, opt_int, text};

/// An upload row.
#[derive(Debug, Clone, Deserialize)]
pub struct UploadRow {
    /// Upload id.
    pub id: i64,
    /// The site it belongs to; `None` for an operator's file of an internal conversation.
    pub site_id: Option<i64>,
    /// The visitor who uploaded it; `None` for an operator's file.
    pub visitor_id: Option<i64>,
    /// R2 key, `<account>/<site>/<visitor>/<random hex>` (visitors),
    /// `<account>/<site>/ops/<random hex>` or `<account>/ops/<random hex>` (operators).
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

/// A new operator file, stored in R2 under `r2_key`.
pub struct NewOperatorUpload<'a> {
    pub account_id: i64,
    /// The site of the conversation it is for; `None` for an internal conversation.
    pub site_id: Option<i64>,
    pub operator_id: i64,
    pub r2_key: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub name: &'a str,
}

/// Records an operator's stored file; answers its id. Once per R2 key: a
/// second call for the same key answers the first row's id.
pub async fn insert_operator_upload(db: &D1Database, upload: &NewOperatorUpload<'_>) -> worker::Result<i64> {
    db.prepare(format!(
        "INSERT INTO uploads (id, account_id, site_id, operator_id, r2_key, content_type, size, name) \
         VALUES ({}, ?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (r2_key) DO NOTHING",
        next_id("uploads")
    ))
    .bind(&[
        int(upload.account_id),
        opt_int(upload.site_id),
        int(upload.operator_id),
        text(upload.r2_key),
        text(upload.content_type),
        int(upload.size),
        text(upload.name),
    ])?
    .run()
    .await?;
    db.prepare("SELECT id FROM uploads WHERE r2_key = ?1")
        .bind(&[text(upload.r2_key)])?
        .first::<i64>(Some("id"))
        .await?
        .ok_or_else(|| worker::Error::RustError("upload was not recorded".into()))
}

/// Upload `id` that operator `operator_id` of account `account_id` made, if it exists.
pub async fn operator_upload(db: &D1Database, account_id: i64, operator_id: i64, id: i64) -> worker::Result<Option<UploadRow>> {
    db.prepare(format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = ?1 AND account_id = ?2 AND visitor_id IS NULL AND operator_id = ?3"
    ))
    .bind(&[int(id), int(account_id), int(operator_id)])?
    .first(None)
    .await
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

/// Uploads one sweep deletes at most ([`delete_unattached`]).
pub const SWEEP_BATCH: i64 = 100;

/// Deletes up to [`SWEEP_BATCH`] uploads no message holds, created more
/// than `seconds` ago, oldest first; answers their R2 keys (their objects
/// are the caller's to delete).
pub async fn delete_unattached(db: &D1Database, seconds: i64) -> worker::Result<Vec<String>> {
    let keys: Vec<R2Key> = db
        .prepare(
            "DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE message_id IS NULL \
             AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1) ORDER BY created_at LIMIT ?2) RETURNING r2_key",
        )
        .bind(&[text(&format!("-{seconds} seconds")), int(SWEEP_BATCH)])?
        .all()
        .await?
        .results()?;
    Ok(keys.into_iter().map(|k| k.r2_key).collect())
}

/// An R2 key a deletion answers (`RETURNING r2_key`).
#[derive(Deserialize)]
pub struct R2Key {
    pub r2_key: String,
}
