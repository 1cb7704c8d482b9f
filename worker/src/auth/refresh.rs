//! Refresh tokens: opaque 256-bit random strings, stored only as SHA-256
//! hashes, valid 30 days, rotated on every use. Each login starts a family;
//! presenting a token that was already rotated revokes its whole family
//! (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).

use edgechat_shared::api::auth::REFRESH_TOKEN_SECONDS;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use worker::D1Database;

use super::{now_secs, random_hex};
use crate::db::{int, text};
use crate::error::{ApiError, ApiResult};

/// SHA-256 of a refresh token, hex: what D1 stores.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a new refresh token for `user_id` in `family` (a new family when `None`).
pub async fn issue(db: &D1Database, user_id: i64, family: Option<&str>) -> worker::Result<String> {
    let token = random_hex(32);
    let family = family.map(str::to_string).unwrap_or_else(|| random_hex(16));
    db.prepare("INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(&[int(user_id), text(&family), text(&token_hash(&token)), int(now_secs() + REFRESH_TOKEN_SECONDS)])?
        .run()
        .await?;
    Ok(token)
}

#[derive(Debug, Deserialize)]
struct StoredToken {
    id: i64,
    user_id: i64,
    family: String,
    expires_at: i64,
    rotated_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// Exchanges `token` for a new one of the same family and answers the new
/// token and its user id.
///
/// Errors: 401 `unauthorized` for an unknown, expired or revoked token; for
/// a token already rotated, after revoking its whole family.
pub async fn rotate(db: &D1Database, token: &str) -> ApiResult<(String, i64)> {
    let refused = || ApiError::unauthorized("The refresh token is invalid, expired or revoked");
    let stored = db
        .prepare("SELECT id, user_id, family, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = ?1")
        .bind(&[text(&token_hash(token))])?
        .first::<StoredToken>(None)
        .await?
        .ok_or_else(refused)?;
    let now = now_secs();
    if stored.rotated_at.is_some() {
        revoke_family(db, &stored.family).await?;
        return Err(refused());
    }
    if stored.revoked_at.is_some() || stored.expires_at <= now {
        return Err(refused());
    }
    // Only one concurrent exchange of the same token wins the update.
    let claimed = db
        .prepare("UPDATE refresh_tokens SET rotated_at = ?1 WHERE id = ?2 AND rotated_at IS NULL RETURNING id")
        .bind(&[int(now), int(stored.id)])?
        .first::<i64>(Some("id"))
        .await?;
    if claimed.is_none() {
        revoke_family(db, &stored.family).await?;
        return Err(refused());
    }
    Ok((issue(db, stored.user_id, Some(&stored.family)).await?, stored.user_id))
}

/// Revokes every token of `family`.
pub async fn revoke_family(db: &D1Database, family: &str) -> worker::Result<()> {
    db.prepare("UPDATE refresh_tokens SET revoked_at = ?1 WHERE family = ?2 AND revoked_at IS NULL")
        .bind(&[int(now_secs()), text(family)])?
        .run()
        .await?;
    Ok(())
}

/// Revokes the token `token` (logout); unknown tokens are ignored.
pub async fn revoke(db: &D1Database, token: &str) -> worker::Result<()> {
    db.prepare("UPDATE refresh_tokens SET revoked_at = ?1 WHERE token_hash = ?2 AND revoked_at IS NULL")
        .bind(&[int(now_secs()), text(&token_hash(token))])?
        .run()
        .await?;
    Ok(())
}

/// Revokes every token of `user_id` except the family of `keep` (the
/// caller's own session), e.g. after a password change.
pub async fn revoke_others(db: &D1Database, user_id: i64, keep: Option<&str>) -> worker::Result<()> {
    let keep_hash = keep.map(token_hash).unwrap_or_default();
    db.prepare(
        "UPDATE refresh_tokens SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL \
         AND family NOT IN (SELECT family FROM refresh_tokens WHERE token_hash = ?3 AND user_id = ?2)",
    )
    .bind(&[int(now_secs()), int(user_id), text(&keep_hash)])?
    .run()
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_sha256_hex() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
