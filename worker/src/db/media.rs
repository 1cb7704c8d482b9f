//! Operators' media (`media_uploads`, migration 0015; seed 002 "Media"):
//! upload URLs issued, used once, confirmed into an `uploads` row.

use serde::Deserialize;
use worker::D1Database;

use super::{int, text};

/// Now, as stored: RFC 3339 UTC with seconds (compared as text).
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

/// A media row.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaRow {
    pub id: i64,
    pub conversation_id: i64,
    /// The operator who asked for the upload URL: the only one who confirms it.
    pub operator_id: i64,
    pub filename: String,
    /// The declared type (on the allow-list; the bytes are checked at confirm).
    pub content_type: String,
    /// The most bytes the `PUT` may carry.
    pub declared_size: i64,
    pub r2_key: String,
    /// Lower-case hex SHA-256 of the upload token.
    pub token_hash: String,
    /// When the upload URL stops working (RFC 3339).
    pub expires_at: String,
    /// When the one `PUT` was accepted.
    pub used_at: Option<String>,
    /// The `uploads` row the file became.
    pub upload_id: Option<i64>,
}

const MEDIA_COLUMNS: &str =
    "id, conversation_id, operator_id, filename, content_type, declared_size, r2_key, token_hash, expires_at, used_at, upload_id";

/// A new upload URL.
pub struct NewMedia<'a> {
    pub account_id: i64,
    pub conversation_id: i64,
    pub operator_id: i64,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub declared_size: i64,
    pub r2_key: &'a str,
    pub token_hash: &'a str,
    /// Life of the URL from now, in seconds.
    pub ttl_seconds: i64,
}

/// Records a pending upload URL; answers its row.
pub async fn insert_pending(db: &D1Database, media: &NewMedia<'_>) -> worker::Result<MediaRow> {
    db.prepare(format!(
        "INSERT INTO media_uploads (account_id, conversation_id, operator_id, filename, content_type, declared_size, r2_key, token_hash, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?9)) RETURNING {MEDIA_COLUMNS}"
    ))
    .bind(&[
        int(media.account_id),
        int(media.conversation_id),
        int(media.operator_id),
        text(media.filename),
        text(media.content_type),
        int(media.declared_size),
        text(media.r2_key),
        text(media.token_hash),
        text(&format!("+{} seconds", media.ttl_seconds)),
    ])?
    .first(None)
    .await?
    .ok_or_else(|| worker::Error::RustError("media was not recorded".into()))
}

/// Records a file an operator posted whole, already stored and checked as
/// upload `upload_id`: used and confirmed at once. Answers its row.
pub async fn insert_confirmed(db: &D1Database, media: &NewMedia<'_>, upload_id: i64) -> worker::Result<MediaRow> {
    db.prepare(format!(
        "INSERT INTO media_uploads (account_id, conversation_id, operator_id, filename, content_type, declared_size, r2_key, token_hash, \
         expires_at, used_at, confirmed_at, upload_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '', {NOW}, {NOW}, {NOW}, ?8) RETURNING {MEDIA_COLUMNS}"
    ))
    .bind(&[
        int(media.account_id),
        int(media.conversation_id),
        int(media.operator_id),
        text(media.filename),
        text(media.content_type),
        int(media.declared_size),
        text(media.r2_key),
        int(upload_id),
    ])?
    .first(None)
    .await?
    .ok_or_else(|| worker::Error::RustError("media was not recorded".into()))
}

/// Media `id`, whatever its account: for the `PUT`, whose token is the credential.
pub async fn by_id(db: &D1Database, id: i64) -> worker::Result<Option<MediaRow>> {
    db.prepare(format!("SELECT {MEDIA_COLUMNS} FROM media_uploads WHERE id = ?1")).bind(&[int(id)])?.first(None).await
}

/// Media `id` of account `account_id`.
pub async fn of_account(db: &D1Database, account_id: i64, id: i64) -> worker::Result<Option<MediaRow>> {
    db.prepare(format!("SELECT {MEDIA_COLUMNS} FROM media_uploads WHERE id = ?1 AND account_id = ?2"))
        .bind(&[int(id), int(account_id)])?
        .first(None)
        .await
}

/// Takes the one `PUT` of media `id`: `true` when it was unused and not
/// expired (it is used now), `false` otherwise. One statement, so two
/// concurrent `PUT`s never both win.
pub async fn claim(db: &D1Database, id: i64) -> worker::Result<bool> {
    Ok(db
        .prepare(format!("UPDATE media_uploads SET used_at = {NOW} WHERE id = ?1 AND used_at IS NULL AND expires_at > {NOW} RETURNING id"))
        .bind(&[int(id)])?
        .first::<i64>(Some("id"))
        .await?
        .is_some())
}

/// Gives back the `PUT` of media `id` whose body was refused (nothing was
/// stored), so the URL may be used again until it expires.
pub async fn release(db: &D1Database, id: i64) -> worker::Result<()> {
    db.prepare("UPDATE media_uploads SET used_at = NULL WHERE id = ?1 AND confirmed_at IS NULL").bind(&[int(id)])?.run().await?;
    Ok(())
}

/// Marks media `id` confirmed as upload `upload_id` (the first confirmation's time is kept).
pub async fn confirm(db: &D1Database, id: i64, upload_id: i64) -> worker::Result<()> {
    db.prepare(format!("UPDATE media_uploads SET upload_id = ?2, confirmed_at = COALESCE(confirmed_at, {NOW}) WHERE id = ?1"))
        .bind(&[int(id), int(upload_id)])?
        .run()
        .await?;
    Ok(())
}

/// Deletes media `id` (a refused file; its R2 object is deleted by the caller).
pub async fn delete(db: &D1Database, id: i64) -> worker::Result<()> {
    db.prepare("DELETE FROM media_uploads WHERE id = ?1").bind(&[int(id)])?.run().await?;
    Ok(())
}
