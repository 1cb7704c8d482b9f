//! Refresh tokens: opaque 256-bit random strings, stored only as SHA-256
//! hashes, valid 30 days, rotated on every use. Each login starts a family;
//! presenting a token that was already rotated revokes its whole family
//! (OAuth 2.0 Security BCP, RFC 9700 §4.14.2). The SQL is in [`crate::db::tokens`].

use edgechat_shared::api::auth::REFRESH_TOKEN_SECONDS;
use sha2::{Digest, Sha256};
use worker::D1Database;

use super::{now_secs, random_hex};
use crate::db::tokens::{self, RefreshTokenRow};
use crate::error::{ApiError, ApiResult};

/// SHA-256 of a refresh token, hex: what D1 stores.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn refused() -> ApiError {
    ApiError::unauthorized("The refresh token is invalid, expired or revoked")
}

/// Issues a new refresh token for `user_id` in `family` (a new family when `None`).
pub async fn issue(db: &D1Database, user_id: i64, family: Option<&str>) -> worker::Result<String> {
    let token = random_hex(32);
    let family = family.map(str::to_string).unwrap_or_else(|| random_hex(16));
    tokens::insert(db, user_id, &family, &token_hash(&token), now_secs() + REFRESH_TOKEN_SECONDS).await?;
    Ok(token)
}

/// The stored `token` when it may still be used: known, neither rotated,
/// revoked nor expired. A token already rotated is a stolen copy or a replay:
/// its whole family is revoked.
///
/// Errors: 401 `unauthorized`.
async fn live(db: &D1Database, token: &str, now: i64) -> ApiResult<RefreshTokenRow> {
    let stored = tokens::by_hash(db, &token_hash(token)).await?.ok_or_else(refused)?;
    if stored.rotated_at.is_some() {
        tokens::revoke_family(db, &stored.family, now).await?;
        return Err(refused());
    }
    if stored.revoked_at.is_some() || stored.expires_at <= now {
        return Err(refused());
    }
    Ok(stored)
}

/// Exchanges `token` for a new one of the same family and answers the new
/// token and its user id.
///
/// Errors: 401 `unauthorized` for an unknown, expired or revoked token; for
/// a token already rotated, after revoking its whole family.
pub async fn rotate(db: &D1Database, token: &str) -> ApiResult<(String, i64)> {
    let now = now_secs();
    let stored = live(db, token, now).await?;
    if !tokens::claim_rotation(db, stored.id, now).await? {
        tokens::revoke_family(db, &stored.family, now).await?;
        return Err(refused());
    }
    let next = issue(db, stored.user_id, Some(&stored.family)).await?;
    // A logout from everywhere or a password change between the claim and the
    // insert revoked the old token but not the new one: it must not live on.
    if tokens::is_revoked(db, stored.id).await? {
        tokens::revoke_family(db, &stored.family, now).await?;
        return Err(refused());
    }
    Ok((next, stored.user_id))
}

/// Checks that `token`, just issued by [`rotate`], is still unrevoked. A
/// refresh reads its operator (and so their token version) *before* this
/// check, and a password change or logout from everywhere revokes refresh
/// tokens *before* it bumps the version: so an access token is issued either
/// with the version before the bump (refused from the bump on) or not at all.
///
/// Errors: 401 `unauthorized`, after revoking the token's family.
pub async fn confirm(db: &D1Database, token: &str) -> ApiResult<()> {
    let stored = tokens::by_hash(db, &token_hash(token)).await?.ok_or_else(refused)?;
    if stored.revoked_at.is_some() {
        tokens::revoke_family(db, &stored.family, now_secs()).await?;
        return Err(refused());
    }
    Ok(())
}

/// Revokes the token `token` (logout); unknown tokens are ignored.
pub async fn revoke(db: &D1Database, token: &str) -> worker::Result<()> {
    tokens::revoke(db, &token_hash(token), now_secs()).await
}

/// Revokes every token of the user of `token` (logout from everywhere) and
/// answers that user's id.
///
/// Errors: 401 `unauthorized` unless `token` may still be used (see [`rotate`]).
pub async fn revoke_all(db: &D1Database, token: &str) -> ApiResult<i64> {
    let now = now_secs();
    let stored = live(db, token, now).await?;
    tokens::revoke_all(db, stored.user_id, now).await?;
    Ok(stored.user_id)
}

/// Revokes every token of `user_id` except the family of `keep` (the
/// caller's own session), e.g. after a password change.
pub async fn revoke_others(db: &D1Database, user_id: i64, keep: Option<&str>) -> worker::Result<()> {
    tokens::revoke_others(db, user_id, &keep.map(token_hash).unwrap_or_default(), now_secs()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_sha256_hex() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
