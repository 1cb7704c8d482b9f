//! Refresh tokens in D1 (`refresh_tokens`, migration 0002): stored only as
//! SHA-256 hashes, grouped in families (one login's chain of rotations).
//! The rules (rotation, reuse detection) live in [`crate::auth::refresh`].

use serde::Deserialize;
use worker::D1Database;

use super::{int, text};

/// A stored refresh token. Times are Unix seconds.
#[derive(Debug, Clone, Deserialize)]
pub struct RefreshTokenRow {
    pub id: i64,
    pub user_id: i64,
    pub family: String,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Stores a new token of `user_id` in `family`, by its hash, expiring at `expires_at` (Unix seconds).
pub async fn insert(db: &D1Database, user_id: i64, family: &str, token_hash: &str, expires_at: i64) -> worker::Result<()> {
    db.prepare("INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(&[int(user_id), text(family), text(token_hash), int(expires_at)])?
        .run()
        .await?;
    Ok(())
}

/// The token whose hash is `token_hash`, whatever its state.
pub async fn by_hash(db: &D1Database, token_hash: &str) -> worker::Result<Option<RefreshTokenRow>> {
    db.prepare("SELECT id, user_id, family, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = ?1")
        .bind(&[text(token_hash)])?
        .first(None)
        .await
}

/// Marks token `id` rotated at `now`; `false` when it already was or was
/// revoked meanwhile, so only one of two concurrent exchanges of the same token wins.
pub async fn claim_rotation(db: &D1Database, id: i64, now: i64) -> worker::Result<bool> {
    let claimed = db
        .prepare("UPDATE refresh_tokens SET rotated_at = ?1 WHERE id = ?2 AND rotated_at IS NULL AND revoked_at IS NULL RETURNING id")
        .bind(&[int(now), int(id)])?
        .first::<i64>(Some("id"))
        .await?;
    Ok(claimed.is_some())
}

/// `true` when token `id` has been revoked (or no longer exists).
pub async fn is_revoked(db: &D1Database, id: i64) -> worker::Result<bool> {
    let live =
        db.prepare("SELECT id FROM refresh_tokens WHERE id = ?1 AND revoked_at IS NULL").bind(&[int(id)])?.first::<i64>(Some("id")).await?;
    Ok(live.is_none())
}

/// Revokes every token of `family` at `now`.
pub async fn revoke_family(db: &D1Database, family: &str, now: i64) -> worker::Result<()> {
    db.prepare("UPDATE refresh_tokens SET revoked_at = ?1 WHERE family = ?2 AND revoked_at IS NULL")
        .bind(&[int(now), text(family)])?
        .run()
        .await?;
    Ok(())
}

/// Revokes the token whose hash is `token_hash` at `now`; unknown hashes are ignored.
pub async fn revoke(db: &D1Database, token_hash: &str, now: i64) -> worker::Result<()> {
    db.prepare("UPDATE refresh_tokens SET revoked_at = ?1 WHERE token_hash = ?2 AND revoked_at IS NULL")
        .bind(&[int(now), text(token_hash)])?
        .run()
        .await?;
    Ok(())
}

/// Revokes at `now` every token of `user_id` except those of the family of
/// the token hashed `keep_hash` (`""` keeps none).
pub async fn revoke_others(db: &D1Database, user_id: i64, keep_hash: &str, now: i64) -> worker::Result<()> {
    db.prepare(
        "UPDATE refresh_tokens SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL \
         AND family NOT IN (SELECT family FROM refresh_tokens WHERE token_hash = ?3 AND user_id = ?2)",
    )
    .bind(&[int(now), int(user_id), text(keep_hash)])?
    .run()
    .await?;
    Ok(())
}

/// Revokes at `now` every token of `user_id` (logout from everywhere).
pub async fn revoke_all(db: &D1Database, user_id: i64, now: i64) -> worker::Result<()> {
    db.prepare("UPDATE refresh_tokens SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL")
        .bind(&[int(now), int(user_id)])?
        .run()
        .await?;
    Ok(())
}
